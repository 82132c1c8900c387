import Foundation

/// The LR finder's curve as files: `lr_find.csv` (one row per mini-batch) and `lr_find.svg`
/// (loss against the rate on a log-scale axis, the suggestion marked).
extension LRFinder.Result {
    /// `step,lr,loss,smoothed_loss`, one row per mini-batch, and `grad_norm` (before clipping)
    /// when the sweep clipped gradients; numbers as the shortest decimal that reads back as the
    /// same double.
    public var csv: String {
        let clipped = points.contains { $0.gradientNorm.isFinite }
        return "step,lr,loss,smoothed_loss" + (clipped ? ",grad_norm" : "") + "\n" + points.map {
            "\($0.step),\($0.learningRate),\($0.loss),\($0.smoothedLoss)" + (clipped ? ",\($0.gradientNorm)" : "") + "\n"
        }.joined()
    }

    /// Writes `lr_find.csv` and `lr_find.svg` into `directory` (created when missing).
    public func write(to directory: URL) throws {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(csv.utf8).write(to: directory.appendingPathComponent("lr_find.csv"), options: .atomic)
            try Data(svg().utf8).write(to: directory.appendingPathComponent("lr_find.svg"), options: .atomic)
        } catch {
            throw CoreError.runtime("cannot write the LR finder's curve to \(directory.path): \(error.localizedDescription)")
        }
    }

    /// The curve: raw loss (light) and smoothed loss (dark) against log10(rate), a tick and a
    /// light gridline at every power of ten, the suggested rate as a dashed vertical line.
    public func svg(width: Double = 560, height: Double = 340) -> String {
        let left = 64.0, right = 20.0, top = 30.0, bottom = 46.0
        let finite = points.filter { $0.loss.isFinite && $0.smoothedLoss.isFinite }
        let xs = finite.map { log10($0.learningRate) }
        var (xMin, xMax) = (xs.min() ?? -7, xs.max() ?? 1)
        if xMax - xMin < 1e-9 { xMin -= 0.5; xMax += 0.5 }
        // The y range reaches down to the lowest raw loss and up to the highest smoothed one
        // (raw losses at divergence would flatten the curve; they are drawn clipped at the top).
        let ys = finite.map(\.smoothedLoss)
        var (yMin, yMax) = (min(ys.min() ?? 0, finite.map(\.loss).min() ?? 0), ys.max() ?? 1)
        if yMax - yMin < 1e-12 { yMin -= 0.5; yMax += 0.5 }
        let pad = (yMax - yMin) * 0.05
        yMin -= pad; yMax += pad
        func px(_ v: Double) -> Double { left + (v - xMin) / (xMax - xMin) * (width - left - right) }
        func py(_ v: Double) -> Double { top + (yMax - min(max(v, yMin), yMax)) / (yMax - yMin) * (height - top - bottom) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="11">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(f(width / 2))" y="18" text-anchor="middle" font-size="13">LR finder</text>

        """
        for decade in Int(xMin.rounded(.up))...max(Int(xMin.rounded(.up)), Int(xMax.rounded(.down))) {
            let x = px(Double(decade))
            svg += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(height - bottom))\" stroke=\"#e5e5e5\"/>"
            svg += "<text x=\"\(f(x))\" y=\"\(f(height - bottom + 14))\" text-anchor=\"middle\">1e\(decade)</text>\n"
        }
        for i in 0...4 {
            let v = yMin + (yMax - yMin) * Double(i) / 4
            svg += "<line x1=\"\(f(left))\" y1=\"\(f(py(v)))\" x2=\"\(f(width - right))\" y2=\"\(f(py(v)))\" stroke=\"#e5e5e5\"/>"
            svg += "<text x=\"\(f(left - 4))\" y=\"\(f(py(v) + 4))\" text-anchor=\"end\">\(String(format: "%.3g", v))</text>\n"
        }
        svg += """
        <line x1="\(f(left))" y1="\(f(height - bottom))" x2="\(f(width - right))" y2="\(f(height - bottom))" stroke="black"/>
        <line x1="\(f(left))" y1="\(f(top))" x2="\(f(left))" y2="\(f(height - bottom))" stroke="black"/>
        <text x="\(f((left + width - right) / 2))" y="\(f(height - 10))" text-anchor="middle">learning rate (log scale)</text>
        <text transform="translate(14 \(f((top + height - bottom) / 2))) rotate(-90)" text-anchor="middle">loss</text>

        """
        let raw = finite.map { "\(f(px(log10($0.learningRate)))),\(f(py($0.loss)))" }.joined(separator: " ")
        let smooth = finite.map { "\(f(px(log10($0.learningRate)))),\(f(py($0.smoothedLoss)))" }.joined(separator: " ")
        svg += "<polyline fill=\"none\" stroke=\"#9ecae1\" stroke-width=\"1\" points=\"\(raw)\"/>\n"
        svg += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"\(smooth)\"/>\n"
        if suggestion.isFinite, suggestion > 0 {
            let x = px(log10(suggestion))
            svg += "<line x1=\"\(f(x))\" y1=\"\(f(top))\" x2=\"\(f(x))\" y2=\"\(f(height - bottom))\" stroke=\"#d62728\" stroke-dasharray=\"4 3\"/>\n"
            svg += "<text x=\"\(f(min(x + 4, width - right - 90)))\" y=\"\(f(top + 12))\" fill=\"#d62728\">suggested \(String(format: "%.3g", suggestion))</text>\n"
        }
        return svg + "</svg>\n"
    }
}
