import Foundation

/// Charts stacked one above the other under one title, each with its own y axis: how quantities
/// of different scales share an x axis (γ per block above test accuracy per block) without one
/// flattening the other.
public struct SVGPanels {
    public let title: String
    public let charts: [SVGChart]

    public init(title: String, charts: [SVGChart]) {
        self.title = title
        self.charts = charts
    }

    /// The panels as one SVG document, `panelHeight` pixels per chart.
    public func render(width: Double = 560, panelHeight: Double = 260) -> String {
        let head = title.isEmpty ? 0.0 : 26.0
        let height = head + panelHeight * Double(charts.count)
        var svg = SVGText.header(width: width, height: height)
        if !title.isEmpty {
            svg += "<text x=\"\(SVGText.coordinate(width / 2))\" y=\"19\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\">\(SVGText.escape(title))</text>\n"
        }
        for (i, chart) in charts.enumerated() {
            svg += "<g class=\"panel\">\n"
            chart.draw(into: &svg, left: 0, top: head + panelHeight * Double(i), width: width, height: panelHeight)
            svg += "</g>\n"
        }
        return svg + "</svg>\n"
    }
}
