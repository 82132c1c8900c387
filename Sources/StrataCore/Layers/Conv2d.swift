import CStrataKernels

/// 2-D convolution (cross-correlation, as PyTorch) by im2col + `cblas_sgemm` or oneDNN's direct
/// kernels (`backend`, chosen per shape and direction: ConvBackend.swift), with groups.
///
/// Input `[N, C, H, W]` (C inferred at build), output `[N, OC, OH, OW]` with
/// `OH = (H + 2·padding − dilation·(KH − 1) − 1) / stride + 1`; a dilated kernel's tap `k`
/// reads input offset `k·dilation` (atrous convolution). Parameters: `weight [OC, C/groups, KH, KW]`,
/// `bias [OC]`. `groups == C == OC` is a depthwise convolution, computed directly (depthwise.c)
/// rather than as C tiny GEMMs.
public final class Conv2d: Layer {
    public let kind = "conv2d"
    public let outChannels: Int
    public let kernelSize: (Int, Int)
    public let stride: (Int, Int)
    public let padding: (Int, Int)
    public let dilation: (Int, Int)
    public let groups: Int
    public let hasBias: Bool
    public let initScheme: InitScheme?
    public private(set) var inChannels = 0
    public private(set) var weight: Parameter!
    public private(set) var bias: Parameter?
    /// Which kernels run; `auto` unless set before the layer is built (or `STRATA_CONV_BACKEND`).
    public var backend: ConvBackend
    private var geometry = sk_conv_shape()
    private var workspace: Tensor?
    private var onednn: OneDNNConvPlan?
    private var onednnForward = false, onednnBackward = false

    public init(outChannels: Int, kernelSize: (Int, Int), stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                dilation: (Int, Int) = (1, 1), groups: Int = 1, bias: Bool = true, initScheme: InitScheme? = nil,
                backend: ConvBackend = .fromEnvironment) {
        self.backend = backend
        self.outChannels = outChannels
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.hasBias = bias
        self.initScheme = initScheme
    }

    public var parameters: [Parameter] { [weight].compactMap { $0 } + (bias.map { [$0] } ?? []) }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count == 4 else {
            throw ShapeError("expects [N, C, H, W] input, got \(describe(inputShape))")
        }
        let c = inputShape[1]
        if weight != nil, c != inChannels {
            throw ShapeError("built for \(inChannels) input channels, got \(c)")
        }
        guard c % groups == 0, outChannels % groups == 0 else {
            throw ShapeError("groups \(groups) must divide input channels \(c) and output channels \(outChannels)")
        }
        var g = sk_conv_shape(N: Int64(inputShape[0]), C: Int64(c), H: Int64(inputShape[2]), W: Int64(inputShape[3]),
                              OC: Int64(outChannels), KH: Int64(kernelSize.0), KW: Int64(kernelSize.1),
                              SH: Int64(stride.0), SW: Int64(stride.1), PH: Int64(padding.0), PW: Int64(padding.1),
                              OH: 0, OW: 0, groups: Int64(groups), DH: Int64(dilation.0), DW: Int64(dilation.1))
        guard sk_conv_infer(&g) == 0 else {
            throw ShapeError("kernel \(kernelSize.0)x\(kernelSize.1) with dilation \(dilation.0),\(dilation.1) and padding \(padding.0),\(padding.1) does not fit a \(inputShape[2])x\(inputShape[3]) input")
        }
        geometry = g
        try context.reserve([outChannels, c / groups, kernelSize.0, kernelSize.1], for: "the weight")
        try context.reserve([Int(sk_conv_workspace([g], sk_threads()))], for: "the convolution workspace")
        if weight == nil {
            inChannels = c
            let receptive = kernelSize.0 * kernelSize.1
            let fanIn = c / groups * receptive, fanOut = outChannels * receptive
            let w = Parameter(name: "weight", role: .weight, shape: [outChannels, c / groups, kernelSize.0, kernelSize.1])
            (initScheme ?? context.defaultInit).fill(w.value, fanIn: fanIn, fanOut: fanOut, random: &context.random)
            weight = w
            if hasBias {
                let b = Parameter(name: "bias", role: .bias, shape: [outChannels])
                InitScheme.fillBias(b.value, fanIn: fanIn, random: &context.random)
                bias = b
            }
        }
        planBackend(for: g)
        return [inputShape[0], outChannels, Int(g.OH), Int(g.OW)]
    }

    /// The oneDNN plan when the backend rule gives it a direction and oneDNN takes the shape.
    private func planBackend(for g: sk_conv_shape) {
        let use = backend.plan(inChannels: Int(g.C), outChannels: Int(g.OC), outputPixels: Int(g.OH * g.OW))
        onednn = nil
        onednnForward = false
        onednnBackward = false
        guard use.forward || use.backward, !isDepthwise, let plan = OneDNNConvPlan(shape: g, hasBias: hasBias) else { return }
        onednn = plan
        (onednnForward, onednnBackward) = use
    }

    /// The kernels each direction runs: "onednn" or "im2col" (or "depthwise").
    public var kernels: (forward: String, backward: String) {
        if isDepthwise { return ("depthwise", "depthwise") }
        return (onednnForward ? "onednn" : "im2col", onednnBackward ? "onednn" : "im2col")
    }

    /// Sizes the im2col workspace for the batch and the pool's current thread count, on the first
    /// call that runs im2col: a layer that oneDNN or the depthwise kernel runs in both directions
    /// never holds one (each conv layer owns its workspace, so for ResNet-18 at 96×96, batch 64,
    /// these are 335 MiB in all).
    private func ensureWorkspace(for g: sk_conv_shape) -> Tensor {
        let need = Int(sk_conv_workspace([g], sk_threads()))
        if let workspace, workspace.count >= need { return workspace }
        let fresh = Tensor(shape: [need])
        workspace = fresh
        return fresh
    }

    /// Floats of im2col workspace this layer holds (0 until im2col first runs).
    var workspaceFloats: Int { workspace?.count ?? 0 }

    private func geometry(batch: Int) -> sk_conv_shape {
        var g = geometry
        g.N = Int64(batch)
        return g
    }

    /// One filter per channel: the direct kernel (its table of valid columns holds 1024 kernel columns).
    private var isDepthwise: Bool { groups > 1 && groups == inChannels && groups == outChannels && kernelSize.1 <= 1024 }

    public func forward(input: Tensor, output: Tensor, training: Bool) throws {
        var g = geometry(batch: input.shape[0])
        if isDepthwise {
            sk_depthwise_forward(output.data, input.data, weight.value.data, bias?.value.data, &g)
            return
        }
        if onednnForward, let plan = onednn {
            guard sk_onednn_conv_forward(plan.handle, output.data, input.data, weight.value.data, bias?.value.data, &g) == 0 else {
                throw CoreError.runtime("conv2d forward: \(plan.lastError)")
            }
            return
        }
        sk_conv2d_forward(output.data, input.data, weight.value.data, bias?.value.data, &g, ensureWorkspace(for: g).data)
    }

    /// Whether an evaluation-mode forward may carry an epilogue (InferenceFusion.swift): every
    /// backend but the depthwise kernel.
    var fusable: Bool { weight != nil && !isDepthwise }

    /// The forward with `epilogue` (ReLU, BatchNorm affine map, residual add) applied by the
    /// kernel to each part of the batch as it is written; evaluation mode only.
    func forwardFused(input: Tensor, output: Tensor, epilogue: UnsafePointer<sk_conv_epilogue>) throws {
        var g = geometry(batch: input.shape[0])
        if onednnForward, let plan = onednn {
            guard sk_onednn_conv_forward_fused(plan.handle, output.data, input.data, weight.value.data, bias?.value.data,
                                               &g, epilogue) == 0 else {
                throw CoreError.runtime("conv2d forward: \(plan.lastError)")
            }
            return
        }
        sk_conv2d_forward_fused(output.data, input.data, weight.value.data, bias?.value.data, &g, ensureWorkspace(for: g).data, epilogue)
    }

    public func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        var g = geometry(batch: input.shape[0])
        if isDepthwise {
            sk_depthwise_backward(gradInput?.data, weight.grad!.data, bias?.grad!.data, gradOutput.data, input.data, weight.value.data, &g)
            return
        }
        if onednnBackward, let plan = onednn {
            guard sk_onednn_conv_backward(plan.handle, gradInput?.data, weight.grad!.data, bias?.grad!.data, gradOutput.data,
                                          input.data, weight.value.data, &g) == 0 else {
                throw CoreError.runtime("conv2d backward: \(plan.lastError)")
            }
            return
        }
        sk_conv2d_backward(gradInput?.data, weight.grad!.data, bias?.grad!.data, gradOutput.data, input.data,
                           weight.value.data, &g, ensureWorkspace(for: g).data)
    }
}
