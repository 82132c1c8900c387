import CStrata
import Foundation

/// An optimizer provided by a plugin: drives the plugin's `StrataOptimizerOps`.
///
/// The host owns everything heavy (include/strata/optimizer.h): the state tensors (allocated
/// zeroed at the first step, or restored from a checkpoint, and bound once), the step counter,
/// the learning rate (the base rate in effect times each parameter's group multiplier, passed
/// at every step) and each parameter's weight decay (bound once through `bind_weight_decay`).
/// State is saved as `<param>.<state name>` and `<param>.step`, through the same
/// `stateTensors`/`loadState` path as the built-in optimizers.
public final class PluginOptimizer: Optimizer {
    /// The optimizer kind, as recipes name it (the component name).
    public let kind: String
    /// The plugin that provides it.
    public let plugin: LoadedPlugin
    /// Base learning rate; callbacks and schemes change it between steps.
    public var learningRate: Double
    /// Weight decay of parameters in no group (the recipe's "weight_decay" option).
    public let weightDecay: Float
    /// The optimizer's place in the recipe (`$.optimizer`), for messages.
    public let jsonPath: String
    private let ops: UnsafePointer<StrataOptimizerOps>
    private let instance: UnsafeMutableRawPointer?
    /// Names of the state slots (`square_avg`, `momentum_buffer`, …), from `state_name`.
    public let stateNames: [String]
    /// Steps taken, restored from checkpoints; the next step passes `steps + 1`.
    private var steps: Int64 = 0
    /// The parameter list fixed at the first step, with its descriptors and state.
    private var binding: Binding?
    /// State read from a checkpoint before the first step, by `<param>.<state name>`.
    private var restored: [String: Tensor] = [:]

    /// Everything bound at the first step: parameter names, their descriptors and state.
    private final class Binding {
        let names: [String]
        let parameters: [Parameter]
        let values: [DescriptorBox]
        let grads: [DescriptorBox]
        /// [count * stateCount], parameter-major.
        let state: [Tensor]
        let stateBoxes: [DescriptorBox]
        let valuePointers: UnsafeMutablePointer<UnsafeMutablePointer<StrataTensor>?>
        let gradPointers: UnsafeMutablePointer<UnsafePointer<StrataTensor>?>
        let statePointers: UnsafeMutablePointer<UnsafeMutablePointer<StrataTensor>?>
        /// [count], rewritten before every step.
        let rates: UnsafeMutablePointer<Float>

        init(slots: [OptimizerSlot], state: [Tensor]) {
            names = slots.map(\.name)
            parameters = slots.map(\.parameter)
            values = parameters.map { DescriptorBox($0.value, readOnly: false) }
            grads = parameters.map { DescriptorBox($0.grad!, readOnly: true) }
            self.state = state
            stateBoxes = state.map { DescriptorBox($0, readOnly: false) }
            let count = slots.count
            valuePointers = .allocate(capacity: count)
            gradPointers = .allocate(capacity: count)
            statePointers = .allocate(capacity: max(1, state.count))
            rates = .allocate(capacity: count)
            for i in 0..<count {
                valuePointers[i] = values[i].tensor
                gradPointers[i] = UnsafePointer(grads[i].tensor)
                rates[i] = 0
            }
            for (i, b) in stateBoxes.enumerated() { statePointers[i] = b.tensor }
        }

        deinit {
            valuePointers.deallocate()
            gradPointers.deallocate()
            statePointers.deallocate()
            rates.deallocate()
        }
    }

    /// Creates the instance from `config` (the recipe's options without `kind`, `lr` and
    /// `param_groups`) and reads its state slots.
    /// - Throws: `CoreError.badInput` with the plugin's message when it refuses.
    init(kind: String, plugin: LoadedPlugin, ops: UnsafePointer<StrataOptimizerOps>, config: JSONObject, learningRate: Double,
         weightDecay: Float, jsonPath: String) throws {
        self.kind = kind
        self.plugin = plugin
        self.ops = ops
        self.learningRate = learningRate
        self.weightDecay = weightDecay
        self.jsonPath = jsonPath
        var err = PluginLayer.newError()
        var created: UnsafeMutableRawPointer?
        let status = PluginCreate.call(ops.pointee.create, ops.pointee.create_with_context, context: plugin.context(.optimizer, kind),
                                       options: config, withObject: true, instance: &created, err: &err)
        guard status == STRATA_OK else {
            throw CoreError.badInput("plugin \(plugin.manifest.name), optimizer \"\(kind)\" at \(jsonPath): create failed (\(PluginLayer.statusName(status))): \(HostAPI.message(of: &err))")
        }
        instance = created
        var names: [String] = []
        let count = ops.pointee.state_count?(created) ?? 0
        guard count >= 0, count <= 64 else {
            ops.pointee.destroy?(created)
            throw CoreError.runtime("plugin \(plugin.manifest.name), optimizer \"\(kind)\": state_count returned \(count); 0 to 64 are allowed")
        }
        for s in 0..<count {
            guard let name = ops.pointee.state_name?(created, s).map({ String(cString: $0) }), !name.isEmpty, !name.contains("."),
                  name != "step", !names.contains(name) else {
                ops.pointee.destroy?(created)
                throw CoreError.runtime("plugin \(plugin.manifest.name), optimizer \"\(kind)\": state_name(\(s)) is NULL, empty, contains '.', is \"step\" or repeats a name")
            }
            names.append(name)
        }
        stateNames = names
    }

    deinit { ops.pointee.destroy?(instance) }

    private var origin: String { "plugin \(plugin.manifest.name), optimizer \"\(kind)\" at \(jsonPath)" }

    /// Binds the parameter list of the first step: state (restored or zeroed), then the weight decays.
    private func bind(_ slots: [OptimizerSlot]) throws -> Binding {
        let k = stateNames.count
        var state: [Tensor] = []
        for slot in slots {
            for name in stateNames {
                let t = Tensor(shape: slot.parameter.value.shape)
                if let saved = restored["\(slot.name).\(name)"] { t.copy(from: saved) }
                state.append(t)
            }
        }
        let known = Set(slots.flatMap { s in stateNames.map { "\(s.name).\($0)" } })
        if let stray = restored.keys.sorted().first(where: { !known.contains($0) }) {
            throw CoreError.badInput("\(origin): the restored state \(stray) belongs to no parameter this optimizer steps")
        }
        restored = [:]
        let b = Binding(slots: slots, state: state)
        var err = PluginLayer.newError()
        if k > 0 {
            guard let bindState = ops.pointee.bind_state else { throw CoreError.runtime("\(origin): declares state but has no bind_state") }
            let status = bindState(instance, Int32(slots.count), b.statePointers, &err)
            guard status == STRATA_OK else { throw CoreError.runtime("\(origin): bind_state failed (\(PluginLayer.statusName(status))): \(HostAPI.message(of: &err))") }
        }
        var decays = slots.map(\.weightDecay)
        if let bindDecay = ops.pointee.bind_weight_decay {
            let status = bindDecay(instance, Int32(slots.count), &decays, &err)
            guard status == STRATA_OK else { throw CoreError.runtime("\(origin): bind_weight_decay failed (\(PluginLayer.statusName(status))): \(HostAPI.message(of: &err))") }
        } else if let odd = slots.first(where: { $0.weightDecay != weightDecay }) {
            throw CoreError.badInput("\(origin): the plugin (ABI \(PluginHost.version(plugin.abiVersion))) has no bind_weight_decay, so it applies weight_decay \(weightDecay) to every parameter, but the param_groups give \(odd.name) weight_decay \(odd.weightDecay)")
        }
        return b
    }

    /// One step over the non-frozen parameters with gradients. The list must stay the one of
    /// the first step (the ABI binds it once).
    public func step(_ slots: [OptimizerSlot]) throws {
        let active = slots.filter { !$0.parameter.frozen && $0.parameter.grad != nil }
        guard !active.isEmpty else { return }
        let b: Binding
        if let bound = binding {
            guard bound.parameters.count == active.count,
                  zip(bound.parameters, active).allSatisfy({ $0.0 === $0.1.parameter }) else {
                throw CoreError.runtime("\(origin): the parameters to step changed after the first step (\(bound.names.count) bound, \(active.count) now); a plugin optimizer steps one fixed list")
            }
            b = bound
        } else {
            b = try bind(active)
            binding = b
        }
        for (i, slot) in active.enumerated() { b.rates[i] = Float(learningRate) * slot.learningRateMultiplier }
        var err = PluginLayer.newError()
        let status = ops.pointee.step!(instance, Int32(active.count), b.valuePointers, b.gradPointers, b.rates, steps + 1, &err)
        guard status == STRATA_OK else {
            throw CoreError.runtime("\(origin): step \(steps + 1) failed (\(PluginLayer.statusName(status))): \(HostAPI.message(of: &err))")
        }
        steps += 1
    }

    /// `<param>.<state name>` for every bound state tensor and `<param>.step` (float32 [1]).
    /// Before the first step, the state restored from a checkpoint (if any).
    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        guard let b = binding else { return restored.keys.sorted().map { ($0, restored[$0]!) } }
        var out: [(name: String, tensor: Tensor)] = []
        let k = stateNames.count
        for (p, name) in b.names.enumerated() {
            for (s, stateName) in stateNames.enumerated() { out.append(("\(name).\(stateName)", b.state[p * k + s])) }
            out.append(("\(name).step", Tensor(shape: [1], values: [Float(steps)])))
        }
        return out
    }

    /// Restores state written by `stateTensors`: copied into the bound tensors (whose pointers
    /// the plugin keeps) or kept until the first step binds them.
    public func loadState(_ tensors: [String: Tensor], parameters: [String: Parameter]) throws {
        var stepCount: Float?
        var state: [String: Tensor] = [:]
        for (key, t) in tensors.sorted(by: { $0.key < $1.key }) {
            guard let dot = key.lastIndex(of: ".") else { throw CoreError.badInput("\(kind) state: unknown entry \(key)") }
            let param = String(key[..<dot]), slot = String(key[key.index(after: dot)...])
            guard let p = parameters[param] else { throw CoreError.badInput("\(kind) state: \(key) names no parameter of the model") }
            if slot == "step" {
                guard t.count == 1, t[0] >= 0, t[0] == t[0].rounded(), stepCount == nil || stepCount == t[0] else {
                    throw CoreError.badInput("\(kind) state: \(key) must be one whole count equal for every parameter")
                }
                stepCount = t[0]
                continue
            }
            guard stateNames.contains(slot) else {
                throw CoreError.badInput("\(kind) state: unknown entry \(key); this optimizer keeps \(stateNames.isEmpty ? "no state" : stateNames.joined(separator: ", "))")
            }
            guard t.shape == p.value.shape else {
                throw CoreError.badInput("\(kind) state: \(key) has shape \(describe(t.shape)), the parameter \(describe(p.value.shape))")
            }
            state[key] = t
        }
        if let b = binding {
            let k = stateNames.count
            for (p, name) in b.names.enumerated() {
                for (s, stateName) in stateNames.enumerated() {
                    guard let t = state["\(name).\(stateName)"] else { throw CoreError.badInput("\(kind) state: \(name).\(stateName) is missing") }
                    b.state[p * k + s].copy(from: t)
                }
            }
        } else {
            restored = state
        }
        steps = Int64(stepCount ?? 0)
    }
}

extension PluginHost {
    /// Checks an optimizer's ops table: create (or create_with_context), destroy and step are
    /// required; state_count, state_name and bind_state come together or not at all.
    static func optimizerOps(_ raw: UnsafeRawPointer, name: String, refuse: (String, Bool) -> PluginRefusal) throws(PluginRefusal) -> UnsafePointer<StrataOptimizerOps> {
        let ops = try checkedOps(raw, kind: "optimizer", name: name, empty: StrataOptimizerOps(),
                                 needed: MemoryLayout<StrataOptimizerOps>.offset(of: \.step)! + MemoryLayout<UnsafeRawPointer>.size,
                                 required: [("create", { (o: StrataOptimizerOps) -> Bool in o.create != nil || o.create_with_context != nil }),
                                            ("destroy", { (o: StrataOptimizerOps) -> Bool in o.destroy != nil }),
                                            ("step", { (o: StrataOptimizerOps) -> Bool in o.step != nil })],
                                 refuse: refuse)
        let hasCount: Bool = ops.pointee.state_count != nil
        let hasName: Bool = ops.pointee.state_name != nil
        let hasBind: Bool = ops.pointee.bind_state != nil
        guard hasCount == hasName, hasName == hasBind else {
            throw refuse("optimizer \"\(name)\" sets some of state_count, state_name and bind_state; all three or none", true)
        }
        return ops
    }
}
