import ArgumentParser
import CStrataKernels
import Foundation
import StrataCore

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Measure training and inference examples/s, peak memory and GEMM efficiency.",
        discussion: """
        Each recipe runs in its own process (so peak RSS is its own): training examples/s over --batches
        batches after a warm-up, inference examples/s over the test set (median of 3 passes), and each conv
        and linear layer's forward GFLOP/s against raw cblas_sgemm on the same shape with 2 OpenBLAS threads.
        --rounds rounds alternate the recipes (and the peers), and the table shows medians. With --peer, the
        PyTorch scripts of bench/peers run in the same invocation under each --peer-python interpreter
        (default: /usr/bin/python3, and bench/peers/.torch2/bin/python when
        bench/peers/make-torch2-venv.sh has made it), and Strata's ratio to each is printed, with the
        machine's measured FMA peak and the fraction of it each model's training reaches.
        """)

    @Argument(help: "Recipes to measure.")
    var recipes: [String] = ["examples/recipes/lenet-fashion.json", "examples/recipes/resnet-small-fashion.json"]
    @Option(help: "Training batches timed per recipe.") var batches = 100
    @Option(help: "Threads (the pool; OpenBLAS runs one per pool thread).") var threads = 2
    @Option(help: "Alternating rounds over recipes and peers; the table shows medians.") var rounds = 3
    @Flag(help: "Also run the PyTorch peer scripts and print ratios.") var peer = false
    @Option(name: .customLong("peer-python"), help: "A Python interpreter with torch to run the peers with (repeatable).")
    var peerPythons: [String] = []
    @Option(help: "Folder with the peer scripts lenet.py and resnet_small.py (default: bench/peers of the repository).")
    var peerDir: String?
    @Flag(help: .hidden) var child = false
    @Flag(help: .hidden) var noLayers = false
    @Flag(help: "Instead: time a C-plugin layer against the identical built-in one (leaky_relu with slope 0 vs relu) at batch 256.")
    var abiOverhead = false

    /// One measurement: examples/s, peak RSS bytes and training FLOPs per example.
    typealias Figures = [String: Double]

    func run() throws {
        do {
            if child { return try measureOne(recipes[0]) }
            if abiOverhead { return try measureABIOverhead() }
            try printMachine(toStandardError: false)
            guard rounds >= 1, batches >= 1, threads >= 1 else {
                throw CoreError.badInput("bench: --rounds, --batches and --threads must be at least 1")
            }
            let peers = peer ? try peerRunners() : []
            let peak = sk_fma_peak_gflops(Int32(threads), 5)
            say("FMA peak: \(format(peak, 1)) GFLOP/s on \(threads) threads (measured)")
            let conv = ConvBackend.onednnAvailable ? "\(ConvBackend.onednnDescription) where the per-shape rule picks it, else im2col + BLAS"
                : "im2col + BLAS (oneDNN \(ConvBackend.onednnDescription))"
            say("conv: \(conv); STRATA_CONV_BACKEND=\(ConvBackend.fromEnvironment.rawValue)")
            // results[recipe][runner] = one Figures per round; runner "strata" or a peer's label.
            var results: [String: [String: [Figures]]] = [:]
            var labels: [String: String] = [:]
            for round in 1...rounds {
                for recipe in recipes {
                    say("\n== round \(round)/\(rounds): \(recipe)")
                    results[recipe, default: [:]]["strata", default: []].append(try runChild(recipe, layers: round == 1))
                    guard let script = peerScript(for: recipe) else { continue }
                    for python in peers {
                        let result: (label: String, figures: Figures)?
                        do { result = try runPeer(script, python: python) } catch {
                            FileHandle.standardError.write(Data("bench: peer \(python): \(error)\n".utf8))
                            continue
                        }
                        guard let f = result else { continue }
                        labels[python] = labels[python] ?? f.label
                        results[recipe, default: [:]][python, default: []].append(f.figures)
                    }
                }
            }
            printTable(results, peers: peers, labels: labels, peak: peak)
        } catch {
            throw report(error)
        }
    }

    /// Median of each figure over the rounds.
    func medians(_ runs: [Figures]) -> Figures {
        var m: Figures = [:]
        for key in Set(runs.flatMap(\.keys)) {
            let v = runs.compactMap { $0[key] }.sorted()
            m[key] = v.count % 2 == 1 ? v[v.count / 2] : (v[v.count / 2 - 1] + v[v.count / 2]) / 2
        }
        return m
    }

    func printTable(_ results: [String: [String: [Figures]]], peers: [String], labels: [String: String], peak: Double) {
        say("\nmedians of \(rounds) alternating round(s), \(threads) threads; ratios are Strata ÷ peer" +
              " (RSS: lower is better); % peak = training FLOP/s ÷ the measured FMA peak")
        say(pad("model", 22) + pad("runner", 20) + lpadText("train ex/s", 11) + lpadText("infer ex/s", 12) + lpadText("RSS MiB", 9)
              + lpadText("train GFLOP/s", 15) + lpadText("% peak", 8) + lpadText("train ×", 9) + lpadText("infer ×", 9) + lpadText("RSS ×", 7))
        for recipe in recipes {
            guard let byRunner = results[recipe], let strataRuns = byRunner["strata"] else { continue }
            let name = URL(fileURLWithPath: recipe).deletingPathExtension().lastPathComponent
            let s = medians(strataRuns)
            let flops = s["flops"] ?? .nan
            func row(_ runner: String, _ f: Figures, ratios: Bool) -> String {
                var line = pad(name, 22) + pad(runner, 20) + lpad(f["train"], 11, 0) + lpad(f["infer"], 12, 0)
                    + lpad((f["rss"] ?? .nan) / 1_048_576, 9, 0)
                let gflops = (f["train"] ?? .nan) * flops / 1e9
                line += lpad(gflops, 15, 1) + lpadText(format(gflops / peak * 100, 1) + "%", 8)
                if ratios {
                    line += lpad((s["train"] ?? .nan) / (f["train"] ?? .nan), 9, 2) + lpad((s["infer"] ?? .nan) / (f["infer"] ?? .nan), 9, 2)
                        + lpad((s["rss"] ?? .nan) / (f["rss"] ?? .nan), 7, 2)
                }
                return line
            }
            say(row("strata", s, ratios: false))
            for python in peers {
                guard let runs = byRunner[python] else {
                    say(pad(name, 22) + pad(python, 20) + " (no figures)")
                    continue
                }
                say(row(labels[python] ?? python, medians(runs), ratios: true))
            }
            for (runner, runs) in byRunner.sorted(by: { $0.key < $1.key }) where runs.count > 1 {
                let spread = ["train", "infer"].map { key in
                    key + " " + runs.map { format($0[key], 0) }.joined(separator: " / ")
                }.joined(separator: ", ")
                say("    rounds \(labels[runner] ?? runner): \(spread)")
            }
        }
        say("training FLOPs per example (3 × 2 × conv and linear multiply-adds): " + recipes.compactMap { recipe in
            guard let f = results[recipe]?["strata"]?.first?["flops"] else { return nil }
            return "\(URL(fileURLWithPath: recipe).deletingPathExtension().lastPathComponent) \(format(f / 1e6, 3)) M"
        }.joined(separator: ", "))
    }

    /// Measures one recipe in this process and prints a report plus one JSON line of figures.
    func measureOne(_ path: String) throws {
        let experiment = try loadExperiment(path, threads: threads)
        let recipe = experiment.recipe
        let f = try Benchmark.measure(experiment, trainBatches: batches, layerFigures: !noLayers)
        say("== \(f.name): batch \(recipe.batchSize), \(threads) threads")
        say("  training   \(format(f.trainExamplesPerSecond, 0)) examples/s")
        say("  inference  \(format(f.inferenceExamplesPerSecond, 0)) examples/s")
        say("  peak RSS   \(f.peakRSSBytes / 1_048_576) MiB")
        if !f.layers.isEmpty { say("  layer forward GEMMs (GFLOP/s, vs cblas_sgemm on the same shape with 2 threads):") }
        for l in f.layers {
            say("    " + pad(l.name, 22) + pad(l.kind, 8) + pad(l.shape, 22) + lpad(l.forwardGFLOPS, 8, 1) + lpad(l.sgemmGFLOPS, 8, 1)
                  + lpad(l.ratio * 100, 7, 0) + "%")
        }
        let json: [String: Double] = ["train": f.trainExamplesPerSecond, "infer": f.inferenceExamplesPerSecond, "rss": Double(f.peakRSSBytes),
                                      "flops": f.trainingFLOPsPerExample]
        let line = json.keys.sorted().map { "\"\($0)\": \(json[$0]!)" }.joined(separator: ", ")
        say("FIGURES {\(line)}")
    }

    /// The C ABI's per-layer cost: built-in `relu` against the c-layers plugin's `leaky_relu`
    /// with slope 0 (the same function), forward and backward on LeNet's first activation shape.
    func measureABIOverhead() throws {
        let registry = ComponentRegistry.withPlugins()
        sk_set_threads(Int32(threads))
        let shape = [6, 28, 28], batch = 256
        let t = try Benchmark.layerOverhead(registry: registry, builtIn: ["kind": "relu"],
                                            plugin: ["kind": "leaky_relu", "negative_slope": 0.0],
                                            exampleShape: shape, batch: batch, reps: 400)
        say("forward + backward at batch \(batch), input [\(batch), 6, 28, 28], \(threads) threads, median of 400:")
        say("  built-in relu                 \(format(t.builtIn * 1e6, 1)) µs")
        say("  c-layers leaky_relu (slope 0) \(format(t.plugin * 1e6, 1)) µs")
        say("  plugin / built-in             \(format(t.plugin / t.builtIn, 3))")
    }

    func runChild(_ recipe: String, layers: Bool) throws -> Figures {
        let output = try runProcess(CommandLine.arguments[0],
                                    ["bench", recipe, "--child", "--batches", String(batches), "--threads", String(threads)]
                                        + (layers ? [] : ["--no-layers"]),
                                    environment: [:], echo: true)
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("FIGURES ") }) else {
            throw CoreError.runtime("bench: no figures from the run of \(recipe)")
        }
        return parseFigures(String(line.dropFirst("FIGURES ".count)))
    }

    /// The folder of the peer scripts: --peer-dir, else bench/peers in the working directory or
    /// in the repository the executable was built in (.build/<configuration>/strata).
    func peerFolder() throws -> URL {
        if let peerDir { return URL(fileURLWithPath: peerDir) }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidates = [URL(fileURLWithPath: "bench/peers"),
                          executable.deletingLastPathComponent().appendingPathComponent("../../bench/peers").standardized,
                          executable.deletingLastPathComponent().appendingPathComponent("../../../bench/peers").standardized]
        guard let found = candidates.first(where: { FileManager.default.fileExists(atPath: $0.appendingPathComponent("common.py").path) }) else {
            throw CoreError.badInput("bench: no peer scripts in bench/peers (looked in \(candidates.map(\.path).joined(separator: ", "))); name the folder with --peer-dir")
        }
        return found
    }

    /// The interpreters to run the peers with, each checked for torch.
    func peerRunners() throws -> [String] {
        var pythons = peerPythons
        if pythons.isEmpty {
            pythons = ["/usr/bin/python3"]
            let venv = try peerFolder().appendingPathComponent(".torch2/bin/python").path
            if FileManager.default.isExecutableFile(atPath: venv) { pythons.append(venv) }
        }
        return pythons.filter { python in
            guard FileManager.default.isExecutableFile(atPath: python) else {
                FileHandle.standardError.write(Data("bench: --peer-python \(python): no such executable; skipping it\n".utf8))
                return false
            }
            guard (try? runProcess(python, ["-c", "import torch"], environment: [:], echo: false)) != nil else {
                FileHandle.standardError.write(Data("bench: \(python) cannot import torch; skipping it\n".utf8))
                return false
            }
            return true
        }
    }

    /// The peer script of each recipe, by the start of the recipe's file name.
    static let peerScripts: [(prefix: String, script: String)] = [
        ("lenet", "lenet.py"), ("resnet-small", "resnet_small.py"),
        ("resnet18-bench", "resnet18_96.py"), ("mobilenet-v1-bench", "mobilenet_v1.py"),  // bench/recipes, 96×96
    ]

    func peerScript(for recipe: String) -> String? {
        let name = URL(fileURLWithPath: recipe).lastPathComponent
        let script = Self.peerScripts.first { name.hasPrefix($0.prefix) }?.script
        guard let script, let folder = try? peerFolder() else { return nil }
        let path = folder.appendingPathComponent(script).path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// Runs a peer script with one interpreter: its figures and a label ("torch <version>"), or nil
    /// when it printed none.
    func runPeer(_ script: String, python: String) throws -> (label: String, figures: Figures)? {
        say("== peer: \(python) \(URL(fileURLWithPath: script).lastPathComponent)")
        // One OpenBLAS thread: Debian's torch calls OpenBLAS for Linear layers beside its OpenMP pool.
        let output = try runProcess(python, [script, "--batches", String(batches), "--threads", String(threads)],
                                    environment: ["OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": String(threads)], echo: true)
        guard let last = output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let obj = (try? JSONParser.parse(String(last)))?.objectValue else { return nil }
        var f: Figures = [:]
        for key in ["train", "infer", "rss"] { f[key] = obj[key]?.numberValue }
        var version = "?"
        if case let .string(v)? = obj["torch"] { version = v }
        return ("torch " + version, f)
    }
}

/// Writes a line to standard output at once, so it stays in order with the children's output.
func say(_ line: String) { FileHandle.standardOutput.write(Data((line + "\n").utf8)) }

func parseFigures(_ text: String) -> [String: Double] {
    guard let obj = (try? JSONParser.parse(text))?.objectValue else { return [:] }
    var figures: [String: Double] = [:]
    for (key, value) in obj { figures[key] = value.numberValue }
    return figures
}

/// Runs a program, streaming its output when `echo` is set; returns standard output.
func runProcess(_ program: String, _ arguments: [String], environment: [String: String], echo: Bool) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: program)
    p.arguments = arguments
    p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    let pipe = Pipe()
    p.standardOutput = pipe
    try p.run()
    var collected = Data()
    while true {
        let chunk = pipe.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        collected.append(chunk)
        if echo { FileHandle.standardOutput.write(chunk) }
    }
    p.waitUntilExit()
    guard p.terminationStatus == 0 else {
        throw CoreError.runtime("\(program) \(arguments.joined(separator: " ")) exited with status \(p.terminationStatus)")
    }
    return String(decoding: collected, as: UTF8.self)
}

func lpadText(_ s: String, _ width: Int) -> String { s.count >= width ? " " + s : String(repeating: " ", count: width - s.count) + s }

func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }

func lpad(_ v: Double?, _ width: Int, _ digits: Int) -> String {
    lpadText(format(v, digits), width)
}
