import StrataKit

/// Lion (Chen et al., "Symbolic Discovery of Optimization Algorithms", 2023), as the
/// reference lion-pytorch implementation steps it, per element:
///   p = p * (1 - lr * wd)                               (decoupled weight decay)
///   p = p - lr * sign(beta1 * m + (1 - beta1) * g)
///   m = beta2 * m + (1 - beta2) * g
/// State: "exp_avg" (m), zero at the start.
final class Lion: KitOptimizer {
    let beta1: Float, beta2: Float
    private(set) var weightDecay: [Float] = []
    let defaultDecay: Float

    init(config: KitConfig) throws {
        beta1 = Float(try config.double("beta1", default: 0.9))
        beta2 = Float(try config.double("beta2", default: 0.99))
        defaultDecay = Float(try config.double("weight_decay", default: 0))
        guard (0..<1).contains(beta1), (0..<1).contains(beta2) else { throw KitError.invalidArgument("beta1 and beta2 must be in [0, 1)") }
        guard defaultDecay >= 0 else { throw KitError.invalidArgument("weight_decay must be >= 0") }
    }

    var stateNames: [String] { ["exp_avg"] }

    func bind(weightDecay: [Float]) throws { self.weightDecay = weightDecay }

    func step(parameters: [KitTensor], gradients: [KitTensor], state: [[KitTensor]], learningRates: [Float], step: Int) throws {
        for (i, p) in parameters.enumerated() {
            let g = gradients[i].buffer, m = state[i][0].buffer, lr = learningRates[i]
            let wd = i < weightDecay.count ? weightDecay[i] : defaultDecay
            for k in 0..<p.count {
                if wd != 0 { p.buffer[k] *= 1 - lr * wd }
                let c = beta1 * m[k] + (1 - beta1) * g[k]
                p.buffer[k] -= lr * (c > 0 ? 1 : (c < 0 ? -1 : 0))
                m[k] = beta2 * m[k] + (1 - beta2) * g[k]
            }
        }
    }
}
