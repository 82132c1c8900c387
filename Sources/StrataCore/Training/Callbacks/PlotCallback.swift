import Foundation

/// Draws the per-epoch curves as SVG in the run's `plots/` folder after every epoch:
/// `loss.svg` (train and test loss) and `accuracy.svg` (train and test accuracy).
public final class PlotCallback: Callback {
    public let kind = "plot"
    public let order = CallbackOrder.writer
    private let directory: URL
    private var epochs: [Double] = []
    private var series: [String: [Double]] = [:]

    public init(directory: URL) { self.directory = directory }

    public func onEvent(_ event: TrainingEvent, context c: inout CallbackContext) throws {
        guard event == .epochEnd else { return }
        epochs.append(Double(c.epoch))
        for (name, value) in [("train loss", c.trainLoss), ("test loss", c.testLoss),
                              ("train accuracy", c.trainAccuracy), ("test accuracy", c.testAccuracy)] {
            series[name, default: []].append(value)
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try SVGChart(title: "loss", xLabel: "epoch", x: epochs,
                     lines: [("train loss", series["train loss"]!), ("test loss", series["test loss"]!)])
            .render().write(to: directory.appendingPathComponent("loss.svg"), atomically: true, encoding: .utf8)
        try SVGChart(title: "accuracy", xLabel: "epoch", x: epochs,
                     lines: [("train accuracy", series["train accuracy"]!), ("test accuracy", series["test accuracy"]!)])
            .render().write(to: directory.appendingPathComponent("accuracy.svg"), atomically: true, encoding: .utf8)
    }
}

/// A minimal line chart in SVG: axes with min/max labels, one polyline and legend entry per series.
/// Points that are not finite are skipped.
public struct SVGChart {
    public let title: String
    public let xLabel: String
    public let x: [Double]
    public let lines: [(name: String, values: [Double])]
    static let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728"]

    public func render(width: Double = 480, height: Double = 300) -> String {
        let left = 56.0, right = 16.0, top = 28.0, bottom = 40.0
        let ys = lines.flatMap(\.values).filter(\.isFinite)
        var (yMin, yMax) = (ys.min() ?? 0, ys.max() ?? 1)
        if yMax - yMin < 1e-12 { yMin -= 0.5; yMax += 0.5 }
        let xMin = x.min() ?? 0, xMax = max(x.max() ?? 1, xMin + 1)
        func px(_ v: Double) -> Double { left + (v - xMin) / (xMax - xMin) * (width - left - right) }
        func py(_ v: Double) -> Double { top + (yMax - v) / (yMax - yMin) * (height - top - bottom) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(width / 2))" y="16" text-anchor="middle" font-size="13">\(title)</text>
        <line x1="\(f(left))" y1="\(f(height - bottom))" x2="\(f(width - right))" y2="\(f(height - bottom))" stroke="black"/>
        <line x1="\(f(left))" y1="\(f(top))" x2="\(f(left))" y2="\(f(height - bottom))" stroke="black"/>
        <text x="\(f(left - 4))" y="\(f(py(yMax) + 4))" text-anchor="end">\(String(format: "%.3g", yMax))</text>
        <text x="\(f(left - 4))" y="\(f(py(yMin)))" text-anchor="end">\(String(format: "%.3g", yMin))</text>
        <text x="\(f(px(xMin)))" y="\(f(height - bottom + 14))" text-anchor="middle">\(String(format: "%g", xMin))</text>
        <text x="\(f(px(xMax)))" y="\(f(height - bottom + 14))" text-anchor="middle">\(String(format: "%g", xMax))</text>
        <text x="\(f(width / 2))" y="\(f(height - 8))" text-anchor="middle">\(xLabel)</text>

        """
        for (i, line) in lines.enumerated() {
            let color = SVGChart.colors[i % SVGChart.colors.count]
            let points = zip(x, line.values).filter { $0.1.isFinite }.map { "\(f(px($0.0))),\(f(py($0.1)))" }
            svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" points=\"\(points.joined(separator: " "))\"/>\n"
            for p in points {
                let xy = p.split(separator: ",")
                svg += "<circle cx=\"\(xy[0])\" cy=\"\(xy[1])\" r=\"2.5\" fill=\"\(color)\"/>\n"
            }
            let ly = top + 6 + Double(i) * 14
            svg += "<line x1=\"\(f(width - right - 120))\" y1=\"\(f(ly))\" x2=\"\(f(width - right - 104))\" y2=\"\(f(ly))\" stroke=\"\(color)\" stroke-width=\"2\"/>"
            svg += "<text x=\"\(f(width - right - 100))\" y=\"\(f(ly + 4))\">\(line.name)</text>\n"
        }
        return svg + "</svg>\n"
    }
}
