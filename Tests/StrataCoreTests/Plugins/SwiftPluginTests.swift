import Foundation
import Testing
@testable import StrataCore

/// The Swift plugin Plugins/vision, built on StrataKit: loading, its model builders, its Swift
/// layer through the ABI, and how errors thrown in Swift reach the user.
@Suite("The Swift plugin (vision)", .serialized)
struct SwiftPluginTests {
    static var library: URL { PluginFixtures.productsDirectory.appendingPathComponent("libStrataVision.so") }
    static var sourceManifest: URL { RecipeFixtures.repositoryRoot.appendingPathComponent("Plugins/vision/plugin.json") }

    /// A plugin folder holding a copy of the built vision library and its manifest with the
    /// checksum filled in; returns the folder to search.
    static func pluginFolder() throws -> URL {
        let search = RecipeFixtures.temporaryDirectory("swift-plugins")
        let dir = search.appendingPathComponent("vision")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let target = dir.appendingPathComponent(library.lastPathComponent)
        try? FileManager.default.removeItem(at: target)
        try FileManager.default.copyItem(at: library, to: target)
        guard case var .object(manifest) = try JSONParser.parse([UInt8](try Data(contentsOf: sourceManifest))) else {
            throw CoreError.runtime("the vision manifest is not an object")
        }
        manifest["library"] = .string(library.lastPathComponent)
        manifest["sha256"] = .string(try PluginHost.sha256(file: target.path))
        try Data(JSONValue.object(manifest).serialized(pretty: true).utf8).write(to: dir.appendingPathComponent("plugin.json"))
        return search
    }

    func registry() throws -> ComponentRegistry {
        let registry = ComponentRegistry.withPlugins(searchPath: [try Self.pluginFolder().path])
        #expect(registry.pluginDiscovery.refusals.isEmpty, "\(registry.pluginDiscovery.refusals)")
        return registry
    }

    /// The model a recipe's model object builds, for 1x28x28 inputs.
    func model(_ json: JSONValue, registry: ComponentRegistry) throws -> Model {
        let diagnostics = Diagnostics()
        let builder = ModelBuilder(registry: registry, diagnostics: diagnostics)
        let spec = builder.layer(json, path: "$.model")
        #expect(diagnostics.isEmpty, "\(diagnostics.errors)")
        let tree = try LayerSpec.buildTree(try #require(spec), registry: registry, file: "test")
        var context = BuildContext(seed: 1)
        return try Model(root: tree.root, exampleShape: [1, 28, 28], maxBatch: 4, context: &context, jsonPaths: tree.jsonPaths)
    }

    /// The model object of a shipped recipe.
    static func recipeModel(_ file: String) throws -> JSONValue {
        let json = try JSONParser.parse([UInt8](try Data(contentsOf: RecipeFixtures.repositoryRoot.appendingPathComponent("examples/recipes/\(file)"))))
        return try #require(json["model"])
    }

    @Test func theVisionPluginLoadsAndMatchesItsManifest() throws {
        let registry = try registry()
        let manifest = try #require(registry.pluginDiscovery.manifests.first { $0.name == "vision" })
        #expect(manifest.version == "0.1.0")
        let models: Set<String> = ["lenet", "resnet_small", "lenet_bn", "alexnet", "vgg", "nin", "resnet", "mobilenet_v1",
                                   "simplenet", "convnet", "convbnnet", "fastai_resnet", "fastai_resnet2", "googlenet", "densenet", "cifar_resnet"]
        #expect(Set(manifest.components.map { "\($0.kind) \($0.name)" }) == Set(models.map { "model \($0)" } + ["layer swish", "layer bilinear_resize"]))
        let plugin = try PluginHost.load(manifest)
        #expect(Set(plugin.models.keys) == models)
        #expect(Set(plugin.layers.keys) == ["swish", "bilinear_resize"])
        #expect(registry.models["lenet"]?.origin.hasPrefix("plugin vision") == true)
        #expect(registry.layers["swish"]?.origin.hasPrefix("plugin vision") == true)
    }

    @Test func modelBuildersReturnTheGraphsOfTheExplicitRecipes() throws {
        let registry = try registry()
        for (kind, explicit, count) in [("lenet", "lenet-fashion-explicit.json", 61706), ("resnet_small", "resnet-small-fashion-explicit.json", 768670)] {
            let built = try model(["kind": .string(kind)], registry: registry)
            let reference = try model(try Self.recipeModel(explicit), registry: registry)
            #expect(built.trainableParameters.reduce(0) { $0 + $1.parameter.value.count } == count, "\(kind)")
            #expect(built.root.namedParameters().map(\.name) == reference.root.namedParameters().map(\.name), "\(kind)")
            #expect(built.root.namedParameters().map(\.parameter.value.shape) == reference.root.namedParameters().map(\.parameter.value.shape), "\(kind)")
            #expect(built.root.namedLayers().map { "\($0.name) \($0.layer.kind)" } == reference.root.namedLayers().map { "\($0.name) \($0.layer.kind)" }, "\(kind)")
            #expect(built.layerShapes == reference.layerShapes, "\(kind)")
        }
        // The shipped recipes name the builders; their explicit copies spell the same graphs out.
        #expect(try Self.recipeModel("lenet-fashion.json") == ["kind": "lenet"])
        #expect(try Self.recipeModel("resnet-small-fashion.json") == ["kind": "resnet_small"])
    }

    @Test func modelBuilderOptionsChangeTheGraph() throws {
        let registry = try registry()
        let lenet = try model(["kind": "lenet", "classes": 5, "activation": "relu", "pooling": "max"], registry: registry)
        #expect(lenet.outputExampleShape == [5])
        #expect(lenet.root.namedLayers().map(\.layer.kind).contains("maxpool2d"))
        #expect(lenet.root.namedLayers().map(\.layer.kind).contains("relu"))
        let resnet = try model(["kind": "resnet_small", "widths": [8, 16], "stem_channels": 4, "classes": 3], registry: registry)
        #expect(resnet.outputExampleShape == [3])
        #expect(resnet.root.namedParameters().map(\.name).contains("layers1.conv.weight"))
        #expect(resnet.root.namedParameters().first { $0.name == "out.weight" }?.parameter.value.shape == [3, 16])
        // A builder used inside a container takes the container's name for its parameters.
        let nested = try model(["kind": "sequential", "layers": [["kind": "lenet", "name": "net"]]], registry: registry)
        #expect(nested.root.namedParameters().first?.name == "net.0.weight")
    }

    @Test func theSwiftLayerPassesAGradientCheckThroughTheABI() throws {
        let registry = try registry()
        let diagnostics = Diagnostics()
        for beta in [1.0, 2.5] {
            let swish = try #require(try PluginFixtures.layer(#"{"kind": "swish", "beta": \#(beta)}"#, registry: registry, diagnostics: diagnostics))
            try GradientChecker().check(swish, inputShape: [2, 3, 4, 4])
        }
        // SiLU at a few points.
        let swish = try #require(try PluginFixtures.layer(#"{"kind": "swish"}"#, registry: registry, diagnostics: diagnostics))
        var context = BuildContext(seed: 1)
        #expect(try swish.build(inputShape: [1, 3], context: &context) == [1, 3])
        let x = Tensor(shape: [1, 3], values: [-1, 0, 2]), y = Tensor(shape: [1, 3])
        try swish.forward(input: x, output: y, training: false)
        for (i, v) in [-1.0, 0, 2].enumerated() {
            #expect(abs(Double(y[i]) - v / (1 + exp(-v))) < 1e-6)
        }
        #expect(diagnostics.isEmpty, "\(diagnostics.errors)")
    }

    @Test(.enabled(if: RecipeFixtures.hasFashionMNIST, "needs Debian's dataset-fashion-mnist"))
    func aRecipeTrainsWithTheSwiftLayer() throws {
        let registry = try registry()
        let file = RecipeFixtures.write(CPluginEndToEndTests.recipe(activation: #"{"kind": "swish"}"#))
        let summary = try Experiment(recipe: try Recipe.load(file: file, registry: registry), registry: registry, file: file)
            .run(directory: nil, recipeText: "")
        #expect(summary.records.count == 2)
        #expect(summary.records.allSatisfy { $0.trainLoss.isFinite })
        #expect(summary.records[1].trainLoss < summary.records[0].trainLoss)
        #expect(summary.records[1].testAccuracy > 0.5, "\(summary.records)")
    }

    @Test func errorsThrownInSwiftBecomeMessagesNamingPluginAndComponent() throws {
        let registry = try registry()
        let diagnostics = Diagnostics()
        #expect(try PluginFixtures.layer(#"{"kind": "swish", "beta": 300}"#, registry: registry, diagnostics: diagnostics) == nil)
        #expect(try PluginFixtures.layer(#"{"kind": "lenet", "activation": "gelu"}"#, registry: registry, diagnostics: diagnostics) == nil)
        #expect(try PluginFixtures.layer(#"{"kind": "resnet_small", "widths": [20, 0]}"#, registry: registry, diagnostics: diagnostics) == nil)
        #expect(try PluginFixtures.layer(#"{"kind": "lenet", "classes": "ten", "depth": 3}"#, registry: registry, diagnostics: diagnostics) == nil)
        let messages = diagnostics.errors.map(\.description)
        #expect(messages.contains(#"$.model: plugin vision, layer "swish": create failed (invalid argument): beta must be greater than 0 and at most 100, got 300.0"#), "\(messages)")
        #expect(messages.contains(#"$.model: plugin vision, model "lenet": build failed (invalid argument): activation must be "sigmoid", "relu" or "tanh", got "gelu""#), "\(messages)")
        #expect(messages.contains(#"$.model: plugin vision, model "resnet_small": build failed (invalid argument): widths must be 1 to 16 channel counts between 1 and 65536, got [20, 0]"#), "\(messages)")
        #expect(messages.contains(#"$.model.classes: expected an integer, got string "ten""#), "\(messages)")
        #expect(messages.contains { $0.hasPrefix("$.model.depth: unknown key") }, "\(messages)")
    }

    @Test func aShapeErrorInABuiltGraphNamesTheBuilder() throws {
        let registry = try registry()
        let diagnostics = Diagnostics()
        let builder = ModelBuilder(registry: registry, diagnostics: diagnostics)
        let tree = try LayerSpec.buildTree(try #require(builder.layer(["kind": "lenet"], path: "$.model")), registry: registry, file: "test")
        var context = BuildContext(seed: 1)
        // LeNet's flatten feeds 16*5*5 features only for 28x28 inputs; 8x8 inputs cannot pass the second convolution.
        #expect {
            _ = try Model(root: tree.root, exampleShape: [1, 8, 8], maxBatch: 2, context: &context, jsonPaths: tree.jsonPaths)
        } throws: { error in
            "\(error)".contains(#"$.model (model "lenet" of plugin vision"#)
        }
    }

    @Test func aGraphThatCannotBeBuiltIsReportedAtTheModelObjectNamingTheBuilder() throws {
        let registry = ComponentRegistry.builtIn()
        try registry.registerModel("broken", summary: "returns a graph with a problem", origin: "plugin test (test.json)") { _ in
            { ["kind": "sequential", "layers": [["kind": "flatten"], ["kind": "linear"]]] }
        }
        let diagnostics = Diagnostics()
        #expect(try PluginFixtures.layer(#"{"kind": "broken"}"#, registry: registry, diagnostics: diagnostics) == nil)
        #expect(diagnostics.errors.map(\.description)
            == [#"$.model: model "broken" of plugin test (test.json) returned a graph that cannot be built: $.layers[1].out_features: is required"#])
    }

    /// Like a C plugin built with -fvisibility=hidden, the Swift library exports only its entry point.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/nm"), "needs nm"))
    func theLibraryExportsOnlyTheEntryPoint() throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/nm")
        p.arguments = ["-D", "--defined-only", Self.library.path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        let global = text.split(separator: "\n").filter { $0.split(separator: " ").dropFirst().first.map { $0.uppercased() == $0 } ?? false }
        #expect(global.map { $0.split(separator: " ").last.map(String.init) ?? "" } == ["strata_plugin_entry"], "\(global)")
    }

    /// By reading Package.swift: StrataKit depends on the ABI headers (CStrata) only, and no
    /// kit source imports the core.
    @Test func theKitDependsOnTheABIOnly() throws {
        let package = try String(contentsOf: RecipeFixtures.repositoryRoot.appendingPathComponent("Package.swift"), encoding: .utf8)
        let line = try #require(package.split(separator: "\n").first { $0.contains(#"name: "StrataKit""#) })
        #expect(line.contains(#"dependencies: ["CStrata"]"#), "\(line)")
        let folder = RecipeFixtures.repositoryRoot.appendingPathComponent("Sources/StrataKit")
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".swift") {
            let text = try String(contentsOf: folder.appendingPathComponent(file), encoding: .utf8)
            #expect(!text.contains("import StrataCore"), "\(file)")
        }
        let vision = try #require(package.range(of: "name: \"StrataVision\",\n"))
        let target = package[vision.lowerBound...].prefix(300)
        #expect(target.contains(#"dependencies: ["StrataKit"]"#))
    }

    @Test func recipesNamingTheBuildersValidate() throws {
        let registry = try registry()
        for file in ["lenet-fashion.json", "resnet-small-fashion.json"] {
            let path = RecipeFixtures.repositoryRoot.appendingPathComponent("examples/recipes/\(file)").path
            let explicit = path.replacingOccurrences(of: ".json", with: "-explicit.json")
            let a = try Experiment(recipe: try Recipe.load(file: path, registry: registry), registry: registry, file: path)
            let b = try Experiment(recipe: try Recipe.load(file: explicit, registry: registry), registry: registry, file: explicit)
            #expect(a.slots.map(\.name) == b.slots.map(\.name), "\(file)")
            // Same seed, same graph: the same initial values.
            for (p, q) in zip(a.model.root.namedParameters(), b.model.root.namedParameters()) {
                #expect(p.parameter.value.array() == q.parameter.value.array(), "\(file) \(p.name)")
            }
        }
    }
}
