import CStrataKernels

/// Adam (`torch.optim.Adam`, L2 weight decay added to the gradient) and AdamW
/// (`torch.optim.AdamW`, decoupled decay `p ← p·(1 − lr·wd)`), with bias correction, and
/// optionally AMSGrad (Reddi et al.; `amsgrad=True`): the denominator uses the running maximum
/// of the second moment, `v̂ = max(v̂, v)`, so the step size never grows.
public final class Adam: Optimizer, MomentumAdjustable {
    public let decoupled: Bool
    public let amsgrad: Bool
    public var kind: String { decoupled ? "adamw" : "adam" }
    public var learningRate: Double
    public var beta1: Float
    public let beta2: Float
    public let eps: Float
    public let weightDecay: Float
    /// `maxExpAvgSq` is nil unless `amsgrad`.
    private struct State { let expAvg: Tensor; let expAvgSq: Tensor; let maxExpAvgSq: Tensor?; let step: Tensor }
    private var states: [String: State] = [:]

    public init(learningRate: Double = 1e-3, beta1: Float = 0.9, beta2: Float = 0.999, eps: Float = 1e-8,
                weightDecay: Float = 0, decoupled: Bool = false, amsgrad: Bool = false) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
        self.decoupled = decoupled
        self.amsgrad = amsgrad
    }

    /// β₁, which one-cycle schedules as the momentum (fast.ai's `moms`).
    public var momentum: Double {
        get { Double(beta1) }
        set { beta1 = Float(newValue) }
    }

    private func state(for name: String, shape: [Int]) -> State {
        if let s = states[name] { return s }
        let s = State(expAvg: Tensor(shape: shape), expAvgSq: Tensor(shape: shape),
                      maxExpAvgSq: amsgrad ? Tensor(shape: shape) : nil, step: Tensor(shape: [1]))
        states[name] = s
        return s
    }

    public func step(_ slots: [OptimizerSlot]) {
        for slot in slots where !slot.parameter.frozen {
            let p = slot.parameter
            guard let grad = p.grad else { continue }
            let s = state(for: slot.name, shape: p.value.shape)
            s.step[0] += 1
            let lr = Float(learningRate) * slot.learningRateMultiplier
            if let maxExpAvgSq = s.maxExpAvgSq {
                sk_amsgrad_step(p.value.data, s.expAvg.data, s.expAvgSq.data, maxExpAvgSq.data, grad.data, Int64(p.value.count),
                                lr, beta1, beta2, eps, slot.weightDecay, Int64(s.step[0]), decoupled ? 1 : 0)
            } else {
                sk_adam_step(p.value.data, s.expAvg.data, s.expAvgSq.data, grad.data, Int64(p.value.count),
                             lr, beta1, beta2, eps, slot.weightDecay, Int64(s.step[0]), decoupled ? 1 : 0)
            }
        }
    }

    public func stateTensors() -> [(name: String, tensor: Tensor)] {
        states.keys.sorted().flatMap { name -> [(name: String, tensor: Tensor)] in
            let s = states[name]!
            return [("\(name).exp_avg", s.expAvg), ("\(name).exp_avg_sq", s.expAvgSq)]
                + (s.maxExpAvgSq.map { [("\(name).max_exp_avg_sq", $0)] } ?? []) + [("\(name).step", s.step)]
        }
    }

    public func loadState(_ tensors: [String: Tensor], parameters: [String: Parameter]) throws {
        let suffixes = [".max_exp_avg_sq", ".exp_avg_sq", ".exp_avg", ".step"]
        var names = Set<String>()
        for key in tensors.keys {
            guard let suffix = suffixes.first(where: { key.hasSuffix($0) }) else {
                throw CoreError.badInput("\(kind) state: unknown entry \(key)")
            }
            if suffix == ".max_exp_avg_sq" && !amsgrad {
                throw CoreError.badInput("\(kind) state: \(key) is AMSGrad state and the optimizer has amsgrad false")
            }
            names.insert(String(key.dropLast(suffix.count)))
        }
        var loaded: [String: State] = [:]
        for name in names {
            guard let p = parameters[name], let m = tensors[name + ".exp_avg"], let v = tensors[name + ".exp_avg_sq"],
                  let t = tensors[name + ".step"], m.shape == p.value.shape, v.shape == p.value.shape, t.count == 1 else {
                throw CoreError.badInput("\(kind) state: entries for \(name) are incomplete or do not match its shape")
            }
            var vMax: Tensor? = nil
            if amsgrad {
                guard let saved = tensors[name + ".max_exp_avg_sq"], saved.shape == p.value.shape else {
                    throw CoreError.badInput("\(kind) state: \(name).max_exp_avg_sq is missing or does not match its shape (amsgrad is true)")
                }
                vMax = saved
            }
            // The step count becomes an Int64 at each step: only whole numbers a Float holds exactly.
            guard t[0] >= 0, t[0] <= 16_777_216, t[0].rounded() == t[0] else {
                throw CoreError.badInput("\(kind) state: \(name).step is \(t[0]); expected a whole number of steps from 0 to 16777216")
            }
            loaded[name] = State(expAvg: m, expAvgSq: v, maxExpAvgSq: vMax, step: t)
        }
        states.merge(loaded) { _, new in new }
    }
}
