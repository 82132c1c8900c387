import Foundation
import Testing
@testable import StrataCore

/// The newcomer template examples/c-plugin, built and used exactly as its README says, in a
/// temporary copy of the folder layout (examples/c-plugin next to include/).
@Suite("The C plugin template")
struct TemplateTests {
    static let buildCommand = "cc -shared -fPIC -fvisibility=hidden -I../../include my_layer.c -o libmy_layer.so"

    @Test func theReadmeShowsTheBuildCommand() throws {
        let root = RecipeFixtures.repositoryRoot
        for file in ["examples/c-plugin/README.md", "README.md"] {
            let text = try String(contentsOf: root.appendingPathComponent(file), encoding: .utf8)
            #expect(text.contains(Self.buildCommand), "\(file)")
            #expect(text.contains("strata plugins checksum"), "\(file)")
        }
    }

    @Test func checksumRefusesWhatItCannotHash() throws {
        let strata = PluginFixtures.productsDirectory.appendingPathComponent("strata").path
        let folder = RecipeFixtures.temporaryDirectory("template")
        let missing = try runProgram(strata, ["plugins", "checksum", folder.appendingPathComponent("plugin.json").path])
        #expect(missing.status == 2 && missing.output.contains("plugin \(folder.path)/plugin.json: cannot read the manifest"), "\(missing.output)")
        try FileManager.default.copyItem(at: RecipeFixtures.repositoryRoot.appendingPathComponent("examples/c-plugin/plugin.json"),
                                         to: folder.appendingPathComponent("plugin.json"))
        let unbuilt = try runProgram(strata, ["plugins", "checksum", folder.path])
        #expect(unbuilt.status == 2 && unbuilt.output.contains("library \(folder.path)/libmy_layer.so: not built"), "\(unbuilt.output)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/cc"), "needs cc to build the template"))
    func theTemplateBuildsLoadsAndTrainsOneBatch() throws {
        let root = RecipeFixtures.repositoryRoot
        let work = RecipeFixtures.temporaryDirectory("template")
        let folder = work.appendingPathComponent("examples/c-plugin")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: work.appendingPathComponent("include"), withDestinationURL: root.appendingPathComponent("include"))
        for file in ["my_layer.c", "plugin.json", "recipe.json"] {
            try FileManager.default.copyItem(at: root.appendingPathComponent("examples/c-plugin/\(file)"), to: folder.appendingPathComponent(file))
        }
        // 1. Build, with the README's command.
        let build = try runProgram("/bin/sh", ["-c", Self.buildCommand], in: folder)
        #expect(build.status == 0, "\(build.output)")
        // 2. Fill in the checksum.
        let strata = PluginFixtures.productsDirectory.appendingPathComponent("strata").path
        let checksum = try runProgram(strata, ["plugins", "checksum", "plugin.json"], in: folder)
        #expect(checksum.status == 0, "\(checksum.output)")
        let digest = try PluginHost.sha256(file: folder.appendingPathComponent("libmy_layer.so").path)
        #expect(checksum.output.contains(digest), "\(checksum.output)")
        // 3. Found on STRATA_PLUGIN_PATH (the folder above the plugin's), listed without refusals.
        let listed = try runProgram(strata, ["plugins"], in: folder, environment: ["STRATA_PLUGIN_PATH": work.appendingPathComponent("examples").path])
        #expect(listed.output.contains("layer my_layer: y = 2x"), "\(listed.output)")
        #expect(listed.output.contains("refused: none"), "\(listed.output)")
        // 4. The recipe uses it: one training batch, and the layer doubles its input.
        let registry = ComponentRegistry.withPlugins(searchPath: [work.appendingPathComponent("examples").path])
        #expect(registry.pluginDiscovery.refusals.isEmpty, "\(registry.pluginDiscovery.refusals)")
        let file = folder.appendingPathComponent("recipe.json").path
        let experiment = try Experiment(recipe: try Recipe.load(file: file, registry: registry), registry: registry, file: file)
        let model = experiment.model
        let input = Tensor(shape: [4, 1, 28, 28])
        var random = RandomStream(seed: 3)
        for i in 0..<input.count { input[i] = Float(random.normal()) }
        let output = try model.forward(input, training: true)
        #expect(output.shape == [4, 10])
        model.zeroGradients()
        for i in 0..<model.outputGradient.count { model.outputGradient[i] = 0.1 }
        try model.backward(input: input)
        let grads = model.trainableParameters.compactMap { $0.parameter.grad?.array() }.joined()
        #expect(grads.contains { $0 != 0 } && grads.allSatisfy { $0.isFinite })
        let diagnostics = Diagnostics()
        let layer = try #require(try PluginFixtures.layer(#"{"kind": "my_layer"}"#, registry: registry, diagnostics: diagnostics))
        var context = BuildContext(seed: 1)
        _ = try layer.build(inputShape: [2, 3], context: &context)
        let x = Tensor(shape: [2, 3], values: [1, -2, 3, 0.5, 0, -7]), y = Tensor(shape: [2, 3])
        try layer.forward(input: x, output: y, training: false)
        #expect(y.array() == [2, -4, 6, 1, 0, -14])
    }
}
