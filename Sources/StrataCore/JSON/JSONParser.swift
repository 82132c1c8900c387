// The strict JSON parser shared by recipes, plugin manifests and safetensors headers.
//
// The parser is iterative (an explicit stack, never recursion over the input), so no document can
// exhaust the call stack, and every input-dependent path reports an error instead of trapping.
//
// Limits (all documented in docs/recipes.md):
// - a document is at most 16 MiB (`JSONParser.defaultMaxBytes`) and nests at most 64 arrays or
//   objects (`JSONParser.defaultMaxDepth`);
// - numbers must be finite doubles ("number out of range" otherwise); values below the smallest
//   double round to zero.

/// A malformed JSON text: where (1-based line and column, columns counted in characters, and the
/// byte offset) and what.
///
/// `description` reads `line 3, column 17: expected ',' or '}' after object member`. Readers of
/// binary files whose errors name byte offsets (safetensors headers) use `offset` instead.
public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 1-based line of the problem.
    public let line: Int
    /// 1-based column of the problem, in Unicode characters (a tab counts as one).
    public let column: Int
    /// What is wrong, as a sentence fragment without the position.
    public let message: String
    /// 0-based byte offset of the problem in the input the parser was given (a byte order mark
    /// counts); nil for an error built without one.
    public let offset: Int?

    public init(line: Int, column: Int, message: String, offset: Int? = nil) {
        self.line = line
        self.column = column
        self.message = message
        self.offset = offset
    }

    public var description: String { "line \(line), column \(column): \(message)" }

    /// Equal when line, column and message are: in a given text they determine the offset.
    public static func == (lhs: JSONSyntaxError, rhs: JSONSyntaxError) -> Bool {
        lhs.line == rhs.line && lhs.column == rhs.column && lhs.message == rhs.message
    }
}

/// A strict RFC 8259 parser.
///
/// Rejected, each with its own message: comments, trailing commas, single quotes, unquoted
/// words, `NaN` and `Infinity`, leading zeros, numbers beyond the range of a double, bad
/// escapes, unpaired surrogates, unescaped control characters, invalid UTF-8, duplicate keys,
/// content after the value, nesting deeper than `maxDepth` and input longer than `maxBytes`.
/// A UTF-8 byte order mark at the very start is skipped.
public enum JSONParser {
    /// Deepest nesting of arrays and objects accepted by default: 64 levels.
    public static let defaultMaxDepth = 64
    /// Largest input accepted by default: 16 MiB.
    public static let defaultMaxBytes = 16 << 20

    /// Parses a UTF-8 encoded JSON text.
    /// - Parameters:
    ///   - bytes: the whole document.
    ///   - maxDepth: the deepest nesting of arrays and objects allowed (`[[]]` is 2 levels).
    ///   - maxBytes: the largest document allowed.
    /// - Throws: `JSONSyntaxError` naming the line and column of the first problem.
    public static func parse(
        _ bytes: [UInt8], maxDepth: Int = defaultMaxDepth, maxBytes: Int = defaultMaxBytes
    ) throws(JSONSyntaxError) -> JSONValue {
        guard bytes.count <= maxBytes else {
            throw JSONSyntaxError(line: 1, column: 1, message: "input is larger than the limit of \(maxBytes) bytes", offset: 0)
        }
        return try parse(bytes, maxDepth: maxDepth, recordingRanges: false).value
    }

    /// Parses a UTF-8 encoded JSON text and notes where each value lies in it, for readers that
    /// report problems by byte offset (safetensors headers) or need a number's exact digits.
    /// Same rules and limits as `parse`.
    public static func parseDocument(
        _ bytes: [UInt8], maxDepth: Int = defaultMaxDepth, maxBytes: Int = defaultMaxBytes
    ) throws(JSONSyntaxError) -> JSONDocument {
        guard bytes.count <= maxBytes else {
            throw JSONSyntaxError(line: 1, column: 1, message: "input is larger than the limit of \(maxBytes) bytes", offset: 0)
        }
        let (value, ranges) = try parse(bytes, maxDepth: maxDepth, recordingRanges: true)
        return JSONDocument(value: value, bytes: bytes, ranges: ranges)
    }

    private static func parse(
        _ bytes: [UInt8], maxDepth: Int, recordingRanges: Bool
    ) throws(JSONSyntaxError) -> (value: JSONValue, ranges: [JSONPath: Range<Int>]) {
        var parser = JSONTextParser(bytes: bytes, maxDepth: maxDepth)
        if recordingRanges { parser.ranges = [:] }
        do {
            let value = try parser.parseDocument()
            return (value, parser.ranges ?? [:])
        } catch {
            let (line, column) = parser.location(of: error.offset)
            throw JSONSyntaxError(line: line, column: column, message: parser.decorated(error), offset: error.offset)
        }
    }

    /// Parses a JSON text held in a string.
    public static func parse(
        _ text: String, maxDepth: Int = defaultMaxDepth, maxBytes: Int = defaultMaxBytes
    ) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8), maxDepth: maxDepth, maxBytes: maxBytes)
    }
}

/// ASCII codes the parser compares against.
enum ASCII {
    static let tab: UInt8 = 0x09, newline: UInt8 = 0x0A, carriageReturn: UInt8 = 0x0D, space: UInt8 = 0x20
    static let quote: UInt8 = 0x22, apostrophe: UInt8 = 0x27, plus: UInt8 = 0x2B, comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D, dot: UInt8 = 0x2E, slash: UInt8 = 0x2F, asterisk: UInt8 = 0x2A
    static let zero: UInt8 = 0x30, nine: UInt8 = 0x39, colon: UInt8 = 0x3A, backslash: UInt8 = 0x5C
    static let openBracket: UInt8 = 0x5B, closeBracket: UInt8 = 0x5D, openBrace: UInt8 = 0x7B, closeBrace: UInt8 = 0x7D
    static let upperE: UInt8 = 0x45, lowerE: UInt8 = 0x65, lowerU: UInt8 = 0x75

    static func isDigit(_ byte: UInt8) -> Bool { byte >= zero && byte <= nine }
    static func isWordByte(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
    }
    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case 0x30...0x39: return UInt32(byte - 0x30)
        case 0x41...0x46: return UInt32(byte - 0x41 + 10)
        case 0x61...0x66: return UInt32(byte - 0x61 + 10)
        default: return nil
        }
    }
}

/// The parser's state over one document. Errors carry a byte offset; `JSONParser` turns it into
/// a line and a column only when something is wrong.
struct JSONTextParser {
    /// A problem at byte `offset`. At an end of input (`isEndOfInput`) the message is completed
    /// later with the string or container left open.
    struct Failure: Error {
        let offset: Int
        let message: String
        var isEndOfInput = false
    }

    /// An array or object being read.
    struct Frame {
        let isObject: Bool
        let openOffset: Int
        /// Where the container is in the document (kept only while recording ranges).
        let path: [JSONPath.Component]
        var elements: [JSONValue] = []
        var object = JSONObject()
        var keyOffsets: [String: Int] = [:]
        var pendingKey = ""
    }

    static let endOfInput = "unexpected end of input"

    let bytes: [UInt8]
    let maxDepth: Int
    /// Where the text starts (after a byte order mark, if any).
    let start: Int
    var index: Int
    var stack: [Frame] = []
    /// Set while reading a string, for the end-of-input message.
    var openString: Int?
    /// The byte range of every value by its path, when recording (`JSONParser.parseDocument`).
    var ranges: [JSONPath: Range<Int>]?

    init(bytes: [UInt8], maxDepth: Int) {
        self.bytes = bytes
        self.maxDepth = maxDepth
        let hasByteOrderMark = bytes.count >= 3 && bytes[0] == 0xEF && bytes[1] == 0xBB && bytes[2] == 0xBF
        start = hasByteOrderMark ? 3 : 0
        index = start
    }

    // MARK: Document structure

    mutating func parseDocument() throws(Failure) -> JSONValue {
        expectingValue: while true {
            skipWhitespace()
            guard index < bytes.count else { throw endOfInputFailure() }
            var value: JSONValue
            let byte = bytes[index]
            let valueStart = index
            let path = ranges == nil ? [] : pathOfNextValue()
            if byte == ASCII.openBrace || byte == ASCII.openBracket {
                guard stack.count < maxDepth else {
                    throw Failure(offset: index, message: "nesting deeper than \(maxDepth) levels")
                }
                let isObject = byte == ASCII.openBrace
                stack.append(Frame(isObject: isObject, openOffset: index, path: path))
                index += 1
                skipWhitespace()
                let closing = isObject ? ASCII.closeBrace : ASCII.closeBracket
                if index < bytes.count && bytes[index] == closing {
                    index += 1
                    value = isObject ? .object(JSONObject()) : .array([])
                    stack.removeLast()
                } else {
                    if isObject { try readKey(afterComma: false) }
                    continue expectingValue
                }
            } else {
                value = try parseScalar()
            }
            ranges?[JSONPath(path)] = valueStart..<index
            // A complete value: add it to the enclosing containers, closing those that end here.
            while !stack.isEmpty {
                let top = stack.count - 1
                if stack[top].isObject {
                    let key = stack[top].pendingKey
                    stack[top].object[key] = value
                } else {
                    stack[top].elements.append(value)
                }
                skipWhitespace()
                guard index < bytes.count else { throw endOfInputFailure() }
                let separator = bytes[index]
                if separator == ASCII.comma {
                    index += 1
                    skipWhitespace()
                    if stack[top].isObject {
                        try readKey(afterComma: true)
                    } else if index < bytes.count && bytes[index] == ASCII.closeBracket {
                        throw Failure(offset: index, message: "trailing comma before ']'")
                    }
                    continue expectingValue
                }
                let frame = stack[top]
                if frame.isObject && separator == ASCII.closeBrace {
                    value = .object(frame.object)
                } else if !frame.isObject && separator == ASCII.closeBracket {
                    value = .array(frame.elements)
                } else {
                    let expected = frame.isObject
                        ? "expected ',' or '}' after object member" : "expected ',' or ']' after array element"
                    throw Failure(offset: index, message: commentMessage(at: index) ?? expected)
                }
                stack.removeLast()
                index += 1
                ranges?[JSONPath(frame.path)] = frame.openOffset..<index
            }
            skipWhitespace()
            guard index == bytes.count else {
                throw Failure(offset: index, message: commentMessage(at: index) ?? "unexpected content after the JSON value")
            }
            return value
        }
    }

    /// The path of the value about to be read: the root, the pending member of the object on top
    /// of the stack, or the next element of the array there.
    func pathOfNextValue() -> [JSONPath.Component] {
        guard let top = stack.last else { return [] }
        return top.path + [top.isObject ? .key(top.pendingKey) : .index(top.elements.count)]
    }

    /// Reads `"key" :` of the object on top of the stack.
    mutating func readKey(afterComma: Bool) throws(Failure) {
        guard index < bytes.count else { throw endOfInputFailure() }
        let keyOffset = index
        guard bytes[index] == ASCII.quote else {
            if afterComma && bytes[index] == ASCII.closeBrace {
                throw Failure(offset: index, message: "trailing comma before '}'")
            }
            let message = commentMessage(at: index) ?? quoteMessage(at: index)
                ?? "expected a string in double quotes as the object key"
            throw Failure(offset: index, message: message)
        }
        let key = try parseString()
        let top = stack.count - 1
        if let first = stack[top].keyOffsets[key] {
            let (line, column) = location(of: first)
            throw Failure(offset: keyOffset, message:
                "duplicate key \(JSONText.quotedExcerpt(key)) (first at line \(line), column \(column))")
        }
        stack[top].keyOffsets[key] = keyOffset
        stack[top].pendingKey = key
        skipWhitespace()
        guard index < bytes.count else { throw endOfInputFailure() }
        guard bytes[index] == ASCII.colon else {
            throw Failure(offset: index, message: commentMessage(at: index) ?? "expected ':' after object key")
        }
        index += 1
    }

    mutating func skipWhitespace() {
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == ASCII.space || byte == ASCII.newline || byte == ASCII.carriageReturn || byte == ASCII.tab else { return }
            index += 1
        }
    }

    func endOfInputFailure() -> Failure {
        Failure(offset: bytes.count, message: Self.endOfInput, isEndOfInput: true)
    }

    /// The message of `failure`, naming the unclosed string or container at an end of input.
    func decorated(_ failure: Failure) -> String {
        guard failure.isEndOfInput else { return failure.message }
        if let openString {
            let (line, column) = location(of: openString)
            return "\(failure.message): the string at line \(line), column \(column) is not closed"
        }
        if let frame = stack.last {
            let (line, column) = location(of: frame.openOffset)
            return "\(failure.message): the '\(frame.isObject ? "{" : "[")' at line \(line), column \(column) is not closed"
        }
        return failure.message
    }

    /// 1-based line and column of a byte offset; columns count characters, not bytes.
    func location(of offset: Int) -> (line: Int, column: Int) {
        var line = 1, column = 1
        var position = start
        let end = Swift.min(Swift.max(offset, start), bytes.count)
        while position < end {
            let byte = bytes[position]
            if byte == ASCII.newline {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                column += 1
            }
            position += 1
        }
        return (line, column)
    }

    // MARK: Scalars

    mutating func parseScalar() throws(Failure) -> JSONValue {
        let byte = bytes[index]
        if byte == ASCII.quote { return .string(try parseString()) }
        if byte == ASCII.minus || ASCII.isDigit(byte) { return .number(try parseNumber()) }
        if ASCII.isWordByte(byte) { return try parseWord() }
        let message = commentMessage(at: index) ?? quoteMessage(at: index)
            ?? (byte == ASCII.plus ? "a number cannot start with '+'" : nil)
            ?? (byte == ASCII.dot ? "a number must start with a digit" : nil)
            ?? "unexpected \(characterDescription(at: index)); expected a value"
        throw Failure(offset: index, message: message)
    }

    /// `true`, `false`, `null`, or an error naming the word that is not JSON.
    mutating func parseWord() throws(Failure) -> JSONValue {
        let wordStart = index
        while index < bytes.count && ASCII.isWordByte(bytes[index]) { index += 1 }
        let word = String(decoding: bytes[wordStart..<index], as: UTF8.self)
        switch word {
        case "true": return .bool(true)
        case "false": return .bool(false)
        case "null": return .null
        default: throw Failure(offset: wordStart, message: Self.wordMessage(word))
        }
    }

    static func wordMessage(_ word: String, negative: Bool = false) -> String {
        switch word.lowercased() {
        case "nan": return "NaN is not valid JSON"
        case "infinity", "inf": return negative ? "-Infinity is not valid JSON" : "Infinity is not valid JSON"
        case "true", "false", "null", "none", "nil":
            return "invalid literal '\(word)'; JSON literals are true, false and null"
        default:
            let shown = word.count > 40 ? String(word.prefix(40)) + "…" : word
            return "unexpected word '\(shown)'; strings must be in double quotes"
        }
    }

    /// A number per RFC 8259: `-? (0 | [1-9][0-9]*) (.[0-9]+)? ([eE][+-]?[0-9]+)?`, finite.
    mutating func parseNumber() throws(Failure) -> Double {
        let numberStart = index
        if bytes[index] == ASCII.minus { index += 1 }
        guard index < bytes.count else { throw endOfInputFailure() }
        let first = bytes[index]
        if first == ASCII.zero {
            index += 1
            if index < bytes.count && ASCII.isDigit(bytes[index]) {
                throw Failure(offset: numberStart, message: "leading zeros are not allowed in numbers")
            }
        } else if ASCII.isDigit(first) {
            skipDigits()
        } else if ASCII.isWordByte(first) {
            let wordStart = index
            while index < bytes.count && ASCII.isWordByte(bytes[index]) { index += 1 }
            let word = String(decoding: bytes[wordStart..<index], as: UTF8.self)
            let message = ["nan", "infinity", "inf"].contains(word.lowercased())
                ? Self.wordMessage(word, negative: true) : "expected a digit after '-'"
            throw Failure(offset: numberStart, message: message)
        } else {
            throw Failure(offset: index, message: "expected a digit after '-'")
        }
        if index < bytes.count && bytes[index] == ASCII.dot {
            index += 1
            guard index < bytes.count else { throw endOfInputFailure() }
            guard ASCII.isDigit(bytes[index]) else {
                throw Failure(offset: index, message: "expected a digit after the decimal point")
            }
            skipDigits()
        }
        if index < bytes.count && (bytes[index] == ASCII.lowerE || bytes[index] == ASCII.upperE) {
            index += 1
            if index < bytes.count && (bytes[index] == ASCII.plus || bytes[index] == ASCII.minus) { index += 1 }
            guard index < bytes.count else { throw endOfInputFailure() }
            guard ASCII.isDigit(bytes[index]) else {
                throw Failure(offset: index, message: "expected a digit in the exponent")
            }
            skipDigits()
        }
        let text = String(decoding: bytes[numberStart..<index], as: UTF8.self)
        guard let number = Double(text), number.isFinite else {
            throw Failure(offset: numberStart, message: "number out of range")
        }
        return number
    }

    mutating func skipDigits() {
        while index < bytes.count && ASCII.isDigit(bytes[index]) { index += 1 }
    }

    /// A string starting at the opening quote; leaves `index` after the closing quote.
    mutating func parseString() throws(Failure) -> String {
        openString = index
        index += 1
        var decoded: [UInt8] = []
        var hasEscapes = false
        var runStart = index
        while true {
            guard index < bytes.count else { throw endOfInputFailure() }
            let byte = bytes[index]
            if byte == ASCII.quote {
                let text: String
                if hasEscapes {
                    decoded.append(contentsOf: bytes[runStart..<index])
                    text = String(decoding: decoded, as: UTF8.self)
                } else {
                    text = String(decoding: bytes[runStart..<index], as: UTF8.self)
                }
                index += 1
                openString = nil
                return text
            }
            if byte == ASCII.backslash {
                decoded.append(contentsOf: bytes[runStart..<index])
                hasEscapes = true
                try parseEscape(into: &decoded)
                runStart = index
            } else if byte < 0x20 {
                throw Failure(offset: index, message: "unescaped control character \(Self.codePoint(UInt32(byte))) in string")
            } else if byte < 0x80 {
                index += 1
            } else {
                try skipUTF8Sequence()
            }
        }
    }

    /// One escape sequence starting at the backslash; appends its UTF-8 bytes.
    mutating func parseEscape(into decoded: inout [UInt8]) throws(Failure) {
        let escapeStart = index
        index += 1
        guard index < bytes.count else { throw endOfInputFailure() }
        let letter = bytes[index]
        index += 1
        switch letter {
        case ASCII.quote, ASCII.backslash, ASCII.slash: decoded.append(letter)
        case 0x62: decoded.append(0x08)  // b
        case 0x66: decoded.append(0x0C)  // f
        case 0x6E: decoded.append(0x0A)  // n
        case 0x72: decoded.append(0x0D)  // r
        case 0x74: decoded.append(0x09)  // t
        case ASCII.lowerU:
            let unit = try readHex4(escapeStart: escapeStart)
            var scalarValue = unit
            if (0xD800...0xDBFF).contains(unit) {
                guard index + 1 < bytes.count, bytes[index] == ASCII.backslash, bytes[index + 1] == ASCII.lowerU else {
                    throw Failure(offset: escapeStart, message: "unpaired surrogate \(Self.escapeText(unit))")
                }
                let lowStart = index
                index += 2
                let low = try readHex4(escapeStart: lowStart)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw Failure(offset: escapeStart, message: "unpaired surrogate \(Self.escapeText(unit))")
                }
                scalarValue = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            } else if (0xDC00...0xDFFF).contains(unit) {
                throw Failure(offset: escapeStart, message: "unpaired surrogate \(Self.escapeText(unit))")
            }
            // Surrogates are excluded above, so every remaining value is a Unicode scalar.
            guard let scalar = Unicode.Scalar(scalarValue) else {
                throw Failure(offset: escapeStart, message: "unpaired surrogate \(Self.escapeText(unit))")
            }
            UTF8.encode(scalar) { decoded.append($0) }
        default:
            let shown = letter >= 0x21 && letter < 0x7F
                ? "'\\\(Character(Unicode.Scalar(letter)))'" : "'\\' followed by \(characterDescription(at: index - 1))"
            throw Failure(offset: escapeStart, message: "invalid escape \(shown)")
        }
    }

    /// The four hex digits after `\u`.
    mutating func readHex4(escapeStart: Int) throws(Failure) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count else { throw endOfInputFailure() }
            guard let digit = ASCII.hexValue(bytes[index]) else {
                throw Failure(offset: escapeStart, message: "invalid \\u escape: expected four hex digits")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }

    /// Checks one multi-byte UTF-8 sequence (Unicode Table 3-7) and steps over it.
    mutating func skipUTF8Sequence() throws(Failure) {
        let lead = bytes[index]
        let length: Int
        var secondRange: ClosedRange<UInt8> = 0x80...0xBF
        switch lead {
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; secondRange = 0xA0...0xBF
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; secondRange = 0x80...0x9F
        case 0xF0: length = 4; secondRange = 0x90...0xBF
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; secondRange = 0x80...0x8F
        default:
            throw Failure(offset: index, message: "invalid UTF-8 byte \(Self.hexByte(lead))")
        }
        for k in 1..<length {
            guard index + k < bytes.count else { throw endOfInputFailure() }
            let byte = bytes[index + k]
            guard (k == 1 ? secondRange : 0x80...0xBF).contains(byte) else {
                throw Failure(offset: index, message: "invalid UTF-8 sequence starting with byte \(Self.hexByte(lead))")
            }
        }
        index += length
    }

    // MARK: Messages

    /// A message for a comment where JSON has none, if there is one at `offset`.
    func commentMessage(at offset: Int) -> String? {
        guard offset + 1 < bytes.count, bytes[offset] == ASCII.slash,
              bytes[offset + 1] == ASCII.slash || bytes[offset + 1] == ASCII.asterisk else { return nil }
        return "comments are not allowed in JSON"
    }

    /// A message for a single-quoted string, if one starts at `offset`.
    func quoteMessage(at offset: Int) -> String? {
        bytes[offset] == ASCII.apostrophe ? "strings must be in double quotes, not single quotes" : nil
    }

    /// `character 'x'`, `character U+00A0`, or `invalid UTF-8 byte 0xFF` for the text at `offset`.
    func characterDescription(at offset: Int) -> String {
        let byte = bytes[offset]
        if byte >= 0x21 && byte < 0x7F { return "character '\(Character(Unicode.Scalar(byte)))'" }
        if byte < 0x80 { return "character \(Self.codePoint(UInt32(byte)))" }
        var copy = self
        copy.index = offset
        guard (try? copy.skipUTF8Sequence()) != nil else { return "invalid UTF-8 byte \(Self.hexByte(byte))" }
        let scalars = String(decoding: bytes[offset..<copy.index], as: UTF8.self).unicodeScalars
        guard let scalar = scalars.first else { return "invalid UTF-8 byte \(Self.hexByte(byte))" }
        return "character '\(Character(scalar))' (\(Self.codePoint(scalar.value)))"
    }

    static func hexDigits(_ value: UInt32, width: Int) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: Swift.max(0, width - digits.count)) + digits
    }
    static func codePoint(_ value: UInt32) -> String { "U+" + hexDigits(value, width: 4) }
    static func hexByte(_ byte: UInt8) -> String { "0x" + hexDigits(UInt32(byte), width: 2) }
    static func escapeText(_ unit: UInt32) -> String { "\\u" + hexDigits(unit, width: 4) }
}
