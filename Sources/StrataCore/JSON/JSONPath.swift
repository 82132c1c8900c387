// JSON paths (`$.model.layers[3].kernel_size`): printing, and reading them as typed after
// `strata run --set`. An override path has at most 64 segments.

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
