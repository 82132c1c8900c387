import Foundation
@testable import StrataCore

/// Small Fashion-MNIST-shaped data folders for tests of the data path (the four IDX files,
/// uncompressed, under the names the loader looks for), and the runs that use them.
enum SyntheticData {
    /// One split's geometry: `count` images of `height × width`.
    struct Split {
        var count: Int
        var height = 28
        var width = 28
    }

    /// Writes a data folder and returns its path. Pixels are a class-dependent stripe pattern
    /// plus noise, so a network learns something; labels cycle through the ten classes.
    static func folder(train: Split = Split(count: 96), test: Split = Split(count: 48), seed: UInt64 = 1) throws -> String {
        let directory = try DataTestFiles.makeDirectory()
        var random = RandomStream(seed: seed)
        for (split, prefix) in [(train, "train"), (test, "t10k")] {
            let labels = (0..<split.count).map { UInt8($0 % 10) }
            var pixels = [UInt8](repeating: 0, count: split.count * split.height * split.width)
            for i in 0..<split.count {
                for y in 0..<split.height {
                    for x in 0..<split.width {
                        let stripe = (x + y * Int(labels[i])) % 10 < 5 ? 160 : 20
                        pixels[(i * split.height + y) * split.width + x] = UInt8(stripe + random.below(60))
                    }
                }
            }
            try DataTestFiles.write(IDX.encode(IDXArray(dimensions: [split.count, split.height, split.width], bytes: pixels)),
                                    to: "\(directory)/\(prefix)-images-idx3-ubyte")
            try DataTestFiles.write(IDX.encode(IDXArray(dimensions: [split.count], bytes: labels)),
                                    to: "\(directory)/\(prefix)-labels-idx1-ubyte")
        }
        return directory
    }

    /// A recipe training a small CNN with Adam on the data folder at `path`, with the metrics log
    /// and checkpoints. It keeps the default thread count: the count is process-wide, and a test
    /// that changed it would change the reduction split (and so the last bits) of runs that other
    /// suites make at the same time; runs with the same count give the same figures to the bit.
    static func recipe(data path: String, epochs: Int = 3) -> String {
        """
        {"name": "tiny", "seed": 5, "epochs": \(epochs), "batch_size": 16,
         "data": {"dataset": "fashion-mnist", "path": "\(path)"},
         "model": {"kind": "sequential", "layers": [
           {"kind": "conv2d", "out_channels": 4, "kernel_size": 3, "stride": 2},
           {"kind": "batchnorm2d"}, {"kind": "relu"}, {"kind": "flatten"},
           {"kind": "linear", "out_features": 10}]},
         "optimizer": {"kind": "adam", "lr": 0.01},
         "callbacks": [{"kind": "metrics_log"}, {"kind": "checkpoint", "every": 1, "keep_last": 2}]}
        """
    }
}

/// A run of the built `strata` executable that cannot hang the suite.
struct BoundedRun {
    var status: Int32
    /// Whether the process ended by a signal (`status` is then the signal number).
    var signaled: Bool
    /// Whether it was still running after the time limit (and was killed).
    var timedOut: Bool
    var out: String
    var err: String

    /// Runs `strata arguments` with extra environment variables; kills it with SIGKILL after
    /// `killAfter` seconds when given, and in any case after `limit` seconds (`timedOut`).
    static func strata(_ arguments: [String], environment extra: [String: String] = [:],
                       killAfter: Double? = nil, limit: Double = 60) throws -> BoundedRun {
        let p = Process()
        p.executableURL = Bundle.module.bundleURL.deletingLastPathComponent().appendingPathComponent("strata")
        p.arguments = arguments
        p.environment = ProcessInfo.processInfo.environment.merging(extra) { _, new in new }
        let directory = try DataTestFiles.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        FileManager.default.createFile(atPath: directory + "/out", contents: nil)
        FileManager.default.createFile(atPath: directory + "/err", contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/out"))
        let err = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/err"))
        p.standardOutput = out
        p.standardError = err
        p.standardInput = FileHandle.nullDevice
        try p.run()
        let start = Date()
        var timedOut = false
        while p.isRunning {
            let elapsed = Date().timeIntervalSince(start)
            if let killAfter, elapsed >= killAfter { kill(p.processIdentifier, SIGKILL); break }
            if elapsed >= limit { timedOut = true; kill(p.processIdentifier, SIGKILL); break }
            usleep(2_000)
        }
        p.waitUntilExit()
        try out.close()
        try err.close()
        return BoundedRun(status: p.terminationStatus, signaled: p.terminationReason == .uncaughtSignal, timedOut: timedOut,
                          out: (try? String(contentsOfFile: directory + "/out", encoding: .utf8)) ?? "",
                          err: (try? String(contentsOfFile: directory + "/err", encoding: .utf8)) ?? "")
    }
}
