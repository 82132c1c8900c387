import CStrata
import CStrataKernels
import Foundation

/// A loss provided by a plugin: drives the plugin's `StrataLossOps` (create, forward, destroy).
/// The host counts correct predictions (argmax of each row) itself; the plugin computes the
/// mean loss and overwrites the gradient. Every status is checked and turned into an error
/// naming the plugin, the loss and the recipe path.
public final class PluginLoss: Loss {
    /// The loss kind, as recipes name it (the component name).
    public let kind: String
    /// The plugin that provides this loss.
    public let plugin: LoadedPlugin
    /// The loss's place in the recipe (`$.loss`), for messages.
    public let jsonPath: String
    /// Where its errors are: the plugin's component.
    var place: CoreError.Place { .component(plugin: plugin.manifest.name, kind: "loss", name: kind) }
    private let ops: UnsafePointer<StrataLossOps>
    private var instance: UnsafeMutableRawPointer?

    /// Creates an instance from `config` (the recipe's options for the loss, without `kind`).
    /// - Throws: `CoreError.badInput` with the plugin's message when `create` refuses.
    /// With a typed `constructor` (declared in the manifest), it is called with `arguments`
    /// instead of `create`; `create` receives the options as text and as a borrowed json-c object.
    init(kind: String, plugin: LoadedPlugin, ops: UnsafePointer<StrataLossOps>, config: JSONObject, jsonPath: String,
         constructor: PreparedConstructor? = nil, arguments: [JSONValue] = []) throws {
        self.kind = kind
        self.plugin = plugin
        self.ops = ops
        self.jsonPath = jsonPath
        var created: UnsafeMutableRawPointer?
        var err = PluginLayer.newError()
        if let constructor {
            guard let made = constructor.construct(arguments, err: &err) else {
                let status = err.code != STRATA_OK ? err.code : STRATA_ERR_INVALID_ARGUMENT
                throw CoreError.badInput(place, "plugin \(plugin.manifest.name), loss \"\(kind)\": typed constructor \(constructor.declaration.symbol) failed (\(PluginLayer.statusName(status))): \(HostAPI.message(of: &err))")
            }
            instance = made
            return
        }
        let status = PluginCreate.call(ops.pointee.create, ops.pointee.create_with_context, context: plugin.context(.loss, kind),
                                       options: config, withObject: true, instance: &created, err: &err)
        guard status == STRATA_OK else {
            throw CoreError.badInput(place, "plugin \(plugin.manifest.name), loss \"\(kind)\": create failed (\(PluginLayer.statusName(status))): \(HostAPI.message(of: &err))")
        }
        instance = created
    }

    deinit { ops.pointee.destroy?(instance) }

    /// The plugin's mean loss and gradient over int32 class-index targets, and the host's count
    /// of rows whose argmax is the target.
    public func compute(output: Tensor, targets: UnsafePointer<Int32>, gradient: Tensor?) throws -> LossValue {
        guard output.rank == 2 else {
            throw CoreError.badInput(place, "\(kind) loss expects model output [N, classes], got \(describe(output.shape)); end the model with a linear layer")
        }
        let n = output.shape[0], k = output.shape[1]
        var shapes: [Int64] = [Int64(n), Int64(k), Int64(k), 1, Int64(n), 1]
        var err = PluginLayer.newError()
        var loss = 0.0
        let status = shapes.withUnsafeMutableBufferPointer { b -> Int32 in
            let base = b.baseAddress!
            let float = StrataDType(code: STRATA_DTYPE_FLOAT, bits: 32, lanes: 1)
            var logits = StrataTensor(data: UnsafeMutableRawPointer(output.data), byte_offset: 0, device_type: STRATA_DEVICE_CPU, device_id: 0,
                                      dtype: float, ndim: 2, shape: base, strides: base + 2, flags: STRATA_TENSOR_READ_ONLY)
            var labels = StrataTensor(data: UnsafeMutableRawPointer(mutating: targets), byte_offset: 0, device_type: STRATA_DEVICE_CPU,
                                      device_id: 0, dtype: StrataDType(code: STRATA_DTYPE_INT, bits: 32, lanes: 1), ndim: 1,
                                      shape: base + 4, strides: base + 5, flags: STRATA_TENSOR_READ_ONLY)
            if let gradient {
                var grad = StrataTensor(data: UnsafeMutableRawPointer(gradient.data), byte_offset: 0, device_type: STRATA_DEVICE_CPU,
                                        device_id: 0, dtype: float, ndim: 2, shape: base, strides: base + 2, flags: 0)
                return ops.pointee.forward!(instance, &logits, &labels, &loss, &grad, &err)
            }
            return ops.pointee.forward!(instance, &logits, &labels, &loss, nil, &err)
        }
        guard status == STRATA_OK else {
            let text = "plugin \(plugin.manifest.name), loss \"\(kind)\" at \(jsonPath): forward failed (\(PluginLayer.statusName(status))): \(HostAPI.message(of: &err))"
            throw status == STRATA_ERR_INVALID_ARGUMENT ? CoreError.badInput(place, text) : CoreError.runtime(place, text)
        }
        var correct = 0
        let x = output.data
        for i in 0..<n {
            var best = 0
            for j in 1..<max(k, 1) where x[i * k + j] > x[i * k + best] { best = j }
            if Int32(best) == targets[i] { correct += 1 }
        }
        return LossValue(loss: loss, correct: correct)
    }
}
