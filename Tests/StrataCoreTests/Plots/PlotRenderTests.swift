import Foundation
import Testing
@testable import StrataCore

/// Every plot kind rendered by a real SVG renderer (librsvg's `rsvg-convert`, installed by
/// scripts/install-deps.sh) to PNG, with its tick labels checked in the SVG.
@Suite("Plots")
struct PlotRenderTests {
    /// The texts of the `<text>` elements of `svg`.
    static func texts(_ svg: String) -> [String] {
        svg.components(separatedBy: "<text").dropFirst().compactMap { part in
            guard let open = part.firstIndex(of: ">"), let close = part.range(of: "</text>") else { return nil }
            return String(part[part.index(after: open)..<close.lowerBound])
        }
    }

    /// The y attribute of the first element of `svg` that contains `marker`.
    static func y(of marker: String, in svg: String, attribute: String = "y") -> Double? {
        guard let r = svg.range(of: marker) else { return nil }
        let start = svg[..<r.lowerBound].range(of: "<", options: .backwards)?.lowerBound ?? r.lowerBound
        let element = svg[start...].prefix { $0 != "\n" }
        guard let a = element.range(of: " \(attribute)=\"") else { return nil }
        return Double(element[a.upperBound...].prefix { $0 != "\"" })
    }

    static func rsvgConvert() throws -> String {
        for d in ["/usr/bin", "/usr/local/bin", "/bin"] where FileManager.default.isExecutableFile(atPath: d + "/rsvg-convert") {
            return d + "/rsvg-convert"
        }
        throw CoreError.runtime("rsvg-convert not found: run scripts/install-deps.sh (Debian package librsvg2-bin)")
    }

    /// Renders `svg` to PNG with rsvg-convert; returns the PNG's width and height and its bytes.
    static func renderPNG(_ svg: String, name: String) throws -> (width: Int, height: Int, bytes: Data) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-plots-\(getpid())-\(name)")
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let input = dir.appendingPathComponent(name + ".svg"), output = dir.appendingPathComponent(name + ".png")
        try svg.write(to: input, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: try rsvgConvert())
        p.arguments = ["--format", "png", "--output", output.path, input.path]
        let errors = Pipe()
        p.standardError = errors
        try p.run()
        p.waitUntilExit()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        guard p.terminationStatus == 0 else { throw CoreError.runtime("rsvg-convert \(name).svg: \(message)") }
        let png = try Data(contentsOf: output)
        // The signature, then IHDR's big-endian width and height at bytes 16 and 20.
        guard png.count > 24, png.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            throw CoreError.runtime("\(name).png is not a PNG")
        }
        func u32(_ at: Int) -> Int { png[at..<at + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (u32(16), u32(20), png)
    }

    /// A blank page of the same size compresses to far fewer bytes than a drawn chart.
    static func expectDrawn(_ svg: String, name: String, width: Int, height: Int) throws {
        let png = try renderPNG(svg, name: name)
        #expect(png.width == width && png.height == height, "\(name): \(png.width)×\(png.height)")
        let blank = try renderPNG(SVGText.header(width: Double(width), height: Double(height)) + "</svg>\n", name: name + "-blank")
        #expect(png.bytes.count > 4 * blank.bytes.count, "\(name): \(png.bytes.count) bytes against a blank page's \(blank.bytes.count)")
    }

    @Test func ticksStepByOneTwoOrFiveTimesAPowerOfTen() {
        #expect(AxisTicks.niceStep(0.0044) == 0.005)
        #expect(AxisTicks.niceStep(0.326) == 0.5)
        #expect(AxisTicks.niceStep(1.5) == 2)
        #expect(AxisTicks.niceStep(7) == 10)
        // BoostResNet's test accuracy, 0.888 to 0.910.
        let acc = AxisTicks(minimum: 0.888, maximum: 0.910, target: 5)
        #expect(acc.labels == ["0.885", "0.890", "0.895", "0.900", "0.905", "0.910"])
        #expect(abs(acc.low - 0.885) < 1e-12 && abs(acc.high - 0.910) < 1e-12)
        // γ from −0.72 to 0.91 crosses zero: a tick at 0, labelled "0.0", not "-0.0".
        let gamma = AxisTicks(minimum: -0.72, maximum: 0.91, target: 5)
        #expect(gamma.labels == ["-1.0", "-0.5", "0.0", "0.5", "1.0"])
        // Epochs 1 to 3 step by whole epochs.
        #expect(AxisTicks(minimum: 1, maximum: 3, target: 6, integers: true).labels == ["1", "2", "3"])
        // A rate from 1e-5 to 10 ticks every decade.
        let lr = AxisTicks(minimum: 1e-5, maximum: 10, log: true)
        #expect(lr.labels == ["1e-05", "0.0001", "0.001", "0.01", "0.1", "1", "10"])
        // Within one decade, 2 and 5 too; a constant rate gets the decade around it.
        #expect(AxisTicks(minimum: 0.01, maximum: 0.05, log: true).labels == ["0.01", "0.02", "0.05", "0.1"])
        #expect(AxisTicks(minimum: 0.1, maximum: 0.1, log: true).labels == ["0.1", "0.2", "0.5", "1"])
        // A single value gets a band around it; a log axis never puts a non-positive value on it.
        #expect(AxisTicks(minimum: 2, maximum: 2).values.contains(2))
        #expect(lr.fraction(0) == nil && lr.fraction(-1) == nil && lr.fraction(.nan) == nil)
    }

    @Test func theCallbackDrawsLossAccuracyAndLearningRate() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("strata-plot-cb-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        defer { try? FileManager.default.removeItem(at: dir) }
        let callback = PlotCallback(directory: dir)
        var c = CallbackContext()
        c.epochs = 4
        c.batchesPerEpoch = 10
        let trainLoss = [2.1, 0.9, 0.6, 0.45], testLoss = [1.2, 0.8, 0.7, 0.72]
        for e in 1...4 {
            c.epoch = e
            for b in 0..<10 {
                c.batch = b
                c.learningRate = 0.1 * pow(0.5, Double((e - 1) * 10 + b) / 10)  // from 0.1 down to 0.00625
                try callback.onEvent(.batchBegin, context: &c)
                c.globalStep += 1
            }
            (c.trainLoss, c.testLoss) = (trainLoss[e - 1], testLoss[e - 1])
            (c.trainAccuracy, c.testAccuracy) = (0.5 + 0.1 * Double(e), 0.55 + 0.08 * Double(e))
            try callback.onEvent(.epochEnd, context: &c)
        }
        let loss = try String(contentsOf: dir.appendingPathComponent("loss.svg"), encoding: .utf8)
        let accuracy = try String(contentsOf: dir.appendingPathComponent("accuracy.svg"), encoding: .utf8)
        let lr = try String(contentsOf: dir.appendingPathComponent("lr.svg"), encoding: .utf8)
        // Loss 0.45 to 2.1: steps of 0.5 from 0 to 2.5; epochs 1 to 4.
        let lossTexts = Self.texts(loss)
        for label in ["0.0", "0.5", "1.0", "1.5", "2.0", "2.5", "1", "2", "3", "4", "train loss", "test loss", "epoch"] {
            #expect(lossTexts.contains(label), "loss.svg has \(label)")
        }
        #expect(Self.texts(accuracy).contains("0.60") && Self.texts(accuracy).contains("0.90"), "\(Self.texts(accuracy))")
        // The rate on a log axis: decades 0.001 to 0.1.
        let lrTexts = Self.texts(lr)
        for label in ["0.001", "0.01", "0.1", "learning rate (log scale)"] { #expect(lrTexts.contains(label), "lr.svg has \(label): \(lrTexts)") }
        #expect(!loss.contains("class=\"zero\""), "no zero line when the range does not cross zero")
        // Gridlines, and the legend above the plot area, clear of the curves.
        #expect(loss.contains("class=\"grid\""))
        let legendY = try #require(Self.y(of: ">train loss</text>", in: loss))
        let plotTop = try #require(Self.y(of: "fill=\"none\" stroke=\"#333\"", in: loss))
        #expect(legendY < plotTop)
        for (name, svg) in [("loss", loss), ("accuracy", accuracy), ("lr", lr)] {
            try Self.expectDrawn(svg, name: name, width: 560, height: 340)
        }
    }

    @Test func aSchemePlotPutsQuantitiesOfDifferentScalesInTheirOwnPanels() throws {
        let plot = PluginManifest.Plot(file: "gamma", title: "gamma per block", x: "epoch", xLabel: "block",
                                       series: [("gamma", "gamma", "gamma"), ("gamma_tilde", "gamma-tilde", "gamma"),
                                                ("test_acc", "test accuracy", "test accuracy")])
        let gammas = [0.91, 0.12, -0.3, -0.72], tildes = [0.5, 0.2, 0.05, -0.1], accuracies = [0.888, 0.9, 0.905, 0.910]
        let rounds: [JSONObject] = (0..<4).map { i in
            ["epoch": .number(Double(i)), "gamma": .number(gammas[i]), "gamma_tilde": .number(tildes[i]), "test_acc": .number(accuracies[i])]
        }
        let svg = plot.render(rounds: rounds) { o, key in
            if case let .number(v)? = o[key] { return v }
            return .nan
        }
        #expect(svg.components(separatedBy: "class=\"panel\"").count - 1 == 2, "γ and test accuracy in two panels")
        let texts = Self.texts(svg)
        for label in ["-1.0", "-0.5", "0.0", "0.5", "1.0", "0.88", "0.89", "0.90", "0.91", "0", "1", "2", "3", "gamma", "test accuracy", "block"] {
            #expect(texts.contains(label), "gamma.svg has \(label)")
        }
        #expect(svg.components(separatedBy: "class=\"zero\"").count - 1 == 1, "a zero line in the γ panel only")
        try Self.expectDrawn(svg, name: "gamma", width: 560, height: 26 + 2 * 260)
    }

    @Test func aRateSweepHasALogXAxis() throws {
        // An LR finder's curve: the loss over rates from 1e-5 to 10.
        let rates = (0...100).map { 1e-5 * pow(1e6, Double($0) / 100) }
        let losses = rates.map { r in 2.3 - 0.3 * log10(r / 1e-5) + (r > 1 ? 4 * (r - 1) : 0) }
        let chart = SVGChart(title: "LR finder", xLabel: "learning rate", yLabel: "loss", x: rates,
                             lines: [("smoothed loss", losses)], logX: true)
        let svg = chart.render()
        let texts = Self.texts(svg)
        for label in ["1e-05", "0.0001", "0.001", "0.01", "0.1", "1", "10", "learning rate (log scale)"] {
            #expect(texts.contains(label), "lr-find plot has \(label)")
        }
        #expect(!svg.contains("<circle"), "no point markers on a curve of 101 points")
        try Self.expectDrawn(svg, name: "lr-find", width: 560, height: 340)
    }

    @Test func labelsAreEscapedAndMissingValuesBreakTheLine() throws {
        let chart = SVGChart(title: "a < b & c", xLabel: "x", x: [1, 2, 3, 4], lines: [("y \"1\"", [1, .nan, 3, 4])])
        let svg = chart.render()
        #expect(svg.contains("a &lt; b &amp; c") && svg.contains("y &quot;1&quot;"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 1, "the NaN leaves the first point alone and joins the last two")
        #expect(svg.components(separatedBy: "<circle").count - 1 == 3)
        try Self.expectDrawn(svg, name: "escaped", width: 560, height: 340)
    }
}
