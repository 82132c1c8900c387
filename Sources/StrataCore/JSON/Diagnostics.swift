// Problems found in a JSON document: `RecipeError` (a JSON path and a message) and `Diagnostics`,
// which collects every problem of a document; `JSONMessage` words the values in messages.

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
}

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
}
