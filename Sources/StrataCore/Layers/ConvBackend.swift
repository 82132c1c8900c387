import CStrataKernels
import Foundation

/// Which kernels compute a `Conv2d`: im2col + BLAS (`conv2d.c`, always present) or oneDNN's
/// direct kernels (`conv_onednn.c`, when `libdnnl.so.2` loads). Both give the same function to
/// float rounding; each is deterministic for a given thread count, and the choice depends only on
/// the layer's shape (never on a timing), so a run's bits do not change from one run to the next.
public enum ConvBackend: String, Sendable, CaseIterable {
    /// The rule below, per layer shape and direction.
    case auto
    /// im2col + `cblas_sgemm` in both directions.
    case im2col
    /// oneDNN in both directions (im2col when oneDNN is not available or does not take the shape).
    case onednn

    /// `STRATA_CONV_BACKEND` (`auto`, `im2col` or `onednn`), else `auto`.
    public static var fromEnvironment: ConvBackend {
        guard let raw = ProcessInfo.processInfo.environment["STRATA_CONV_BACKEND"], !raw.isEmpty else { return .auto }
        return ConvBackend(rawValue: raw.lowercased()) ?? .auto
    }

    /// Whether oneDNN is loaded here, and its version or why not.
    public static var onednnAvailable: Bool { sk_onednn_available() != 0 }
    public static var onednnDescription: String { String(cString: sk_onednn_describe()) }

    /// The kernels per direction for a convolution from `inChannels` to `outChannels` channels with
    /// an output of `outputPixels` positions per sample (see docs/bench.md, "Kernels per layer shape").
    /// A single-channel input (LeNet's conv1, the stems) stays on im2col: oneDNN's backward there is
    /// 3-5× slower (the weight gradient, a reduction over every output position, is not blocked in
    /// its single-channel kernel) and its forward only ties, while adding reorders. Elsewhere oneDNN's
    /// forward wins; its backward loses on outputs of 2x2 or fewer positions (80 and 160 channels in the
    /// small ResNet), where one GEMM over the part is faster and skips the reorders.
    func plan(inChannels: Int, outChannels: Int, outputPixels: Int) -> (forward: Bool, backward: Bool) {
        switch self {
        case .im2col: return (false, false)
        case .onednn: return (true, true)
        case .auto:
            guard inChannels > 1 else { return (false, false) }
            return (true, outputPixels > 4)
        }
    }
}

/// The oneDNN state of one layer (primitives per part size, per-thread buffers), freed with it.
final class OneDNNConvPlan {
    let handle: OpaquePointer

    init?(shape: sk_conv_shape, hasBias: Bool) {
        var s = shape
        guard let h = sk_onednn_conv_create(&s, hasBias ? 1 : 0) else { return nil }
        handle = h
    }

    deinit { sk_onednn_conv_destroy(handle) }

    var lastError: String { String(cString: sk_onednn_conv_error(handle)) }
}
