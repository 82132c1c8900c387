import CStrata
import CStrataKernels
import Foundation

/// The "strata.train" interface (StrataTrainAPI, include/strata/scheme.h), version 0.3: the
/// functions through which a plugin scheme builds models, runs slices of them forward and
/// backward, hooks their layers (TrainHooks.swift), steps optimizers, reads data, logs metrics
/// and saves checkpoints.
///
/// Handles are opaque pointers to host objects registered by a run in progress; a pointer that
/// is not a live handle is refused with INVALID_ARGUMENT. Several runs may go on at once, each in
/// its own thread: the table of live handles is shared by all of them, under a lock.
enum TrainInterface {
    private static let lock = NSLock()
    /// Every live handle of every run in progress, with the run that owns it.
    nonisolated(unsafe) private static var owners: [UnsafeMutableRawPointer: HandleOwner] = [:]

    nonisolated(unsafe) static let table: UnsafeMutablePointer<StrataTrainAPI> = {
        let t = UnsafeMutablePointer<StrataTrainAPI>.allocate(capacity: 1)
        t.initialize(to: StrataTrainAPI(
            struct_size: UInt32(MemoryLayout<StrataTrainAPI>.size),
            abi_version: STRATA_TRAIN_INTERFACE_VERSION,
            run_recipe: trainRunRecipe,
            run_directory: trainRunDirectory,
            run_log_metrics: trainRunLogMetrics,
            run_dispatch_event: trainRunDispatchEvent,
            run_save_checkpoint: trainRunSaveCheckpoint,
            model_build: trainModelBuild,
            model_release: trainModelRelease,
            model_child_count: trainModelChildCount,
            model_forward: trainModelForward,
            model_backward: trainModelBackward,
            model_zero_grad: trainModelZeroGrad,
            model_parameter_count: trainModelParameterCount,
            model_parameter: trainModelParameter,
            optimizer_create: trainOptimizerCreate,
            optimizer_release: trainOptimizerRelease,
            optimizer_step: trainOptimizerStep,
            dataset_open: trainDatasetOpen,
            dataset_release: trainDatasetRelease,
            dataset_size: trainDatasetSize,
            dataset_next: trainDatasetNext,
            dataset_reset: trainDatasetReset,
            model_child_kind: trainModelChildKind,
            model_child_name: trainModelChildName,
            model_child_shape: trainModelChildShape,
            model_graph: trainModelGraph,
            dataset_class_count: trainDatasetClassCount,
            model_hook: trainModelHook,
            hook_output: trainHookOutput,
            hook_remove: trainHookRemove))
        return t
    }()

    /// The table for `get_interface`, or nil when `minVersion` asks for another major or a newer minor.
    static func lookup(name: String, minVersion: UInt32) -> UnsafeRawPointer? {
        guard name == STRATA_TRAIN_INTERFACE else { return nil }
        let ours = STRATA_TRAIN_INTERFACE_VERSION
        guard minVersion >> 16 == ours >> 16, minVersion & 0xFFFF <= ours & 0xFFFF else { return nil }
        return UnsafeRawPointer(table)
    }

    static func object<T>(_ p: OpaquePointer?, as: T.Type) -> T? {
        guard let p else { return nil }
        let key = UnsafeMutableRawPointer(p)
        return lock.withLock { owners[key]?.live[key] } as? T
    }

    /// Registers `object` as a live handle of `run`.
    static func register(_ p: UnsafeMutableRawPointer, _ object: AnyObject, of run: HandleOwner) {
        lock.withLock {
            owners[p] = run
            run.live[p] = object
        }
    }

    /// Forgets the handle `p`; false when it was not live.
    static func unregister(_ p: UnsafeMutableRawPointer) -> Bool {
        lock.withLock {
            guard let run = owners.removeValue(forKey: p) else { return false }
            run.live[p] = nil
            return true
        }
    }

    /// The live handles of `run`: optimizers and datasets first, then models, then the rest.
    static func handles(of run: HandleOwner) -> [UnsafeMutableRawPointer] {
        lock.withLock {
            func rank(_ p: UnsafeMutableRawPointer) -> Int { run.live[p] is SchemeModel ? 1 : run.live[p] is SchemeRun ? 2 : 0 }
            return run.live.keys.sorted { rank($0) < rank($1) }
        }
    }

    /// Releases handle `p` when it is a live handle of a `T`.
    static func release<T>(_ p: OpaquePointer?, as: T.Type) {
        guard let p, object(p, as: T.self) != nil, unregister(UnsafeMutableRawPointer(p)) else { return }
        Unmanaged<AnyObject>.fromOpaque(UnsafeMutableRawPointer(p)).release()
    }

    static func fail(_ err: UnsafeMutablePointer<StrataError>?, _ code: Int32, _ message: String) -> StrataStatus {
        HostAPI.setError(err, code, message)
    }

    /// Runs `body`, turning a thrown error into a status and message.
    static func guarded(_ err: UnsafeMutablePointer<StrataError>?, _ what: String, _ body: () throws -> Void) -> StrataStatus {
        do {
            try body()
            return STRATA_OK
        } catch let error as CoreError {
            let code: Int32
            switch error {
            case .shape: code = STRATA_ERR_SHAPE_MISMATCH
            case .badInput: code = STRATA_ERR_INVALID_ARGUMENT
            default: code = STRATA_ERR_INTERNAL
            }
            return fail(err, code, "\(what): \(error)")
        } catch let error as RecipeValidationError {
            return fail(err, STRATA_ERR_INVALID_ARGUMENT, "\(what): " + error.errors.map(\.description).joined(separator: "; "))
        } catch {
            return fail(err, STRATA_ERR_INTERNAL, "\(what): \(error)")
        }
    }

    /// The float32 tensor a plugin's descriptor describes, as a borrowed view (no copy).
    /// Nil when it is not a dense CPU float32 tensor.
    static func view(_ t: UnsafePointer<StrataTensor>?) -> Tensor? {
        guard let t, let data = t.pointee.data, t.pointee.device_type == STRATA_DEVICE_CPU,
              t.pointee.dtype.code == STRATA_DTYPE_FLOAT, t.pointee.dtype.bits == 32, t.pointee.dtype.lanes == 1,
              t.pointee.ndim >= 1, t.pointee.ndim <= STRATA_MAX_NDIM, let shapePointer = t.pointee.shape else { return nil }
        var shape: [Int] = []
        var count = 1
        for d in 0..<Int(t.pointee.ndim) {
            let e = Int(shapePointer[d])
            let (product, overflow) = count.multipliedReportingOverflow(by: e)
            guard e >= 0, !overflow, product < 1 << 40 else { return nil }
            shape.append(e)
            count = product
        }
        if let strides = t.pointee.strides {
            var step: Int64 = 1
            for d in stride(from: shape.count - 1, through: 0, by: -1) {
                guard shape[d] == 1 || strides[d] == step else { return nil }
                step *= Int64(shape[d])
            }
        }
        let base = (data + Int(t.pointee.byte_offset)).assumingMemoryBound(to: Float.self)
        return Tensor(storage: TensorStorage(borrowing: base, capacity: count), shape: shape)
    }
}

// MARK: - The run

private func trainRunRecipe(_ run: OpaquePointer?) -> UnsafePointer<CChar>? {
    TrainInterface.object(run, as: SchemeRun.self).map { UnsafePointer($0.recipeText) }
}

private func trainRunDirectory(_ run: OpaquePointer?) -> UnsafePointer<CChar>? {
    TrainInterface.object(run, as: SchemeRun.self).map { UnsafePointer($0.directoryText) }
}

private func trainRunLogMetrics(_ run: OpaquePointer?, _ text: UnsafePointer<CChar>?, _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    guard let r = TrainInterface.object(run, as: SchemeRun.self), let text else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "run_log_metrics: bad run handle or NULL text")
    }
    guard case let .object(o)? = try? JSONParser.parse(String(cString: text)) else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "run_log_metrics: the text is not one JSON object")
    }
    return TrainInterface.guarded(err, "run_log_metrics") { try r.log(o) }
}

private func trainRunDispatchEvent(_ run: OpaquePointer?, _ event: Int32, _ ctx: UnsafeMutablePointer<StrataCallbackContext>?,
                                   _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    guard let r = TrainInterface.object(run, as: SchemeRun.self), let ctx, let e = TrainingEvent(rawValue: event) else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "run_dispatch_event: bad run handle, NULL context or unknown event \(event)")
    }
    var c = CallbackContext()
    c.epoch = Int(ctx.pointee.epoch) + 1  // the ABI counts epochs from 0, Swift callbacks from 1
    c.epochs = Int(ctx.pointee.epochs)
    c.batch = Int(ctx.pointee.batch)
    c.batchesPerEpoch = Int(ctx.pointee.batches_per_epoch)
    c.globalStep = Int(ctx.pointee.global_step)
    c.learningRate = ctx.pointee.learning_rate
    c.stop = ctx.pointee.stop != 0
    c.trainLoss = ctx.pointee.train_loss
    c.trainAccuracy = ctx.pointee.train_acc
    c.testAccuracy = ctx.pointee.test_acc
    c.examplesPerSecond = ctx.pointee.examples_per_s
    c.runDirectory = r.directory?.path
    c.batchSize = r.recipe.batchSize
    // The scheme reports no split of its time: an epoch's seconds are its wall time so far.
    let now = sk_now()
    if e == .epochBegin { r.epochStarted = now }
    c.epochTrainSeconds = e == .trainBegin ? 0 : now - r.epochStarted
    c.epochEvalSeconds = .nan
    let status = TrainInterface.guarded(err, "run_dispatch_event") {
        for callback in r.callbacks { try callback.onEvent(e, context: &c) }
    }
    ctx.pointee.learning_rate = c.learningRate
    ctx.pointee.stop = c.stop ? 1 : 0
    return status
}

private func trainRunSaveCheckpoint(_ run: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ model: OpaquePointer?,
                                    _ optimizer: OpaquePointer?, _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    guard let r = TrainInterface.object(run, as: SchemeRun.self), let m = TrainInterface.object(model, as: SchemeModel.self), let name else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "run_save_checkpoint: bad run or model handle, or NULL name")
    }
    let opt = TrainInterface.object(optimizer, as: SchemeOptimizer.self)
    if optimizer != nil && opt == nil {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "run_save_checkpoint: bad optimizer handle")
    }
    let stem = String(cString: name)
    guard !stem.isEmpty, stem.count <= 100, !stem.hasPrefix("."),
          stem.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) && $0.isASCII || "-_.".unicodeScalars.contains($0) }) else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "run_save_checkpoint: the name \"\(stem)\" must be 1 to 100 ASCII letters, digits, '-', '_' or '.'")
    }
    guard let directory = r.directory else { return STRATA_OK }  // a run without a directory keeps nothing
    return TrainInterface.guarded(err, "run_save_checkpoint") {
        let url = directory.checkpoints.appendingPathComponent(stem + ".safetensors")
        try Checkpointer.saveScheme(model: m.model, graph: String(cString: m.graph.pointer), optimizer: opt?.optimizer,
                                    recipeText: String(cString: r.recipeText), to: url)
    }
}

// MARK: - Models

private func trainModelBuild(_ run: OpaquePointer?, _ graph: UnsafePointer<CChar>?, _ ndim: Int32, _ inShape: UnsafePointer<Int64>?,
                             _ out: UnsafeMutablePointer<OpaquePointer?>?, _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    guard let r = TrainInterface.object(run, as: SchemeRun.self), let out else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "model_build: bad run handle or NULL out")
    }
    out.pointee = nil
    var shape: [Int]
    if let inShape {
        guard ndim >= 2, ndim <= STRATA_MAX_NDIM else {
            return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "model_build: in_ndim must be 2 to \(STRATA_MAX_NDIM) (batch first), got \(ndim)")
        }
        shape = (0..<Int(ndim)).map { Int(inShape[$0]) }
        guard shape.allSatisfy({ $0 >= 1 && $0 <= 1 << 24 }) else {
            return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "model_build: every input extent must be between 1 and 16777216, got \(shape)")
        }
    } else {
        shape = [r.recipe.batchSize] + r.train.exampleShape
    }
    return TrainInterface.guarded(err, "model_build") {
        let diagnostics = Diagnostics()
        let builder = ModelBuilder(registry: r.registry, diagnostics: diagnostics)
        let source: JSONValue
        if let graph {
            do {
                source = try JSONParser.parse(String(cString: graph))
            } catch {
                throw CoreError.badInput("the graph is not valid JSON: \(error)")
            }
        } else {
            source = r.recipe.model
        }
        func refuse(_ errors: [RecipeError]) -> CoreError {
            CoreError.badInput("the graph cannot be built: " + errors.map(\.description).joined(separator: "; "))
        }
        guard let expanded = builder.expanded(source, path: "$"), diagnostics.errors.isEmpty,
              let spec = builder.layer(expanded, path: "$"), diagnostics.errors.isEmpty else {
            throw refuse(diagnostics.errors)
        }
        let tree: (root: any Layer, jsonPaths: [ObjectIdentifier: String])
        do {
            tree = try LayerSpec.buildTree(spec, registry: r.registry, file: "graph")
        } catch let e as RecipeValidationError {
            throw refuse(e.errors)
        }
        var context = BuildContext(seed: r.recipe.seed &+ UInt64(r.modelsBuilt), defaultInit: r.recipe.defaultInit)
        let model = try Model(root: tree.root, exampleShape: Array(shape.dropFirst()), maxBatch: shape[0], context: &context,
                              jsonPaths: tree.jsonPaths)
        r.modelsBuilt += 1
        let handle = r.retain(SchemeModel(run: r, model: model, graph: expanded.serialized(pretty: false)))
        out.pointee = OpaquePointer(handle)
    }
}

private func trainModelRelease(_ model: OpaquePointer?) {
    // A callback context's model belongs to the run; its owner releases it after TRAIN_END.
    if TrainInterface.object(model, as: SchemeModel.self)?.borrowed == true { return }
    TrainInterface.release(model, as: SchemeModel.self)
}

/// The refusal of a training call on a callback context's model.
private func refuseBorrowed(_ m: SchemeModel, _ what: String, _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus? {
    guard m.borrowed else { return nil }
    return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "\(what): the model of a callback context belongs to the training loop; a callback may hook and read it, not run or change it")
}

private func trainModelChildCount(_ model: OpaquePointer?) -> Int32 {
    TrainInterface.object(model, as: SchemeModel.self).map { Int32($0.count) } ?? -1
}

private func trainModelForward(_ model: OpaquePointer?, _ begin: Int32, _ end: Int32, _ input: UnsafePointer<StrataTensor>?,
                               _ training: Int32, _ output: UnsafeMutablePointer<UnsafePointer<StrataTensor>?>?,
                               _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    guard let m = TrainInterface.object(model, as: SchemeModel.self), let output else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "model_forward: bad model handle or NULL output")
    }
    if let refused = refuseBorrowed(m, "model_forward", err) { return refused }
    guard m.validSlice(begin, end) else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "model_forward: slice [\(begin), \(end)) is not within the model's \(m.count) children")
    }
    guard let x = TrainInterface.view(input) else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "model_forward: the input must be a dense CPU float32 tensor")
    }
    let expected = m.inputShapes[Int(begin)]
    guard x.shape.count == expected.count, Array(x.shape.dropFirst()) == Array(expected.dropFirst()),
          x.shape[0] >= 1, x.shape[0] <= expected[0] else {
        return TrainInterface.fail(err, STRATA_ERR_SHAPE_MISMATCH, "model_forward: child \(begin) (\(m.children[Int(begin)].name)) takes \(describe([expected[0]] + expected.dropFirst())) with 1 to \(expected[0]) examples, got \(describe(x.shape))")
    }
    return TrainInterface.guarded(err, "model_forward over [\(begin), \(end))") {
        let y = try m.forward(Int(begin), Int(end), input: x, training: training != 0)
        let box = m.outputBoxes[Int(end) - 1]
        box.update(y, readOnly: true)
        output.pointee = UnsafePointer(box.tensor)
    }
}

private func trainModelBackward(_ model: OpaquePointer?, _ begin: Int32, _ end: Int32, _ gradOutput: UnsafePointer<StrataTensor>?,
                                _ gradInput: UnsafeMutablePointer<UnsafePointer<StrataTensor>?>?,
                                _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    guard let m = TrainInterface.object(model, as: SchemeModel.self) else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "model_backward: bad model handle")
    }
    if let refused = refuseBorrowed(m, "model_backward", err) { return refused }
    guard m.validSlice(begin, end) else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "model_backward: slice [\(begin), \(end)) is not within the model's \(m.count) children")
    }
    guard let gy = TrainInterface.view(gradOutput) else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "model_backward: grad_output must be a dense CPU float32 tensor")
    }
    return TrainInterface.guarded(err, "model_backward over [\(begin), \(end))") {
        var expected = m.outputShapes[Int(end) - 1]
        expected[0] = gy.shape[0]
        guard gy.shape == expected else {
            throw CoreError.shape(where: "model_backward", message: "grad_output has shape \(describe(gy.shape)); the forward's output is \(describe(expected))")
        }
        let gx = try m.backward(Int(begin), Int(end), gradOutput: gy, wantInput: gradInput != nil)
        if let gradInput, let gx {
            let box = m.gradBoxes[Int(begin)]
            box.update(gx, readOnly: true)
            gradInput.pointee = UnsafePointer(box.tensor)
        }
    }
}

private func trainModelZeroGrad(_ model: OpaquePointer?, _ begin: Int32, _ end: Int32, _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    guard let m = TrainInterface.object(model, as: SchemeModel.self), m.validSlice(begin, end) else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "model_zero_grad: bad model handle or slice [\(begin), \(end))")
    }
    if let refused = refuseBorrowed(m, "model_zero_grad", err) { return refused }
    for (_, p) in m.parameters(Int(begin), Int(end)) { p.grad?.zero() }
    return STRATA_OK
}

private func trainModelParameterCount(_ model: OpaquePointer?, _ begin: Int32, _ end: Int32) -> Int32 {
    guard let m = TrainInterface.object(model, as: SchemeModel.self), m.validSlice(begin, end) else { return -1 }
    return Int32(m.parameters(Int(begin), Int(end)).count)
}

private func trainModelParameter(_ model: OpaquePointer?, _ begin: Int32, _ end: Int32, _ index: Int32,
                                 _ out: UnsafeMutablePointer<StrataParameter>?, _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    guard let m = TrainInterface.object(model, as: SchemeModel.self), m.validSlice(begin, end), let out else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "model_parameter: bad model handle, slice [\(begin), \(end)) or NULL out")
    }
    let list = m.parameters(Int(begin), Int(end))
    guard index >= 0, Int(index) < list.count else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "model_parameter: index \(index) is not below the slice's \(list.count) parameters")
    }
    let (name, p) = list[Int(index)]
    let boxes = m.boxes(for: name, p)
    let size = out.pointee.struct_size
    func set<T>(_ key: WritableKeyPath<StrataParameter, T>, _ value: T) { HostAPI.store(value, key, in: out, structSize: size) }
    set(\.name, UnsafePointer(boxes.name.pointer))
    set(\.value, boxes.value.tensor)
    set(\.grad, boxes.grad?.tensor)
    set(\.role, p.role == .weight ? STRATA_PARAM_WEIGHT : p.role == .bias ? STRATA_PARAM_BIAS : STRATA_PARAM_BUFFER)
    return STRATA_OK
}

private func trainModelChildKind(_ model: OpaquePointer?, _ index: Int32) -> UnsafePointer<CChar>? {
    guard let m = TrainInterface.object(model, as: SchemeModel.self), index >= 0, Int(index) < m.count else { return nil }
    return UnsafePointer(m.kindNames[Int(index)].pointer)
}

private func trainModelChildName(_ model: OpaquePointer?, _ index: Int32) -> UnsafePointer<CChar>? {
    guard let m = TrainInterface.object(model, as: SchemeModel.self), index >= 0, Int(index) < m.count else { return nil }
    return UnsafePointer(m.childNames[Int(index)].pointer)
}

private func trainModelChildShape(_ model: OpaquePointer?, _ index: Int32, _ which: Int32, _ ndim: UnsafeMutablePointer<Int32>?,
                                  _ shape: UnsafeMutablePointer<Int64>?, _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    guard let m = TrainInterface.object(model, as: SchemeModel.self), index >= 0, Int(index) < m.count, which == 0 || which == 1,
          let ndim, let shape else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "model_child_shape: bad model handle, index \(index), which \(which) or NULL output")
    }
    let s = which == 0 ? m.inputShapes[Int(index)] : m.outputShapes[Int(index)]
    ndim.pointee = Int32(s.count)
    for (i, e) in s.enumerated() { shape[i] = Int64(e) }
    return STRATA_OK
}

private func trainModelGraph(_ model: OpaquePointer?) -> UnsafePointer<CChar>? {
    TrainInterface.object(model, as: SchemeModel.self).map { UnsafePointer($0.graph.pointer) }
}

// MARK: - Optimizers

private func trainOptimizerCreate(_ run: OpaquePointer?, _ config: UnsafePointer<CChar>?, _ model: OpaquePointer?, _ begin: Int32,
                                  _ end: Int32, _ out: UnsafeMutablePointer<OpaquePointer?>?,
                                  _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    guard let r = TrainInterface.object(run, as: SchemeRun.self), let m = TrainInterface.object(model, as: SchemeModel.self), let out else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "optimizer_create: bad run or model handle, or NULL out")
    }
    out.pointee = nil
    guard m.validSlice(begin, end) else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "optimizer_create: slice [\(begin), \(end)) is not within the model's \(m.count) children")
    }
    return TrainInterface.guarded(err, "optimizer_create") {
        var spec = r.recipe.optimizer
        var groups = r.recipe.paramGroups
        if let config {
            let json: JSONValue
            do {
                json = try JSONParser.parse(String(cString: config))
            } catch {
                throw CoreError.badInput("the optimizer configuration is not valid JSON: \(error)")
            }
            let diagnostics = Diagnostics()
            let parsed = Recipe.parseOptimizer(json, registry: r.registry, diagnostics: diagnostics)
            guard diagnostics.errors.isEmpty else {
                throw CoreError.badInput(diagnostics.errors.map(\.description).joined(separator: "; "))
            }
            (spec, groups) = parsed
        }
        let trainable = m.parameters(Int(begin), Int(end)).filter { $0.parameter.isTrainable }
        let slots = Experiment.slots(for: trainable, groups: groups, weightDecay: spec.weightDecay)
        out.pointee = OpaquePointer(r.retain(SchemeOptimizer(model: m, optimizer: try spec.make(), slots: slots,
                                                             clipping: r.recipe.gradientClip)))
    }
}

private func trainOptimizerRelease(_ optimizer: OpaquePointer?) {
    TrainInterface.release(optimizer, as: SchemeOptimizer.self)
}

private func trainOptimizerStep(_ optimizer: OpaquePointer?, _ learningRate: Double, _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    guard let o = TrainInterface.object(optimizer, as: SchemeOptimizer.self) else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "optimizer_step: bad optimizer handle")
    }
    guard learningRate.isFinite, learningRate >= 0 else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "optimizer_step: the learning rate must be finite and >= 0, got \(learningRate)")
    }
    o.optimizer.learningRate = learningRate
    return TrainInterface.guarded(err, "optimizer_step") { try o.step() }
}

// MARK: - Data

private func trainDatasetOpen(_ run: OpaquePointer?, _ split: Int32, _ batchSize: Int32, _ flags: UInt64,
                              _ out: UnsafeMutablePointer<OpaquePointer?>?, _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    guard let r = TrainInterface.object(run, as: SchemeRun.self), let out else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "dataset_open: bad run handle or NULL out")
    }
    out.pointee = nil
    guard split == STRATA_SPLIT_TRAIN || split == STRATA_SPLIT_TEST else {
        return TrainInterface.fail(err, STRATA_ERR_UNSUPPORTED, "dataset_open: split \(split) is neither STRATA_SPLIT_TRAIN nor STRATA_SPLIT_TEST")
    }
    guard batchSize >= 1, flags & ~UInt64(7) == 0 else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "dataset_open: batch size \(batchSize) must be >= 1 and flags \(flags) only STRATA_DATASET_* bits")
    }
    return TrainInterface.guarded(err, "dataset_open") {
        let data = split == STRATA_SPLIT_TRAIN ? r.train : r.test
        let shuffle = flags & UInt64(STRATA_DATASET_SHUFFLE) != 0
        let augment = flags & UInt64(STRATA_DATASET_AUGMENT) != 0
        let mode: BatchLoader.Mode = shuffle || augment ? .training(seed: r.recipe.seed, shuffle: shuffle) : .evaluation
        let loader = try BatchLoader(dataset: data, batchSize: Int(batchSize), mode: mode, normalization: r.recipe.data.normalization,
                                     augmentation: augment ? r.recipe.data.augmentation : .none)
        let dataset = SchemeDataset(loader: loader, dropLast: flags & UInt64(STRATA_DATASET_DROP_LAST) != 0, classCount: data.classCount)
        out.pointee = OpaquePointer(r.retain(dataset))
    }
}

private func trainDatasetRelease(_ dataset: OpaquePointer?) {
    TrainInterface.release(dataset, as: SchemeDataset.self)
}

private func trainDatasetSize(_ dataset: OpaquePointer?) -> Int64 {
    TrainInterface.object(dataset, as: SchemeDataset.self).map { Int64($0.loader.dataset.count) } ?? -1
}

private func trainDatasetNext(_ dataset: OpaquePointer?, _ out: UnsafeMutablePointer<StrataBatch>?, _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    guard let d = TrainInterface.object(dataset, as: SchemeDataset.self), let out else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "dataset_next: bad dataset handle or NULL out")
    }
    d.next(out)
    return STRATA_OK
}

private func trainDatasetReset(_ dataset: OpaquePointer?, _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    guard let d = TrainInterface.object(dataset, as: SchemeDataset.self) else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "dataset_reset: bad dataset handle")
    }
    d.reset()
    return STRATA_OK
}

private func trainDatasetClassCount(_ dataset: OpaquePointer?) -> Int32 {
    TrainInterface.object(dataset, as: SchemeDataset.self).map { Int32($0.classCount) } ?? -1
}
