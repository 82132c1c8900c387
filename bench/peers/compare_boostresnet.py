#!/usr/bin/python3
"""Strata's boostresnet scheme and the PyTorch peer (boostresnet_reference.py) side by side, in
one invocation, on the same network (cifar_resnet), data slice, steps per module and threads
(checked from both sides' own records, a warning if any differs; wall and CPU seconds of each
process; `uptime` before each side and after); then
end-to-end training of the same network from the same initial weights and the e2e-refined
BoostResNet; writes the per-round table, the time ratio, and an SVG of test accuracy against
gradient updates and against wall time.

    /usr/bin/python3 bench/peers/compare_boostresnet.py --strata .build/release/strata \\
        --depth 50 --width 16 --iters 4 --train-limit 300 --test-limit 100 --skip-curves --peer-profile

(the side-by-side run of docs/boostresnet.md §7.2, run A; drop --skip-curves for the refined
and end-to-end runs and the SVG).

Strata runs examples/recipes/boostresnet-cifar-resnet-fashion.json (the reference's loss,
batch softmax, shared head, cumulative scores, gamma_first 0.5, draws that skip example 0)
with --set overrides for the size; docs/boostresnet.md §7 lists what still differs.
"""
import argparse
import json
import os
import resource
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def metrics(directory):
    with open(os.path.join(directory, "metrics.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def timed(args, **kw):
    """Runs a child process; returns (completed process, wall seconds, CPU seconds of the child).

    CPU seconds (user + system, from getrusage of the children) are the robust figure on a shared
    machine: wall time there depends on what else runs."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    done = subprocess.run(args, check=True, **kw)
    wall = time.time() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return done, wall, cpu


def load_line():
    """`uptime`'s text (the load averages over 1, 5 and 15 minutes) and the number of cores."""
    try:
        text = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        text = "load average: " + ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return f"{text}; {os.cpu_count()} cores"


def strata_run(opt, recipe, out, sets):
    args = [opt.strata, "run", os.path.join(ROOT, "examples/recipes", recipe), "--out", out]
    for s in sets:
        args += ["--set", s]
    _, wall, cpu = timed(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return metrics(out), wall, cpu


def size_sets(opt):
    return [f"model.depth={opt.depth}", f"model.width={opt.width}", f"data.train_limit={opt.train_limit}",
            f"data.test_limit={opt.test_limit}"]


def boosting_curve(lines, updates=0, seconds=0.0):
    """(gradient updates, wall seconds, test accuracy) after each round, then each refinement pass."""
    points = []
    for l in lines:
        if "round" in l:
            updates += l["iterations"]
            seconds += l["seconds"]
            points.append((updates, seconds, l["test_acc"]))
        elif l.get("phase") == "refine":
            seconds += l["seconds"]
            points.append((l["gradient_updates"], seconds, l["refined_test_acc"]))
    return points


def e2e_curve(lines, per_epoch):
    points, seconds = [], 0.0
    for l in lines:
        if l.get("test_acc") is not None and "train_s" in l:
            seconds += (l.get("train_s") or 0.0) + (l.get("eval_s") or 0.0)
            points.append(((len(points) + 1) * per_epoch, seconds, l["test_acc"]))
    return points


def svg(curves, path):
    """Two panels: accuracy against gradient updates and against wall seconds."""
    colours = {"BoostResNet": "#1f77b4", "e2e-refined BoostResNet": "#2ca02c", "end-to-end": "#d62728",
               "BoostResNet (PyTorch peer)": "#9467bd"}
    W, H, M = 420, 300, 50
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W}" height="{H + 40}" font-family="sans-serif" font-size="11">']
    for panel, (axis, label) in enumerate([(0, "gradient updates"), (1, "wall time (s)")]):
        x0 = panel * W
        xmax = max(p[axis] for c in curves.values() for p in c) or 1
        ymin, ymax = 0.0, 1.0
        sx = lambda v: x0 + M + (W - 1.5 * M) * v / xmax
        sy = lambda v: H - M + 10 - (H - 1.5 * M) * (v - ymin) / (ymax - ymin)
        out.append(f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(xmax)}" y2="{sy(0)}" stroke="black"/>')
        out.append(f'<line x1="{sx(0)}" y1="{sy(0)}" x2="{sx(0)}" y2="{sy(1)}" stroke="black"/>')
        for t in range(0, 11, 2):
            out.append(f'<text x="{sx(0) - 28}" y="{sy(t / 10) + 4}">{t / 10:.1f}</text>')
            out.append(f'<line x1="{sx(0)}" y1="{sy(t / 10)}" x2="{sx(xmax)}" y2="{sy(t / 10)}" stroke="#ddd"/>')
        for k in range(5):
            v = xmax * k / 4
            out.append(f'<text x="{sx(v) - 10}" y="{sy(0) + 15}">{v:.0f}</text>')
        out.append(f'<text x="{x0 + W / 2 - 40}" y="{H + 5}">{label}</text>')
        out.append(f'<text x="{x0 + 5}" y="{sy(0.5)}" transform="rotate(-90 {x0 + 12} {sy(0.5)})">test accuracy</text>')
        for i, (name, c) in enumerate(curves.items()):
            pts = " ".join(f"{sx(p[axis]):.1f},{sy(p[2]):.1f}" for p in c)
            out.append(f'<polyline fill="none" stroke="{colours.get(name, "black")}" stroke-width="2" points="{pts}"/>')
            if panel == 0:
                out.append(f'<text x="{sx(0) + 10}" y="{sy(1) + 14 * (i + 1)}" fill="{colours.get(name, "black")}">{name}</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--strata", default=os.path.join(ROOT, ".build/release/strata"))
    p.add_argument("--depth", type=int, default=50)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--iters", type=int, default=600)
    p.add_argument("--train-limit", type=int, default=60000)
    p.add_argument("--test-limit", type=int, default=10000)
    p.add_argument("--refine-epochs", type=int, default=1)
    p.add_argument("--e2e-epochs", type=int, default=0, help="0: as many updates as boosting")
    p.add_argument("--out", default="/tmp/brn-compare")
    p.add_argument("--svg", default=None)
    p.add_argument("--skip-peer", action="store_true")
    p.add_argument("--skip-curves", action="store_true",
                   help="only the side-by-side run: no refined or end-to-end runs, no SVG")
    p.add_argument("--threads", type=int, default=2, help="threads of both sides (recipe threads, peer --threads)")
    p.add_argument("--peer-profile", action="store_true", help="the peer's per-round time split")
    opt = p.parse_args()
    os.makedirs(opt.out, exist_ok=True)
    steps = [f"scheme.check_every={opt.iters}", f"scheme.max_iters={opt.iters}", f"threads={opt.threads}"]

    print(f"depth {opt.depth}, width {opt.width}, {opt.iters} steps of 100 per module, first {opt.train_limit} "
          f"training and {opt.test_limit} test images, {opt.threads} threads each", flush=True)
    print(f"load before Strata: {load_line()}", flush=True)
    boost_dir = os.path.join(opt.out, "boost")
    boost, strata_wall, strata_cpu = strata_run(opt, "boostresnet-cifar-resnet-fashion.json", boost_dir,
                                                size_sets(opt) + steps)
    rounds = [l for l in boost if "round" in l]
    with open(os.path.join(boost_dir, "summary.json")) as f:
        strata_threads = json.load(f).get("threads")
    with open(os.path.join(boost_dir, "recipe.json")) as f:
        strata_data = json.load(f).get("data", {})
    peer, peer_final = [], {}
    if not opt.skip_peer:
        print(f"load before the peer: {load_line()}", flush=True)
        cmd = [sys.executable, os.path.join(HERE, "boostresnet_reference.py"), "--depth", str(opt.depth), "--width",
               str(opt.width), "--iters", str(opt.iters), "--train-limit", str(opt.train_limit), "--test-limit",
               str(opt.test_limit), "--threads", str(opt.threads)] + (["--profile"] if opt.peer_profile else [])
        done, peer_wall, peer_cpu = timed(cmd, capture_output=True, text=True)
        peer = [json.loads(l) for l in done.stdout.splitlines() if l.startswith("{")]
        peer_final = next((l for l in peer if l.get("final")), {})
        with open(os.path.join(opt.out, "peer.jsonl"), "w") as f:
            f.write(done.stdout)
    print(f"load after: {load_line()}")
    peer_rounds = [l for l in peer if "round" in l]
    # The comparison holds only at equal threads, updates and data: say so, and flag any difference.
    strata_updates = sum(r["iterations"] for r in rounds)
    print(f"threads: Strata {strata_threads}, peer {peer_final.get('threads', '-')} "
          f"(inter-op {peer_final.get('interop_threads', '-')})")
    print(f"gradient updates: Strata {strata_updates}, peer {peer_final.get('gradient_updates', '-')}")
    print(f"examples: Strata {strata_data.get('train_limit')} training, {strata_data.get('test_limit')} test; "
          f"peer {peer_final.get('train_examples', '-')} training, {peer_final.get('test_examples', '-')} test")
    if peer_final:
        unequal = [what for what, a, b in [
            ("threads", strata_threads, peer_final.get("threads")),
            ("gradient updates", strata_updates, peer_final.get("gradient_updates")),
            ("training examples", strata_data.get("train_limit"), peer_final.get("train_examples")),
            ("test examples", strata_data.get("test_limit"), peer_final.get("test_examples"))] if a != b]
        if unequal:
            print("WARNING: the two sides differ in " + ", ".join(unequal) + "; the time ratio compares unequal work")
    print(f"{'round':>5} {'gamma~ strata':>14} {'gamma~ peer':>12} {'test strata':>12} {'test peer':>10} "
          f"{'ex/s strata':>12} {'ex/s peer':>10} {'s strata':>9} {'s peer':>8}")
    f = lambda v, w, d=4: f"{v:>{w}.{d}f}" if isinstance(v, (int, float)) else f"{'-':>{w}}"
    for i, r in enumerate(rounds):
        q = peer_rounds[i] if i < len(peer_rounds) else {}
        print(f"{i:>5} {f(r['gamma_tilde'], 14)} {f(q.get('gamma_tilde'), 12)} {f(r['test_acc'], 12)} "
              f"{f(q.get('test_acc'), 10)} {f(r['examples_per_s'], 12, 0)} {f(q.get('examples_per_s'), 10, 0)} "
              f"{f(r['seconds'], 9, 1)} {f(q.get('seconds'), 8, 1)}")
        if "profile_seconds" in q:
            print("      peer split (s): " + ", ".join(f"{k} {v:.1f}" for k, v in q["profile_seconds"].items()))
    if peer:
        print(f"total ({len(rounds) * opt.iters} updates each, process start to exit): "
              f"wall strata {strata_wall:.1f} s, peer {peer_wall:.1f} s: strata {peer_wall / strata_wall:.2f}x faster; "
              f"CPU strata {strata_cpu:.1f} s, peer {peer_cpu:.1f} s: strata {peer_cpu / strata_cpu:.2f}x faster "
              f"(cores busy on average: strata {strata_cpu / strata_wall:.2f}, peer {peer_cpu / peer_wall:.2f})")
    if opt.skip_curves:
        return

    updates = sum(r["iterations"] for r in rounds)
    per_epoch = -(-opt.train_limit // 100)
    e2e_epochs = opt.e2e_epochs or max(1, round(updates / per_epoch))
    refined, _, _ = strata_run(opt, "boostresnet-refined-cifar-resnet-fashion.json", os.path.join(opt.out, "refined"),
                         size_sets(opt) + steps + [f"scheme.refine_epochs={opt.refine_epochs}"])
    e2e, _, _ = strata_run(opt, "e2e-cifar-resnet-fashion.json", os.path.join(opt.out, "e2e"), size_sets(opt) + [f"epochs={e2e_epochs}"])
    curves = {"BoostResNet": boosting_curve(boost), "e2e-refined BoostResNet": boosting_curve(refined),
              "end-to-end": e2e_curve(e2e, per_epoch)}
    if peer_rounds:
        s, pts = 0.0, []
        for k, q in enumerate(peer_rounds):
            s += q["seconds"]
            pts.append(((k + 1) * opt.iters, s, q["test_acc"]))
        curves["BoostResNet (PyTorch peer)"] = pts
    for name, c in curves.items():
        print(f"{name}: " + ", ".join(f"{u} updates {t:.0f} s acc {a:.4f}" for u, t, a in c[-3:]))
    svg(curves, opt.svg or os.path.join(opt.out, "comparison.svg"))
    with open(os.path.join(opt.out, "curves.json"), "w") as f:
        json.dump(curves, f)


if __name__ == "__main__":
    main()
