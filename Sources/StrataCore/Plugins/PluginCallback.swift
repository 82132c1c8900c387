import CStrata
import Foundation

/// A callback provided by a plugin: drives the plugin's `StrataCallbackOps`.
///
/// At every event the host fills a `StrataCallbackContext` from the run's `CallbackContext`
/// (epochs counted from 0, as the ABI does), calls `on_event`, and takes back the two fields a
/// callback may write: the learning rate and the stop flag. Since ABI 0.3 the context also
/// carries the batch loss, the test loss and the trainable parameters with their gradients
/// (read-only views of the host's tensors, built once); since ABI 0.5 it carries the trained
/// model as a borrowed "strata.train" model handle, so the callback can hook its layers (the
/// handle and any hooks left are released after TRAIN_END).
public final class PluginCallback: Callback {
    /// The callback kind, as recipes name it (the component name).
    public let kind: String
    /// The plugin that provides it.
    public let plugin: LoadedPlugin
    /// Its place in the recipe (`$.callbacks[i]`), for messages.
    public let jsonPath: String
    private let ops: UnsafePointer<StrataCallbackOps>
    private let instance: UnsafeMutableRawPointer?
    private var runDirectory: (path: String?, text: UnsafeMutablePointer<CChar>?) = (nil, nil)
    private var views: ParameterViews?
    /// The trained model (nil in plugin scheme runs) and its graph text, for the context's handle.
    private let model: (model: Model, graph: String)?
    /// Owns the context's model handle and the hooks the callback makes through it.
    private let handles = HandleOwner()
    private var modelHandle: UnsafeMutableRawPointer?

    /// Descriptors of the trainable parameters and gradients, kept while the list is the same.
    private final class ParameterViews {
        let parameters: [Parameter]
        let names: [UnsafeMutablePointer<CChar>?]
        let namePointers: UnsafeMutablePointer<UnsafePointer<CChar>?>
        let values: UnsafeMutablePointer<StrataTensor>
        let grads: UnsafeMutablePointer<StrataTensor>
        let boxes: [DescriptorBox]

        init(_ list: [(name: String, parameter: Parameter)]) {
            parameters = list.map(\.parameter)
            names = list.map { strdup($0.name) }
            namePointers = .allocate(capacity: max(1, list.count))
            values = .allocate(capacity: max(1, list.count))
            grads = .allocate(capacity: max(1, list.count))
            var boxes: [DescriptorBox] = []
            for (i, (_, p)) in list.enumerated() {
                namePointers[i] = UnsafePointer(names[i])
                let v = DescriptorBox(p.value, readOnly: true)
                let g = DescriptorBox(p.grad ?? p.value, readOnly: true)
                (values + i).initialize(to: v.tensor.pointee)
                (grads + i).initialize(to: g.tensor.pointee)
                if p.grad == nil { grads[i].data = nil }
                boxes += [v, g]
            }
            self.boxes = boxes  // the descriptors point at the boxes' extents
        }

        deinit {
            for n in names { free(n) }
            namePointers.deallocate()
            values.deallocate()
            grads.deallocate()
        }
    }

    /// Creates the instance from `config` (the recipe's options without `kind`).
    /// - Throws: `CoreError.badInput` with the plugin's message when it refuses.
    init(kind: String, plugin: LoadedPlugin, ops: UnsafePointer<StrataCallbackOps>, config: JSONObject, jsonPath: String,
         model: Model? = nil, graph: String = "") throws {
        self.kind = kind
        self.model = model.map { ($0, graph) }
        self.plugin = plugin
        self.ops = ops
        self.jsonPath = jsonPath
        var err = PluginLayer.newError()
        var created: UnsafeMutableRawPointer?
        let status = PluginCreate.call(ops.pointee.create, ops.pointee.create_with_context, context: plugin.context(.callback, kind),
                                       options: config, withObject: true, instance: &created, err: &err)
        guard status == STRATA_OK else {
            throw CoreError.badInput("plugin \(plugin.manifest.name), callback \"\(kind)\" at \(jsonPath): create failed (\(PluginLayer.statusName(status))): \(HostAPI.message(of: &err))")
        }
        instance = created
    }

    deinit {
        ops.pointee.destroy?(instance)
        handles.releaseAll()
        free(runDirectory.text)
    }

    public func onEvent(_ event: TrainingEvent, context c: inout CallbackContext) throws {
        if runDirectory.text == nil || runDirectory.path != c.runDirectory {
            free(runDirectory.text)
            runDirectory = (c.runDirectory, strdup(c.runDirectory ?? ""))
        }
        if !c.parameters.isEmpty, views.map({ !$0.parameters.elementsEqual(c.parameters.map(\.parameter), by: ===) }) ?? true {
            views = ParameterViews(c.parameters)
        }
        var ctx = StrataCallbackContext()
        ctx.struct_size = UInt32(MemoryLayout<StrataCallbackContext>.size)
        ctx.abi_version = STRATA_ABI_VERSION
        ctx.epoch = Int64(max(0, c.epoch - 1))  // the ABI counts epochs from 0
        ctx.epochs = Int64(c.epochs)
        switch event {
        case .batchBegin, .batchEnd: ctx.batch = Int64(c.batch)
        case .trainBegin, .epochBegin: ctx.batch = 0
        case .epochEnd, .trainEnd: ctx.batch = c.globalStep == 0 ? 0 : Int64(c.batch + 1)
        }
        ctx.batches_per_epoch = Int64(c.batchesPerEpoch)
        ctx.global_step = Int64(c.globalStep)
        ctx.learning_rate = c.learningRate
        ctx.stop = c.stop ? 1 : 0
        ctx.train_loss = c.trainLoss
        ctx.train_acc = c.trainAccuracy
        ctx.test_acc = c.testAccuracy
        ctx.examples_per_s = c.examplesPerSecond
        ctx.run_dir = UnsafePointer(runDirectory.text)
        ctx.batch_loss = event == .batchEnd ? c.batchLoss : .nan
        ctx.test_loss = c.testLoss
        if let views, !c.parameters.isEmpty {
            ctx.parameter_count = Int32(views.parameters.count)
            ctx.parameter_names = UnsafePointer(views.namePointers)
            ctx.parameters = UnsafePointer(views.values)
            ctx.gradients = UnsafePointer(views.grads)
        }
        if let model, modelHandle == nil {
            modelHandle = handles.retain(SchemeModel(run: handles, model: model.model, graph: model.graph, borrowed: true))
        }
        ctx.model = modelHandle.map(OpaquePointer.init)
        var err = PluginLayer.newError()
        let status = ops.pointee.on_event!(instance, event.rawValue, &ctx, &err)
        if event == .trainEnd {
            // Hooks the callback left, and the model handle, end with the run.
            handles.releaseAll()
            modelHandle = nil
        }
        guard status == STRATA_OK else {
            throw CoreError.runtime("plugin \(plugin.manifest.name), callback \"\(kind)\" at \(jsonPath): on_event(\(event)) failed (\(PluginLayer.statusName(status))): \(HostAPI.message(of: &err))")
        }
        guard ctx.learning_rate.isFinite, ctx.learning_rate >= 0 else {
            throw CoreError.runtime("plugin \(plugin.manifest.name), callback \"\(kind)\" at \(jsonPath): set the learning rate to \(ctx.learning_rate) at \(event); it must be finite and >= 0")
        }
        c.learningRate = ctx.learning_rate
        if ctx.stop != 0 { c.stop = true }
    }
}

extension PluginHost {
    /// Checks a callback's ops table: create (or create_with_context), destroy and on_event are required.
    static func callbackOps(_ raw: UnsafeRawPointer, name: String, refuse: (String, Bool) -> PluginRefusal) throws(PluginRefusal) -> UnsafePointer<StrataCallbackOps> {
        try checkedOps(raw, kind: "callback", name: name, empty: StrataCallbackOps(),
                       needed: MemoryLayout<StrataCallbackOps>.offset(of: \.on_event)! + MemoryLayout<UnsafeRawPointer>.size,
                       required: [("create", { (o: StrataCallbackOps) -> Bool in o.create != nil || o.create_with_context != nil }),
                                  ("destroy", { (o: StrataCallbackOps) -> Bool in o.destroy != nil }),
                                  ("on_event", { (o: StrataCallbackOps) -> Bool in o.on_event != nil })],
                       refuse: refuse)
    }
}
