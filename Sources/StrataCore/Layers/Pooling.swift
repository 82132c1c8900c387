import CStrataKernels

/// Max or average pooling over `KH×KW` windows with stride and zero padding.
///
/// Average pooling divides by the window clipped to the padded input (PyTorch's
/// `count_include_pad=True`, the default) or by its elements inside the input
/// (`countIncludePad: false`). `ceilMode` rounds the output size up, as PyTorch's `ceil_mode`
/// (the last window may hang over the input's end, but starts inside it or its left padding).
/// Max pooling treats padding as −∞ and routes each output's gradient to its maximum.
public final class Pool2d: Layer {
    public enum Mode: Sendable { case max, average }
    public let mode: Mode
    public let kernelSize: (Int, Int)
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    public let ceilMode: Bool
    public let countIncludePad: Bool
    public var kind: String { mode == .max ? "maxpool2d" : "avgpool2d" }
    private var geometry = sk_pool_shape()
    private var argmax: UnsafeMutablePointer<Int32>?

    public init(_ mode: Mode, kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0),
                ceilMode: Bool = false, countIncludePad: Bool = true) {
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
        self.mode = mode
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
    }

    deinit { argmax?.deallocate() }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 4 else { throw ShapeError("expects [N, C, H, W] input, got \(describe(inputShape))") }
        var g = sk_pool_shape(N: Int64(inputShape[0]), C: Int64(inputShape[1]), H: Int64(inputShape[2]),
                              W: Int64(inputShape[3]), KH: Int64(kernelSize.0), KW: Int64(kernelSize.1),
                              SH: Int64(stride.0), SW: Int64(stride.1), PH: Int64(padding.0), PW: Int64(padding.1),
                              OH: 0, OW: 0, ceil_mode: ceilMode ? 1 : 0, exclude_pad: countIncludePad ? 0 : 1)
        guard sk_pool_infer(&g) == 0 else {
            throw ShapeError("window \(kernelSize.0)x\(kernelSize.1) (padding \(padding.0),\(padding.1), at most half the window) does not fit a \(inputShape[2])x\(inputShape[3]) input")
        }
        geometry = g
        let outShape = [inputShape[0], inputShape[1], Int(g.OH), Int(g.OW)]
        try context.reserve(outShape, for: "the pooled output")
        if mode == .max {
            argmax?.deallocate()
            let n = outShape.reduce(1, *)
            argmax = .allocate(capacity: n)
            argmax!.initialize(repeating: 0, count: n)
        }
        return outShape
    }

    private func geometry(batch: Int) -> sk_pool_shape {
        var g = geometry
        g.N = Int64(batch)
        return g
    }

    public func forward(input: Tensor, output: Tensor, training: Bool) throws {
        var g = geometry(batch: input.shape[0])
        switch mode {
        case .max: sk_maxpool2d_forward(output.data, argmax, input.data, &g)
        case .average: sk_avgpool2d_forward(output.data, input.data, &g)
        }
    }

    public func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        guard let gradInput else { return }
        var g = geometry(batch: input.shape[0])
        switch mode {
        case .max: sk_maxpool2d_backward(gradInput.data, gradOutput.data, argmax, &g)
        case .average: sk_avgpool2d_backward(gradInput.data, gradOutput.data, &g)
        }
    }
}

/// Adaptive pooling to a 1×1 output (global max or average over each channel's plane):
/// `[N, C, H, W]` → `[N, C, 1, 1]`.
public final class GlobalPool2d: Layer {
    public let mode: Pool2d.Mode
    public var kind: String { mode == .max ? "adaptive_maxpool2d" : "adaptive_avgpool2d" }
    private var argmax: UnsafeMutablePointer<Int32>?

    public init(_ mode: Pool2d.Mode) { self.mode = mode }
    deinit { argmax?.deallocate() }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 4 else { throw ShapeError("expects [N, C, H, W] input, got \(describe(inputShape))") }
        if mode == .max {
            argmax?.deallocate()
            argmax = .allocate(capacity: inputShape[0] * inputShape[1])
            argmax!.initialize(repeating: 0, count: inputShape[0] * inputShape[1])
        }
        return [inputShape[0], inputShape[1], 1, 1]
    }

    public func forward(input: Tensor, output: Tensor, training: Bool) throws {
        let nc = Int64(input.shape[0] * input.shape[1]), p = Int64(input.shape[2] * input.shape[3])
        switch mode {
        case .max: sk_global_maxpool_forward(output.data, argmax, input.data, nc, p)
        case .average: sk_global_avgpool_forward(output.data, input.data, nc, p)
        }
    }

    public func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        guard let gradInput else { return }
        let nc = Int64(input.shape[0] * input.shape[1]), p = Int64(input.shape[2] * input.shape[3])
        switch mode {
        case .max: sk_global_maxpool_backward(gradInput.data, gradOutput.data, argmax, nc, p)
        case .average: sk_global_avgpool_backward(gradInput.data, gradOutput.data, nc, p)
        }
    }
}
