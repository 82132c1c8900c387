import CStrata
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Registers a Swift plugin's components with the host: fills `StrataPluginInfo` with one
/// descriptor per component whose `context` (ABI 0.3) points at the Swift factory of that
/// component, and one shared ops table per kind whose `create_with_context` (model builders:
/// `build_with_context`) reads that context. So a plugin may register any number of
/// components of every kind the kit covers: layers, model builders, losses, optimizers and
/// callbacks.
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
/// host's ABI major first and refuses another one with `STRATA_ERR_ABI_MISMATCH`, and refuses a
/// host older than ABI 0.3 (which would not pass component contexts).
///
/// Instances are boxed with `Unmanaged` and released in `destroy`; every C function catches
/// what the Swift code throws and returns a status with the message set through
/// `host->set_error`. The tables, names, descriptions and factories live until the process
/// exits, as the ABI requires.
public enum StrataPlugin {
    /// The host table given to the entry point; nil before registration.
    nonisolated(unsafe) public internal(set) static var host: UnsafePointer<StrataHostAPI>?
    nonisolated(unsafe) static var table: (name: UnsafeMutablePointer<CChar>, version: UnsafeMutablePointer<CChar>,
                                           components: UnsafeMutablePointer<StrataComponent>, count: Int)?

    /// Checks the host's ABI, registers `components` and fills `info`. Returns `STRATA_OK`, or
    /// a status with a message in `error` (never traps, never throws).
    public static func register(name: String, version: String, components: [KitComponent],
                                host: UnsafePointer<StrataHostAPI>?, info: UnsafeMutablePointer<StrataPluginInfo>?,
                                error: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
        guard let host, let info else { return KitHost.fail(error, STRATA_ERR_INVALID_ARGUMENT, "strata_plugin_entry needs a host table and an info record") }
        let status = name.withCString { strata_check_host_abi(host, $0, error) }
        guard status == STRATA_OK else { return status }
        guard host.pointee.abi_version & 0xFFFF >= 3 else {
            return KitHost.fail(error, STRATA_ERR_ABI_MISMATCH, "\(name) is built with the Swift kit, which needs a host of Strata ABI 0.3 or later (component contexts); the host implements ABI \(host.pointee.abi_version >> 16).\(host.pointee.abi_version & 0xFFFF)", host: host)
        }
        Self.host = host
        if table == nil {
            let list = UnsafeMutablePointer<StrataComponent>.allocate(capacity: max(1, components.count))
            for (i, c) in components.enumerated() {
                var entry = StrataComponent()
                entry.struct_size = UInt32(MemoryLayout<StrataComponent>.size)
                entry.abi_version = STRATA_ABI_VERSION
                entry.kind = c.kind
                entry.name = UnsafePointer(strdup(c.name))
                entry.description = UnsafePointer(strdup(c.description))
                entry.ops = KitTables.ops(for: c.kind)
                entry.context = Unmanaged.passRetained(c.factory).toOpaque()  // lives as long as the library
                (list + i).initialize(to: entry)
            }
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

/// The factory a component descriptor's `context` points at.
final class KitFactory {
    let makeLayer: ((KitConfig) throws -> any KitLayer)?
    let buildModel: ((KitConfig) throws -> String)?
    let makeLoss: ((KitConfig) throws -> any KitLoss)?
    let makeOptimizer: ((KitConfig) throws -> any KitOptimizer)?
    let makeCallback: ((KitConfig) throws -> any KitCallback)?

    init(layer: ((KitConfig) throws -> any KitLayer)? = nil, model: ((KitConfig) throws -> String)? = nil,
         loss: ((KitConfig) throws -> any KitLoss)? = nil, optimizer: ((KitConfig) throws -> any KitOptimizer)? = nil,
         callback: ((KitConfig) throws -> any KitCallback)? = nil) {
        makeLayer = layer
        buildModel = model
        makeLoss = loss
        makeOptimizer = optimizer
        makeCallback = callback
    }

    /// The factory behind a component context.
    static func from(_ context: UnsafeMutableRawPointer?) throws -> KitFactory {
        guard let context else { throw KitError.internalError("no component context (a host older than ABI 0.3?)") }
        return Unmanaged<KitFactory>.fromOpaque(context).takeUnretainedValue()
    }
}

/// One ops table per kind, shared by every component of that kind, allocated once.
enum KitTables {
    nonisolated(unsafe) static let layer: UnsafeMutablePointer<StrataLayerOps> = {
        let p = UnsafeMutablePointer<StrataLayerOps>.allocate(capacity: 1)
        p.initialize(to: KitTrampolines.layerOps())
        return p
    }()
    nonisolated(unsafe) static let model: UnsafeMutablePointer<StrataModelOps> = {
        let p = UnsafeMutablePointer<StrataModelOps>.allocate(capacity: 1)
        p.initialize(to: KitTrampolines.modelOps())
        return p
    }()
    nonisolated(unsafe) static let loss: UnsafeMutablePointer<StrataLossOps> = {
        let p = UnsafeMutablePointer<StrataLossOps>.allocate(capacity: 1)
        p.initialize(to: KitTrainingOps.lossOps())
        return p
    }()
    nonisolated(unsafe) static let optimizer: UnsafeMutablePointer<StrataOptimizerOps> = {
        let p = UnsafeMutablePointer<StrataOptimizerOps>.allocate(capacity: 1)
        p.initialize(to: KitTrainingOps.optimizerOps())
        return p
    }()
    nonisolated(unsafe) static let callback: UnsafeMutablePointer<StrataCallbackOps> = {
        let p = UnsafeMutablePointer<StrataCallbackOps>.allocate(capacity: 1)
        p.initialize(to: KitTrainingOps.callbackOps())
        return p
    }()

    static func ops(for kind: Int32) -> UnsafeRawPointer {
        switch kind {
        case STRATA_COMPONENT_LAYER: return UnsafeRawPointer(layer)
        case STRATA_COMPONENT_MODEL: return UnsafeRawPointer(model)
        case STRATA_COMPONENT_LOSS: return UnsafeRawPointer(loss)
        case STRATA_COMPONENT_OPTIMIZER: return UnsafeRawPointer(optimizer)
        default: return UnsafeRawPointer(callback)
        }
    }
}

/// The C functions of the ops tables.
enum KitTrampolines {
    static func layerOps() -> StrataLayerOps {
        var ops = StrataLayerOps()
        ops.struct_size = UInt32(MemoryLayout<StrataLayerOps>.size)
        ops.abi_version = STRATA_ABI_VERSION
        ops.create_with_context = { context, config, _, instance, err in
            KitHost.guarded(err) {
                guard let make = try KitFactory.from(context).makeLayer, let instance else { throw KitError.internalError("not a layer component") }
                let layer = try make(KitConfig(json: config.map { String(cString: $0) } ?? "{}"))
                instance.pointee = Unmanaged.passRetained(KitLayerBox(layer)).toOpaque()
            }
        }
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

    static func modelOps() -> StrataModelOps {
        var ops = StrataModelOps()
        ops.struct_size = UInt32(MemoryLayout<StrataModelOps>.size)
        ops.abi_version = STRATA_ABI_VERSION
        ops.build_with_context = { context, config, _, graph, err in
            graph?.pointee = nil
            return KitHost.guarded(err) {
                guard let make = try KitFactory.from(context).buildModel, let graph else { throw KitError.internalError("not a model builder") }
                let text = try make(KitConfig(json: config.map { String(cString: $0) } ?? "{}"))
                guard let copy = strdup(text) else { throw KitError(status: STRATA_ERR_OUT_OF_MEMORY, "out of memory for the graph text") }
                graph.pointee = copy  // freed by release_string
            }
        }
        ops.release_string = { text in free(text) }
        return ops
    }
}
