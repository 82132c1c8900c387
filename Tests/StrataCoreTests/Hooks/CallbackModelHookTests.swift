import CStrata
import Foundation
import Testing
@testable import StrataCore

/// A C callback plugin hooks a layer through the model handle of its context (ABI 0.5):
/// c-callbacks' `layer_output_log`, checked against the core's `activation_stats` on the same layer.
/// Nested in the forward-hook suite, which counts hooks process-wide.
extension ForwardHookTests {
@Suite("Callback plugins hook layers", .serialized)
struct CallbackModelHookTests {
    static func recipe(data: String, callbacks: String) -> String {
        SyntheticData.recipe(data: data, epochs: 2).replacingOccurrences(
            of: #""callbacks": [{"kind": "metrics_log"}, {"kind": "checkpoint", "every": 1, "keep_last": 2}]"#,
            with: #""callbacks": \#(callbacks)"#)
    }

    @Test func theCPluginSeesEveryBatchsOutputOfTheHookedLayer() throws {
        let registry = try ShippedPlugins.registry()
        let data = try SyntheticData.folder(train: .init(count: 48), test: .init(count: 16))
        let file = RecipeFixtures.write(Self.recipe(data: data, callbacks: #"""
            [{"kind": "metrics_log"}, {"kind": "activation_stats", "layers": ["2"]}, {"kind": "layer_output_log", "layer": "2"}]
            """#))
        let before = ForwardHooks.active.load(ordering: .relaxed)
        let directory = RecipeFixtures.temporaryDirectory("layer-output-log")
        _ = try Experiment(recipe: try Recipe.load(file: file, registry: registry), registry: registry, file: file)
            .run(directory: directory, recipeText: "")
        #expect(ForwardHooks.active.load(ordering: .relaxed) == before, "every hook is removed after the run")
        let lines = try String(contentsOf: directory.appendingPathComponent("layer_outputs.csv"), encoding: .utf8).split(separator: "\n")
        #expect(lines.first == "epoch,batch,captures,shape,mean,max_abs")
        // 48 examples in batches of 16: 3 batches per epoch, 2 epochs. Layer 2 is the ReLU after
        // conv 3×3 stride 2 on 28×28 (13×13, 4 channels) and batch norm.
        let rows = lines.dropFirst().map { $0.split(separator: ",").map(String.init) }
        #expect(rows.count == 6)
        let metrics = try String(contentsOf: directory.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try JSONParser.parse(String($0)) }
        for epoch in 1...2 {
            let epochRows = rows.filter { $0[0] == "\(epoch)" }
            #expect(epochRows.map { $0[1] } == ["0", "1", "2"])
            for row in epochRows {
                #expect(row[3] == "16x4x13x13", "\(row)")
                // After a ReLU: no negative mean, and a largest |x| above the mean.
                let mean = try #require(Double(row[4])), largest = try #require(Double(row[5]))
                #expect(mean > 0 && largest > mean, "\(row)")
            }
            // Every training forward and every evaluation forward (one test batch) is captured.
            let captures = epochRows.compactMap { Int($0[2]) }
            #expect(captures.count == 3 && captures[1] == captures[0] + 1 && captures[2] == captures[1] + 1, "\(captures)")
            // The plugin's per-batch means, averaged, are the core's epoch mean of the same layer.
            let average = epochRows.compactMap { Double($0[4]) }.reduce(0, +) / 3
            let core = try #require(metrics[epoch - 1]["act/2/mean"]?.numberValue)
            #expect(abs(average - core) <= 1e-9 * max(1, abs(core)), "epoch \(epoch): plugin \(average), core \(core)")
        }
    }

    @Test func aLayerTheModelDoesNotHaveFailsTheRunNamingIt() throws {
        let registry = try ShippedPlugins.registry()
        let data = try SyntheticData.folder(train: .init(count: 16), test: .init(count: 8))
        let file = RecipeFixtures.write(Self.recipe(data: data, callbacks: #"[{"kind": "layer_output_log", "layer": "9.conv"}]"#))
        let experiment = try Experiment(recipe: try Recipe.load(file: file, registry: registry), registry: registry, file: file)
        #expect {
            _ = try experiment.run(directory: RecipeFixtures.temporaryDirectory("layer-output-bad"), recipeText: "")
        } throws: { error in
            let text = "\(error)"
            return text.contains("layer_output_log") && text.contains("\"9.conv\"") && text.contains("its layers are 0, 1, 2, 3, 4")
        }
        // Without "layer" the plugin's create refuses, naming the option and the callback's path.
        let missing = RecipeFixtures.write(Self.recipe(data: data, callbacks: #"[{"kind": "layer_output_log"}]"#))
        let bare = try Experiment(recipe: try Recipe.load(file: missing, registry: registry), registry: registry, file: missing)
        #expect {
            _ = try bare.run(directory: RecipeFixtures.temporaryDirectory("layer-output-missing"), recipeText: "")
        } throws: { error in
            "\(error)".contains("option \"layer\" is required") && "\(error)".contains("$.callbacks[0]")
        }
    }

    /// The context's model belongs to the loop: a callback's handle cannot run it.
    @Test func theBorrowedModelRefusesTrainingCalls() throws {
        let (model, _) = try ForwardHookTests.model()
        let owner = HandleOwner()
        defer { owner.releaseAll() }
        let handle = OpaquePointer(owner.retain(SchemeModel(run: owner, model: model, graph: "{}", borrowed: true)))
        let api = TrainInterface.table.pointee
        var err = PluginLayer.newError()
        #expect(api.model_zero_grad!(handle, 0, 1, &err) == STRATA_ERR_INVALID_ARGUMENT)
        #expect(HostAPI.message(of: &err).contains("belongs to the training loop"))
        api.model_release!(handle)
        #expect(api.model_child_count!(handle) == 4, "model_release leaves a borrowed handle live")
        var hook: OpaquePointer?
        #expect(api.model_hook!(handle, "1", &hook, &err) == STRATA_OK && hook != nil)
        api.hook_remove!(hook)
    }
}
}
