/// Errors of the core: input that cannot be used, a model that does not fit its input, and
/// failures while running. Each carries where the problem is (`Place`: the file and byte offset,
/// the JSON path, the tensor, the layer, the plugin component, the command-line option or the
/// training step) and what it is (the message, a sentence that also names the place, since it
/// is what the user reads).
///
/// The CLI prints `description` and exits with `exitStatus` (docs/design.md). The name differs
/// from the C ABI's `CoreError` (the error buffer plugins fill in), which Swift sees through
/// `CStrata`.
public enum CoreError: Error, CustomStringConvertible, Equatable {
    /// Where a problem was found.
    public enum Place: Equatable, Sendable {
        /// Not tied to one input (or not known where it is raised).
        case unspecified
        /// A file: a recipe, a data file, a checkpoint, a manifest, a library.
        case file(String)
        /// A byte offset in a file.
        case fileOffset(String, Int)
        /// A JSON path in a recipe or manifest, e.g. `$.optimizer.lr`.
        case jsonPath(String)
        /// A tensor of a checkpoint or an optimizer state, by file and name.
        case tensor(file: String, name: String)
        /// A layer by dotted path (`layer1.0.conv1`).
        case layer(String)
        /// A plugin's component: plugin name, component kind and name.
        case component(plugin: String, kind: String, name: String)
        /// A command-line argument, e.g. `--set optimizer.lr=x`.
        case argument(String)
        /// A training step (1-based epoch and batch).
        case step(epoch: Int, batch: Int)
    }

    /// A model does not fit its input: `where` is the layer's JSON path, dotted path and kind.
    case shape(where: String, message: String)
    /// Input the user gave that cannot be used (exit status 2).
    case badInput(Place, String)
    /// A failure while running (exit status 1).
    case runtime(Place, String)

    /// Bad input whose place the message alone names.
    public static func badInput(_ message: String) -> CoreError { .badInput(.unspecified, message) }
    /// A failure whose place the message alone names.
    public static func runtime(_ message: String) -> CoreError { .runtime(.unspecified, message) }

    /// Where the problem is.
    public var place: Place {
        switch self {
        case let .shape(whereText, _): return .layer(whereText)
        case let .badInput(place, _), let .runtime(place, _): return place
        }
    }

    /// What the problem is.
    public var message: String {
        switch self {
        case let .shape(_, message), let .badInput(_, message), let .runtime(_, message): return message
        }
    }

    public var description: String {
        switch self {
        case let .shape(whereText, message): return "model: \(whereText): \(message)"
        case let .badInput(_, message), let .runtime(_, message): return message
        }
    }

    /// 2 for bad input, 1 otherwise (the CLI contract, docs/design.md).
    public var exitStatus: Int32 {
        switch self {
        case .shape, .badInput: return 2
        case .runtime: return 1
        }
    }
}
