/// Typed, path-aware reading of one JSON object: the one validation API for recipes, their
/// components and plugin manifests. Every problem is recorded in the shared diagnostics with its
/// JSON path, and a default (or nil) is returned, so validation goes on and reports **every** error
/// of a document at once. `finish()` reports keys nobody asked for.
///
/// Messages read `$.epochs: 0 is out of range 1...100000`, `$.optimizer.lr: expected a number,
/// got string "fast"`, `$.model.layers[0].kernel_size: is required`,
/// `$.optimizer.lrr: unknown key; known keys here: kind, lr`.
public struct ConfigReader {
    public let object: JSONObject
    public let path: String
    public let diagnostics: Diagnostics
    private var used: Set<String> = []

    public init(_ value: JSONValue, path: String, diagnostics: Diagnostics) {
        self.path = path
        self.diagnostics = diagnostics
        if case let .object(o) = value {
            object = o
        } else {
            object = JSONObject([])
            diagnostics.error(at: path, "expected an object, got \(value.typeDescription)")
        }
    }

    public func childPath(_ key: String) -> String { "\(path).\(key)" }

    public func has(_ key: String) -> Bool {
        if case .some(.null) = object[key] { return false }
        return object[key] != nil
    }

    mutating func take(_ key: String) -> JSONValue? {
        used.insert(key)
        guard let v = object[key] else { return nil }
        if case .null = v { return nil }
        return v
    }

    /// Marks a key as known without reading it (read elsewhere).
    public mutating func accept(_ key: String) { used.insert(key) }

    public mutating func value(_ key: String) -> JSONValue? { take(key) }

    public mutating func int(_ key: String, default def: Int, in range: ClosedRange<Int>) -> Int {
        optionalInt(key, in: range) ?? def
    }

    public mutating func optionalInt(_ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let v = take(key) else { return nil }
        return Self.int(v, path: childPath(key), in: range, diagnostics: diagnostics)
    }

    static func int(_ v: JSONValue, path: String, in range: ClosedRange<Int>, diagnostics: Diagnostics) -> Int? {
        guard case let .number(d) = v else {
            diagnostics.error(at: path, "expected an integer, got \(v.typeDescription)")
            return nil
        }
        guard d.isFinite, d.rounded() == d, abs(d) < 9.0e15 else {
            diagnostics.error(at: path, "expected an integer, got \(v.serialized(pretty: false))")
            return nil
        }
        let i = Int(d)
        guard range.contains(i) else {
            diagnostics.error(at: path, "\(i) is out of range \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return i
    }

    public mutating func double(_ key: String, default def: Double, in range: ClosedRange<Double>,
                                openLower: Bool = false) -> Double {
        guard let v = take(key) else { return def }
        guard case let .number(d) = v, d.isFinite else {
            diagnostics.error(at: childPath(key), "expected a number, got \(v.typeDescription)")
            return def
        }
        guard range.contains(d), !(openLower && d == range.lowerBound) else {
            let low = openLower ? "greater than \(range.lowerBound)" : "at least \(range.lowerBound)"
            diagnostics.error(at: childPath(key), "\(d) is out of range (\(low), at most \(range.upperBound))")
            return def
        }
        return d
    }

    public mutating func bool(_ key: String, default def: Bool) -> Bool {
        guard let v = take(key) else { return def }
        guard case let .bool(b) = v else {
            diagnostics.error(at: childPath(key), "expected true or false, got \(v.typeDescription)")
            return def
        }
        return b
    }

    public mutating func string(_ key: String) -> String? {
        guard let v = take(key) else { return nil }
        guard case let .string(s) = v else {
            diagnostics.error(at: childPath(key), "expected a string, got \(v.typeDescription)")
            return nil
        }
        return s
    }

    /// A string that must be one of `choices`.
    public mutating func choice(_ key: String, _ choices: [String], default def: String) -> String {
        guard let s = string(key) else { return def }
        guard choices.contains(s) else {
            diagnostics.error(at: childPath(key), "unknown value \"\(s)\"; expected one of \(choices.map { "\"\($0)\"" }.joined(separator: ", "))")
            return def
        }
        return s
    }

    /// An integer or a two-element array `[h, w]` (kernel sizes, strides, padding).
    public mutating func pair(_ key: String, default def: (Int, Int)?, in range: ClosedRange<Int>) -> (Int, Int)? {
        guard let v = take(key) else {
            if def == nil { diagnostics.error(at: childPath(key), "is required") }
            return def
        }
        let p = childPath(key)
        if case let .array(items) = v {
            guard items.count == 2 else {
                diagnostics.error(at: p, "expected an integer or [height, width], got an array of \(items.count)")
                return def
            }
            guard let h = Self.int(items[0], path: p + "[0]", in: range, diagnostics: diagnostics),
                  let w = Self.int(items[1], path: p + "[1]", in: range, diagnostics: diagnostics) else { return def }
            return (h, w)
        }
        guard let i = Self.int(v, path: p, in: range, diagnostics: diagnostics) else { return def }
        return (i, i)
    }

    // MARK: Required keys and containers

    /// The value of `key`, which must be present and not `null` (`is required` at its path otherwise).
    public mutating func required(_ key: String) -> JSONValue? {
        guard let v = take(key) else {
            diagnostics.error(at: childPath(key), "is required")
            return nil
        }
        return v
    }

    /// A string that must be present; one of `choices` when given (as ``choice(_:_:default:)`` says it).
    public mutating func requiredString(_ key: String, choices: [String]? = nil) -> String? {
        guard has(key) else {
            used.insert(key)
            diagnostics.error(at: childPath(key), "is required")
            return nil
        }
        guard let s = string(key) else { return nil }
        if let choices, !choices.contains(s) {
            diagnostics.error(at: childPath(key), "unknown value \"\(s)\"; expected one of \(choices.map { "\"\($0)\"" }.joined(separator: ", "))")
            return nil
        }
        return s
    }

    /// An integer in `range` that must be present.
    public mutating func requiredInt(_ key: String, in range: ClosedRange<Int>) -> Int? {
        guard let v = required(key) else { return nil }
        return Self.int(v, path: childPath(key), in: range, diagnostics: diagnostics)
    }

    /// An array of at most `maxCount` elements; nil (and an error) when present but not one, nil
    /// when absent unless `required`.
    public mutating func array(_ key: String, maxCount: Int = .max, required: Bool = false) -> [JSONValue]? {
        guard let v = required ? self.required(key) : take(key) else { return nil }
        guard case let .array(items) = v else {
            diagnostics.error(at: childPath(key), "expected an array, got \(v.typeDescription)")
            return nil
        }
        guard items.count <= maxCount else {
            diagnostics.error(at: childPath(key), "has \(items.count) elements, at most \(maxCount) are allowed")
            return nil
        }
        return items
    }

    /// An object, nil when absent or `null`.
    public mutating func optionalObject(_ key: String) -> JSONObject? {
        guard let v = take(key) else { return nil }
        guard case let .object(o) = v else {
            diagnostics.error(at: childPath(key), "expected an object, got \(v.typeDescription)")
            return nil
        }
        return o
    }

    /// Reports every key that was not read.
    public func finish(allowed extra: [String] = []) {
        for key in object.keys where !used.contains(key) && !extra.contains(key) {
            let known = (Array(used) + extra).sorted()
            diagnostics.error(at: childPath(key), "unknown key" + (known.isEmpty ? "" : "; known keys here: " + known.joined(separator: ", ")))
        }
    }
}

extension JSONValue {
    /// "a string \"x\"", "an array", … for messages.
    var typeDescription: String {
        switch self {
        case .null: return "null"
        case .bool(let b): return "\(b)"
        case .number(let d): return "number \(JSONValue.number(d).serialized(pretty: false))"
        case .string(let s): return "string \"\(s.count > 40 ? String(s.prefix(40)) + "…" : s)\""
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
