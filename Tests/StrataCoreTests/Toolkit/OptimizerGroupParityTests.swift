import Foundation
import Testing
@testable import StrataCore

/// Optimizers with parameter groups against PyTorch (scripts/make_fixtures.py, `*_groups`):
/// four steps on two parameters, `a` with the base rate and `b` with `lr · lr_mult`, each group
/// with its own weight decay, made through the recipe path (`optimizer.param_groups`).
@Suite("Optimizer parity with PyTorch, parameter groups")
struct OptimizerGroupParityTests {
    func recipeJSON(_ f: Fixture) -> String {
        var options: [String] = ["\"kind\": \"\(f.op)\"", "\"lr\": \(f.double("lr")!)"]
        for key in ["beta1", "beta2", "eps", "momentum", "dampening", "alpha"] {
            if let v = f.double(key) { options.append("\"\(key)\": \(v)") }
        }
        for key in ["amsgrad", "nesterov", "centered"] {
            if let v = f.bool(key) { options.append("\"\(key)\": \(v)") }
        }
        let groups = ["a", "b"].map {
            "{\"match\": \"\($0)\", \"lr_mult\": \(f.double("\($0)_lr_mult")!), \"weight_decay\": \(f.double("\($0)_weight_decay")!)}"
        }
        return "{" + options.joined(separator: ", ") + ", \"param_groups\": [" + groups.joined(separator: ", ") + "]}"
    }

    @Test(arguments: ["adam_amsgrad_groups", "adamw_amsgrad_groups", "sgd_groups", "rmsprop_groups"])
    func everyStepMatches(_ name: String) throws {
        let f = try Fixture.load(name)
        let registry = f.op == "rmsprop" ? try ShippedPlugins.registry() : ComponentRegistry.builtIn()
        let diagnostics = Diagnostics()
        let (spec, groups) = Recipe.parseOptimizer(try JSONParser.parse(recipeJSON(f)), registry: registry, diagnostics: diagnostics)
        #expect(diagnostics.isEmpty, "\(diagnostics.errors)")
        let optimizer = try spec.make()
        if f.bool("amsgrad") == true { #expect((optimizer as? Adam)?.amsgrad == true) }
        var parameters: [(name: String, parameter: Parameter)] = []
        for name in ["a", "b"] {
            let t = f.tensor("\(name)_0")
            let p = Parameter(name: name, role: .weight, shape: t.shape)
            p.value.copy(from: Tensor(shape: t.shape, values: t.data))
            parameters.append((name, p))
        }
        let slots = Experiment.slots(for: parameters, groups: groups, weightDecay: spec.weightDecay)
        for step in 1...f.int("steps")! {
            for (name, p) in parameters {
                let g = f.tensor("grad_\(name)_\(step)")
                p.grad!.copy(from: Tensor(shape: g.shape, values: g.data))
            }
            try optimizer.step(slots)
            for (name, p) in parameters {
                assertClose(p.value.array(), f.tensor("\(name)_\(step)").data, rtol: 1e-5, atol: 1e-7, "\(name) parameter \(name) step \(step)")
            }
        }
    }

    @Test func amsgradStateRoundTripsAndIsRefusedByPlainAdam() throws {
        let p = Parameter(name: "w", role: .weight, shape: [3])
        p.value.copy(from: Tensor(shape: [3], values: [1, -2, 3]))
        let a = Adam(learningRate: 0.1, amsgrad: true)
        for g: [Float] in [[3, 1, -1], [0, -0.5, 2]] {
            p.grad!.copy(from: Tensor(shape: [3], values: g))
            a.step([OptimizerSlot(name: "w", parameter: p, weightDecay: 0)])
        }
        let saved = a.stateTensors()
        #expect(saved.map(\.name) == ["w.exp_avg", "w.exp_avg_sq", "w.max_exp_avg_sq", "w.step"])
        // The maximum keeps the first step's large square although v has since decayed below it.
        #expect(saved[2].tensor[0] > saved[1].tensor[0])
        let q = Parameter(name: "w", role: .weight, shape: [3])
        q.value.copy(from: p.value)
        let b = Adam(learningRate: 0.1, amsgrad: true)
        try b.loadState(Dictionary(uniqueKeysWithValues: saved.map { ($0.name, $0.tensor.copy()) }), parameters: ["w": q])
        for x in [p, q] { x.grad!.copy(from: Tensor(shape: [3], values: [-1, 0.75, 0.125])) }
        a.step([OptimizerSlot(name: "w", parameter: p, weightDecay: 0)])
        b.step([OptimizerSlot(name: "w", parameter: q, weightDecay: 0)])
        #expect(p.value.array() == q.value.array())
        #expect(throws: CoreError.self) {
            try Adam(amsgrad: false).loadState(Dictionary(uniqueKeysWithValues: saved.map { ($0.name, $0.tensor) }), parameters: ["w": q])
        }
        var partial = Dictionary(uniqueKeysWithValues: saved.map { ($0.name, $0.tensor) })
        partial["w.max_exp_avg_sq"] = nil
        #expect(throws: CoreError.self) { try Adam(amsgrad: true).loadState(partial, parameters: ["w": q]) }
    }
}
