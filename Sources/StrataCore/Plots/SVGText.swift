import Foundation

/// Text and numbers as they go into an SVG document.
enum SVGText {
    /// `text` with the five XML special characters escaped, for element text and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for ch in text {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default: out.append(ch)
            }
        }
        return out
    }

    /// A coordinate with one decimal.
    static func coordinate(_ v: Double) -> String { String(format: "%.1f", v) }

    /// The opening tag of a document of `width` × `height` pixels on a white background.
    static func header(width: Double, height: Double) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" "
            + "viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"11\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
    }

    /// An approximate width in pixels of `text` at 11 px (for laying out legends).
    static func width(_ text: String) -> Double { Double(text.count) * 6.4 }
}
