// A parsed JSON document that remembers where each value lies in its text, for readers that
// report problems by byte offset (safetensors headers) or must read integers exactly.

/// A JSON value with the byte range of each of its values in the text it was parsed from
/// (``JSONParser/parseDocument(_:maxDepth:maxBytes:)``).
public struct JSONDocument: Sendable {
    /// The parsed value.
    public let value: JSONValue
    /// The text, as given to the parser.
    public let bytes: [UInt8]
    /// Byte range of each value, by path.
    let ranges: [JSONPath: Range<Int>]

    /// Byte offset of the first byte of the value at `path`, or nil when there is no such value.
    public func offset(of path: JSONPath) -> Int? { ranges[path]?.lowerBound }

    /// Byte range of the value at `path` (a container's includes its brackets).
    public func range(of path: JSONPath) -> Range<Int>? { ranges[path] }

    /// The integer at `path` read exactly from its digits: a number written as `-?[0-9]+` (no
    /// fraction, no exponent) that fits in `Int`. Nil for any other value, so a large integer is
    /// refused rather than rounded to a double (beyond 2⁵³ doubles skip integers).
    public func exactInteger(at path: JSONPath) -> Int? {
        guard case .number? = value.value(at: path), let range = ranges[path] else { return nil }
        let text = bytes[range]
        let digits = text.first == ASCII.minus ? text.dropFirst() : text[...]
        guard !digits.isEmpty, digits.allSatisfy(ASCII.isDigit) else { return nil }
        return Int(String(decoding: text, as: UTF8.self))
    }
}
