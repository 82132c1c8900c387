import Foundation

/// A line chart in SVG a reader takes in at a glance: 1-2-5 ticks with labels on both axes
/// (`AxisTicks`), light gridlines, a darker line at zero when the y range crosses it, a legend
/// above the plot area so it never covers a curve, and a log axis for rates (`logX`, `logY`).
///
/// Each line has one value per `x`; a value that is not finite (or not positive on a log axis)
/// is not drawn and breaks the line there. Quantities of different scales belong in separate
/// charts stacked with `SVGPanels`.
public struct SVGChart {
    public let title: String
    public let xLabel: String
    public let yLabel: String
    public let x: [Double]
    public let lines: [(name: String, values: [Double])]
    public let logX: Bool
    public let logY: Bool

    /// The colours of the lines, in order (matplotlib's tab10).
    static let colors = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                         "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
    /// Lines with at most this many points also mark each point.
    static let markerLimit = 60

    public init(title: String, xLabel: String, yLabel: String = "", x: [Double],
                lines: [(name: String, values: [Double])], logX: Bool = false, logY: Bool = false) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.x = x
        self.lines = lines
        self.logX = logX
        self.logY = logY
    }

    /// The chart as a standalone SVG document.
    public func render(width: Double = 560, height: Double = 340) -> String {
        var svg = SVGText.header(width: width, height: height)
        draw(into: &svg, left: 0, top: 0, width: width, height: height)
        return svg + "</svg>\n"
    }

    /// The x axis: decades for `logX`; whole steps when every x is a whole number.
    func xTicks(width: Double) -> AxisTicks {
        let xs = x.filter { $0.isFinite && (!logX || $0 > 0) }
        let integers = !xs.isEmpty && xs.allSatisfy { $0 == $0.rounded() }
        return AxisTicks(minimum: xs.min() ?? (logX ? 1 : 0), maximum: xs.max() ?? (logX ? 10 : 1), log: logX,
                         target: max(2, Int(width / 90)), integers: integers)
    }

    /// The y axis over every drawable value.
    func yTicks(height: Double) -> AxisTicks {
        var ys: [Double] = []
        for line in lines {
            for (i, v) in line.values.enumerated() where i < x.count && v.isFinite && (!logY || v > 0) { ys.append(v) }
        }
        return AxisTicks(minimum: ys.min() ?? (logY ? 1 : 0), maximum: ys.max() ?? (logY ? 10 : 1), log: logY,
                         target: max(3, Int(height / 40)))
    }

    /// Draws the chart into the box at (`left`, `top`) of `width` × `height` pixels.
    func draw(into svg: inout String, left x0: Double, top y0: Double, width: Double, height: Double) {
        let f = SVGText.coordinate
        // Title, then the legend in rows above the plot area.
        var cursor = y0 + 6
        if !title.isEmpty {
            svg += "<text x=\"\(f(x0 + width / 2))\" y=\"\(f(cursor + 12))\" text-anchor=\"middle\" font-size=\"13\" font-weight=\"bold\">\(SVGText.escape(title))</text>\n"
            cursor += 18
        }
        let plotLeft = x0 + 66, plotRight = x0 + width - 16
        var legendX = plotLeft, legendRowTop = cursor
        var legend = ""
        for (i, line) in lines.enumerated() {
            let entry = 22 + SVGText.width(line.name) + 14
            if legendX + entry > plotRight, legendX > plotLeft {
                legendX = plotLeft
                legendRowTop += 15
            }
            let color = SVGChart.colors[i % SVGChart.colors.count]
            let ly = legendRowTop + 8
            legend += "<line x1=\"\(f(legendX))\" y1=\"\(f(ly))\" x2=\"\(f(legendX + 18))\" y2=\"\(f(ly))\" stroke=\"\(color)\" stroke-width=\"2.5\"/>"
            legend += "<text x=\"\(f(legendX + 22))\" y=\"\(f(ly + 4))\">\(SVGText.escape(line.name))</text>\n"
            legendX += entry
        }
        svg += "<g class=\"legend\">\n" + legend + "</g>\n"
        let plotTop = (lines.isEmpty ? cursor : legendRowTop + 15) + 8
        let plotBottom = y0 + height - 40
        let plotWidth = plotRight - plotLeft, plotHeight = max(plotBottom - plotTop, 10)
        let xt = xTicks(width: plotWidth), yt = yTicks(height: plotHeight)
        func px(_ v: Double) -> Double? { xt.fraction(v).map { plotLeft + $0 * plotWidth } }
        func py(_ v: Double) -> Double? { yt.fraction(v).map { plotTop + (1 - $0) * plotHeight } }

        // Gridlines and tick labels.
        svg += "<g class=\"grid\" stroke=\"#e4e4e4\" stroke-width=\"1\">\n"
        for v in xt.values { if let p = px(v) { svg += "<line x1=\"\(f(p))\" y1=\"\(f(plotTop))\" x2=\"\(f(p))\" y2=\"\(f(plotTop + plotHeight))\"/>\n" } }
        for v in yt.values { if let p = py(v) { svg += "<line x1=\"\(f(plotLeft))\" y1=\"\(f(p))\" x2=\"\(f(plotRight))\" y2=\"\(f(p))\"/>\n" } }
        svg += "</g>\n"
        if !yt.log, yt.low < 0, yt.high > 0, let z = py(0) {
            svg += "<line class=\"zero\" x1=\"\(f(plotLeft))\" y1=\"\(f(z))\" x2=\"\(f(plotRight))\" y2=\"\(f(z))\" stroke=\"#555\" stroke-width=\"1\"/>\n"
        }
        svg += "<rect x=\"\(f(plotLeft))\" y=\"\(f(plotTop))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\" fill=\"none\" stroke=\"#333\"/>\n"
        svg += "<g class=\"ticks\" fill=\"#222\">\n"
        for (v, label) in zip(xt.values, xt.labels) {
            if let p = px(v) { svg += "<text x=\"\(f(p))\" y=\"\(f(plotTop + plotHeight + 15))\" text-anchor=\"middle\">\(label)</text>\n" }
        }
        for (v, label) in zip(yt.values, yt.labels) {
            if let p = py(v) { svg += "<text x=\"\(f(plotLeft - 6))\" y=\"\(f(p + 4))\" text-anchor=\"end\">\(label)</text>\n" }
        }
        svg += "</g>\n"
        svg += "<text x=\"\(f(plotLeft + plotWidth / 2))\" y=\"\(f(plotTop + plotHeight + 32))\" text-anchor=\"middle\">\(SVGText.escape(xLabel))\(xt.log ? " (log scale)" : "")</text>\n"
        let yText = yLabel + (yt.log ? (yLabel.isEmpty ? "log scale" : " (log scale)") : "")
        if !yText.isEmpty {
            let cy = plotTop + plotHeight / 2
            svg += "<text x=\"\(f(x0 + 14))\" y=\"\(f(cy))\" text-anchor=\"middle\" transform=\"rotate(-90 \(f(x0 + 14)) \(f(cy)))\">\(SVGText.escape(yText))</text>\n"
        }

        // The lines, broken where a value cannot be drawn.
        for (i, line) in lines.enumerated() {
            let color = SVGChart.colors[i % SVGChart.colors.count]
            var segments: [[(Double, Double)]] = [[]]
            for (xv, yv) in zip(x, line.values) {
                if let a = px(xv), let b = py(yv) { segments[segments.count - 1].append((a, b)) } else if !segments[segments.count - 1].isEmpty { segments.append([]) }
            }
            let drawn = segments.reduce(0) { $0 + $1.count }
            for s in segments where !s.isEmpty {
                if s.count > 1 {
                    svg += "<polyline fill=\"none\" stroke=\"\(color)\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"\(s.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " "))\"/>\n"
                }
                if drawn <= SVGChart.markerLimit || s.count == 1 {
                    for (a, b) in s { svg += "<circle cx=\"\(f(a))\" cy=\"\(f(b))\" r=\"2.5\" fill=\"\(color)\"/>\n" }
                }
            }
        }
    }
}
