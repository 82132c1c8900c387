import Testing
@testable import StrataCore

/// Forward values and gradients against PyTorch, from fixtures made by scripts/make_fixtures.py.
/// Each case: output `y` for input `x`, and the gradients of `Σ y ⊙ dy`.
@Suite("Layer parity with PyTorch")
struct LayerParityTests {
    /// Builds `layer` for the fixture's input, loads its parameters, runs forward and backward,
    /// and compares every tensor the fixture has.
    func run(_ layer: any Layer, _ fixture: Fixture, training: Bool = true,
             rtol: Float = 1e-4, atol: Float = 1e-5) throws {
        let x = fixture.tensor("x")
        var context = BuildContext(seed: 0)
        let outShape = try layer.build(inputShape: x.shape, context: &context)
        #expect(outShape == fixture.tensor("y").shape, "\(fixture.name): output shape")
        let params = Dictionary(uniqueKeysWithValues: layer.namedParameters().map { ($0.name, $0.parameter) })
        for name in ["weight", "bias", "running_mean", "running_var"] where fixture.has(name) {
            let p = try #require(params[name], "\(fixture.name): layer has no \(name)")
            let t = fixture.tensor(name)
            #expect(p.value.shape == t.shape, "\(fixture.name): \(name) shape")
            p.value.copy(from: Tensor(shape: t.shape, values: t.data))
        }
        let input = Tensor(shape: x.shape, values: x.data)
        let y = Tensor(shape: outShape)
        try layer.forward(input: input, output: y, training: training)
        assertClose(y.array(), fixture.tensor("y").data, rtol: rtol, atol: atol, "\(fixture.name) y")
        if fixture.has("running_mean_after") {
            assertClose(params["running_mean"]!.value.array(), fixture.tensor("running_mean_after").data, rtol: rtol, atol: atol, "\(fixture.name) running_mean")
            assertClose(params["running_var"]!.value.array(), fixture.tensor("running_var_after").data, rtol: rtol, atol: atol, "\(fixture.name) running_var")
        }
        let dy = fixture.tensor("dy")
        let dx = Tensor(shape: x.shape)
        for (_, p) in params { p.grad?.zero() }
        try layer.backward(input: input, output: y, gradOutput: Tensor(shape: dy.shape, values: dy.data), gradInput: dx)
        assertClose(dx.array(), fixture.tensor("dx").data, rtol: rtol, atol: atol, "\(fixture.name) dx")
        for name in ["weight", "bias"] where fixture.has("d" + name) {
            assertClose(params[name]!.grad!.array(), fixture.tensor("d" + name).data, rtol: rtol, atol: atol, "\(fixture.name) d\(name)")
        }
    }

    @Test func linear() throws {
        let f = try Fixture.load("linear")
        try run(Linear(outFeatures: f.int("out_features")!, bias: f.bool("bias")!), f)
    }

    @Test(arguments: ["conv2d_basic", "conv2d_stride2_nobias", "conv2d_k5_pad2", "conv2d_groups", "conv2d_depthwise", "conv2d_1x1"])
    func conv2d(_ name: String) throws {
        let f = try Fixture.load(name)
        let k = f.int("kernel_size")!, s = f.int("stride", default: 1), p = f.int("padding", default: 0)
        try run(Conv2d(outChannels: f.int("out_channels")!, kernelSize: (k, k), stride: (s, s), padding: (p, p),
                       groups: f.int("groups", default: 1), bias: f.bool("bias", default: true)), f)
    }

    @Test(arguments: ["maxpool2d_k2s2", "maxpool2d_k3s2p1", "avgpool2d_k2s2", "avgpool2d_k3s1p1"])
    func pool(_ name: String) throws {
        let f = try Fixture.load(name)
        let k = f.int("kernel_size")!, s = f.int("stride") ?? k, p = f.int("padding", default: 0)
        try run(Pool2d(name.hasPrefix("max") ? .max : .average, kernelSize: (k, k), stride: (s, s), padding: (p, p)), f)
    }

    @Test func globalPools() throws {
        try run(GlobalPool2d(.max), try Fixture.load("adaptive_maxpool2d_global"))
        try run(GlobalPool2d(.average), try Fixture.load("adaptive_avgpool2d_global"))
    }

    @Test func activations() throws {
        try run(Activation(.relu), try Fixture.load("relu"))
        try run(Activation(.sigmoid), try Fixture.load("sigmoid"))
        try run(Activation(.tanh), try Fixture.load("tanh"))
    }

    @Test func batchNorm() throws {
        try run(BatchNorm(spatial: true), try Fixture.load("batchnorm2d_train"), training: true)
        try run(BatchNorm(spatial: true), try Fixture.load("batchnorm2d_eval"), training: false)
        try run(BatchNorm(spatial: false), try Fixture.load("batchnorm1d_train"), training: true)
    }
}

@Suite("Loss and optimizer parity with PyTorch")
struct LossOptimizerParityTests {
    func labels(_ f: Fixture) -> [Int32] { f.tensor("target").data.map { Int32($0) } }

    @Test func crossEntropyAndNLL() throws {
        for (name, loss) in [("cross_entropy", CrossEntropyLoss() as any Loss), ("nll", NLLLoss())] {
            let f = try Fixture.load(name)
            let key = f.has("logits") ? "logits" : "input"
            let x = f.tensor(key)
            let out = Tensor(shape: x.shape, values: x.data)
            let grad = Tensor(shape: x.shape)
            let value = try labels(f).withUnsafeBufferPointer { try loss.compute(output: out, targets: $0.baseAddress!, gradient: grad) }
            assertClose([Float(value.loss)], f.tensor("loss").data, rtol: 1e-5, atol: 1e-6, "\(name) loss")
            assertClose(grad.array(), f.tensor("dinput").data, rtol: 1e-4, atol: 1e-6, "\(name) dinput")
        }
    }

    @Test func mse() throws {
        let f = try Fixture.load("mse")
        let x = f.tensor("input"), t = f.tensor("target")
        let grad = Tensor(shape: x.shape)
        let loss = MSELoss().compute(output: Tensor(shape: x.shape, values: x.data), target: Tensor(shape: t.shape, values: t.data), gradient: grad)
        assertClose([Float(loss)], f.tensor("loss").data, rtol: 1e-5, atol: 1e-6, "mse loss")
        assertClose(grad.array(), f.tensor("dinput").data, rtol: 1e-5, atol: 1e-6, "mse dinput")
    }

    func optimizer(for f: Fixture) -> any Optimizer {
        switch f.op {
        case "sgd":
            return SGD(learningRate: f.double("lr")!, momentum: f.float("momentum", default: 0),
                       dampening: f.float("dampening", default: 0), nesterov: f.bool("nesterov", default: false),
                       weightDecay: f.float("weight_decay", default: 0))
        default:
            return Adam(learningRate: f.double("lr")!, beta1: f.float("beta1", default: 0.9), beta2: f.float("beta2", default: 0.999),
                        eps: f.float("eps", default: 1e-8), weightDecay: f.float("weight_decay", default: 0),
                        decoupled: f.op == "adamw")
        }
    }

    @Test(arguments: ["sgd_plain", "sgd_momentum", "sgd_nesterov", "adam_default", "adam_wd", "adamw"])
    func threeSteps(_ name: String) throws {
        let f = try Fixture.load(name)
        let opt = optimizer(for: f)
        let p0 = f.tensor("param_0")
        let param = Parameter(name: "weight", role: .weight, shape: p0.shape)
        param.value.copy(from: Tensor(shape: p0.shape, values: p0.data))
        for step in 1...3 {
            let g = f.tensor("grad_\(step)")
            param.grad!.copy(from: Tensor(shape: g.shape, values: g.data))
            try opt.step([OptimizerSlot(name: "w", parameter: param, weightDecay: opt.weightDecay)])
            assertClose(param.value.array(), f.tensor("param_\(step)").data, rtol: 1e-5, atol: 1e-7, "\(name) step \(step)")
        }
    }
}
