/// A built network: the root layer, the per-example input shape, the output buffer and the
/// output-gradient buffer, planned once for the largest batch.
///
/// `forward` and `backward` take a batch of at most `maxBatch` examples and reuse the same
/// buffers for every batch.
public final class Model {
    public let root: any Layer
    /// Shape of one example, e.g. `[1, 28, 28]`.
    public let exampleShape: [Int]
    public let maxBatch: Int
    /// Output shape of one example, e.g. `[10]`.
    public let outputExampleShape: [Int]
    /// Output shape of every layer at `maxBatch`, by dotted path ("" is the root).
    public let layerShapes: [String: [Int]]
    /// Input shape of every layer at `maxBatch`, by dotted path.
    public let layerInputShapes: [String: [Int]]
    private let output: Tensor
    private let gradOutput: Tensor
    private var viewBatch = -1
    private var outputView: Tensor
    private var gradView: Tensor
    /// Recipe JSON path of each layer built from a recipe (for error messages).
    var jsonPaths: [ObjectIdentifier: String] = [:]

    /// Builds `root` for inputs of `exampleShape` in batches of up to `maxBatch`.
    public init(root: any Layer, exampleShape: [Int], maxBatch: Int, context: inout BuildContext,
                jsonPaths: [ObjectIdentifier: String] = [:]) throws {
        self.root = root
        self.exampleShape = exampleShape
        self.maxBatch = maxBatch
        self.jsonPaths = jsonPaths
        let outShape: [Int]
        do {
            outShape = try buildChild(root, name: "", inputShape: [maxBatch] + exampleShape, context: &context)
        } catch let error as ShapeError {
            throw Model.describe(error, root: root, jsonPaths: jsonPaths)
        }
        // Layers named "" add no name level, so two parameters could end up with one name.
        var seen = Set<String>()
        for (name, _) in root.namedParameters() where !seen.insert(name).inserted {
            throw CoreError.badInput("two parameters of the model are both named \"\(name)\" (a layer named \"\" shares its parent's names)")
        }
        outputExampleShape = Array(outShape.dropFirst())
        layerShapes = context.shapes
        layerInputShapes = context.inputShapes
        output = Tensor(shape: outShape)
        gradOutput = Tensor(shape: outShape)
        outputView = output
        gradView = gradOutput
    }

    /// Turns a shape error into a message naming the layer's dotted path and recipe JSON path.
    static func describe(_ error: ShapeError, root: any Layer, jsonPaths: [ObjectIdentifier: String]) -> CoreError {
        guard let id = error.layer else { return .shape(where: "model", message: error.message) }
        let dotted = root.namedLayers().first { ObjectIdentifier($0.layer) == id }?.name ?? "?"
        var place = dotted.isEmpty ? "model" : "layer \(dotted)"
        if let kind = error.kind { place += " (\(kind))" }
        if let json = jsonPaths[id] { place = "\(json): " + place }
        return .shape(where: place, message: error.message)
    }

    private func prepare(batch: Int) {
        guard batch != viewBatch else { return }
        outputView = output.batchPrefix(batch)
        gradView = gradOutput.batchPrefix(batch)
        viewBatch = batch
    }

    /// Runs the network on `input` (`[n] + exampleShape`, n ≤ maxBatch); returns the output view,
    /// valid until the next call.
    @discardableResult
    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        precondition(input.shape[0] <= maxBatch, "batch \(input.shape[0]) exceeds the planned \(maxBatch)")
        prepare(batch: input.shape[0])
        try root.runForward(input: input, output: outputView, training: training)
        return outputView
    }

    /// The planned output buffer at the largest batch.
    var plannedOutput: Tensor { output }

    /// The buffer the loss writes the output gradient into, for the current batch.
    public var outputGradient: Tensor { gradView }

    /// Backpropagates `outputGradient` through the network for the last `forward` input;
    /// accumulates parameter gradients. The input needs no gradient.
    public func backward(input: Tensor) throws {
        try root.backward(input: input, output: outputView, gradOutput: gradView, gradInput: nil)
    }

    /// Every parameter and buffer with its dotted name.
    public var namedParameters: [(name: String, parameter: Parameter)] { root.namedParameters() }

    /// Parameters the optimizer updates.
    public var trainableParameters: [(name: String, parameter: Parameter)] {
        namedParameters.filter { $0.parameter.isTrainable }
    }

    /// Sets every gradient to zero.
    public func zeroGradients() {
        for (_, p) in namedParameters { p.grad?.zero() }
    }
}
