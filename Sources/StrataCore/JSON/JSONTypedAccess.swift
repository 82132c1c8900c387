// Typed access to JSON values that names the JSON path of every problem.
//
// Typed integer access accepts only whole numbers within Int32 (−2147483648…2147483647).

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
