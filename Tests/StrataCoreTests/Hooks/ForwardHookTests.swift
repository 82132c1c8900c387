import Testing
@testable import StrataCore

/// A layer that works in place, as PyTorch's `ReLU(inplace=True)`: it clamps its *input* at zero,
/// then hands that buffer on as its output.
final class InPlaceReLU: Layer {
    let kind = "inplace_relu"
    func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] { inputShape }
    func forward(input: Tensor, output: Tensor, training: Bool) throws {
        for i in 0..<input.count { input.data[i] = max(input.data[i], 0) }
        output.copy(from: input)
    }
    func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        guard let gradInput else { return }
        for i in 0..<output.count { gradInput.data[i] = output.data[i] > 0 ? gradOutput.data[i] : 0 }
    }
}

/// Hooks install process-wide (by layer object), so the suite runs its tests one at a time and
/// the copy counter moves only with its own hooks.
@Suite("Forward hooks", .serialized)
struct ForwardHookTests {
    /// 4 → linear 6 → relu → residual(linear 6, tanh) → linear 3.
    static func model(seed: UInt64 = 7) throws -> (Model, [any Layer]) {
        let l0 = Linear(outFeatures: 6), relu = Activation(.relu)
        let inner = Linear(outFeatures: 6), tanh = Activation(.tanh)
        let res = Residual(body: Sequential([inner, tanh]))
        let head = Linear(outFeatures: 3)
        var context = BuildContext(seed: seed)
        let model = try Model(root: Sequential([l0, relu, res, head]), exampleShape: [4], maxBatch: 5, context: &context)
        return (model, [l0, relu, inner, tanh, res, head])
    }

    static func input(_ n: Int) -> Tensor {
        Tensor(shape: [n, 4], values: (0..<(n * 4)).map { Float(($0 * 37) % 11) / 5 - 1 })
    }

    /// Runs `layer` alone on `x` into a fresh tensor of `shape`.
    static func run(_ layer: any Layer, _ x: Tensor, _ shape: [Int]) throws -> Tensor {
        let y = Tensor(shape: shape)
        try layer.forward(input: x, output: y, training: false)
        return y
    }

    @Test func hookedOutputsEqualTheLayerOutputsComputedSeparately() throws {
        let (model, layers) = try Self.model()
        let hooks = try ["0", "1", "2.body.0", "2.body.1", "2", "3", ""].map { try model.hook(layer: $0) }
        defer { hooks.forEach { $0.remove() } }
        let x = Self.input(5)
        let y = try model.forward(x, training: false).copy()
        // The same network, layer by layer, into separate buffers.
        let a0 = try Self.run(layers[0], x, [5, 6]), a1 = try Self.run(layers[1], a0, [5, 6])
        let b0 = try Self.run(layers[2], a1, [5, 6]), b1 = try Self.run(layers[3], b0, [5, 6])
        let r = Tensor(shape: [5, 6], values: zip(b1.array(), a1.array()).map { $0 + $1 })
        let out = try Self.run(layers[5], r, [5, 3])
        for (hook, expected) in zip(hooks, [a0, a1, b0, b1, r, out, y]) {
            let got = try #require(hook.output, "hook on \(hook.layer)")
            #expect(got.shape == expected.shape, "\(hook.layer)")
            #expect(got.array() == expected.array(), "hook on \"\(hook.layer)\"")
            #expect(hook.captures == 1)
        }
        #expect(out.array() == y.array())
    }

    @Test func aHookFollowsTheBatchSizeAndCallsItsClosureOncePerForward() throws {
        let (model, _) = try Self.model()
        var seen: [[Int]] = []
        var sums: [Float] = []
        let hook = try model.hook(layer: "2") { t in
            seen.append(t.shape)
            sums.append(t.array().reduce(0, +))
        }
        defer { hook.remove() }
        try model.forward(Self.input(5), training: false)
        try model.forward(Self.input(2), training: true)
        #expect(seen == [[5, 6], [2, 6]])
        #expect(hook.output?.shape == [2, 6])
        #expect(sums.last == hook.output?.array().reduce(0, +))
    }

    @Test func nothingHookedCopiesNothing() throws {
        let (model, _) = try Self.model()
        let before = ForwardHooks.copies.load(ordering: .relaxed)
        try model.forward(Self.input(5), training: true)
        #expect(ForwardHooks.copies.load(ordering: .relaxed) == before, "no hook, no copy")
        let hook = try model.hook(layer: "2.body")
        try model.forward(Self.input(5), training: true)
        #expect(ForwardHooks.copies.load(ordering: .relaxed) == before + 1, "one hook, one copy per forward")
        hook.remove()
        let kept = hook.output?.array()
        try model.forward(Self.input(3), training: true)
        #expect(ForwardHooks.copies.load(ordering: .relaxed) == before + 1, "a removed hook copies nothing")
        #expect(hook.captures == 1 && hook.output?.array() == kept, "it keeps its last copy")
    }

    @Test func aHookSeesTheOutputBeforeALaterInPlaceLayerChangesIt() throws {
        let linear = Linear(outFeatures: 6)
        var context = BuildContext(seed: 3)
        let model = try Model(root: Sequential([linear, InPlaceReLU(), Linear(outFeatures: 2)]), exampleShape: [4], maxBatch: 5, context: &context)
        let hook = try model.hook(layer: "0")
        defer { hook.remove() }
        let x = Self.input(5)
        try model.forward(x, training: false)
        let expected = try Self.run(linear, x, [5, 6]).array()
        #expect(expected.contains { $0 < 0 }, "the linear output has negative values for the in-place ReLU to clamp")
        #expect(hook.output?.array() == expected, "the copy was taken before the in-place layer clamped the buffer")
        // The buffer itself was changed in place: a reference instead of a copy would have seen this.
        let buffer = try #require((model.root as? Sequential)?.plannedActivations.first).batchPrefix(5).array()
        #expect(buffer == expected.map { max($0, 0) })
    }

    @Test func aHookOnALayerThatDoesNotExistIsRefusedNamingIt() throws {
        let (model, _) = try Self.model()
        do {
            _ = try model.hook(layer: "2.body.7")
            Issue.record("hook on a missing layer accepted")
        } catch let error as CoreError {
            #expect(error.exitStatus == 2)
            #expect(error.place == .layer("2.body.7"))
            #expect(error.description.contains("\"2.body.7\"") && error.description.contains("2.body.0"), "\(error)")
        }
        #expect(ForwardHooks.active.load(ordering: .relaxed) == 0, "nothing was installed")
    }
}
