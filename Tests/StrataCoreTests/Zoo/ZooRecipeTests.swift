import Foundation
import Testing
@testable import StrataCore

/// The zoo's shipped recipes build (every component constructed, no data read): the builder
/// accepts the options, the network fits 1x28x28 Fashion-MNIST images, and the loss fits the
/// output (log-softmax networks train with `nll`).
@Suite("Zoo recipes", .serialized)
struct ZooRecipeTests {
    static let files = ["lenet-bn-fashion.json", "resnet18-fashion.json", "resnet50-fashion.json", "resnext50-fashion.json",
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
        #expect(experiment.model.exampleShape == [1, 28, 28])
        #expect(experiment.model.outputExampleShape == [10], "\(file)")
        let logSoftmax = experiment.model.root.namedLayers().contains { $0.layer is LogSoftmax }
        #expect((experiment.loss is NLLLoss) == logSoftmax, "\(file)")
    }
}
