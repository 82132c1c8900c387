import CStrataKernels

/// Fully connected layer: `y = x · Wᵀ + b`.
///
/// Input `[N, inFeatures]` (inferred at build), output `[N, outFeatures]`.
/// Parameters: `weight [outFeatures, inFeatures]`, `bias [outFeatures]` (PyTorch's layout).
public final class Linear: Layer {
    public let kind = "linear"
    public let outFeatures: Int
    public let hasBias: Bool
    public let initScheme: InitScheme?
    public private(set) var inFeatures = 0
    public private(set) var weight: Parameter!
    public private(set) var bias: Parameter?

    public init(outFeatures: Int, bias: Bool = true, initScheme: InitScheme? = nil) {
        self.outFeatures = outFeatures
        self.hasBias = bias
        self.initScheme = initScheme
    }

    public var parameters: [Parameter] { [weight].compactMap { $0 } + (bias.map { [$0] } ?? []) }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 2 else {
            throw ShapeError("expects [N, features] input, got \(describe(inputShape)); add a flatten layer before it")
        }
        try context.reserve([outFeatures, inputShape[1]], for: "the weight")
        if weight == nil {
            inFeatures = inputShape[1]
            let w = Parameter(name: "weight", role: .weight, shape: [outFeatures, inFeatures])
            (initScheme ?? context.defaultInit).fill(w.value, fanIn: inFeatures, fanOut: outFeatures, random: &context.random)
            weight = w
            if hasBias {
                let b = Parameter(name: "bias", role: .bias, shape: [outFeatures])
                InitScheme.fillBias(b.value, fanIn: inFeatures, random: &context.random)
                bias = b
            }
        } else if inputShape[1] != inFeatures {
            throw ShapeError("built for \(inFeatures) input features, got \(inputShape[1])")
        }
        return [inputShape[0], outFeatures]
    }

    public func forward(input: Tensor, output: Tensor, training: Bool) throws {
        sk_linear_forward(output.data, input.data, weight.value.data, bias?.value.data,
                          Int64(input.shape[0]), Int64(inFeatures), Int64(outFeatures))
    }

    public func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        sk_linear_backward(gradInput?.data, weight.grad!.data, bias?.grad!.data, gradOutput.data,
                           input.data, weight.value.data, Int64(input.shape[0]), Int64(inFeatures), Int64(outFeatures))
    }
}
