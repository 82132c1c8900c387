/// Errors of the core that are not tied to one input file: model shapes, plugin or
/// component failures during a run, and internal failures.
///
/// The CLI prints `description` and exits with `exitStatus`.
public enum StrataError: Error, CustomStringConvertible, Equatable {
    /// A model does not fit its input: `where` is the layer's dotted path and kind.
    case shape(where: String, message: String)
    /// Input the user gave that cannot be used (exit status 2).
    case badInput(String)
    /// A failure while running (exit status 1).
    case runtime(String)

    public var description: String {
        switch self {
        case let .shape(whereText, message): return "model: \(whereText): \(message)"
        case let .badInput(message): return message
        case let .runtime(message): return message
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

/// A shape problem found inside one layer. The container that built the failing layer records
/// which layer it was, so the model can name it by dotted path and recipe JSON path.
public struct ShapeError: Error, CustomStringConvertible {
    public let message: String
    /// The innermost layer that failed, once a container has seen the error.
    public var layer: ObjectIdentifier?
    public var kind: String?
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// Records `child` as the failing layer unless an inner container already did.
    func attributed(to child: any Layer) -> ShapeError {
        guard layer == nil else { return self }
        var e = self
        e.layer = ObjectIdentifier(child)
        e.kind = child.kind
        return e
    }
}

/// Builds `child` under the local `name`, records its output shape by dotted path in the
/// context, and attributes a shape error to it.
public func buildChild(_ child: any Layer, name: String, inputShape: [Int], context: inout BuildContext) throws -> [Int] {
    context.path.append(name)
    defer { context.path.removeLast() }
    do {
        let shape = try child.build(inputShape: inputShape, context: &context)
        let path = context.path.filter { !$0.isEmpty }.joined(separator: ".")
        context.shapes[path] = shape
        context.inputShapes[path] = inputShape
        return shape
    } catch let error as ShapeError {
        throw error.attributed(to: child)
    }
}

/// Formats a shape the way PyTorch prints it: `[256, 1, 28, 28]`.
func describe(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }
