// Problems found in a JSON document: `RecipeError` (a JSON path and a message, with "did you
// mean" hints) and `Diagnostics`, which collects every problem of a document.

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
