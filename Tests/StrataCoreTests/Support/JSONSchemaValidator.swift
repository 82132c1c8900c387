@testable import StrataCore

/// A validator for the subset of JSON Schema (draft 2020-12) that `schemas/recipe.schema.json`
/// uses, over `JSONValue`: `type`, `properties`, `required`, `additionalProperties`, `items`,
/// `enum`, `const`, `minimum`, `maximum`, `exclusiveMinimum`, `minItems`, `maxItems`, `oneOf`,
/// `anyOf`, `$ref` (to `#/$defs/<name>` only), `$defs`, and the annotations `description`,
/// `default` and `$schema`. A schema using any other keyword is refused, so the recipe schema
/// cannot drift outside what this file checks.
///
/// It is not a general validator: no `$id`, no remote or nested-pointer references, no formats.
/// Where `oneOf`/`anyOf` fails it reports the errors of the one alternative the value was meant
/// for (the one whose `const` members it matches), not a list of every alternative.
struct JSONSchemaValidator {
    static let keywords: Set<String> = [
        "$schema", "type", "properties", "required", "additionalProperties", "items", "enum", "const", "minimum",
        "maximum", "exclusiveMinimum", "minItems", "maxItems", "oneOf", "anyOf", "$ref", "$defs", "description", "default",
    ]
    static let typeNames: Set<String> = ["null", "boolean", "integer", "number", "string", "array", "object"]
    /// Deepest chain of subschemas followed for one value (guards against `$ref` cycles).
    static let maxDepth = 1000

    /// One way an instance breaks the schema: where and what.
    struct Violation: Equatable, CustomStringConvertible {
        enum Kind: Equatable {
            /// A `const` that did not match (an alternative's discriminator when it is a direct member).
            case constMismatch(expected: JSONValue)
            /// A `oneOf: [X, {}]` (not X) that matched X.
            case negation
            /// A `type` that did not match; `expected` lists the allowed types.
            case typeMismatch(expected: [String])
            case other
        }
        let path: JSONPath
        let message: String
        var kind = Kind.other
        var description: String { "\(path): \(message)" }
    }

    /// A schema that uses something outside the subset, or is malformed.
    struct SchemaProblem: Error, CustomStringConvertible {
        let location: String
        let message: String
        var description: String { "schema \(location): \(message)" }
    }

    let schema: JSONValue
    let definitions: JSONObject

    /// Checks that `schema` stays within the subset and that every `$ref` resolves.
    init(schema: JSONValue) throws(SchemaProblem) {
        guard case let .object(root) = schema else { throw SchemaProblem(location: "#", message: "the root must be an object") }
        self.schema = schema
        if let defs = root["$defs"] {
            guard case let .object(definitions) = defs else { throw SchemaProblem(location: "#/$defs", message: "must be an object") }
            self.definitions = definitions
        } else {
            definitions = JSONObject()
        }
        try check(schema, at: "#", isRoot: true)
    }

    // MARK: Checking the schema

    private func check(_ schema: JSONValue, at location: String, isRoot: Bool = false) throws(SchemaProblem) {
        func problem(_ message: String) -> SchemaProblem { SchemaProblem(location: location, message: message) }
        if case .bool = schema { return }
        guard case let .object(members) = schema else { throw problem("a schema must be an object or a boolean") }
        for (keyword, value) in members {
            let here = location + "/" + keyword
            guard JSONSchemaValidator.keywords.contains(keyword) else { throw problem("unsupported keyword \"\(keyword)\"") }
            switch keyword {
            case "$schema":
                guard isRoot, case .string = value else { throw problem("$schema belongs at the root, as a string") }
            case "$defs":
                guard isRoot else { throw problem("$defs belongs at the root") }
                fallthrough
            case "properties":
                guard case let .object(schemas) = value else { throw problem("\(keyword) must be an object") }
                for (name, subschema) in schemas { try check(subschema, at: here + "/" + name) }
            case "type":
                let names: [JSONValue]
                if case let .array(list) = value { names = list } else { names = [value] }
                for name in names {
                    guard case let .string(s) = name, JSONSchemaValidator.typeNames.contains(s) else {
                        throw problem("unknown type \(name)")
                    }
                }
            case "required":
                guard case let .array(keys) = value, keys.allSatisfy({ $0.stringValue != nil }) else {
                    throw problem("required must be an array of strings")
                }
            case "additionalProperties", "items":
                try check(value, at: here)
            case "enum":
                guard case let .array(values) = value, !values.isEmpty else { throw problem("enum must be a non-empty array") }
            case "minimum", "maximum", "exclusiveMinimum":
                guard case .number = value else { throw problem("\(keyword) must be a number") }
            case "minItems", "maxItems":
                guard case let .number(n) = value, n >= 0, n == n.rounded() else {
                    throw problem("\(keyword) must be a non-negative integer")
                }
            case "oneOf", "anyOf":
                guard case let .array(alternatives) = value, !alternatives.isEmpty else {
                    throw problem("\(keyword) must be a non-empty array")
                }
                for (i, alternative) in alternatives.enumerated() { try check(alternative, at: here + "/\(i)") }
            case "$ref":
                guard case let .string(reference) = value, resolve(reference) != nil else {
                    throw problem("$ref \(value) does not name an entry of $defs")
                }
            case "description":
                guard case .string = value else { throw problem("description must be a string") }
            default:
                break  // const, default: any value
            }
        }
    }

    private func resolve(_ reference: String) -> JSONValue? {
        let prefix = "#/$defs/"
        guard reference.hasPrefix(prefix) else { return nil }
        return definitions[String(reference.dropFirst(prefix.count))]
    }

    // MARK: Validating an instance

    /// Every violation of the schema by `instance`; empty when it conforms.
    func validate(_ instance: JSONValue) -> [Violation] {
        validate(instance, against: schema, at: .root, depth: 0)
    }

    private func validate(_ instance: JSONValue, against schema: JSONValue, at path: JSONPath, depth: Int) -> [Violation] {
        guard depth < JSONSchemaValidator.maxDepth else { return [Violation(path: path, message: "schema references nest too deeply")] }
        switch schema {
        case .bool(true): return []
        case .bool(false): return [Violation(path: path, message: "no value is allowed here")]
        case .object: break
        default: return [Violation(path: path, message: "invalid schema")]
        }
        var out: [Violation] = []
        let next = depth + 1
        if let reference = schema["$ref"]?.stringValue, let target = resolve(reference) {
            out += validate(instance, against: target, at: path, depth: next)
        }
        if let type = schema["type"], !matches(instance, type: type) {
            let names = (type.arrayValue ?? [type]).compactMap(\.stringValue).joined(separator: " or ")
            out.append(Violation(path: path, message: "expected \(names), \(JSONMessage.got(instance))",
                                 kind: .typeMismatch(expected: (type.arrayValue ?? [type]).compactMap(\.stringValue))))
        }
        if let values = schema["enum"]?.arrayValue, !values.contains(instance) {
            out.append(Violation(path: path, message: "expected one of \(values.map(\.description).joined(separator: ", ")), \(JSONMessage.got(instance))"))
        }
        if let expected = schema["const"], expected != instance {
            out.append(Violation(path: path, message: "expected \(expected), \(JSONMessage.got(instance))", kind: .constMismatch(expected: expected)))
        }
        if case let .number(x) = instance {
            out += numberViolations(x, schema: schema, at: path)
        }
        if case let .array(elements) = instance {
            if let minimum = schema["minItems"]?.numberValue, Double(elements.count) < minimum {
                out.append(Violation(path: path, message: "must have at least \(JSONMessage.elements(Int(minimum))), got \(elements.count)"))
            }
            if let maximum = schema["maxItems"]?.numberValue, Double(elements.count) > maximum {
                out.append(Violation(path: path, message: "must have at most \(JSONMessage.elements(Int(maximum))), got \(elements.count)"))
            }
            if let items = schema["items"] {
                for (i, element) in elements.enumerated() {
                    out += validate(element, against: items, at: path.appending(index: i), depth: next)
                }
            }
        }
        if case let .object(object) = instance {
            out += objectViolations(object, schema: schema, at: path, depth: next)
        }
        if let alternatives = schema["anyOf"]?.arrayValue {
            let results = alternatives.map { validate(instance, against: $0, at: path, depth: next) }
            if !results.contains(where: \.isEmpty) { out += explain(results, instance: instance, at: path) }
        }
        if let alternatives = schema["oneOf"]?.arrayValue {
            let results = alternatives.map { validate(instance, against: $0, at: path, depth: next) }
            let matching = results.filter(\.isEmpty).count
            if matching == 0 {
                out += explain(results, instance: instance, at: path)
            } else if matching > 1 {
                let negated = alternatives.count == 2 ? alternatives.firstIndex(where: { !isEmptySchema($0) }) : nil
                if let negated, alternatives.contains(where: isEmptySchema) {
                    let what = definitionName(of: alternatives[negated]) ?? "the excluded schema"
                    out.append(Violation(path: path, message: "must not match \(what)", kind: .negation))
                } else {
                    out.append(Violation(path: path, message: "matches \(matching) of the \(alternatives.count) alternatives of oneOf; exactly one must match"))
                }
            }
        }
        return out
    }

    private func numberViolations(_ x: Double, schema: JSONValue, at path: JSONPath) -> [Violation] {
        var out: [Violation] = []
        if let minimum = schema["minimum"]?.numberValue, x < minimum {
            out.append(Violation(path: path, message: "must be at least \(JSONText.number(minimum)), got \(JSONText.number(x))"))
        }
        if let limit = schema["exclusiveMinimum"]?.numberValue, x <= limit {
            out.append(Violation(path: path, message: "must be greater than \(JSONText.number(limit)), got \(JSONText.number(x))"))
        }
        if let maximum = schema["maximum"]?.numberValue, x > maximum {
            out.append(Violation(path: path, message: "must be at most \(JSONText.number(maximum)), got \(JSONText.number(x))"))
        }
        return out
    }

    private func objectViolations(_ object: JSONObject, schema: JSONValue, at path: JSONPath, depth: Int) -> [Violation] {
        var out: [Violation] = []
        for key in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where !object.containsKey(key) {
            out.append(Violation(path: path, message: "missing required key \"\(key)\""))
        }
        let properties = schema["properties"]?.objectValue ?? JSONObject()
        for (key, value) in object {
            if let property = properties[key] {
                out += validate(value, against: property, at: path.appending(key), depth: depth)
            } else if let additional = schema["additionalProperties"] {
                if additional == .bool(false) {
                    out.append(Violation(path: path.appending(key), message: "unknown key; allowed keys: " + properties.keys.joined(separator: ", ")))
                } else {
                    out += validate(value, against: additional, at: path.appending(key), depth: depth)
                }
            }
        }
        return out
    }

    /// Why no alternative of a `oneOf`/`anyOf` matched: the errors of the alternative meant for
    /// this value, or the discriminating member's allowed values.
    private func explain(_ results: [[Violation]], instance: JSONValue, at path: JSONPath) -> [Violation] {
        func isDiscriminator(_ v: Violation) -> Bool {
            guard case .constMismatch = v.kind else { return false }
            return v.path.components.count == path.components.count + 1 && v.path.components.starts(with: path.components)
        }
        func isTypeMismatchHere(_ v: Violation) -> Bool {
            guard case .typeMismatch = v.kind else { return false }
            return v.path == path
        }
        let candidates = results.filter { errors in
            !errors.contains(where: isDiscriminator) && !errors.allSatisfy { $0.kind == .negation && $0.path == path }
        }
        // An alternative for another type of value is a worse guess than one of the right type.
        let rightType = candidates.filter { !$0.contains(where: isTypeMismatchHere) }
        if let best = rightType.min(by: { $0.count < $1.count }) { return best }
        if !candidates.isEmpty {
            var types: [String] = []
            for case let .typeMismatch(expected) in candidates.flatMap({ $0.filter(isTypeMismatchHere) }).map(\.kind) {
                for name in expected where !types.contains(name) { types.append(name) }
            }
            return [Violation(path: path, message: "expected \(types.joined(separator: " or ")), \(JSONMessage.got(instance))")]
        }
        let discriminators = results.flatMap { $0.filter(isDiscriminator) }
        if let first = discriminators.first, discriminators.allSatisfy({ $0.path == first.path }) {
            var expected: [JSONValue] = []
            for case let .constMismatch(value) in discriminators.map(\.kind) where !expected.contains(value) { expected.append(value) }
            let actual = instance.value(at: JSONPath(Array(first.path.components.suffix(1)))) ?? .null
            return [Violation(path: first.path, message: "expected one of \(expected.map(\.description).joined(separator: ", ")), \(JSONMessage.got(actual))")]
        }
        return [Violation(path: path, message: "matches none of the \(results.count) allowed forms")]
    }

    private func matches(_ instance: JSONValue, type: JSONValue) -> Bool {
        let names = (type.arrayValue ?? [type]).compactMap(\.stringValue)
        return names.contains { name in
            switch (name, instance) {
            case ("null", .null), ("boolean", .bool), ("number", .number), ("string", .string), ("array", .array), ("object", .object):
                return true
            case let ("integer", .number(x)):
                return x.isFinite && x == x.rounded()
            default:
                return false
            }
        }
    }

    private func isEmptySchema(_ schema: JSONValue) -> Bool {
        schema == .bool(true) || schema == .object(JSONObject())
    }

    private func definitionName(of schema: JSONValue) -> String? {
        schema["$ref"]?.stringValue.map { String($0.split(separator: "/").last ?? "") }
    }
}
