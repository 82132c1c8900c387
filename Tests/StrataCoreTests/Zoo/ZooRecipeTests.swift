import Foundation
import Testing
@testable import StrataCore

/// The zoo's shipped recipes build (every component constructed, no data read): the builder
/// accepts the options, the network fits Fashion-MNIST images at the recipe's size (28×28, or
/// d2l's 224×224 and 96×96 through a `resize` transform), and the loss fits the output
/// (log-softmax networks train with `nll`).
@Suite("Zoo recipes", .serialized)
struct ZooRecipeTests {
    /// d2l's input size of each recipe that resizes.
    static let sizes = ["alexnet-fashion.json": 224, "vgg-fashion.json": 224, "nin-fashion.json": 224, "googlenet-fashion.json": 96,
                        "resnet18-fashion.json": 96, "densenet-fashion.json": 96, "mobilenet-v1-fashion.json": 96]
    static let files = ["alexnet-fashion.json", "vgg-fashion.json", "nin-fashion.json", "googlenet-fashion.json", "densenet-fashion.json",
                        "lenet-bn-fashion.json", "resnet18-fashion.json", "resnet50-fashion.json", "resnext50-fashion.json",
                        "mobilenet-v1-fashion.json", "simplenet-fashion.json", "convnet-fashion.json", "convbnnet-fashion.json",
                        "fastai-resnet-fashion.json", "fastai-resnet2-fashion.json"]

    @Test(arguments: files)
    func recipeBuilds(_ file: String) throws {
        let url = RecipeFixtures.repositoryRoot.appendingPathComponent("examples/recipes/\(file)")
        // The batch only sizes the planned buffers: a small one keeps ResNet-50's plan small here.
        guard case var .object(recipe) = try JSONParser.parse([UInt8](try Data(contentsOf: url))) else { throw CoreError.runtime("\(file) is not an object") }
        recipe["batch_size"] = 8
        let path = RecipeFixtures.write(JSONValue.object(recipe).serialized(pretty: true), name: file.replacingOccurrences(of: ".json", with: ""))
        let experiment = try RecipeFixtures.build(file: path, registry: try Zoo.registry())
        let size = Self.sizes[file] ?? 28
        #expect(experiment.model.exampleShape == [1, size, size], "\(file)")
        #expect(experiment.model.outputExampleShape == [10], "\(file)")
        let logSoftmax = experiment.model.root.namedLayers().contains { $0.layer is LogSoftmax }
        #expect((experiment.loss is NLLLoss) == logSoftmax, "\(file)")
    }
}
