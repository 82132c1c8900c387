import CStrata
import CStrataKernels
import Foundation

/// A layer provided by a plugin: drives the plugin's `StrataLayerOps` through the same life as a
/// built-in layer (create, infer_shape, parameters, bind, forward/backward, destroy).
///
/// The host allocates every tensor: parameters and their gradients are ordinary `Parameter`s
/// (so optimizers and checkpoints treat them like any other), bound once as descriptors that
/// stay valid until the instance is destroyed. Every status the plugin returns is checked and
/// turned into an error naming the plugin, the layer kind and the recipe path.
public final class PluginLayer: Layer {
    /// The layer kind, as recipes name it (the component name).
    public let kind: String
    /// The plugin that provides this layer.
    public let plugin: LoadedPlugin
    /// The layer's place in the recipe (`$.model.layers[2]`), for messages.
    public let jsonPath: String
    /// Where its errors are: the plugin's component.
    var place: CoreError.Place { .component(plugin: plugin.manifest.name, kind: "layer", name: kind) }
    private let ops: UnsafePointer<StrataLayerOps>
    private var instance: UnsafeMutableRawPointer?
    private var params: [Parameter] = []
    private var parametersBound = false
    /// Descriptors handed to bind_parameters: values, grads, then every shape and stride.
    private var boundDescriptors: UnsafeMutablePointer<StrataTensor>?
    private var boundExtents: UnsafeMutablePointer<Int64>?
    private var workspace: UnsafeMutableRawPointer?
    private var workspaceSize: UInt64 = 0

    /// The parameters and buffers the plugin described, allocated by the host.
    public var parameters: [Parameter] { params }

    /// Creates an instance from `config` (the recipe's options for the layer, without `kind`
    /// and `name`): through the typed `constructor` with `arguments` when the manifest declares
    /// one, else through `create` with the options as JSON text and as a borrowed json-c object
    /// (released when `create` returns).
    /// - Throws: `CoreError.badInput` with the plugin's message when the plugin refuses.
    init(kind: String, plugin: LoadedPlugin, ops: UnsafePointer<StrataLayerOps>, config: JSONObject, jsonPath: String,
         constructor: PreparedConstructor? = nil, arguments: [JSONValue] = []) throws {
        self.kind = kind
        self.plugin = plugin
        self.ops = ops
        self.jsonPath = jsonPath
        var err = Self.newError()
        if let constructor {
            guard let made = constructor.construct(arguments, err: &err) else {
                let status = err.code != STRATA_OK ? err.code : STRATA_ERR_INVALID_ARGUMENT
                throw CoreError.badInput(place, describe("typed constructor \(constructor.declaration.symbol)", status, &err, withPath: false))
            }
            instance = made
            return
        }
        var created: UnsafeMutableRawPointer?
        let status = PluginCreate.call(ops.pointee.create, ops.pointee.create_with_context, context: plugin.context(.layer, kind),
                                       options: config, withObject: true, instance: &created, err: &err)
        guard status == STRATA_OK else { throw CoreError.badInput(place, describe("create", status, &err, withPath: false)) }
        instance = created
    }

    deinit {
        ops.pointee.destroy?(instance)
        boundDescriptors?.deallocate()
        boundExtents?.deallocate()
        free(workspace)
    }

    /// "invalid argument", "shape mismatch", … for a status code.
    static func statusName(_ status: Int32) -> String {
        let names = [1: "invalid argument", 2: "shape mismatch", 3: "unsupported", 4: "out of memory", 5: "internal error", 6: "ABI mismatch"]
        return names[Int(status)] ?? "status \(status)"
    }

    static func newError() -> StrataError {
        var err = StrataError()
        err.struct_size = UInt32(MemoryLayout<StrataError>.size)
        return err
    }

    /// `plugin c-layers, layer "leaky_relu" at $.model.layers[2]: forward failed (unsupported): <message>`.
    /// `withPath: false` leaves the recipe path out, for messages that are reported at it.
    private func describe(_ step: String, _ status: Int32, _ err: inout StrataError, withPath: Bool = true) -> String {
        let message = HostAPI.message(of: &err)
        return "plugin \(plugin.manifest.name), layer \"\(kind)\"\(withPath ? " at " + jsonPath : ""): \(step) failed (\(Self.statusName(status))): "
            + (message.isEmpty ? "no message" : message)
    }

    /// `infer_shape`, then (the first time) the parameters are allocated, initialised and bound,
    /// then the workspace, when the layer asks for one.
    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        guard inputShape.count <= Int(STRATA_MAX_NDIM) else { throw ShapeError("input of rank \(inputShape.count) exceeds the ABI's \(STRATA_MAX_NDIM)") }
        var err = Self.newError()
        let input = inputShape.map(Int64.init)
        var outRank: Int32 = 0
        var out = [Int64](repeating: 0, count: Int(STRATA_MAX_NDIM))
        let status = input.withUnsafeBufferPointer { ops.pointee.infer_shape!(instance, Int32(input.count), $0.baseAddress, &outRank, &out, &err) }
        guard status == STRATA_OK else {
            let text = describe("infer_shape", status, &err)
            if status == STRATA_ERR_SHAPE_MISMATCH || status == STRATA_ERR_UNSUPPORTED || status == STRATA_ERR_INVALID_ARGUMENT {
                throw ShapeError(text)
            }
            throw CoreError.runtime(place, text)
        }
        guard outRank >= 1, outRank <= STRATA_MAX_NDIM, out[0] == Int64(inputShape[0]),
              out[..<Int(outRank)].allSatisfy({ $0 > 0 && $0 < (1 << 40) }) else {
            throw ShapeError("plugin \(plugin.manifest.name), layer \"\(kind)\": infer_shape returned an invalid shape \(Array(out.prefix(Int(max(0, min(outRank, STRATA_MAX_NDIM))))))")
        }
        let outputShape = out[..<Int(outRank)].map { Int($0) }
        try context.reserve(outputShape, for: "the output")
        if !parametersBound { try bindParameters(context: &context) }
        try bindWorkspace()
        return outputShape
    }

    /// Asks for the parameters, allocates and initialises them, and binds them.
    private func bindParameters(context: inout BuildContext) throws {
        parametersBound = true
        let count = Int(ops.pointee.parameter_count?(instance) ?? 0)
        guard count > 0 else { return }
        guard count <= 1024, let info = ops.pointee.parameter_info, let bind = ops.pointee.bind_parameters else {
            throw CoreError.runtime(place, "plugin \(plugin.manifest.name), layer \"\(kind)\" at \(jsonPath): reports \(count) parameters without parameter_info and bind_parameters")
        }
        var made: [(Parameter, [Int])] = []
        for i in 0..<count {
            var p = StrataParamInfo()
            p.struct_size = UInt32(MemoryLayout<StrataParamInfo>.size)
            p.abi_version = STRATA_ABI_VERSION
            var err = Self.newError()
            let status = info(instance, Int32(i), &p, &err)
            guard status == STRATA_OK else { throw CoreError.runtime(place, describe("parameter_info(\(i))", status, &err)) }
            guard let cname = p.name, p.ndim >= 0, p.ndim <= STRATA_MAX_NDIM else {
                throw CoreError.runtime(place, "plugin \(plugin.manifest.name), layer \"\(kind)\" at \(jsonPath): parameter \(i) has no name or a rank outside 0...\(STRATA_MAX_NDIM)")
            }
            let name = String(cString: cname)
            let shape = withUnsafeBytes(of: p.shape) { Array($0.bindMemory(to: Int64.self).prefix(Int(p.ndim))) }.map { Int($0) }
            guard !name.isEmpty, !name.contains("."), shape.allSatisfy({ $0 > 0 }), !made.contains(where: { $0.0.name == name }) else {
                throw CoreError.runtime(place, "plugin \(plugin.manifest.name), layer \"\(kind)\" at \(jsonPath): parameter \(i) \"\(name)\" has an invalid or repeated name or an empty shape \(shape)")
            }
            let role: Parameter.Role
            switch p.role {
            case STRATA_PARAM_WEIGHT: role = .weight
            case STRATA_PARAM_BIAS: role = .bias
            case STRATA_PARAM_BUFFER: role = .buffer
            default: throw CoreError.runtime(place, "plugin \(plugin.manifest.name), layer \"\(kind)\" at \(jsonPath): parameter \"\(name)\" has unknown role \(p.role)")
            }
            try context.reserve(shape.isEmpty ? [1] : shape, for: "parameter \(name)")
            let parameter = Parameter(name: name, role: role, shape: shape)
            try initialize(parameter, init: p.`init`, shape: shape, fanIn: Int(p.fan_in), fanOut: Int(p.fan_out), random: &context.random)
            made.append((parameter, shape))
        }
        // Descriptors: values then grads; extents: per parameter its shape then its strides.
        let descriptors = UnsafeMutablePointer<StrataTensor>.allocate(capacity: 2 * count)
        let extents = UnsafeMutablePointer<Int64>.allocate(capacity: max(1, 2 * made.reduce(0) { $0 + $1.1.count }))
        var at = 0
        for (i, (parameter, shape)) in made.enumerated() {
            let shapePointer = extents + at, stridePointer = extents + at + shape.count
            var step: Int64 = 1
            for d in stride(from: shape.count - 1, through: 0, by: -1) {
                shapePointer[d] = Int64(shape[d])
                stridePointer[d] = step
                step *= Int64(shape[d])
            }
            at += 2 * shape.count
            let ndim = Int32(shape.count)
            descriptors[i] = Self.descriptor(parameter.value.data, ndim: ndim, shape: shapePointer, strides: stridePointer, readOnly: false)
            if let grad = parameter.grad {
                descriptors[count + i] = Self.descriptor(grad.data, ndim: ndim, shape: shapePointer, strides: stridePointer, readOnly: false)
            } else {
                descriptors[count + i] = Self.descriptor(nil, ndim: 0, shape: nil, strides: nil, readOnly: false)
            }
        }
        boundDescriptors = descriptors
        boundExtents = extents
        params = made.map(\.0)
        var err = Self.newError()
        let status = bind(instance, Int32(count), descriptors, descriptors + count, &err)
        guard status == STRATA_OK else { throw CoreError.runtime(place, describe("bind_parameters", status, &err)) }
    }

    /// Fills a parameter as `StrataParamInfo.init` asks.
    private func initialize(_ p: Parameter, init code: Int32, shape: [Int], fanIn: Int, fanOut: Int, random: inout RandomStream) throws {
        // PyTorch's fan rule: fan_in = shape[1] * receptive field, fan_out = shape[0] * receptive field.
        let receptive = shape.count > 2 ? shape[2...].reduce(1, *) : 1
        let fi = fanIn > 0 ? fanIn : shape.count >= 2 ? shape[1] * receptive : shape.first ?? 1
        let fo = fanOut > 0 ? fanOut : shape.count >= 2 ? shape[0] * receptive : shape.first ?? 1
        let scheme: InitScheme
        switch code {
        case STRATA_INIT_DEFAULT: scheme = p.role == .buffer ? .zeros : .pytorchDefault
        case STRATA_INIT_ZEROS: scheme = .zeros
        case STRATA_INIT_ONES: scheme = .ones
        case STRATA_INIT_XAVIER_UNIFORM: scheme = .xavierUniform
        case STRATA_INIT_KAIMING_UNIFORM: scheme = .kaimingUniform
        case STRATA_INIT_KAIMING_NORMAL: scheme = .kaimingNormal
        default: throw CoreError.runtime(place, "plugin \(plugin.manifest.name), layer \"\(kind)\" at \(jsonPath): parameter \"\(p.name)\" has unknown init \(code)")
        }
        scheme.fill(p.value, fanIn: fi, fanOut: fo, random: &random)
    }

    /// Hands the layer scratch memory when it asks for more than it has.
    private func bindWorkspace() throws {
        let sizeOffset = MemoryLayout<StrataLayerOps>.offset(of: \.workspace_size)!
        guard PluginHost.has(ops.pointee.struct_size, offset: sizeOffset), let sizeFunction = ops.pointee.workspace_size else { return }
        let size = sizeFunction(instance)
        guard size > workspaceSize else { return }
        guard size < (1 << 36), let bind = ops.pointee.bind_workspace else {
            throw CoreError.runtime(place, "plugin \(plugin.manifest.name), layer \"\(kind)\" at \(jsonPath): asks for \(size) bytes of workspace" + (size < (1 << 36) ? " without bind_workspace" : ""))
        }
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, 64, Int(size)) == 0, let block = raw else {
            throw CoreError.runtime(place, "plugin \(plugin.manifest.name), layer \"\(kind)\" at \(jsonPath): out of memory for a workspace of \(size) bytes")
        }
        free(workspace)
        workspace = block
        workspaceSize = size
        var err = Self.newError()
        let status = bind(instance, block, size, &err)
        guard status == STRATA_OK else { throw CoreError.runtime(place, describe("bind_workspace", status, &err)) }
    }

    static func descriptor(_ data: UnsafeMutableRawPointer?, ndim: Int32, shape: UnsafePointer<Int64>?, strides: UnsafePointer<Int64>?,
                           readOnly: Bool) -> StrataTensor {
        StrataTensor(data: data, byte_offset: 0, device_type: STRATA_DEVICE_CPU, device_id: 0,
                     dtype: StrataDType(code: STRATA_DTYPE_FLOAT, bits: 32, lanes: 1), ndim: ndim, shape: shape, strides: strides,
                     flags: readOnly ? STRATA_TENSOR_READ_ONLY : 0)
    }

    /// Writes `dims` and the row-major (contiguous) strides of that shape as ABI extents.
    static func fillExtents(_ dims: [Int], shape: UnsafeMutablePointer<Int64>, strides: UnsafeMutablePointer<Int64>) {
        var step: Int64 = 1
        for d in stride(from: dims.count - 1, through: 0, by: -1) {
            shape[d] = Int64(dims[d])
            strides[d] = step
            step *= Int64(dims[d])
        }
    }

    /// Runs `body` with a descriptor of `tensor` (contiguous float32) valid for the call.
    private static func withDescriptor<R>(_ tensor: Tensor, readOnly: Bool, _ body: (UnsafeMutablePointer<StrataTensor>) -> R) -> R {
        let rank = tensor.shape.count
        return withUnsafeTemporaryAllocation(of: Int64.self, capacity: max(1, 2 * rank)) { extents in
            let base = extents.baseAddress!
            fillExtents(tensor.shape, shape: base, strides: base + rank)
            var t = descriptor(UnsafeMutableRawPointer(tensor.data), ndim: Int32(rank), shape: base, strides: base + rank, readOnly: readOnly)
            return body(&t)
        }
    }

    /// `forward` over descriptors of the host's tensors.
    public func forward(input: Tensor, output: Tensor, training: Bool) throws {
        var err = Self.newError()
        let status = Self.withDescriptor(input, readOnly: true) { x in
            Self.withDescriptor(output, readOnly: false) { y in ops.pointee.forward!(instance, x, y, training ? 1 : 0, &err) }
        }
        guard status == STRATA_OK else { throw CoreError.runtime(place, describe("forward", status, &err)) }
    }

    /// `backward` over descriptors of the host's tensors (`grad_input` NULL when not needed).
    public func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        var err = Self.newError()
        let status = Self.withDescriptor(input, readOnly: true) { x in
            Self.withDescriptor(output, readOnly: true) { y in
                Self.withDescriptor(gradOutput, readOnly: true) { dy in
                    if let gradInput {
                        return Self.withDescriptor(gradInput, readOnly: false) { dx in ops.pointee.backward!(instance, x, y, dy, dx, &err) }
                    }
                    return ops.pointee.backward!(instance, x, y, dy, nil, &err)
                }
            }
        }
        guard status == STRATA_OK else { throw CoreError.runtime(place, describe("backward", status, &err)) }
    }
}
