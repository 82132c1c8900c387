import CStrata

/// A failure a kit component reports: an ABI status and one sentence. Thrown from any
/// `KitLayer` or `KitModelBuilder` method; the kit turns it into the status the C function
/// returns and the message of the host's `StrataError` (through `host->set_error`). Any other
/// Swift error becomes `STRATA_ERR_INTERNAL` with its description.
public struct KitError: Error, CustomStringConvertible {
    /// One of the ABI's `STRATA_ERR_*` codes.
    public let status: StrataStatus
    /// What is wrong, as a sentence ("beta must be between 0 and 100, got 300").
    public let message: String

    /// A failure with an explicit status.
    public init(status: StrataStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    /// A bad option or argument (`STRATA_ERR_INVALID_ARGUMENT`).
    public static func invalidArgument(_ message: String) -> KitError { KitError(status: STRATA_ERR_INVALID_ARGUMENT, message) }
    /// Shapes that do not fit (`STRATA_ERR_SHAPE_MISMATCH`).
    public static func shapeMismatch(_ message: String) -> KitError { KitError(status: STRATA_ERR_SHAPE_MISMATCH, message) }
    /// A request this implementation does not handle (`STRATA_ERR_UNSUPPORTED`).
    public static func unsupported(_ message: String) -> KitError { KitError(status: STRATA_ERR_UNSUPPORTED, message) }
    /// A broken invariant inside the plugin (`STRATA_ERR_INTERNAL`).
    public static func internalError(_ message: String) -> KitError { KitError(status: STRATA_ERR_INTERNAL, message) }

    /// The message.
    public var description: String { message }
}

/// A float32 tensor the host owns, seen from Swift: its shape (batch first) and a buffer over
/// its elements. Valid only for the duration of the call that received it, except the
/// parameter views given to `KitLayer.bind`, which stay valid until the layer is released.
public struct KitTensor {
    /// Extents, outermost first ([N, C, H, W] for images).
    public let shape: [Int]
    /// The elements, row-major. Read-only tensors (inputs, outputs and gradients handed to
    /// backward) must not be written, although the buffer type allows it.
    public let buffer: UnsafeMutableBufferPointer<Float>

    /// Number of elements.
    public var count: Int { buffer.count }

    /// A view of `tensor`, which must be contiguous float32 on the CPU.
    /// - Throws: `KitError.unsupported` for another dtype, device or layout.
    public init(_ tensor: UnsafePointer<StrataTensor>) throws {
        let t = tensor.pointee
        guard t.dtype.code == STRATA_DTYPE_FLOAT, t.dtype.bits == 32, t.dtype.lanes == 1 else {
            throw KitError.unsupported("expects float32 tensors")
        }
        guard t.device_type == STRATA_DEVICE_CPU else { throw KitError.unsupported("expects CPU tensors") }
        guard t.ndim >= 0, t.ndim <= STRATA_MAX_NDIM, t.ndim == 0 || (t.shape != nil && t.strides != nil) else {
            throw KitError.unsupported("expects a rank between 0 and \(STRATA_MAX_NDIM) with shape and strides")
        }
        var shape: [Int] = []
        var expected: Int64 = 1
        for d in stride(from: Int(t.ndim) - 1, through: 0, by: -1) {
            guard t.strides![d] == expected || t.shape![d] == 1 else { throw KitError.unsupported("expects contiguous tensors") }
            guard t.shape![d] >= 0 else { throw KitError.unsupported("has a negative extent") }
            expected *= t.shape![d]
            shape.insert(Int(t.shape![d]), at: 0)
        }
        let count = Int(expected)
        guard count == 0 || t.data != nil else { throw KitError.unsupported("has no data") }
        let base = t.data.map { ($0 + Int(t.byte_offset)).assumingMemoryBound(to: Float.self) }
        self.shape = shape
        self.buffer = UnsafeMutableBufferPointer(start: count == 0 ? nil : base, count: count)
    }
}

/// How a parameter is used: trained like a weight or a bias, or a non-trained buffer.
public enum KitParameterRole: Sendable {
    /// A trained multiplicative parameter (`STRATA_PARAM_WEIGHT`).
    case weight
    /// A trained additive parameter (`STRATA_PARAM_BIAS`).
    case bias
    /// Non-trained state saved in checkpoints (`STRATA_PARAM_BUFFER`); it has no gradient.
    case buffer
}

/// How the host fills a parameter before binding it (`STRATA_INIT_*`).
public enum KitInit: Sendable {
    /// PyTorch's default for the role (uniform ±1/sqrt(fan_in); buffers zeros).
    case `default`
    /// All zeros.
    case zeros
    /// All ones.
    case ones
    /// Glorot uniform.
    case xavierUniform
    /// He uniform.
    case kaimingUniform
    /// He normal.
    case kaimingNormal
}

/// One parameter a layer asks the host for: its local name ("weight"), shape, role and
/// initialisation. The host allocates it and its gradient and prefixes the layer's dotted path.
public struct KitParameter: Sendable {
    /// Local name, PyTorch style, without dots.
    public let name: String
    /// Extents.
    public let shape: [Int]
    /// Weight, bias or buffer.
    public let role: KitParameterRole
    /// How the host fills it.
    public let initializer: KitInit

    /// A parameter description.
    public init(name: String, shape: [Int], role: KitParameterRole = .weight, initializer: KitInit = .default) {
        self.name = name
        self.shape = shape
        self.role = role
        self.initializer = initializer
    }
}

/// A component's options, read through the host's configuration readers (no JSON library is
/// linked). Paths are dotted (`"widths.0"`); an absent option gives the default.
public struct KitConfig {
    /// The options as JSON text, exactly as the host passed them ("{}" when none).
    public let json: String

    /// Options from JSON text.
    public init(json: String) { self.json = json }

    /// True when `path` names a present, non-null value.
    public func has(_ path: String) -> Bool {
        guard let host = StrataPlugin.host else { return false }
        return host.pointee.config_has(json, path) != 0
    }

    /// An integer option, or `defaultValue` when absent.
    /// - Throws: `KitError.invalidArgument` naming the option when it is not an integer.
    public func int(_ path: String, default defaultValue: Int) throws -> Int {
        var value = Int64(defaultValue)
        try call { host, err in host.pointee.config_get_int(json, path, &value, err) }
        return Int(value)
    }

    /// A number option, or `defaultValue` when absent.
    public func double(_ path: String, default defaultValue: Double) throws -> Double {
        var value = defaultValue
        try call { host, err in host.pointee.config_get_double(json, path, &value, err) }
        return value
    }

    /// A boolean option, or `defaultValue` when absent.
    public func bool(_ path: String, default defaultValue: Bool) throws -> Bool {
        var value: Int32 = defaultValue ? 1 : 0
        try call { host, err in host.pointee.config_get_bool(json, path, &value, err) }
        return value != 0
    }

    /// A string option, or `defaultValue` when absent.
    public func string(_ path: String, default defaultValue: String) throws -> String {
        guard has(path) else { return defaultValue }
        var length: UInt64 = 0
        if let host = StrataPlugin.host {
            // A zero-capacity read reports the length (and refuses to copy); a wrong type is reported below.
            var probe = StrataError()
            probe.struct_size = UInt32(MemoryLayout<StrataError>.size)
            _ = host.pointee.config_get_string(json, path, nil, 0, &length, &probe)
        }
        guard length < (1 << 20) else { throw KitError.invalidArgument("option \"\(path)\" is longer than 1 MiB") }
        var bytes = [CChar](repeating: 0, count: Int(length) + 1)
        let capacity = UInt64(bytes.count)
        try call { host, err in host.pointee.config_get_string(json, path, &bytes, capacity, nil, err) }
        return String(decoding: bytes.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// An array of integers, or `defaultValue` when absent.
    public func ints(_ path: String, default defaultValue: [Int]) throws -> [Int] {
        guard has(path) else { return defaultValue }
        var out: [Int] = []
        while has("\(path).\(out.count)") {
            out.append(try int("\(path).\(out.count)", default: 0))
            if out.count > 4096 { throw KitError.invalidArgument("option \"\(path)\" has more than 4096 entries") }
        }
        if out.isEmpty {
            throw KitError.invalidArgument("option \"\(path)\" must be a non-empty array of integers")
        }
        return out
    }

    private func call(_ body: (UnsafePointer<StrataHostAPI>, UnsafeMutablePointer<StrataError>) -> StrataStatus) throws {
        guard let host = StrataPlugin.host else { throw KitError.internalError("the plugin has not been registered with a host") }
        var err = StrataError()
        err.struct_size = UInt32(MemoryLayout<StrataError>.size)
        let status = body(host, &err)
        guard status == STRATA_OK else { throw KitError(status: status, KitHost.message(of: &err)) }
    }
}
