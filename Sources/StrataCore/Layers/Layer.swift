/// A differentiable layer: the Swift face of the C ABI's `StrataLayerOps`.
///
/// The life of a layer, as for a plugin layer:
/// 1. created from its recipe options (the registry's factory ≈ `create`);
/// 2. `build(inputShape:context:)` once, with the largest batch it will see: infers and returns
///    the output shape (≈ `infer_shape`), creates and initialises its parameters
///    (≈ `parameter_info` + `bind_parameters`) and plans its workspaces;
/// 3. `forward` and `backward` any number of times, with a batch no larger than the built one.
///
/// Memory: the caller (a container or the trainer) allocates `output` and `gradInput`.
/// `backward` **overwrites** `gradInput` and **accumulates** (+=) into its parameters' gradients.
public protocol Layer: AnyObject {
    /// Registry kind name, e.g. `conv2d`.
    var kind: String { get }
    /// Infers the output shape for `inputShape` (batch first), creates parameters, plans workspaces.
    func build(inputShape: [Int], context: inout BuildContext) throws -> [Int]
    /// Computes `output` from `input`. `training` selects batch statistics and dropout.
    func forward(input: Tensor, output: Tensor, training: Bool) throws
    /// Computes `gradInput` (when not nil) and accumulates parameter gradients.
    func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws
    /// This layer's own parameters and buffers (not its children's).
    var parameters: [Parameter] { get }
    /// Child layers with their local names, for containers.
    var children: [(name: String, layer: any Layer)] { get }
    /// The loss kind that scores this layer's output when it is a model's root and the output is
    /// not class logits (e.g. `mixture_nll`), or `"none"` for accuracy only; nil for the recipe's
    /// loss. A checkpoint records it (`strata.eval_loss`) so evaluation needs no knowledge of the
    /// layer.
    var evaluationLoss: String? { get }
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public var children: [(name: String, layer: any Layer)] { [] }
    public var evaluationLoss: String? { nil }

    /// Every parameter of this layer and its descendants with its PyTorch-style dotted name. A
    /// child named "" adds no name level: its own children's names join this layer's (so a
    /// residual block's convolutions read `layer1.0.conv1.weight`, as torchvision names them).
    public func namedParameters(prefix: String = "") -> [(name: String, parameter: Parameter)] {
        var result: [(String, Parameter)] = parameters.map { (prefix + $0.name, $0) }
        for (name, child) in children {
            result += child.namedParameters(prefix: name.isEmpty ? prefix : prefix + name + ".")
        }
        return result
    }

    /// Every layer of the tree, depth first, with its dotted path (the root has path "").
    public func namedLayers(prefix: String = "") -> [(name: String, layer: any Layer)] {
        var result: [(String, any Layer)] = [(prefix, self)]
        for (name, child) in children {
            let path = prefix.isEmpty || name.isEmpty ? prefix + name : prefix + "." + name
            result += child.namedLayers(prefix: path)
        }
        return result
    }
}

/// State shared while a model is built: the random stream that initialises parameters and the
/// recipe's default initialisation.
public struct BuildContext {
    public var random: RandomStream
    /// Default weight init for conv2d and linear when a layer names none.
    public var defaultInit: InitScheme
    /// Seed for layers with their own random streams (dropout).
    public let seed: UInt64
    /// Output shape of every built layer by its dotted path, for summaries.
    public var shapes: [String: [Int]] = [:]
    /// Input shape of every built layer by its dotted path, for summaries.
    public var inputShapes: [String: [Int]] = [:]
    /// Dotted path of the layer being built.
    var path: [String] = []
    /// Floats planned so far (parameters, activations, workspaces) and the most a model may plan.
    public private(set) var plannedFloats = 0
    public var maxPlannedFloats = 1 << 31

    /// Records a planned buffer of `shape` and returns its element count; throws when the model
    /// would need more memory than `maxPlannedFloats` (8 GiB by default), so an absurd recipe gets
    /// an error instead of exhausting memory.
    @discardableResult
    public mutating func reserve(_ shape: [Int], for what: String) throws -> Int {
        var n = 1
        for d in shape {
            guard d > 0 else { throw ShapeError("\(what) would have shape \(describe(shape)) with an empty dimension") }
            let (m, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow, m <= maxPlannedFloats else {
                throw ShapeError("\(what) of shape \(describe(shape)) is too large to allocate")
            }
            n = m
        }
        guard plannedFloats + n <= maxPlannedFloats else {
            throw ShapeError("the model needs more than \(maxPlannedFloats / (1 << 28)) GiB of parameters and activations at this batch size (\(what) of shape \(describe(shape)))")
        }
        plannedFloats += n
        return n
    }

    public init(seed: UInt64, defaultInit: InitScheme = .pytorchDefault) {
        self.seed = seed
        self.random = RandomStream(seed: seed)
        self.defaultInit = defaultInit
    }
}
