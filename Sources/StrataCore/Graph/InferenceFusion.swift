import CStrataKernels
import Foundation
import Synchronization

/// Inference fusion: in evaluation mode, a convolution and the ReLU and BatchNorm right after it
/// run as one kernel call. The convolution writes its output and, while each part of the batch is
/// still in cache, applies the ReLU and the BatchNorm's running-statistics affine map
/// (`y·scale + shift`), and in a residual block without a projection also adds the shortcut
/// (`sk_conv_epilogue`). That replaces two or three passes over the activation (ReLU, BatchNorm,
/// residual add), each a read and a write of the whole batch, by none.
///
/// The BatchNorm's `scale` and `shift` are computed from its current weight, bias and running
/// statistics at every fused forward (a few floats per channel), so they are never stale after a
/// training step. Every step is the float expression of the layer it replaces, so fused and
/// unfused evaluation give the same bits. Training never fuses.
///
/// Patterns, in a `sequential` (the layers must be consecutive): `conv2d, relu, batchnorm2d`
/// (fast.ai's order, the small ResNet), `conv2d, batchnorm2d, relu`, `conv2d, batchnorm2d` and
/// `conv2d, relu`. A `residual` with an identity shortcut whose body is a `sequential` ending in
/// such a group adds its input in the same pass. Depthwise convolutions are not fused.
///
/// A group with a hooked layer runs unfused (a hook must see its layer's own output), as does a
/// residual whose body is hooked; `STRATA_FUSE=0` (or `InferenceFusion.isEnabled = false`) turns it off.
public enum InferenceFusion {
    private static let enabled = Atomic<Bool>(ProcessInfo.processInfo.environment["STRATA_FUSE"] != "0")

    /// Whether evaluation-mode forward passes fuse (default: unless `STRATA_FUSE=0`).
    public static var isEnabled: Bool {
        get { enabled.load(ordering: .relaxed) }
        set { enabled.store(newValue, ordering: .relaxed) }
    }

    /// Tests run fused and unfused passes side by side without touching the process-wide switch.
    @TaskLocal static var override: Bool?

    /// Whether a forward pass with `training` may fuse now.
    static func applies(training: Bool) -> Bool { !training && (override ?? isEnabled) }

    /// Group runs since the process began (for tests that fusion took place).
    static let fusedRuns = Atomic<Int>(0)

    /// The fused groups of a sequential's `layers`, by the index of their first layer.
    static func groups(_ layers: [(name: String, layer: any Layer)]) -> [Int: FusedConvGroup] {
        var result: [Int: FusedConvGroup] = [:]
        var i = 0
        while i < layers.count {
            if let g = FusedConvGroup(layers.map(\.layer), at: i) {
                result[i] = g
                i += g.length
            } else {
                i += 1
            }
        }
        return result
    }
}

/// One convolution with the ReLU and/or BatchNorm after it, run as one fused call.
final class FusedConvGroup {
    let conv: Conv2d
    let batchNorm: BatchNorm?
    let reluBefore: Bool
    let reluAfter: Bool
    /// Layers the group covers (2 or 3).
    let length: Int
    /// The ReLU layer of the group, if any (only for the hook check).
    private let relu: (any Layer)?
    private var hookedReLU: Bool { relu.map(ForwardHooks.isHooked) ?? false }
    private var scale: [Float] = []   // [OC]
    private var shift: [Float] = []   // [OC]

    init?(_ layers: [any Layer], at i: Int) {
        guard let conv = layers[i] as? Conv2d, conv.fusable, i + 1 < layers.count else { return nil }
        func isReLU(_ j: Int) -> Bool { j < layers.count && (layers[j] as? Activation)?.function == .relu }
        func batchNormAt(_ j: Int) -> BatchNorm? {
            guard j < layers.count, let b = layers[j] as? BatchNorm, b.spatial, b.channels == conv.outChannels else { return nil }
            return b
        }
        self.conv = conv
        if isReLU(i + 1), let b = batchNormAt(i + 2) {
            (batchNorm, reluBefore, reluAfter, length, self.relu) = (b, true, false, 3, layers[i + 1])
        } else if let b = batchNormAt(i + 1) {
            let after = isReLU(i + 2)
            (batchNorm, reluBefore, reluAfter, length, self.relu) = (b, false, after, after ? 3 : 2, after ? layers[i + 2] : nil)
        } else if isReLU(i + 1) {
            (batchNorm, reluBefore, reluAfter, length, self.relu) = (nil, true, false, 2, layers[i + 1])
        } else {
            return nil
        }
    }

    /// Whether a forward hook is on one of the group's layers (it then runs unfused).
    var isHooked: Bool {
        ForwardHooks.active.load(ordering: .relaxed) > 0
            && (ForwardHooks.isHooked(conv) || batchNorm.map(ForwardHooks.isHooked) == true || hookedReLU)
    }

    /// The group's output (that of its last layer) from `input`, plus `residual` when given.
    func forward(input: Tensor, output: Tensor, residual: Tensor?) throws {
        InferenceFusion.fusedRuns.add(1, ordering: .relaxed)
        var e = sk_conv_epilogue()
        e.relu_before = reluBefore ? 1 : 0
        e.relu_after = reluAfter ? 1 : 0
        if let bn = batchNorm {
            let c = bn.channels
            if scale.count != c { scale = [Float](repeating: 0, count: c); shift = scale }
            sk_batchnorm_eval_affine(&scale, &shift, bn.weight?.value.data, bn.bias?.value.data,
                                     bn.runningMean.value.data, bn.runningVar.value.data, Int64(c), bn.eps)
        }
        try scale.withUnsafeBufferPointer { sc in
            try shift.withUnsafeBufferPointer { sh in
                if batchNorm != nil {
                    e.scale = sc.baseAddress
                    e.shift = sh.baseAddress
                }
                e.residual = residual.map { UnsafePointer($0.data) }
                try conv.forwardFused(input: input, output: output, epilogue: &e)
            }
        }
    }
}
