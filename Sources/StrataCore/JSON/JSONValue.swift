// The JSON value type of recipes, manifests and checkpoint headers: `JSONValue`, `JSONObject`
// (members in document order) and plain accessors. Free of Foundation, like the rest of this folder.

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
