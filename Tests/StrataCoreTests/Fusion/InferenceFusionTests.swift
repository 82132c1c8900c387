import Testing
@testable import StrataCore

/// Inference fusion (Graph/InferenceFusion.swift): an evaluation pass with fused convolution
/// groups gives the unfused pass's bits, on both convolution backends, after training steps, with
/// forward hooks and before a backward pass.
@Suite("Inference fusion")
struct InferenceFusionTests {
    /// A small ResNet in miniature: the stem, a fast.ai stride-2 group (conv, relu, bn), an identity
    /// residual of that group, then a torchvision-style block (conv, bn, relu, conv, bn) with a
    /// projection shortcut (1x1 conv s2, bn), pooling and a linear head.
    static func model(_ backend: ConvBackend, seed: UInt64 = 5, batch: Int = 9) throws -> Model {
        func conv(_ oc: Int, _ k: Int, stride: Int = 1, bias: Bool = false) -> Conv2d {
            Conv2d(outChannels: oc, kernelSize: (k, k), stride: (stride, stride), padding: (k / 2, k / 2), bias: bias, backend: backend)
        }
        func bn() -> BatchNorm { BatchNorm(spatial: true) }
        func relu() -> Activation { Activation(.relu) }
        let root = Sequential([
            conv(10, 5, bias: true),
            Sequential([conv(20, 3, stride: 2), relu(), bn()]),
            Residual(body: Sequential([conv(20, 3), relu(), bn()])),
            Residual(body: Sequential([conv(40, 3, stride: 2), bn(), relu(), conv(40, 3), bn()]),
                     shortcut: Sequential([conv(40, 1, stride: 2), bn()])),
            AdaptivePool2d(.max, outputSize: (1, 1)), Flatten(), Linear(outFeatures: 10),
        ])
        var context = BuildContext(seed: seed)
        let model = try Model(root: root, exampleShape: [1, 16, 16], maxBatch: batch, context: &context)
        // Running statistics and affine parameters away from their initial 0 and 1, with some
        // negative scales (a ReLU before the BatchNorm then does not commute with it).
        var random = RandomStream(seed: seed &+ 1)
        for (name, p) in model.namedParameters where name.contains("running") || p.value.shape.count == 1 {
            for i in 0..<p.value.count {
                let u = Float(random.normal())
                p.value[i] = name.hasSuffix("running_var") ? 0.5 + u * u : 0.3 * u + (name.hasSuffix("weight") ? 0.8 : 0)
            }
        }
        return model
    }

    static func input(_ n: Int, seed: UInt64 = 11) -> Tensor {
        var random = RandomStream(seed: seed)
        return Tensor(shape: [n, 1, 16, 16], values: (0..<(n * 256)).map { _ in Float(random.normal()) })
    }

    /// An evaluation pass with fusion on or off, and the number of fused group runs it made.
    static func evaluate(_ model: Model, _ x: Tensor, fused: Bool) throws -> (y: [Float], groups: Int) {
        let before = InferenceFusion.fusedRuns.load(ordering: .relaxed)
        let y = try InferenceFusion.$override.withValue(fused) { try model.forward(x, training: false).array() }
        return (y, InferenceFusion.fusedRuns.load(ordering: .relaxed) - before)
    }

    @Test(arguments: [ConvBackend.im2col, .onednn])
    func fusedEvaluationGivesTheUnfusedBits(_ backend: ConvBackend) throws {
        let model = try Self.model(backend)
        let x = Self.input(9)
        let plain = try Self.evaluate(model, x, fused: false)
        let fused = try Self.evaluate(model, x, fused: true)
        // Six groups: layers 1, the residual body, the block's two groups and the shortcut's.
        // (Other suites' fused passes may run at the same time, so at least six.)
        #expect(fused.groups >= 5)
        #expect(plain.y.contains { $0 != 0 })
        assertClose(fused.y, plain.y, rtol: 1e-5, atol: 1e-6, "\(backend) fused output")
        #expect(fused.y == plain.y, "each fused step is the unfused float expression")
        // A second pass, and a smaller batch in between: the same bits.
        _ = try Self.evaluate(model, Self.input(4), fused: true)
        #expect(try Self.evaluate(model, x, fused: true).y == fused.y)
    }

    /// A fresh model's first forward may be a fused one: the im2col workspace is allocated on
    /// first use by the fused path as well as by the plain one.
    @Test(arguments: [ConvBackend.im2col, .onednn])
    func fusedEvaluationFirstOnAFreshModel(_ backend: ConvBackend) throws {
        let x = Self.input(5)
        let fused = try Self.evaluate(try Self.model(backend), x, fused: true)
        let plain = try Self.evaluate(try Self.model(backend), x, fused: false)
        #expect(plain.y.contains { $0 != 0 })
        #expect(fused.y == plain.y)
    }

    /// Train a step, evaluate, train another, evaluate: each evaluation sees the parameters and
    /// running statistics of the moment (nothing folded is kept from an earlier pass).
    @Test(arguments: [ConvBackend.im2col, .onednn])
    func noStaleFoldAcrossTrainingSteps(_ backend: ConvBackend) throws {
        let model = try Self.model(backend)
        let x = Self.input(9), probe = Self.input(6, seed: 3)
        func trainStep() throws {
            model.zeroGradients()
            let y = try model.forward(x, training: true)
            for i in 0..<y.count { model.outputGradient[i] = y[i] * 0.5 - 0.1 }
            try model.backward(input: x)
            for (_, p) in model.trainableParameters { for i in 0..<p.value.count { p.value[i] -= 0.05 * p.grad![i] } }
        }
        try trainStep()
        let first = try Self.evaluate(model, probe, fused: true)
        #expect(first.y == (try Self.evaluate(model, probe, fused: false)).y)
        try trainStep()
        let second = try Self.evaluate(model, probe, fused: true)
        #expect(second.y == (try Self.evaluate(model, probe, fused: false)).y)
        #expect(second.y != first.y, "the second step changed the model")
    }

    /// A hook on a layer inside a fused group sees that layer's own output; the model's output is
    /// unchanged; the other groups still fuse.
    @Test func hookedLayersAreNotFusedAway() throws {
        let model = try Self.model(.auto)
        let x = Self.input(9)
        let plain = try Self.evaluate(model, x, fused: false)
        for path in ["1.0", "1.1", "1.2", "2.body.2", "2.body", "3.body.4"] {
            let hook = try model.hook(layer: path)
            defer { hook.remove() }
            let fused = try Self.evaluate(model, x, fused: true)
            let seen = try #require(hook.output).array()
            _ = try Self.evaluate(model, x, fused: false)
            #expect(seen == (try #require(hook.output)).array(), "hook on \(path)")
            #expect(fused.y == plain.y, "output with a hook on \(path)")
            #expect(fused.groups >= 4, "the other groups still fuse (hook on \(path))")
        }
    }

    /// A backward pass right after a fused evaluation pass gets the gradients of the unfused one
    /// (the skipped intermediate outputs are recomputed).
    @Test(arguments: [ConvBackend.im2col, .onednn])
    func backwardAfterAFusedPass(_ backend: ConvBackend) throws {
        let model = try Self.model(backend)
        let x = Self.input(9)
        func gradients(fused: Bool) throws -> [[Float]] {
            model.zeroGradients()
            _ = try Self.evaluate(model, x, fused: fused)
            for i in 0..<model.outputGradient.count { model.outputGradient[i] = Float(i % 7) - 3 }
            try model.backward(input: x)
            return model.trainableParameters.map { $0.parameter.grad!.array() }
        }
        let plain = try gradients(fused: false), fused = try gradients(fused: true)
        #expect(plain.contains { $0.contains { $0 != 0 } })
        #expect(fused == plain)
    }
}
