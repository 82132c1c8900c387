// JSON text out: compact and pretty serialization, and the quoting used in messages.

extension JSONValue {
    /// The JSON text of the value.
    ///
    /// Object members keep their order. Whole numbers below 10¹⁶ print as integers (`10`, not
    /// `10.0`); other numbers print in the shortest form that reads back as the same double
    /// (`0.1`, `1e-08`); NaN and infinities, which JSON cannot express, print as `null`.
    /// Strings escape `"`, `\` and control characters; other characters are written as UTF-8.
    ///
    /// - Parameter pretty: two-space indentation, one member or element per line, except that a
    ///   container holding only scalars or flat containers stays on one line when that line fits
    ///   in 80 columns. Without it, the most compact text.
    public func serialized(pretty: Bool = false) -> String {
        var out = ""
        if pretty {
            JSONText.writePretty(self, indent: 0, prefixWidth: 0, into: &out)
        } else {
            JSONText.writeCompact(self, spaced: false, into: &out)
        }
        return out
    }
}

/// Text formatting shared by the serializer and the messages.
enum JSONText {
    static let lineWidth = 80

    /// A number as the serializer writes it.
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == value.rounded(.towardZero) && Swift.abs(value) < 1e16 { return String(Int64(value)) }
        return value.description
    }

    /// A string as a quoted, escaped JSON string.
    static func quoted(_ text: String) -> String {
        var out = ""
        writeString(text, into: &out)
        return out
    }

    /// A string quoted for a message, shortened to 40 characters.
    static func quotedExcerpt(_ text: String) -> String {
        text.count > 40 ? String(quoted(String(text.prefix(40))).dropLast()) + "…\"" : quoted(text)
    }

    static func writeString(_ text: String, into out: inout String) {
        out.append("\"")
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x22: out.append("\\\"")
            case 0x5C: out.append("\\\\")
            case 0x0A: out.append("\\n")
            case 0x0D: out.append("\\r")
            case 0x09: out.append("\\t")
            case 0x08: out.append("\\b")
            case 0x0C: out.append("\\f")
            case 0..<0x20: out.append("\\u" + JSONTextParser.hexDigits(scalar.value, width: 4))
            default: out.unicodeScalars.append(scalar)
            }
        }
        out.append("\"")
    }

    /// Compact text; `spaced` adds a space after `,` and `:` (for one-line pretty output).
    static func writeCompact(_ value: JSONValue, spaced: Bool, into out: inout String) {
        switch value {
        case .null: out.append("null")
        case let .bool(b): out.append(b ? "true" : "false")
        case let .number(x): out.append(number(x))
        case let .string(s): writeString(s, into: &out)
        case let .array(elements):
            out.append("[")
            for (i, element) in elements.enumerated() {
                if i > 0 { out.append(spaced ? ", " : ",") }
                writeCompact(element, spaced: spaced, into: &out)
            }
            out.append("]")
        case let .object(object):
            out.append("{")
            for (i, member) in object.members.enumerated() {
                if i > 0 { out.append(spaced ? ", " : ",") }
                writeString(member.key, into: &out)
                out.append(spaced ? ": " : ":")
                writeCompact(member.value, spaced: spaced, into: &out)
            }
            out.append("}")
        }
    }

    /// Levels of containers: 0 for a scalar, 1 for `[1, 2]`, 2 for `{"a": [1]}`.
    static func containerDepth(_ value: JSONValue) -> Int {
        switch value {
        case let .array(elements): return 1 + (elements.map(containerDepth).max() ?? 0)
        case let .object(object): return 1 + (object.members.map { containerDepth($0.value) }.max() ?? 0)
        default: return 0
        }
    }

    /// Pretty text at `indent` spaces; `prefixWidth` is what precedes the value on its line.
    static func writePretty(_ value: JSONValue, indent: Int, prefixWidth: Int, into out: inout String) {
        let isEmpty: Bool
        switch value {
        case let .array(elements): isEmpty = elements.isEmpty
        case let .object(object): isEmpty = object.isEmpty
        default: writeCompact(value, spaced: true, into: &out); return
        }
        if isEmpty || containerDepth(value) <= 2 {
            var line = ""
            writeCompact(value, spaced: true, into: &line)
            if isEmpty || indent + prefixWidth + line.count + 1 <= lineWidth {
                out.append(line)
                return
            }
        }
        let inner = String(repeating: " ", count: indent + 2)
        switch value {
        case let .array(elements):
            out.append("[\n")
            for (i, element) in elements.enumerated() {
                out.append(inner)
                writePretty(element, indent: indent + 2, prefixWidth: 0, into: &out)
                out.append(i + 1 < elements.count ? ",\n" : "\n")
            }
            out.append(String(repeating: " ", count: indent) + "]")
        case let .object(object):
            out.append("{\n")
            for (i, member) in object.members.enumerated() {
                let key = quoted(member.key) + ": "
                out.append(inner + key)
                writePretty(member.value, indent: indent + 2, prefixWidth: key.count, into: &out)
                out.append(i + 1 < object.count ? ",\n" : "\n")
            }
            out.append(String(repeating: " ", count: indent) + "}")
        default:
            break
        }
    }
}
