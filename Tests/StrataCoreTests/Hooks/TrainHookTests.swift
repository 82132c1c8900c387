import CStrata
import Testing
@testable import StrataCore

/// Forward hooks through the C ABI ("strata.train" 0.3: model_hook, hook_output, hook_remove),
/// called through the function pointers of the table a plugin scheme receives. Nested in the
/// forward-hook suite, which counts hooks process-wide.
extension ForwardHookTests {
@Suite("Forward hooks through strata.train")
struct TrainHookTests {
    /// A run handle and a model handle over 4 → linear 6 ("fc1") → in-place ReLU ("relu") → linear 3 ("fc2").
    static func setUp() throws -> (run: SchemeRun, model: OpaquePointer, layers: [any Layer], api: StrataTrainAPI) {
        let text = #"{"epochs": 1, "model": {"kind": "sequential", "layers": [{"kind": "flatten"}]}, "optimizer": {"kind": "sgd", "lr": 0.1}}"#
        let diagnostics = Diagnostics()
        let recipe = Recipe.parse(try JSONParser.parse(text), defaultName: "hooks", registry: .builtIn(), diagnostics: diagnostics)
        let empty = ImageDataset(pixels: [], labels: [], channels: 1, height: 2, width: 2, classCount: 3)
        let run = SchemeRun(recipe: recipe, registry: .builtIn(), directory: nil, train: empty, test: empty, callbacks: [])
        let fc1 = Linear(outFeatures: 6), relu = InPlaceReLU(), fc2 = Linear(outFeatures: 3)
        var context = BuildContext(seed: 11)
        let model = try Model(root: Sequential([("fc1", fc1), ("relu", relu), ("fc2", fc2)]), exampleShape: [4], maxBatch: 5, context: &context)
        let handle = OpaquePointer(run.retain(SchemeModel(run: run, model: model, graph: "{}")))
        return (run, handle, [fc1, relu, fc2], TrainInterface.table.pointee)
    }

    static func tensor(_ t: Tensor) -> (StrataTensor, [Int64], [Int64]) {
        let shape = t.shape.map(Int64.init)
        var strides = [Int64](repeating: 1, count: shape.count)
        for d in stride(from: shape.count - 2, through: 0, by: -1) { strides[d] = strides[d + 1] * shape[d + 1] }
        return (PluginLayer.descriptor(t.data, ndim: Int32(shape.count), shape: nil, strides: nil, readOnly: true), shape, strides)
    }

    /// Runs the whole model through model_forward on `x` ([n, 4]).
    static func forward(_ api: StrataTrainAPI, _ model: OpaquePointer, _ x: Tensor) throws -> [Float] {
        var (descriptor, shape, strides) = tensor(x)
        var err = PluginLayer.newError()
        var out: UnsafePointer<StrataTensor>? = nil
        let status = shape.withUnsafeMutableBufferPointer { s in
            strides.withUnsafeMutableBufferPointer { st in
                descriptor.shape = UnsafePointer(s.baseAddress)
                descriptor.strides = UnsafePointer(st.baseAddress)
                return api.model_forward!(model, 0, 3, &descriptor, 0, &out, &err)
            }
        }
        try #require(status == STRATA_OK, "\(HostAPI.message(of: &err))")
        let y = try #require(out)
        let count = (0..<Int(y.pointee.ndim)).reduce(1) { $0 * Int(y.pointee.shape[$1]) }
        return Array(UnsafeBufferPointer(start: y.pointee.data.assumingMemoryBound(to: Float.self), count: count))
    }

    @Test func aHookCopiesTheLayerOutputBeforeAnInPlaceLayerChangesIt() throws {
        let (run, model, layers, api) = try Self.setUp()
        defer { run.releaseAll() }
        #expect(api.abi_version == 0x0000_0003 && Int(api.struct_size) == MemoryLayout<StrataTrainAPI>.size)
        var err = PluginLayer.newError()
        var hook: OpaquePointer? = nil
        #expect(api.model_hook!(model, "fc1", &hook, &err) == STRATA_OK)
        let h = try #require(hook)
        var output: UnsafePointer<StrataTensor>? = nil
        var captures: Int64 = -1
        #expect(api.hook_output!(h, &output, &captures, &err) == STRATA_OK)
        #expect(output == nil && captures == 0, "nothing before the first forward")

        let x = ForwardHookTests.input(5)
        _ = try Self.forward(api, model, x)
        #expect(api.hook_output!(h, &output, &captures, &err) == STRATA_OK)
        let t = try #require(output)
        #expect(captures == 1 && t.pointee.ndim == 2 && t.pointee.shape[0] == 5 && t.pointee.shape[1] == 6)
        #expect(t.pointee.flags & STRATA_TENSOR_READ_ONLY != 0)
        let got = Array(UnsafeBufferPointer(start: t.pointee.data.assumingMemoryBound(to: Float.self), count: 30))
        // fc1 alone on x: negative entries must survive, though the in-place ReLU clamped the buffer.
        let expected = try ForwardHookTests.run(layers[0], x, [5, 6]).array()
        #expect(got == expected)
        #expect(got.contains { $0 < 0 }, "the test needs negative pre-activations to be able to fail")

        // A second batch of another size replaces the copy.
        _ = try Self.forward(api, model, ForwardHookTests.input(2))
        #expect(api.hook_output!(h, &output, &captures, &err) == STRATA_OK)
        #expect(captures == 2 && output?.pointee.shape[0] == 2)

        // Removed: the layer runs unwatched again and the handle is refused.
        api.hook_remove!(h)
        #expect(ForwardHooks.active.load(ordering: .relaxed) == 0)
        #expect(api.hook_output!(h, &output, &captures, &err) == STRATA_ERR_INVALID_ARGUMENT)
        api.hook_remove!(nil)
    }

    @Test func badNamesAndHandlesAreRefusedAndLeftoverHooksGoWithTheRun() throws {
        let (run, model, _, api) = try Self.setUp()
        var err = PluginLayer.newError()
        var hook: OpaquePointer? = nil
        #expect(api.model_hook!(model, "fc9", &hook, &err) == STRATA_ERR_INVALID_ARGUMENT && hook == nil)
        let message = HostAPI.message(of: &err)
        #expect(message.contains("fc9") && message.contains("fc1, relu, fc2"), "\(message)")
        #expect(api.model_hook!(model, "", &hook, &err) == STRATA_ERR_INVALID_ARGUMENT)
        #expect(api.model_hook!(OpaquePointer(bitPattern: 0x1000), "fc1", &hook, &err) == STRATA_ERR_INVALID_ARGUMENT)
        #expect(api.model_hook!(model, nil, &hook, &err) == STRATA_ERR_INVALID_ARGUMENT)
        // A hook the scheme never removes is removed when the run releases its handles.
        #expect(api.model_hook!(model, "relu", &hook, &err) == STRATA_OK && hook != nil)
        #expect(ForwardHooks.active.load(ordering: .relaxed) == 1)
        run.releaseAll()
        #expect(ForwardHooks.active.load(ordering: .relaxed) == 0)
    }
}
}
