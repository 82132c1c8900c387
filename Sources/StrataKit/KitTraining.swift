import CStrata
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A loss written in Swift, driven through the ABI's `StrataLossOps`.
public protocol KitLoss: AnyObject {
    /// Creates the loss from its recipe options.
    init(config: KitConfig) throws
    /// The mean loss over the N rows of `logits` ([N, C]) for class indices `targets` (N
    /// values, each in [0, C)). When `gradLogits` is given, OVERWRITES it with
    /// d(mean loss)/d(logits) (so each row carries the 1/N factor).
    func forward(logits: KitTensor, targets: UnsafeBufferPointer<Int32>, gradLogits: KitTensor?) throws -> Double
}

/// An optimizer written in Swift, driven through the ABI's `StrataOptimizerOps`
/// (include/strata/optimizer.h). The host owns the state tensors (zeroed, or restored from a
/// checkpoint), the learning rate and the step counter; the optimizer only computes.
public protocol KitOptimizer: AnyObject {
    /// Creates the optimizer from its recipe options (never `lr`, which the host reads).
    init(config: KitConfig) throws
    /// Names of the state tensors each parameter has, each shaped like it ([] when none).
    var stateNames: [String] { get }
    /// Receives each parameter's weight decay (its group's, or the recipe's `weight_decay`),
    /// once before the first step.
    func bind(weightDecay: [Float]) throws
    /// Updates every parameter in place. `state[p][s]` is slot s of parameter p, kept by the
    /// host between steps and across checkpoints; `learningRates[p]` is this step's rate for
    /// parameter p; `step` counts from 1.
    func step(parameters: [KitTensor], gradients: [KitTensor], state: [[KitTensor]], learningRates: [Float], step: Int) throws
}

extension KitOptimizer {
    /// No state.
    public var stateNames: [String] { [] }
}

/// Training events (`STRATA_EVENT_*`).
public enum KitEvent: Int32, Sendable {
    case trainBegin = 0, epochBegin, batchBegin, batchEnd, epochEnd, trainEnd
}

/// Where the training loop is, as a callback sees it; `learningRate` and `stop` are written back.
public struct KitCallbackContext {
    /// Epoch index from 0; epochs planned.
    public let epoch: Int, epochs: Int
    /// Batch index within the epoch; optimizer steps so far.
    public let batch: Int, globalStep: Int
    /// Base learning rate of the next step: WRITABLE.
    public var learningRate: Double
    /// Set to stop training: WRITABLE.
    public var stop: Bool
    /// Loss of the batch just trained (batchEnd), running train loss, last test accuracy (NaN until known).
    public let batchLoss: Double, trainLoss: Double, testAccuracy: Double
    /// The run directory ("" when the run writes nothing).
    public let runDirectory: String
}

/// A callback written in Swift, driven through the ABI's `StrataCallbackOps`.
public protocol KitCallback: AnyObject {
    /// Creates the callback from its recipe options.
    init(config: KitConfig) throws
    /// Handles one event; unknown events never arrive (they are answered STRATA_OK by the kit).
    func onEvent(_ event: KitEvent, context: inout KitCallbackContext) throws
}

/// An optimizer instance with what the host bound to it.
final class KitOptimizerBox {
    let optimizer: any KitOptimizer
    let names: [UnsafeMutablePointer<CChar>?]
    var state: [[KitTensor]] = []
    var count = 0
    init(_ optimizer: any KitOptimizer) {
        self.optimizer = optimizer
        names = optimizer.stateNames.map { strdup($0) }
    }
    deinit { for n in names { free(n) } }
}

/// The C functions of the loss, optimizer and callback tables.
enum KitTrainingOps {
    /// A pointer the host must pass, or an error naming the argument that was NULL.
    static func given<P>(_ pointer: P?, _ what: String) throws -> P {
        guard let pointer else { throw KitError.invalidArgument("\(what) is NULL") }
        return pointer
    }

    static func config(_ text: UnsafePointer<CChar>?) -> KitConfig { KitConfig(json: text.map { String(cString: $0) } ?? "{}") }

    static func object<T>(_ instance: UnsafeMutableRawPointer?, as type: T.Type) throws -> T {
        guard let instance, let object = Unmanaged<AnyObject>.fromOpaque(instance).takeUnretainedValue() as? T else {
            throw KitError.invalidArgument("no instance")
        }
        return object
    }

    static func lossOps() -> StrataLossOps {
        var ops = StrataLossOps()
        ops.struct_size = UInt32(MemoryLayout<StrataLossOps>.size)
        ops.abi_version = STRATA_ABI_VERSION
        ops.create_with_context = { context, json, _, instance, err in
            KitHost.guarded(err) {
                guard let make = try KitFactory.from(context).makeLoss, let instance else { throw KitError.internalError("not a loss component") }
                instance.pointee = Unmanaged<AnyObject>.passRetained(try make(KitTrainingOps.config(json))).toOpaque()
            }
        }
        ops.destroy = { instance in if let instance { Unmanaged<AnyObject>.fromOpaque(instance).release() } }
        ops.forward = { instance, logits, targets, lossOut, grad, err in
            KitHost.guarded(err) {
                let loss = try KitTrainingOps.object(instance, as: (any KitLoss).self)
                guard let logits, let targets, let lossOut else { throw KitError.invalidArgument("forward: NULL argument") }
                let x = try KitTensor(logits)
                let t = targets.pointee
                guard x.shape.count == 2, t.dtype.code == STRATA_DTYPE_INT, t.dtype.bits == 32, t.ndim == 1,
                      t.shape![0] == Int64(x.shape[0]), t.strides![0] == 1 || x.shape[0] <= 1 else {
                    throw KitError.unsupported("expects logits [N, C] and int32 class indices [N]")
                }
                let labels = UnsafeBufferPointer(start: (t.data! + Int(t.byte_offset)).assumingMemoryBound(to: Int32.self), count: x.shape[0])
                for (i, y) in labels.enumerated() where y < 0 || Int(y) >= x.shape[1] {
                    throw KitError.invalidArgument("target \(y) of row \(i) is not a class index below \(x.shape[1])")
                }
                lossOut.pointee = try loss.forward(logits: x, targets: labels, gradLogits: try grad.map { try KitTensor(UnsafePointer($0)) })
            }
        }
        return ops
    }

    static func optimizerOps() -> StrataOptimizerOps {
        var ops = StrataOptimizerOps()
        ops.struct_size = UInt32(MemoryLayout<StrataOptimizerOps>.size)
        ops.abi_version = STRATA_ABI_VERSION
        ops.create_with_context = { context, json, _, instance, err in
            KitHost.guarded(err) {
                guard let make = try KitFactory.from(context).makeOptimizer, let instance else { throw KitError.internalError("not an optimizer component") }
                instance.pointee = Unmanaged<AnyObject>.passRetained(KitOptimizerBox(try make(KitTrainingOps.config(json)))).toOpaque()
            }
        }
        ops.destroy = { instance in if let instance { Unmanaged<AnyObject>.fromOpaque(instance).release() } }
        ops.state_count = { instance in Int32((try? KitTrainingOps.object(instance, as: KitOptimizerBox.self))?.names.count ?? 0) }
        ops.state_name = { instance, slot in
            guard let box = try? KitTrainingOps.object(instance, as: KitOptimizerBox.self), slot >= 0, Int(slot) < box.names.count else { return nil }
            return UnsafePointer(box.names[Int(slot)])
        }
        ops.bind_state = { instance, count, state, err in
            KitHost.guarded(err) {
                let box = try KitTrainingOps.object(instance, as: KitOptimizerBox.self)
                let k = box.names.count
                guard count > 0, let state else { throw KitError.invalidArgument("bind_state: no parameters") }
                box.count = Int(count)
                box.state = try (0..<Int(count)).map { p in try (0..<k).map { s in try KitTensor(UnsafePointer(try KitTrainingOps.given(state[p * k + s], "bind_state: state tensor \(p * k + s)"))) } }
            }
        }
        ops.bind_weight_decay = { instance, count, decay, err in
            KitHost.guarded(err) {
                let box = try KitTrainingOps.object(instance, as: KitOptimizerBox.self)
                guard count > 0, let decay else { throw KitError.invalidArgument("bind_weight_decay: no parameters") }
                try box.optimizer.bind(weightDecay: Array(UnsafeBufferPointer(start: decay, count: Int(count))))
            }
        }
        ops.step = { instance, count, params, grads, rates, step, err in
            KitHost.guarded(err) {
                let box = try KitTrainingOps.object(instance, as: KitOptimizerBox.self)
                guard count > 0, let params, let grads, let rates else { throw KitError.invalidArgument("step: NULL argument") }
                guard box.names.isEmpty || box.count == Int(count) else { throw KitError.invalidArgument("step: \(count) parameters, \(box.count) bound") }
                let n = Int(count)
                let p = try (0..<n).map { try KitTensor(UnsafePointer(try KitTrainingOps.given(params[$0], "step: parameter \($0)"))) }
                let g = try (0..<n).map { try KitTensor(try KitTrainingOps.given(grads[$0], "step: gradient \($0)")) }
                for i in 0..<n where p[i].count != g[i].count { throw KitError.shapeMismatch("parameter \(i) and its gradient differ in size") }
                try box.optimizer.step(parameters: p, gradients: g, state: box.names.isEmpty ? Array(repeating: [], count: n) : box.state,
                                       learningRates: Array(UnsafeBufferPointer(start: rates, count: n)), step: Int(step))
            }
        }
        return ops
    }

    static func callbackOps() -> StrataCallbackOps {
        var ops = StrataCallbackOps()
        ops.struct_size = UInt32(MemoryLayout<StrataCallbackOps>.size)
        ops.abi_version = STRATA_ABI_VERSION
        ops.create_with_context = { context, json, _, instance, err in
            KitHost.guarded(err) {
                guard let make = try KitFactory.from(context).makeCallback, let instance else { throw KitError.internalError("not a callback component") }
                instance.pointee = Unmanaged<AnyObject>.passRetained(try make(KitTrainingOps.config(json))).toOpaque()
            }
        }
        ops.destroy = { instance in if let instance { Unmanaged<AnyObject>.fromOpaque(instance).release() } }
        ops.on_event = { instance, event, ctx, err in
            KitHost.guarded(err) {
                let callback = try KitTrainingOps.object(instance, as: (any KitCallback).self)
                guard let ctx, let e = KitEvent(rawValue: event) else { return }
                let c = ctx.pointee
                let hasBatchLoss = Int(c.struct_size) >= MemoryLayout<StrataCallbackContext>.offset(of: \.batch_loss)! + 8
                var k = KitCallbackContext(epoch: Int(c.epoch), epochs: Int(c.epochs), batch: Int(c.batch), globalStep: Int(c.global_step),
                                           learningRate: c.learning_rate, stop: c.stop != 0,
                                           batchLoss: hasBatchLoss ? c.batch_loss : .nan, trainLoss: c.train_loss,
                                           testAccuracy: c.test_acc, runDirectory: c.run_dir.map { String(cString: $0) } ?? "")
                try callback.onEvent(e, context: &k)
                ctx.pointee.learning_rate = k.learningRate
                if k.stop { ctx.pointee.stop = 1 }
            }
        }
        return ops
    }
}
