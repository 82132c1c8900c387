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
        With --peer, the PyTorch baselines of the peer folder run in the same invocation and the ratios are
        printed.
        """)

    @Argument(help: "Recipes to measure.")
    var recipes: [String] = ["examples/recipes/lenet-fashion.json", "examples/recipes/resnet-small-fashion.json"]
    @Option(help: "Training batches timed per recipe.") var batches = 100
    @Option(help: "Threads (the pool; OpenBLAS runs one per pool thread).") var threads = 2
    @Flag(help: "Also run the PyTorch peer scripts and print ratios.") var peer = false
    @Option(help: "Folder with pytorch_lenet.py and pytorch_resnet_small.py.") var peerDir = "../shared/peer"
    @Option(help: "Epochs the peer scripts train.") var peerEpochs = 1
    @Flag(help: .hidden) var child = false
    @Flag(help: "Instead: time a C-plugin layer against the identical built-in one (leaky_relu with slope 0 vs relu) at batch 256.")
    var abiOverhead = false

    func run() throws {
        do {
            if child { return try measureOne(recipes[0]) }
            if abiOverhead { return try measureABIOverhead() }
            try printMachine(toStandardError: false)
            var rows: [(String, [String: Double])] = []
            for recipe in recipes {
                let figures = try runChild(recipe)
                rows.append((recipe, figures))
            }
            var peers: [String: [String: Double]] = [:]
            if peer {
                for recipe in recipes {
                    if let script = peerScript(for: recipe), let p = try runPeer(script) { peers[recipe] = p }
                }
            }
            print("\nmodel                      train ex/s   infer ex/s   peak RSS MiB" + (peer ? "   | torch train   torch infer   torch RSS   train ×   infer ×   RSS ×" : ""))
            for (recipe, f) in rows {
                var line = pad(URL(fileURLWithPath: recipe).deletingPathExtension().lastPathComponent, 26)
                line += lpad(f["train"], 11, 0) + lpad(f["infer"], 13, 0) + lpad((f["rss"] ?? 0) / 1_048_576, 15, 0)
                if peer, let p = peers[recipe] {
                    line += "   |" + lpad(p["train"], 12, 0) + lpad(p["infer"], 14, 0) + lpad((p["rss"] ?? 0) / 1_048_576, 12, 0)
                    line += lpad((f["train"] ?? 0) / (p["train"] ?? .nan), 10, 2) + lpad((f["infer"] ?? 0) / (p["infer"] ?? .nan), 10, 2)
                    line += lpad((f["rss"] ?? 0) / (p["rss"] ?? .nan), 8, 2)
                } else if peer {
                    line += "   | (no peer figures)"
                }
                print(line)
            }
        } catch {
            throw report(error)
        }
    }

    /// Measures one recipe in this process and prints a report plus one JSON line of figures.
    func measureOne(_ path: String) throws {
        let experiment = try loadExperiment(path, threads: threads)
        let recipe = experiment.recipe
        let f = try Benchmark.measure(experiment, trainBatches: batches)
        print("== \(f.name): batch \(recipe.batchSize), \(threads) threads")
        print("  training   \(format(f.trainExamplesPerSecond, 0)) examples/s")
        print("  inference  \(format(f.inferenceExamplesPerSecond, 0)) examples/s")
        print("  peak RSS   \(f.peakRSSBytes / 1_048_576) MiB")
        print("  layer forward GEMMs (GFLOP/s, vs cblas_sgemm on the same shape with 2 threads):")
        for l in f.layers {
            print("    " + pad(l.name, 22) + pad(l.kind, 8) + pad(l.shape, 22) + lpad(l.forwardGFLOPS, 8, 1) + lpad(l.sgemmGFLOPS, 8, 1)
                  + lpad(l.ratio * 100, 7, 0) + "%")
        }
        let json: [String: Double] = ["train": f.trainExamplesPerSecond, "infer": f.inferenceExamplesPerSecond, "rss": Double(f.peakRSSBytes)]
        let line = json.keys.sorted().map { "\"\($0)\": \(json[$0]!)" }.joined(separator: ", ")
        print("FIGURES {\(line)}")
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
        print("forward + backward at batch \(batch), input [\(batch), 6, 28, 28], \(threads) threads, median of 400:")
        print("  built-in relu                 \(format(t.builtIn * 1e6, 1)) µs")
        print("  c-layers leaky_relu (slope 0) \(format(t.plugin * 1e6, 1)) µs")
        print("  plugin / built-in             \(format(t.plugin / t.builtIn, 3))")
    }

    func runChild(_ recipe: String) throws -> [String: Double] {
        let output = try runProcess(CommandLine.arguments[0],
                                    ["bench", recipe, "--child", "--batches", String(batches), "--threads", String(threads)],
                                    environment: [:], echo: true)
        guard let line = output.split(separator: "\n").last(where: { $0.hasPrefix("FIGURES ") }) else {
            throw StrataError.runtime("bench: no figures from the run of \(recipe)")
        }
        return parseFigures(String(line.dropFirst("FIGURES ".count)))
    }

    func peerScript(for recipe: String) -> String? {
        let name = URL(fileURLWithPath: recipe).lastPathComponent
        let script = name.hasPrefix("lenet") ? "pytorch_lenet.py" : name.hasPrefix("resnet-small") ? "pytorch_resnet_small.py" : nil
        guard let script else { return nil }
        let path = URL(fileURLWithPath: peerDir).appendingPathComponent(script).path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// Runs a PyTorch peer script under /usr/bin/time; nil when torch is not available.
    func runPeer(_ script: String) throws -> [String: Double]? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"),
              (try? runProcess("/usr/bin/python3", ["-c", "import torch"], environment: [:], echo: false)) != nil else {
            FileHandle.standardError.write(Data("bench: /usr/bin/python3 has no torch; skipping the peer\n".utf8))
            return nil
        }
        let timeFile = FileManager.default.temporaryDirectory.appendingPathComponent("strata-peer-\(getpid()).time").path
        var command = "/usr/bin/python3"
        var args = [script, "--epochs", String(peerEpochs), "--threads", String(threads)]
        if FileManager.default.isExecutableFile(atPath: "/usr/bin/time") {
            args = ["-f", "%M", "-o", timeFile, command] + args
            command = "/usr/bin/time"
        }
        FileHandle.standardError.write(Data("== peer: \(URL(fileURLWithPath: script).lastPathComponent), \(peerEpochs) epoch(s)\n".utf8))
        let output = try runProcess(command, args, environment: ["OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": String(threads)], echo: true)
        guard let last = output.split(separator: "\n").last(where: { $0.hasPrefix("{") }),
              let obj = try? JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any] else { return nil }
        var f: [String: Double] = [:]
        f["train"] = obj["train_ex_per_s_median"] as? Double
        f["infer"] = obj["infer_ex_per_s_median"] as? Double
        if let kb = try? String(contentsOfFile: timeFile, encoding: .utf8).split(separator: "\n").last.flatMap({ Double($0) }) {
            f["rss"] = kb * 1024
        }
        return f
    }
}

func parseFigures(_ text: String) -> [String: Double] {
    guard let obj = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [:] }
    return obj.compactMapValues { ($0 as? NSNumber)?.doubleValue }
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
        throw StrataError.runtime("\(program) \(arguments.joined(separator: " ")) exited with status \(p.terminationStatus)")
    }
    return String(decoding: collected, as: UTF8.self)
}

func pad(_ s: String, _ width: Int) -> String { s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count) }

func lpad(_ v: Double?, _ width: Int, _ digits: Int) -> String {
    let s = format(v, digits)
    return s.count >= width ? " " + s : String(repeating: " ", count: width - s.count) + s
}
