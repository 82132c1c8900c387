import CStrataKernels

/// Adaptive max or average pooling to any output size, as PyTorch's `AdaptiveMaxPool2d` and
/// `AdaptiveAvgPool2d`: `[N, C, H, W]` → `[N, C, OH, OW]`, where output row `oh` pools input rows
/// `⌊oh·H/OH⌋ ..< ⌈(oh+1)·H/OH⌉` (windows may overlap and differ in size), columns alike.
/// A 1×1 output uses the global-pool kernels.
public final class AdaptivePool2d: Layer {
    public let mode: Pool2d.Mode
    public let outputSize: (Int, Int)
    public var kind: String { mode == .max ? "adaptive_maxpool2d" : "adaptive_avgpool2d" }
    private var geometry = sk_adaptive_shape()
    /// In-plane index of each maximum, `[N, C, OH, OW]` (max pooling only).
    private var argmax: UnsafeMutablePointer<Int32>?

    public init(_ mode: Pool2d.Mode, outputSize: (Int, Int) = (1, 1)) {
        self.mode = mode
        self.outputSize = outputSize
    }

    deinit { argmax?.deallocate() }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 4 else { throw ShapeError("expects [N, C, H, W] input, got \(describe(inputShape))") }
        geometry = sk_adaptive_shape(N: Int64(inputShape[0]), C: Int64(inputShape[1]), H: Int64(inputShape[2]),
                                     W: Int64(inputShape[3]), OH: Int64(outputSize.0), OW: Int64(outputSize.1))
        let outShape = [inputShape[0], inputShape[1], outputSize.0, outputSize.1]
        let n = try context.reserve(outShape, for: "the pooled output")
        if mode == .max {
            argmax?.deallocate()
            argmax = .allocate(capacity: n)
            argmax!.initialize(repeating: 0, count: n)
        }
        return outShape
    }

    private var isGlobal: Bool { outputSize == (1, 1) }

    public func forward(input: Tensor, output: Tensor, training: Bool) throws {
        var g = geometry
        g.N = Int64(input.shape[0])
        if isGlobal {
            let nc = g.N * g.C, p = g.H * g.W
            switch mode {
            case .max: sk_global_maxpool_forward(output.data, argmax, input.data, nc, p)
            case .average: sk_global_avgpool_forward(output.data, input.data, nc, p)
            }
        } else {
            sk_adaptive_pool2d_forward(output.data, mode == .max ? argmax : nil, input.data, &g)
        }
    }

    public func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        guard let gradInput else { return }
        var g = geometry
        g.N = Int64(input.shape[0])
        if isGlobal {
            let nc = g.N * g.C, p = g.H * g.W
            switch mode {
            case .max: sk_global_maxpool_backward(gradInput.data, gradOutput.data, argmax, nc, p)
            case .average: sk_global_avgpool_backward(gradInput.data, gradOutput.data, nc, p)
            }
        } else {
            sk_adaptive_pool2d_backward(gradInput.data, gradOutput.data, mode == .max ? argmax : nil, &g)
        }
    }
}
