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
