import CStrata
import CStrataKernels
import Foundation

/// What owns a set of live "strata.train" handles: a scheme's run, or a plugin callback (the
/// model handle of its context and the hooks it makes). Handles not released by their user are
/// released with `releaseAll`.
class HandleOwner {
    /// The live handles, so that a stale or foreign pointer is refused and leftovers are
    /// released. Read and written only under TrainInterface's lock.
    var live: [UnsafeMutableRawPointer: AnyObject] = [:]

    init() {}

    /// Registers `object` as a live handle and returns its opaque pointer.
    func retain(_ object: AnyObject) -> UnsafeMutableRawPointer {
        let p = Unmanaged.passRetained(object).toOpaque()
        TrainInterface.register(p, object, of: self)
        return p
    }

    /// Releases every handle still live: optimizers and datasets first, then models, then the run's own.
    func releaseAll() {
        for p in TrainInterface.handles(of: self) where TrainInterface.unregister(p) {
            Unmanaged<AnyObject>.fromOpaque(p).release()
        }
    }
}

/// The host side of one run of a plugin training scheme: what a `StrataRunHandle` points at.
///
/// It owns the recipe's data, the run directory's `metrics.jsonl`, the callbacks, and every
/// model, optimizer and dataset handle the scheme obtains through the "strata.train" interface
/// (handles the scheme does not release are released when the run ends).
final class SchemeRun: HandleOwner {
    let recipe: Recipe
    let registry: ComponentRegistry
    let directory: RunDirectory?
    let train: ImageDataset
    let test: ImageDataset
    let callbacks: [any Callback]
    /// When the scheme sent the current epoch's EPOCH_BEGIN (for the callbacks' epoch seconds).
    var epochStarted = 0.0
    /// The recipe as JSON text, with the defaults a scheme reads filled in.
    let recipeText: UnsafeMutablePointer<CChar>
    let directoryText: UnsafeMutablePointer<CChar>
    /// Every metrics object logged, in order.
    private(set) var metrics: [JSONObject] = []
    private var metricsHandle: FileHandle?
    /// Number of models built so far: model k is initialised from seed + k (the first from the
    /// recipe's own seed, so it starts exactly as end-to-end training of the same recipe would).
    var modelsBuilt = 0

    init(recipe: Recipe, registry: ComponentRegistry, directory: RunDirectory?, train: ImageDataset, test: ImageDataset,
         callbacks: [any Callback]) {
        self.recipe = recipe
        self.registry = registry
        self.directory = directory
        self.train = train
        self.test = test
        self.callbacks = callbacks
        var json = recipe.json
        if case var .object(o) = json {
            o["seed"] = .number(Double(recipe.seed))
            o["batch_size"] = .number(Double(recipe.batchSize))
            o["threads"] = .number(Double(recipe.threads))
            o["epochs"] = .number(Double(recipe.epochs))
            if case var .object(opt)? = o["optimizer"] {
                if opt["lr"] == nil { opt["lr"] = .number(recipe.optimizer.learningRate) }
                o["optimizer"] = .object(opt)
            }
            json = .object(o)
        }
        recipeText = strdup(json.serialized(pretty: false))
        directoryText = strdup(directory?.url.standardizedFileURL.path ?? "")
        super.init()
    }

    deinit {
        free(recipeText)
        free(directoryText)
    }

    /// Appends one metrics object to `metrics.jsonl` (flushed per line).
    func log(_ object: JSONObject) throws {
        metrics.append(object)
        guard let directory else { return }
        if metricsHandle == nil {
            metricsHandle = try directory.openMetricsLog()
        }
        try metricsHandle?.write(contentsOf: Data((JSONValue.object(object).serialized(pretty: false) + "\n").utf8))
    }

    func closeLog() {
        try? metricsHandle?.close()
        metricsHandle = nil
    }
}

/// A C string owned by the host for as long as its holder lives.
final class OwnedCString {
    let pointer: UnsafeMutablePointer<CChar>
    init(_ text: String) { pointer = strdup(text) }
    deinit { free(pointer) }
}

/// A `StrataTensor` descriptor with its own shape and stride arrays, for handing host tensors
/// to a plugin. `update` re-points it at a tensor without allocating.
final class DescriptorBox {
    let tensor: UnsafeMutablePointer<StrataTensor>
    private let extents: UnsafeMutablePointer<Int64>

    init() {
        tensor = .allocate(capacity: 1)
        extents = .allocate(capacity: 2 * Int(STRATA_MAX_NDIM))
        extents.initialize(repeating: 0, count: 2 * Int(STRATA_MAX_NDIM))
        tensor.initialize(to: PluginLayer.descriptor(nil, ndim: 0, shape: extents, strides: extents + Int(STRATA_MAX_NDIM), readOnly: true))
    }

    convenience init(_ t: Tensor, readOnly: Bool) {
        self.init()
        update(t, readOnly: readOnly)
    }

    deinit {
        tensor.deallocate()
        extents.deallocate()
    }

    func update(_ t: Tensor, readOnly: Bool) {
        PluginLayer.fillExtents(t.shape, shape: extents, strides: extents + Int(STRATA_MAX_NDIM))
        tensor.pointee.data = UnsafeMutableRawPointer(t.data)
        tensor.pointee.ndim = Int32(t.shape.count)
        tensor.pointee.flags = readOnly ? STRATA_TENSOR_READ_ONLY : 0
    }
}

/// A model built for a scheme, run by slices of its top-level children.
///
/// Each child has its own output buffer (the model's planned activation for that child, at the
/// model's batch), so any slice can run forward and backward on its own; gradient buffers for a
/// child's input are made the first time a backward needs them, then reused.
final class SchemeModel {
    let run: HandleOwner
    let model: Model
    /// True for the model of a callback's context: the training loop owns it, so the handle
    /// cannot run it forward or backward, zero its gradients or release it.
    let borrowed: Bool
    let graph: OwnedCString
    let children: [(name: String, layer: any Layer)]
    /// False when the root is a single layer, which is then the only child (its parameters keep
    /// their own names).
    let rootIsSequential: Bool
    let inputShapes: [[Int]]
    let outputShapes: [[Int]]
    let kindNames: [OwnedCString]
    let childNames: [OwnedCString]
    private let outputs: [Tensor]
    private var gradInputs: [Tensor?]
    /// The input each child saw in its most recent forward (for backward), and the slice that forward ran.
    private var lastInputs: [Tensor?]
    private var lastSlice: (begin: Int, end: Int, training: Bool)?
    /// Descriptors handed out for each child's output and input gradient: one per child, so a
    /// descriptor stays valid exactly as long as the data it describes.
    let outputBoxes: [DescriptorBox]
    let gradBoxes: [DescriptorBox]
    /// Descriptors of parameter values and gradients, and their C names, made on first request.
    private var parameterBoxes: [ObjectIdentifier: (name: OwnedCString, value: DescriptorBox, grad: DescriptorBox?)] = [:]

    init(run: HandleOwner, model: Model, graph: String, borrowed: Bool = false) {
        self.run = run
        self.model = model
        self.borrowed = borrowed
        self.graph = OwnedCString(graph)
        if let sequential = model.root as? Sequential {
            children = sequential.layers
            rootIsSequential = true
        } else {
            children = [(name: "0", layer: model.root)]
            rootIsSequential = false
        }
        var inputs: [[Int]] = []
        var outs: [[Int]] = []
        var shape = [model.maxBatch] + model.exampleShape
        for (name, _) in children {
            inputs.append(shape)
            shape = rootIsSequential ? (model.layerShapes[name] ?? shape) : [model.maxBatch] + model.outputExampleShape
            outs.append(shape)
        }
        inputShapes = inputs
        outputShapes = outs
        kindNames = children.map { OwnedCString($0.layer.kind) }
        childNames = children.map { OwnedCString($0.name) }
        // The model's own planned buffers serve as the children's outputs: the model never runs
        // whole here, and a second set would hold every activation twice.
        let planned = (model.root as? Sequential).map { $0.plannedActivations + [model.plannedOutput] } ?? [model.plannedOutput]
        outputs = planned.map(\.shape) == outs ? planned : outs.map { Tensor(shape: $0) }
        outputBoxes = outs.map { _ in DescriptorBox() }
        gradBoxes = outs.map { _ in DescriptorBox() }
        gradInputs = Array(repeating: nil, count: children.count)
        lastInputs = Array(repeating: nil, count: children.count)
    }

    var count: Int { children.count }

    func validSlice(_ begin: Int32, _ end: Int32) -> Bool { begin >= 0 && begin < end && Int(end) <= count }

    /// Runs children [begin, end) on `input`; returns the last child's output view.
    func forward(_ begin: Int, _ end: Int, input: Tensor, training: Bool) throws -> Tensor {
        let n = input.shape[0]
        var x = input
        for i in begin..<end {
            let y = outputs[i].batchPrefix(n)
            lastInputs[i] = x
            try children[i].layer.runForward(input: x, output: y, training: training)
            x = y
        }
        lastSlice = (begin, end, training)
        return x
    }

    /// Backpropagates `gradOutput` through children [begin, end) of the last forward; returns the
    /// gradient of the slice's input when asked.
    func backward(_ begin: Int, _ end: Int, gradOutput: Tensor, wantInput: Bool) throws -> Tensor? {
        guard let last = lastSlice, last.begin == begin, last.end == end, last.training else {
            throw CoreError.runtime("model_backward over children [\(begin), \(end)) needs a training forward over exactly that slice just before it")
        }
        guard let first = lastInputs[begin] else { throw CoreError.runtime("no forward input recorded") }
        let n = first.shape[0]
        var gy = gradOutput
        var result: Tensor? = nil
        for i in stride(from: end - 1, through: begin, by: -1) {
            let x = lastInputs[i]!
            let y = outputs[i].batchPrefix(n)
            var gx: Tensor? = nil
            if i > begin || wantInput {
                if gradInputs[i] == nil { gradInputs[i] = Tensor(shape: inputShapes[i]) }
                gx = gradInputs[i]!.batchPrefix(n)
            }
            try children[i].layer.backward(input: x, output: y, gradOutput: gy, gradInput: gx)
            if i == begin { result = gx }
            if let gx { gy = gx }
        }
        return result
    }

    /// Parameters and buffers of each child with their dotted names, listed once at build
    /// (zeroing gradients every step must not rebuild the names).
    private lazy var childParameters: [[(name: String, parameter: Parameter)]] = children.map {
        $0.layer.namedParameters(prefix: rootIsSequential && !$0.name.isEmpty ? $0.name + "." : "")  // "" adds no name level
    }

    /// Parameters and buffers of children [begin, end), in state-dict order.
    func parameters(_ begin: Int, _ end: Int) -> [(name: String, parameter: Parameter)] {
        Array(childParameters[begin..<end].joined())
    }

    func boxes(for name: String, _ p: Parameter) -> (name: OwnedCString, value: DescriptorBox, grad: DescriptorBox?) {
        let id = ObjectIdentifier(p)
        if let b = parameterBoxes[id] { return b }
        let b = (OwnedCString(name), DescriptorBox(p.value, readOnly: false), p.grad.map { DescriptorBox($0, readOnly: false) })
        parameterBoxes[id] = b
        return b
    }
}

/// An optimizer over the trainable parameters of a slice of a scheme's model.
final class SchemeOptimizer {
    let model: SchemeModel
    let optimizer: any Optimizer
    let slots: [OptimizerSlot]
    /// The recipe's `gradient_clip`, applied to the slots' gradients before every step.
    let clipping: GradientClipping?
    /// The slots' gradients (`[Tensor]` in slot order; parameters without one are skipped).
    let gradients: [Tensor]
    /// Steps taken, and the global gradient norm before clipping of the last one (NaN without clipping).
    private(set) var steps = 0
    private(set) var lastNorm = Double.nan

    init(model: SchemeModel, optimizer: any Optimizer, slots: [OptimizerSlot], clipping: GradientClipping? = nil) {
        self.model = model
        self.optimizer = optimizer
        self.slots = slots
        self.clipping = clipping
        gradients = slots.compactMap { $0.parameter.grad }
    }

    /// Clips the gradients as the recipe says (the global norm over this optimizer's parameters,
    /// which is what this step updates), then steps.
    func step() throws {
        if let clipping { lastNorm = clipping.apply(gradients) }
        try optimizer.step(slots)
        steps += 1
    }
}

/// An iterator over one split of the run's data, with its own batch buffers.
final class SchemeDataset {
    let loader: BatchLoader
    let dropLast: Bool
    let classCount: Int
    private let input: Tensor
    private let labels: UnsafeMutablePointer<Int32>
    private let indices: UnsafeMutablePointer<Int64>
    let inputBox = DescriptorBox()
    let targetBox: UnsafeMutablePointer<StrataTensor>
    private let targetExtents: UnsafeMutablePointer<Int64>
    private var epoch = 0

    init(loader: BatchLoader, dropLast: Bool, classCount: Int) {
        self.loader = loader
        self.dropLast = dropLast
        self.classCount = classCount
        input = loader.makeInputTensor()
        labels = .allocate(capacity: loader.batchSize)
        labels.initialize(repeating: 0, count: loader.batchSize)
        indices = .allocate(capacity: loader.batchSize)
        indices.initialize(repeating: 0, count: loader.batchSize)
        targetExtents = .allocate(capacity: 2)
        targetExtents.initialize(repeating: 1, count: 2)
        targetBox = .allocate(capacity: 1)
        targetBox.initialize(to: StrataTensor(data: nil, byte_offset: 0, device_type: STRATA_DEVICE_CPU, device_id: 0,
                                              dtype: StrataDType(code: STRATA_DTYPE_INT, bits: 32, lanes: 1), ndim: 1,
                                              shape: targetExtents, strides: targetExtents + 1, flags: STRATA_TENSOR_READ_ONLY))
    }

    deinit {
        targetBox.deallocate()
        targetExtents.deallocate()
        labels.deallocate()
        indices.deallocate()
    }

    /// Fills `out` with the next batch (count 0 at the end of the epoch).
    func next(_ out: UnsafeMutablePointer<StrataBatch>) {
        let start = loader.position
        let order = loader.order
        let n = loader.nextBatch(into: input, labels: labels) ?? 0
        let size = out.pointee.struct_size
        func set<T>(_ key: WritableKeyPath<StrataBatch, T>, _ value: T) { HostAPI.store(value, key, in: out, structSize: size) }
        if n == 0 || (dropLast && n < loader.batchSize) {
            set(\.count, 0)
            set(\.inputs, nil)
            set(\.targets, nil)
            set(\.indices, nil)
            return
        }
        for i in 0..<n { indices[i] = Int64(order[start + i]) }
        var shape = loader.inputShape
        shape[0] = n
        inputBox.update(Tensor(storage: input.storage, shape: shape), readOnly: true)
        targetExtents[0] = Int64(n)
        targetBox.pointee.data = UnsafeMutableRawPointer(labels)
        set(\.count, Int64(n))
        set(\.inputs, UnsafePointer(inputBox.tensor))
        set(\.targets, UnsafePointer(targetBox))
        set(\.indices, UnsafePointer(indices))
    }

    func reset() {
        epoch += 1
        loader.startEpoch(epoch)
    }
}
