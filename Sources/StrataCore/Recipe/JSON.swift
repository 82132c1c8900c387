// JSON for recipes: a value type, a strict parser, a serializer, typed access that names the JSON
// path of every problem, and the path assignment behind `strata run --set`.
//
// This file is deliberately free of Foundation. The parser is iterative (an explicit stack, never
// recursion over the input), so no document can exhaust the call stack, and every input-dependent
// path reports an error instead of trapping.
//
// Limits (all documented in docs/recipes.md):
// - a document is at most 16 MiB (`JSONParser.defaultMaxBytes`) and nests at most 64 arrays or
//   objects (`JSONParser.defaultMaxDepth`);
// - numbers must be finite doubles ("number out of range" otherwise); values below the smallest
//   double round to zero;
// - typed integer access accepts only whole numbers within Int32 (−2147483648…2147483647);
// - an override path has at most 64 segments.

// MARK: - Values

/// A JSON value. Numbers are doubles, as in JavaScript; objects keep their members in document
/// order (see `JSONObject`).
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// A JSON object: its members in document order, plus lookup by key.
///
/// Keys are unique. The parser rejects a duplicate key; building an object in code with a key
/// twice keeps the first position and the last value. Two objects are equal when they have the
/// same keys with equal values, whatever the order.
public struct JSONObject: Equatable, Sendable, Sequence, ExpressibleByDictionaryLiteral {
    /// The members, in document (or insertion) order.
    public private(set) var members: [(key: String, value: JSONValue)] = []
    /// Position of each key in `members`.
    private var positions: [String: Int] = [:]

    /// An empty object.
    public init() {}

    /// An object with `members` in this order. A repeated key keeps its first position and
    /// takes the last value.
    public init(_ members: [(String, JSONValue)]) {
        for (key, value) in members { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    /// Number of members.
    public var count: Int { members.count }
    /// True when the object has no members.
    public var isEmpty: Bool { members.isEmpty }
    /// The keys, in order.
    public var keys: [String] { members.map(\.key) }

    /// True when the object has a member `key` (even one whose value is `null`).
    public func containsKey(_ key: String) -> Bool { positions[key] != nil }

    /// The value of member `key`, or nil when there is none. Assigning a value replaces the
    /// member in place or appends a new one; assigning nil removes it.
    public subscript(key: String) -> JSONValue? {
        get { positions[key].map { members[$0].value } }
        set {
            if let newValue {
                if let position = positions[key] {
                    members[position].value = newValue
                } else {
                    positions[key] = members.count
                    members.append((key, newValue))
                }
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// Removes member `key` and returns its value, or nil when there was none.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let position = positions.removeValue(forKey: key) else { return nil }
        let removed = members.remove(at: position).value
        for index in position..<members.count { positions[members[index].key] = index }
        return removed
    }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        members.makeIterator()
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (key, value) in lhs.members {
            guard let other = rhs[key], other == value else { return false }
        }
        return true
    }
}

extension JSONValue {
    /// The member `key` of an object, or nil (also when this is not an object).
    public subscript(key: String) -> JSONValue? {
        guard case let .object(object) = self else { return nil }
        return object[key]
    }

    /// Element `index` of an array, or nil (also when this is not an array or the index is out
    /// of bounds).
    public subscript(index: Int) -> JSONValue? {
        guard case let .array(elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The value at `path` below this one, or nil when any step does not exist.
    public func value(at path: JSONPath) -> JSONValue? {
        var current = self
        for component in path.components {
            switch component {
            case let .key(key): guard let next = current[key] else { return nil }; current = next
            case let .index(index): guard let next = current[index] else { return nil }; current = next
            }
        }
        return current
    }

    /// True for `null`.
    public var isNull: Bool { self == .null }
    /// The number, if this is one.
    public var numberValue: Double? { if case let .number(x) = self { return x }; return nil }
    /// The string, if this is one.
    public var stringValue: String? { if case let .string(s) = self { return s }; return nil }
    /// The boolean, if this is one.
    public var boolValue: Bool? { if case let .bool(b) = self { return b }; return nil }
    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? { if case let .array(a) = self { return a }; return nil }
    /// The object, if this is one.
    public var objectValue: JSONObject? { if case let .object(o) = self { return o }; return nil }
}

extension JSONValue: ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    public init(floatLiteral value: Double) { self = .number(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) { self = .object(JSONObject(elements)) }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text of the value.
    public var description: String { serialized(pretty: false) }
}

// MARK: - Parsing

/// A malformed JSON text: where (1-based line and column, columns counted in characters) and what.
///
/// `description` reads `line 3, column 17: expected ',' or '}' after object member`.
public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// 1-based line of the problem.
    public let line: Int
    /// 1-based column of the problem, in Unicode characters (a tab counts as one).
    public let column: Int
    /// What is wrong, as a sentence fragment without the position.
    public let message: String

    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "line \(line), column \(column): \(message)" }
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
            throw JSONSyntaxError(line: 1, column: 1, message: "input is larger than the limit of \(maxBytes) bytes")
        }
        var parser = JSONTextParser(bytes: bytes, maxDepth: maxDepth)
        do {
            return try parser.parseDocument()
        } catch {
            let (line, column) = parser.location(of: error.offset)
            throw JSONSyntaxError(line: line, column: column, message: parser.decorated(error))
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
private enum ASCII {
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
private struct JSONTextParser {
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
            if byte == ASCII.openBrace || byte == ASCII.openBracket {
                guard stack.count < maxDepth else {
                    throw Failure(offset: index, message: "nesting deeper than \(maxDepth) levels")
                }
                let isObject = byte == ASCII.openBrace
                stack.append(Frame(isObject: isObject, openOffset: index))
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
            }
            skipWhitespace()
            guard index == bytes.count else {
                throw Failure(offset: index, message: commentMessage(at: index) ?? "unexpected content after the JSON value")
            }
            return value
        }
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

// MARK: - Serializing

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

// MARK: - Paths and errors

/// A location in a JSON document: `$` for the root, then `.key` and `[index]` steps, as in
/// `$.model.layers[3].kernel_size`. Keys that are not plain words print as `["a key"]`.
public struct JSONPath: Hashable, Sendable, CustomStringConvertible {
    /// One step from a value to a member or an element.
    public enum Component: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    /// The steps from the root.
    public var components: [Component]

    /// Most steps an override path may have.
    public static let maxComponents = 64

    public init(_ components: [Component] = []) { self.components = components }

    /// The root of the document, `$`.
    public static let root = JSONPath()

    /// This path followed by member `key`.
    public func appending(_ key: String) -> JSONPath { JSONPath(components + [.key(key)]) }

    /// This path followed by element `index`.
    public func appending(index: Int) -> JSONPath { JSONPath(components + [.index(index)]) }

    public var description: String {
        var out = "$"
        for component in components {
            switch component {
            case let .key(key):
                if JSONPath.isPlainKey(key) { out += "." + key } else { out += "[" + JSONText.quoted(key) + "]" }
            case let .index(index):
                out += "[\(index)]"
            }
        }
        return out
    }

    /// A key written without quotes: letters, digits, `_` and `-`, not all digits.
    static func isPlainKey(_ key: String) -> Bool {
        guard !key.isEmpty, key.utf8.count <= 64 else { return false }
        var allDigits = true
        for byte in key.utf8 {
            let isDigit = ASCII.isDigit(byte)
            allDigits = allDigits && isDigit
            guard ASCII.isWordByte(byte) || byte == ASCII.minus else { return false }
        }
        return !allDigits
    }

    /// Reads a path as typed on the command line: `optimizer.lr`, `model.layers.3.kernel_size`,
    /// `callbacks[0].every`, `$.data["odd key"]`. A leading `$` or `$.` is optional; a segment
    /// of digits is an array index; `["…"]` holds any key as a JSON string.
    ///
    /// - Throws: `RecipeError` whose path is the text as given.
    public init(parsing text: String) throws(RecipeError) {
        func failure(_ message: String) -> RecipeError { RecipeError(path: text, message: "invalid path: " + message) }
        let bytes = Array(text.utf8)
        var index = 0
        var components: [Component] = []
        if bytes.first == 0x24 {  // $
            index = 1
            guard index == bytes.count || bytes[index] == ASCII.dot || bytes[index] == ASCII.openBracket else {
                throw failure("expected '.' or '[' after '$'")
            }
        } else if bytes.isEmpty {
            throw failure("the path is empty")
        }
        var first = index == 0
        while index < bytes.count {
            if bytes[index] == ASCII.openBracket {
                index += 1
                guard index < bytes.count else { throw failure("'[' is not closed") }
                if bytes[index] == ASCII.quote {
                    var end = index + 1
                    while end < bytes.count && bytes[end] != ASCII.quote {
                        end += bytes[end] == ASCII.backslash ? 2 : 1
                    }
                    guard end < bytes.count else { throw failure("the quoted key is not closed") }
                    guard case let .string(key)? = try? JSONParser.parse(Array(bytes[index...end])) else {
                        throw failure("the quoted key is not a valid JSON string")
                    }
                    components.append(.key(key))
                    index = end + 1
                } else {
                    let digitsStart = index
                    while index < bytes.count && ASCII.isDigit(bytes[index]) { index += 1 }
                    guard index > digitsStart else { throw failure("expected an index or a quoted key after '['") }
                    guard index - digitsStart <= 9, let value = Int(String(decoding: bytes[digitsStart..<index], as: UTF8.self)) else {
                        throw failure("index too large")
                    }
                    components.append(.index(value))
                }
                guard index < bytes.count, bytes[index] == ASCII.closeBracket else { throw failure("expected ']'") }
                index += 1
            } else {
                if !first {
                    guard bytes[index] == ASCII.dot else { throw failure("expected '.' or '[' between segments") }
                    index += 1
                }
                let nameStart = index
                while index < bytes.count && bytes[index] != ASCII.dot && bytes[index] != ASCII.openBracket {
                    guard bytes[index] != ASCII.closeBracket else { throw failure("unexpected ']'") }
                    index += 1
                }
                guard index > nameStart else { throw failure("empty segment") }
                let name = String(decoding: bytes[nameStart..<index], as: UTF8.self)
                if name.utf8.allSatisfy(ASCII.isDigit) {
                    guard name.utf8.count <= 9, let value = Int(name) else { throw failure("index too large") }
                    components.append(.index(value))
                } else {
                    components.append(.key(name))
                }
            }
            first = false
            guard components.count <= JSONPath.maxComponents else {
                throw failure("more than \(JSONPath.maxComponents) segments")
            }
        }
        self.components = components
    }
}

/// One problem in a recipe: where (a JSON path such as `$.optimizer.lr`) and what.
///
/// `description` reads `$.optimizer.lr: expected a number, got string "fast"`.
public struct RecipeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Where: a JSON path (`$.model.layers[3]`), or for a malformed `--set` path the text given.
    public let path: String
    /// What is wrong.
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    public init(at path: JSONPath, _ message: String) {
        self.init(path: path.description, message: message)
    }

    public var description: String { "\(path): \(message)" }

    /// The candidate closest to `word` (a typo of it), or nil when none is close: a
    /// case-insensitive match, or an edit distance of at most 2 (1 for words of up to 4 letters).
    public static func closestMatch(to word: String, among candidates: [String]) -> String? {
        guard word.count <= 64 else { return nil }
        let lowered = word.lowercased()
        if let same = candidates.first(where: { $0.lowercased() == lowered }) { return same }
        let limit = word.count <= 4 ? 1 : 2
        var best: (candidate: String, distance: Int)?
        for candidate in candidates where candidate.count <= 64 {
            let distance = editDistance(Array(lowered.unicodeScalars), Array(candidate.lowercased().unicodeScalars))
            if distance <= limit && distance < (best?.distance ?? Int.max) { best = (candidate, distance) }
        }
        return best?.candidate
    }

    /// Levenshtein distance, counting a swap of two neighbours as one edit.
    static func editDistance(_ a: [Unicode.Scalar], _ b: [Unicode.Scalar]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previousRow = [Int](repeating: 0, count: b.count + 1)
        var row = Array(0...b.count)
        var current = row
        for i in 1...a.count {
            current = [Int](repeating: 0, count: b.count + 1)
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = Swift.min(row[j] + 1, current[j - 1] + 1, row[j - 1] + cost)
                if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                    current[j] = Swift.min(current[j], previousRow[j - 2] + 1)
                }
            }
            previousRow = row
            row = current
        }
        return current[b.count]
    }
}

/// Collects every problem of a recipe, so a user sees them all at once rather than one per run.
///
/// Validation code reports into it and carries on with a default; the caller checks `errors`
/// at the end.
public final class Diagnostics {
    /// The problems, in the order reported.
    public private(set) var errors: [RecipeError] = []

    public init() {}

    /// True when nothing was reported.
    public var isEmpty: Bool { errors.isEmpty }

    /// Records a problem at a path given as text (`$.optimizer.lr`).
    public func error(at path: String, _ message: String) {
        errors.append(RecipeError(path: path, message: message))
    }

    /// Records a problem at `path`.
    public func error(at path: JSONPath, _ message: String) {
        errors.append(RecipeError(at: path, message))
    }

    /// Records `error`.
    public func report(_ error: RecipeError) { errors.append(error) }

    /// Records every error of `list`.
    public func report(contentsOf list: [RecipeError]) { errors.append(contentsOf: list) }

    /// Runs a throwing read and returns its result, or records its error and returns nil:
    /// `let epochs = diagnostics.check { try recipe.int(at: "epochs", path: .root, min: 1) }`.
    /// An error that is not a `RecipeError` is recorded at `$` with its description.
    @discardableResult
    public func check<T, Failure: Error>(_ body: () throws(Failure) -> T) -> T? {
        do {
            return try body()
        } catch let error as RecipeError {
            errors.append(error)
        } catch {
            errors.append(RecipeError(path: "$", message: String(describing: error)))
        }
        return nil
    }
}

// MARK: - Typed access

/// Text of values in messages: `got string "fast"`, `got number 3.5`.
enum JSONMessage {
    static func got(_ value: JSONValue) -> String {
        switch value {
        case .null: return "got null"
        case let .bool(b): return "got boolean \(b)"
        case let .number(x): return "got number \(x.isFinite ? JSONText.number(x) : x.description)"
        case let .string(s): return "got string \(JSONText.quotedExcerpt(s))"
        case .array: return "got an array"
        case .object: return "got an object"
        }
    }

    static func elements(_ n: Int) -> String { n == 1 ? "1 element" : "\(n) elements" }

    /// `must be between 1 and 64`, `must be at least 0`, `must be greater than 0 and at most 1`.
    static func range(lower: String?, lowerInclusive: Bool, upper: String?, upperInclusive: Bool) -> String {
        if let lower, let upper, lowerInclusive, upperInclusive { return "must be between \(lower) and \(upper)" }
        var parts: [String] = []
        if let lower { parts.append(lowerInclusive ? "at least \(lower)" : "greater than \(lower)") }
        if let upper { parts.append(upperInclusive ? "at most \(upper)" : "less than \(upper)") }
        return "must be " + parts.joined(separator: " and ")
    }
}

extension JSONValue {
    /// Largest and smallest integer typed access accepts (Int32).
    public static let integerRange = Int(Int32.min)...Int(Int32.max)

    /// A whole number within `min`…`max` (inclusive) and within Int32. `3.0` and `3e0` count
    /// as whole; `3.5` does not.
    public func int(path: JSONPath, min: Int? = nil, max: Int? = nil) throws(RecipeError) -> Int {
        guard case let .number(x) = self, x.isFinite, x == x.rounded(.towardZero) else { throw RecipeError(at: path, "expected an integer, \(JSONMessage.got(self))") }
        let lower = Swift.max(min ?? JSONValue.integerRange.lowerBound, JSONValue.integerRange.lowerBound)
        let upper = Swift.min(max ?? JSONValue.integerRange.upperBound, JSONValue.integerRange.upperBound)
        guard x >= Double(lower) && x <= Double(upper) else {
            let range = min != nil && max != nil
                ? JSONMessage.range(lower: "\(lower)", lowerInclusive: true, upper: "\(upper)", upperInclusive: true)
                : x < Double(lower)
                ? JSONMessage.range(lower: "\(lower)", lowerInclusive: true, upper: nil, upperInclusive: true)
                : JSONMessage.range(lower: nil, lowerInclusive: true, upper: "\(upper)", upperInclusive: true)
            throw RecipeError(at: path, "\(range), got \(JSONText.number(x))")
        }
        return Int(x)
    }

    /// A number within the given bounds: `min`/`max` inclusive, `greaterThan`/`lessThan` exclusive.
    public func double(
        path: JSONPath, min: Double? = nil, max: Double? = nil, greaterThan: Double? = nil, lessThan: Double? = nil
    ) throws(RecipeError) -> Double {
        guard case let .number(x) = self, x.isFinite else {
            throw RecipeError(at: path, "expected a number, \(JSONMessage.got(self))")
        }
        let tooLow = (min.map { x < $0 } ?? false) || (greaterThan.map { x <= $0 } ?? false)
        let tooHigh = (max.map { x > $0 } ?? false) || (lessThan.map { x >= $0 } ?? false)
        guard !tooLow && !tooHigh else {
            let lower = greaterThan ?? min, upper = lessThan ?? max
            let range = JSONMessage.range(
                lower: lower.map(JSONText.number), lowerInclusive: greaterThan == nil,
                upper: upper.map(JSONText.number), upperInclusive: lessThan == nil)
            throw RecipeError(at: path, "\(range), got \(JSONText.number(x))")
        }
        return x
    }

    /// `true` or `false`.
    public func bool(path: JSONPath) throws(RecipeError) -> Bool {
        guard case let .bool(b) = self else { throw RecipeError(at: path, "expected true or false, \(JSONMessage.got(self))") }
        return b
    }

    /// A string, one of `allowed` when given.
    public func string(path: JSONPath, allowed: [String]? = nil) throws(RecipeError) -> String {
        guard case let .string(s) = self else { throw RecipeError(at: path, "expected a string, \(JSONMessage.got(self))") }
        if let allowed, !allowed.contains(s) {
            let choices = allowed.map(JSONText.quoted).joined(separator: ", ")
            let hint = RecipeError.closestMatch(to: s, among: allowed).map { " (did you mean \(JSONText.quoted($0))?)" } ?? ""
            throw RecipeError(at: path, "expected one of \(choices), \(JSONMessage.got(self))\(hint)")
        }
        return s
    }

    /// An array of `minCount`…`maxCount` elements.
    public func array(path: JSONPath, minCount: Int = 0, maxCount: Int? = nil) throws(RecipeError) -> [JSONValue] {
        guard case let .array(elements) = self else { throw RecipeError(at: path, "expected an array, \(JSONMessage.got(self))") }
        if elements.count < minCount {
            throw RecipeError(at: path, "must have at least \(JSONMessage.elements(minCount)), got \(elements.count)")
        }
        if let maxCount, elements.count > maxCount {
            throw RecipeError(at: path, "must have at most \(JSONMessage.elements(maxCount)), got \(elements.count)")
        }
        return elements
    }

    /// An object.
    public func object(path: JSONPath) throws(RecipeError) -> JSONObject {
        guard case let .object(object) = self else { throw RecipeError(at: path, "expected an object, \(JSONMessage.got(self))") }
        return object
    }

    /// An integer `n` (read as `(n, n)`) or a pair `[height, width]`, each within `min`…`max`:
    /// kernel sizes, strides, padding.
    public func intPair(path: JSONPath, min: Int? = nil, max: Int? = nil) throws(RecipeError) -> (Int, Int) {
        switch self {
        case .number:
            let n = try int(path: path, min: min, max: max)
            return (n, n)
        case let .array(elements) where elements.count == 2:
            return (try elements[0].int(path: path.appending(index: 0), min: min, max: max),
                    try elements[1].int(path: path.appending(index: 1), min: min, max: max))
        case let .array(elements):
            throw RecipeError(at: path, "expected an integer or [height, width], got an array of \(JSONMessage.elements(elements.count))")
        default:
            throw RecipeError(at: path, "expected an integer or [height, width], \(JSONMessage.got(self))")
        }
    }

    // MARK: Members

    /// Member `key` of this object, or nil when it is absent or `null`.
    /// - Throws: when this value is not an object (the error names `path`).
    public func member(_ key: String, path: JSONPath) throws(RecipeError) -> JSONValue? {
        let value = try object(path: path)[key]
        if value == nil || value == .null { return nil }
        return value
    }

    /// Member `key` of this object; absent or `null` is an error at `path`:
    /// `$.model.layers[3]: missing required key "out_features"`.
    public func requiredMember(_ key: String, path: JSONPath) throws(RecipeError) -> JSONValue {
        guard let value = try member(key, path: path) else {
            throw RecipeError(at: path, "missing required key \(JSONText.quoted(key))")
        }
        return value
    }

    /// Required integer member (see `int(path:min:max:)`).
    public func int(at key: String, path: JSONPath, min: Int? = nil, max: Int? = nil) throws(RecipeError) -> Int {
        try requiredMember(key, path: path).int(path: path.appending(key), min: min, max: max)
    }
    /// Integer member, `defaultValue` when absent or `null`.
    public func int(at key: String, path: JSONPath, default defaultValue: Int, min: Int? = nil, max: Int? = nil) throws(RecipeError) -> Int {
        try intIfPresent(at: key, path: path, min: min, max: max) ?? defaultValue
    }
    /// Integer member, nil when absent or `null`.
    public func intIfPresent(at key: String, path: JSONPath, min: Int? = nil, max: Int? = nil) throws(RecipeError) -> Int? {
        try member(key, path: path)?.int(path: path.appending(key), min: min, max: max)
    }

    /// Required number member (see `double(path:min:max:greaterThan:lessThan:)`).
    public func double(
        at key: String, path: JSONPath, min: Double? = nil, max: Double? = nil, greaterThan: Double? = nil, lessThan: Double? = nil
    ) throws(RecipeError) -> Double {
        try requiredMember(key, path: path).double(path: path.appending(key), min: min, max: max, greaterThan: greaterThan, lessThan: lessThan)
    }
    /// Number member, `defaultValue` when absent or `null`.
    public func double(
        at key: String, path: JSONPath, default defaultValue: Double,
        min: Double? = nil, max: Double? = nil, greaterThan: Double? = nil, lessThan: Double? = nil
    ) throws(RecipeError) -> Double {
        try doubleIfPresent(at: key, path: path, min: min, max: max, greaterThan: greaterThan, lessThan: lessThan) ?? defaultValue
    }
    /// Number member, nil when absent or `null`.
    public func doubleIfPresent(
        at key: String, path: JSONPath, min: Double? = nil, max: Double? = nil, greaterThan: Double? = nil, lessThan: Double? = nil
    ) throws(RecipeError) -> Double? {
        try member(key, path: path)?.double(path: path.appending(key), min: min, max: max, greaterThan: greaterThan, lessThan: lessThan)
    }

    /// Required boolean member.
    public func bool(at key: String, path: JSONPath) throws(RecipeError) -> Bool {
        try requiredMember(key, path: path).bool(path: path.appending(key))
    }
    /// Boolean member, `defaultValue` when absent or `null`.
    public func bool(at key: String, path: JSONPath, default defaultValue: Bool) throws(RecipeError) -> Bool {
        try boolIfPresent(at: key, path: path) ?? defaultValue
    }
    /// Boolean member, nil when absent or `null`.
    public func boolIfPresent(at key: String, path: JSONPath) throws(RecipeError) -> Bool? {
        try member(key, path: path)?.bool(path: path.appending(key))
    }

    /// Required string member, one of `allowed` when given.
    public func string(at key: String, path: JSONPath, allowed: [String]? = nil) throws(RecipeError) -> String {
        try requiredMember(key, path: path).string(path: path.appending(key), allowed: allowed)
    }
    /// String member, `defaultValue` when absent or `null`.
    public func string(at key: String, path: JSONPath, default defaultValue: String, allowed: [String]? = nil) throws(RecipeError) -> String {
        try stringIfPresent(at: key, path: path, allowed: allowed) ?? defaultValue
    }
    /// String member, nil when absent or `null`.
    public func stringIfPresent(at key: String, path: JSONPath, allowed: [String]? = nil) throws(RecipeError) -> String? {
        try member(key, path: path)?.string(path: path.appending(key), allowed: allowed)
    }

    /// Required array member of `minCount`…`maxCount` elements.
    public func array(at key: String, path: JSONPath, minCount: Int = 0, maxCount: Int? = nil) throws(RecipeError) -> [JSONValue] {
        try requiredMember(key, path: path).array(path: path.appending(key), minCount: minCount, maxCount: maxCount)
    }
    /// Array member, nil when absent or `null`.
    public func arrayIfPresent(at key: String, path: JSONPath, minCount: Int = 0, maxCount: Int? = nil) throws(RecipeError) -> [JSONValue]? {
        try member(key, path: path)?.array(path: path.appending(key), minCount: minCount, maxCount: maxCount)
    }

    /// Required object member.
    public func object(at key: String, path: JSONPath) throws(RecipeError) -> JSONObject {
        try requiredMember(key, path: path).object(path: path.appending(key))
    }
    /// Object member, nil when absent or `null`.
    public func objectIfPresent(at key: String, path: JSONPath) throws(RecipeError) -> JSONObject? {
        try member(key, path: path)?.object(path: path.appending(key))
    }

    /// Required integer-or-pair member (see `intPair(path:min:max:)`).
    public func intPair(at key: String, path: JSONPath, min: Int? = nil, max: Int? = nil) throws(RecipeError) -> (Int, Int) {
        try requiredMember(key, path: path).intPair(path: path.appending(key), min: min, max: max)
    }
    /// Integer-or-pair member, `defaultValue` when absent or `null`.
    public func intPair(
        at key: String, path: JSONPath, default defaultValue: (Int, Int), min: Int? = nil, max: Int? = nil
    ) throws(RecipeError) -> (Int, Int) {
        try member(key, path: path)?.intPair(path: path.appending(key), min: min, max: max) ?? defaultValue
    }

    /// Records an error for every member of this object whose key is not in `allowed` (see
    /// `JSONObject.unknownKeyErrors`); records "expected an object" when this is not one.
    public func checkKeys(allowed: [String], path: JSONPath, into diagnostics: Diagnostics) {
        guard case let .object(object) = self else {
            diagnostics.error(at: path, "expected an object, \(JSONMessage.got(self))")
            return
        }
        diagnostics.report(contentsOf: object.unknownKeyErrors(allowed: allowed, path: path))
    }
}

extension JSONObject {
    /// One error per member whose key is not in `allowed`, at the member's path:
    /// `$.optimizer.lrr: unknown key (did you mean "lr"?); allowed keys: kind, lr, momentum`.
    public func unknownKeyErrors(allowed: [String], path: JSONPath) -> [RecipeError] {
        members.compactMap { member in
            guard !allowed.contains(member.key) else { return nil }
            let hint = RecipeError.closestMatch(to: member.key, among: allowed).map { " (did you mean \(JSONText.quoted($0))?)" } ?? ""
            let list = allowed.isEmpty ? "this object takes no keys" : "allowed keys: " + allowed.joined(separator: ", ")
            return RecipeError(at: path.appending(member.key), "unknown key\(hint); \(list)")
        }
    }
}

// MARK: - Overrides (`strata run --set path=value`)

extension JSONValue {
    /// Replaces the value at `path` (as typed after `--set`: `optimizer.lr`,
    /// `model.layers.3.kernel_size`, `callbacks[0].every`; see `JSONPath(parsing:)`).
    ///
    /// Missing object members on the way are created (as objects, or `value` for the last step;
    /// a `null` member counts as missing). An index must name an existing element: arrays are
    /// never extended.
    /// - Throws: `RecipeError` at the deepest path that exists, saying why the step fails.
    public mutating func set(path: String, value: JSONValue) throws(RecipeError) {
        try set(JSONPath(parsing: path), to: value)
    }

    /// Replaces the value at `path`; see `set(path:value:)`. The root path replaces the whole value.
    public mutating func set(_ path: JSONPath, to value: JSONValue) throws(RecipeError) {
        // Work on a copy so that a failed assignment leaves this value as it was.
        var result = self
        try JSONValue.assign(value, to: &result, along: path.components[...], at: .root)
        self = result
    }

    private static func assign(
        _ value: JSONValue, to target: inout JSONValue, along steps: ArraySlice<JSONPath.Component>, at here: JSONPath
    ) throws(RecipeError) {
        guard let step = steps.first else {
            target = value
            return
        }
        let rest = steps.dropFirst()
        switch step {
        case let .key(key):
            var object: JSONObject
            switch target {
            case let .object(existing): object = existing
            case .null: object = JSONObject()
            default:
                throw RecipeError(at: here, "cannot set key \(JSONText.quoted(key)): this is not an object (\(JSONMessage.got(target)))")
            }
            var child = object[key] ?? .null
            if child == .null, case let .index(index)? = rest.first {
                throw RecipeError(at: here.appending(key), "does not exist, so [\(index)] cannot be set in it")
            }
            target = .null  // drop the second reference so the object is mutated in place
            try assign(value, to: &child, along: rest, at: here.appending(key))
            object[key] = child
            target = .object(object)
        case let .index(index):
            guard case var .array(elements) = target else {
                throw RecipeError(at: here, "cannot set [\(index)]: this is not an array (\(JSONMessage.got(target)))")
            }
            guard index < elements.count else {
                throw RecipeError(at: here, "index \(index) is past the end of the array (\(JSONMessage.elements(elements.count)))")
            }
            target = .null
            try assign(value, to: &elements[index], along: rest, at: here.appending(index: index))
            target = .array(elements)
        }
    }

    /// The value of a `--set path=value` right-hand side: JSON when it parses as JSON (`0.1`,
    /// `true`, `null`, `"text"`, `[1, 2]`, `{"kind": "adam"}`), otherwise the text itself as a
    /// string (`--set name=run-7`).
    /// - Throws: `JSONSyntaxError` when the text starts like a JSON string, array or object
    ///   (`"`, `[` or `{`) but is not valid JSON.
    public static func parseOverride(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        do {
            return try JSONParser.parse(text)
        } catch {
            let firstVisible = text.unicodeScalars.first { !$0.properties.isWhitespace }
            if let firstVisible, firstVisible == "[" || firstVisible == "{" || firstVisible == "\"" { throw error }
            return .string(text)
        }
    }
}
