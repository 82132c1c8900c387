// Overrides: assigning a value at a path, behind `strata run --set path=value`.

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
