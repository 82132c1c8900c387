import CStrata
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Registers a Swift plugin's components with the host: fills `StrataPluginInfo` with ops
/// tables whose C functions trampoline into the Swift types, and keeps the host table for the
/// configuration readers and error messages.
///
/// A plugin's whole entry point is these three lines (the symbol must be exactly this):
/// ```swift
/// @_cdecl("strata_plugin_entry")
/// public func strataPluginEntry(_ host: UnsafePointer<StrataHostAPI>?, _ info: UnsafeMutablePointer<StrataPluginInfo>?,
///                               _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
///     StrataPlugin.register(name: "vision", version: "0.1.0", components: [
///         .layer(Swish.self, name: "swish", description: "x * sigmoid(beta * x)"),
///         .model(LeNet.self, name: "lenet", description: "d2l's LeNet-5")],
///         host: host, info: info, error: err)
/// }
/// ```
/// (`import CStrata` and `import StrataKit` give the C types.) Name and version must equal the
/// manifest's, and the components must be exactly those the manifest lists. The kit checks the
/// host's ABI major first and refuses another one with `STRATA_ERR_ABI_MISMATCH`.
///
/// Instances are boxed with `Unmanaged` and released in `destroy`; every C function catches
/// what the Swift code throws and returns a status with the message set through
/// `host->set_error`. The tables, names and descriptions live until the process exits, as the
/// ABI requires. A plugin may register at most `maxLayers` layers and `maxModels` model builders.
public enum StrataPlugin {
    /// Most layer kinds one plugin can register.
    public static let maxLayers = 16
    /// Most model builders one plugin can register.
    public static let maxModels = 16

    /// The host table given to the entry point; nil before registration.
    nonisolated(unsafe) public internal(set) static var host: UnsafePointer<StrataHostAPI>?
    nonisolated(unsafe) static var layerSlots: [KitComponent] = []
    nonisolated(unsafe) static var modelSlots: [KitComponent] = []
    nonisolated(unsafe) static var table: (name: UnsafeMutablePointer<CChar>, version: UnsafeMutablePointer<CChar>,
                                           components: UnsafeMutablePointer<StrataComponent>, count: Int)?

    /// Checks the host's ABI, registers `components` and fills `info`. Returns `STRATA_OK`, or
    /// a status with a message in `error` (never traps, never throws).
    public static func register(name: String, version: String, components: [KitComponent],
                                host: UnsafePointer<StrataHostAPI>?, info: UnsafeMutablePointer<StrataPluginInfo>?,
                                error: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
        guard let host, let info else { return KitHost.fail(error, STRATA_ERR_INVALID_ARGUMENT, "strata_plugin_entry needs a host table and an info record") }
        guard host.pointee.abi_version >> 16 == STRATA_ABI_VERSION >> 16 else {
            return KitHost.fail(error, STRATA_ERR_ABI_MISMATCH, "built for Strata ABI major \(STRATA_ABI_VERSION >> 16), the host implements \(host.pointee.abi_version >> 16).\(host.pointee.abi_version & 0xFFFF)", host: host)
        }
        Self.host = host
        if table == nil {
            let layers = components.filter { $0.kind == STRATA_COMPONENT_LAYER }
            let models = components.filter { $0.kind == STRATA_COMPONENT_MODEL }
            guard layers.count <= maxLayers, models.count <= maxModels else {
                return KitHost.fail(error, STRATA_ERR_UNSUPPORTED, "the Swift kit registers at most \(maxLayers) layers and \(maxModels) model builders", host: host)
            }
            let list = UnsafeMutablePointer<StrataComponent>.allocate(capacity: max(1, components.count))
            var layerIndex = 0, modelIndex = 0
            for (i, c) in components.enumerated() {
                var entry = StrataComponent()
                entry.struct_size = UInt32(MemoryLayout<StrataComponent>.size)
                entry.abi_version = STRATA_ABI_VERSION
                entry.kind = c.kind
                entry.name = UnsafePointer(strdup(c.name))
                entry.description = UnsafePointer(strdup(c.description))
                if c.kind == STRATA_COMPONENT_LAYER {
                    let ops = UnsafeMutablePointer<StrataLayerOps>.allocate(capacity: 1)
                    ops.initialize(to: KitTrampolines.layerOps(create: kitLayerCreates[layerIndex]))
                    entry.ops = UnsafeRawPointer(ops)
                    layerIndex += 1
                } else {
                    let ops = UnsafeMutablePointer<StrataModelOps>.allocate(capacity: 1)
                    ops.initialize(to: KitTrampolines.modelOps(build: kitModelBuilds[modelIndex]))
                    entry.ops = UnsafeRawPointer(ops)
                    modelIndex += 1
                }
                (list + i).initialize(to: entry)
            }
            layerSlots = layers
            modelSlots = models
            table = (strdup(name), strdup(version), list, components.count)
        }
        guard let table else { return KitHost.fail(error, STRATA_ERR_INTERNAL, "registration failed", host: host) }
        info.pointee.abi_version = STRATA_ABI_VERSION
        info.pointee.plugin_name = UnsafePointer(table.name)
        info.pointee.plugin_version = UnsafePointer(table.version)
        info.pointee.component_count = Int32(table.count)
        info.pointee.components = UnsafePointer(table.components)
        return STRATA_OK
    }
}

/// Error buffers and host calls.
enum KitHost {
    /// Stores `code` and `message` in `err` (through the host's set_error when there is a host)
    /// and returns `code`.
    static func fail(_ err: UnsafeMutablePointer<StrataError>?, _ code: StrataStatus, _ message: String,
                     host: UnsafePointer<StrataHostAPI>? = StrataPlugin.host) -> StrataStatus {
        if let host, let setError = host.pointee.set_error { return setError(err, code, message) }
        guard let err else { return code }
        err.pointee.code = code
        let bytes = Array(message.utf8.prefix(Int(STRATA_ERROR_MESSAGE_SIZE) - 1))
        withUnsafeMutableBytes(of: &err.pointee.message) { raw in
            for (i, b) in bytes.enumerated() { raw[i] = b }
            raw[bytes.count] = 0
        }
        return code
    }

    /// The message an error buffer holds.
    static func message(of err: UnsafePointer<StrataError>) -> String {
        withUnsafeBytes(of: err.pointee.message) { raw in
            let end = raw.firstIndex(of: 0) ?? raw.count
            return String(decoding: raw[..<end], as: UTF8.self)
        }
    }

    /// Runs `body`, turning what it throws into a status and a message.
    static func guarded(_ err: UnsafeMutablePointer<StrataError>?, _ body: () throws -> Void) -> StrataStatus {
        do {
            try body()
            return STRATA_OK
        } catch let e as KitError {
            return fail(err, e.status == STRATA_OK ? STRATA_ERR_INTERNAL : e.status, e.message)
        } catch {
            return fail(err, STRATA_ERR_INTERNAL, "\(error)")
        }
    }
}

/// A layer instance as the host holds it: the Swift object and the C strings of its
/// parameter names, which must live until destroy.
final class KitLayerBox {
    let layer: any KitLayer
    var parameters: [KitParameter] = []
    var names: [UnsafeMutablePointer<CChar>] = []
    init(_ layer: any KitLayer) { self.layer = layer }
    deinit { for n in names { free(n) } }

    static func from(_ instance: UnsafeMutableRawPointer?) throws -> KitLayerBox {
        guard let instance else { throw KitError.invalidArgument("no layer instance") }
        return Unmanaged<KitLayerBox>.fromOpaque(instance).takeUnretainedValue()
    }
}

typealias KitCreateFn = @convention(c) (UnsafePointer<CChar>?, UnsafeRawPointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                        UnsafeMutablePointer<StrataError>?) -> StrataStatus
typealias KitBuildFn = @convention(c) (UnsafePointer<CChar>?, UnsafeRawPointer?, UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                                       UnsafeMutablePointer<StrataError>?) -> StrataStatus

/// One `create` per layer slot: a C function cannot carry context, so slot k's create knows it
/// makes the k-th registered layer kind.
let kitLayerCreates: [KitCreateFn] = [
    { c, _, i, e in KitTrampolines.create(slot: 0, c, i, e) },
    { c, _, i, e in KitTrampolines.create(slot: 1, c, i, e) },
    { c, _, i, e in KitTrampolines.create(slot: 2, c, i, e) },
    { c, _, i, e in KitTrampolines.create(slot: 3, c, i, e) },
    { c, _, i, e in KitTrampolines.create(slot: 4, c, i, e) },
    { c, _, i, e in KitTrampolines.create(slot: 5, c, i, e) },
    { c, _, i, e in KitTrampolines.create(slot: 6, c, i, e) },
    { c, _, i, e in KitTrampolines.create(slot: 7, c, i, e) },
    { c, _, i, e in KitTrampolines.create(slot: 8, c, i, e) },
    { c, _, i, e in KitTrampolines.create(slot: 9, c, i, e) },
    { c, _, i, e in KitTrampolines.create(slot: 10, c, i, e) },
    { c, _, i, e in KitTrampolines.create(slot: 11, c, i, e) },
    { c, _, i, e in KitTrampolines.create(slot: 12, c, i, e) },
    { c, _, i, e in KitTrampolines.create(slot: 13, c, i, e) },
    { c, _, i, e in KitTrampolines.create(slot: 14, c, i, e) },
    { c, _, i, e in KitTrampolines.create(slot: 15, c, i, e) },
]

/// One `build` per model-builder slot.
let kitModelBuilds: [KitBuildFn] = [
    { c, _, g, e in KitTrampolines.build(slot: 0, c, g, e) },
    { c, _, g, e in KitTrampolines.build(slot: 1, c, g, e) },
    { c, _, g, e in KitTrampolines.build(slot: 2, c, g, e) },
    { c, _, g, e in KitTrampolines.build(slot: 3, c, g, e) },
    { c, _, g, e in KitTrampolines.build(slot: 4, c, g, e) },
    { c, _, g, e in KitTrampolines.build(slot: 5, c, g, e) },
    { c, _, g, e in KitTrampolines.build(slot: 6, c, g, e) },
    { c, _, g, e in KitTrampolines.build(slot: 7, c, g, e) },
    { c, _, g, e in KitTrampolines.build(slot: 8, c, g, e) },
    { c, _, g, e in KitTrampolines.build(slot: 9, c, g, e) },
    { c, _, g, e in KitTrampolines.build(slot: 10, c, g, e) },
    { c, _, g, e in KitTrampolines.build(slot: 11, c, g, e) },
    { c, _, g, e in KitTrampolines.build(slot: 12, c, g, e) },
    { c, _, g, e in KitTrampolines.build(slot: 13, c, g, e) },
    { c, _, g, e in KitTrampolines.build(slot: 14, c, g, e) },
    { c, _, g, e in KitTrampolines.build(slot: 15, c, g, e) },
]

/// The C functions of the ops tables.
enum KitTrampolines {
    static func layerOps(create: KitCreateFn) -> StrataLayerOps {
        var ops = StrataLayerOps()
        ops.struct_size = UInt32(MemoryLayout<StrataLayerOps>.size)
        ops.abi_version = STRATA_ABI_VERSION
        ops.create = create
        ops.destroy = { instance in
            guard let instance else { return }
            Unmanaged<KitLayerBox>.fromOpaque(instance).release()
        }
        ops.infer_shape = { instance, rank, inShape, outRank, outShape, err in
            KitHost.guarded(err) {
                let box = try KitLayerBox.from(instance)
                guard rank >= 0, rank <= STRATA_MAX_NDIM, rank == 0 || inShape != nil, let outRank, let outShape else {
                    throw KitError.invalidArgument("infer_shape: bad rank or NULL shape")
                }
                let input = (0..<Int(rank)).map { Int(inShape![$0]) }
                let output = try box.layer.outputShape(for: input)
                guard output.count <= Int(STRATA_MAX_NDIM) else { throw KitError.unsupported("output rank \(output.count) exceeds \(STRATA_MAX_NDIM)") }
                outRank.pointee = Int32(output.count)
                for (i, d) in output.enumerated() { outShape[i] = Int64(d) }
            }
        }
        ops.parameter_count = { instance in
            guard let box = try? KitLayerBox.from(instance) else { return 0 }
            if box.parameters.isEmpty && box.names.isEmpty {
                box.parameters = box.layer.parameters
                box.names = box.parameters.map { strdup($0.name) }
            }
            return Int32(box.parameters.count)
        }
        ops.parameter_info = { instance, index, out, err in
            KitHost.guarded(err) {
                let box = try KitLayerBox.from(instance)
                guard let out, index >= 0, Int(index) < box.parameters.count else { throw KitError.invalidArgument("no parameter \(index)") }
                let p = box.parameters[Int(index)]
                guard p.shape.count <= Int(STRATA_MAX_NDIM) else { throw KitError.unsupported("parameter \(p.name) has rank \(p.shape.count)") }
                out.pointee.name = UnsafePointer(box.names[Int(index)])
                out.pointee.ndim = Int32(p.shape.count)
                withUnsafeMutableBytes(of: &out.pointee.shape) { raw in
                    let extents = raw.bindMemory(to: Int64.self)
                    for i in 0..<extents.count { extents[i] = i < p.shape.count ? Int64(p.shape[i]) : 0 }
                }
                switch p.role {
                case .weight: out.pointee.role = STRATA_PARAM_WEIGHT
                case .bias: out.pointee.role = STRATA_PARAM_BIAS
                case .buffer: out.pointee.role = STRATA_PARAM_BUFFER
                }
                switch p.initializer {
                case .default: out.pointee.`init` = STRATA_INIT_DEFAULT
                case .zeros: out.pointee.`init` = STRATA_INIT_ZEROS
                case .ones: out.pointee.`init` = STRATA_INIT_ONES
                case .xavierUniform: out.pointee.`init` = STRATA_INIT_XAVIER_UNIFORM
                case .kaimingUniform: out.pointee.`init` = STRATA_INIT_KAIMING_UNIFORM
                case .kaimingNormal: out.pointee.`init` = STRATA_INIT_KAIMING_NORMAL
                }
            }
        }
        ops.bind_parameters = { instance, count, values, grads, err in
            KitHost.guarded(err) {
                let box = try KitLayerBox.from(instance)
                guard Int(count) == box.parameters.count, count == 0 || (values != nil && grads != nil) else {
                    throw KitError.invalidArgument("bind_parameters: \(count) tensors for \(box.parameters.count) parameters")
                }
                var v: [KitTensor] = [], g: [KitTensor?] = []
                for i in 0..<Int(count) {
                    v.append(try KitTensor(values! + i))
                    g.append(grads![i].data == nil ? nil : try KitTensor(grads! + i))
                }
                try box.layer.bind(values: v, gradients: g)
            }
        }
        ops.forward = { instance, input, output, training, err in
            KitHost.guarded(err) {
                let box = try KitLayerBox.from(instance)
                guard let input, let output else { throw KitError.invalidArgument("forward: NULL tensor") }
                try box.layer.forward(input: try KitTensor(input), output: try KitTensor(UnsafePointer(output)), training: training != 0)
            }
        }
        ops.backward = { instance, input, output, gradOutput, gradInput, err in
            KitHost.guarded(err) {
                let box = try KitLayerBox.from(instance)
                guard let input, let output, let gradOutput else { throw KitError.invalidArgument("backward: NULL tensor") }
                try box.layer.backward(input: try KitTensor(input), output: try KitTensor(output), gradOutput: try KitTensor(gradOutput),
                                       gradInput: try gradInput.map { try KitTensor(UnsafePointer($0)) })
            }
        }
        return ops
    }

    static func modelOps(build: KitBuildFn) -> StrataModelOps {
        var ops = StrataModelOps()
        ops.struct_size = UInt32(MemoryLayout<StrataModelOps>.size)
        ops.abi_version = STRATA_ABI_VERSION
        ops.build = build
        ops.release_string = { text in free(text) }
        return ops
    }

    /// `create` of the layer registered in `slot`.
    static func create(slot: Int, _ config: UnsafePointer<CChar>?, _ instance: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                       _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
        KitHost.guarded(err) {
            guard slot < StrataPlugin.layerSlots.count, let make = StrataPlugin.layerSlots[slot].makeLayer, let instance else {
                throw KitError.internalError("no layer registered in slot \(slot)")
            }
            let layer = try make(KitConfig(json: config.map { String(cString: $0) } ?? "{}"))
            instance.pointee = Unmanaged.passRetained(KitLayerBox(layer)).toOpaque()
        }
    }

    /// `build` of the model builder registered in `slot`: the graph text, allocated with
    /// malloc (strdup) and freed by `release_string`.
    static func build(slot: Int, _ config: UnsafePointer<CChar>?, _ graph: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
                      _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
        graph?.pointee = nil
        return KitHost.guarded(err) {
            guard slot < StrataPlugin.modelSlots.count, let make = StrataPlugin.modelSlots[slot].buildModel, let graph else {
                throw KitError.internalError("no model builder registered in slot \(slot)")
            }
            let text = try make(KitConfig(json: config.map { String(cString: $0) } ?? "{}"))
            guard let copy = strdup(text) else { throw KitError(status: STRATA_ERR_OUT_OF_MEMORY, "out of memory for the graph text") }
            graph.pointee = copy
        }
    }
}
