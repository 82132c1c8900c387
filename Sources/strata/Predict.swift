import ArgumentParser
import Foundation
import StrataCore

struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the most probable classes of image files (PNG or JPEG) under a checkpoint, with the recipe's evaluation transforms.",
        discussion: """
        Each image is decoded to the recipe's channels, resized to its stored size, put through
        eval_transforms (or the recipe's normalize) and scored; the scores become probabilities by
        softmax. Exit status: 0 success, 2 bad input (an unreadable image is named), 1 any other failure.
        """)

    @Argument(help: "The recipe file (JSON).") var recipe: String
    @Option(name: .long, help: "The checkpoint (.safetensors) to load.") var checkpoint: String
    @Argument(help: "Image files (PNG or JPEG).") var images: [String]
    @Option(name: .long, help: "Classes to list per image.") var top: Int = 3
    @Flag(name: .long, help: "One JSON object per image on standard output.") var json = false
    @Option(name: .customLong("set"), help: "Override a recipe field by JSON path (repeatable).") var overrides: [String] = []

    func run() throws {
        do {
            guard !images.isEmpty else { throw CoreError.badInput("predict: name at least one image file") }
            guard top >= 1 else { throw CoreError.badInput("--top: \(top) must be at least 1") }
            let registry = ComponentRegistry.withPlugins()
            let r = try Recipe.load(file: recipe, overrides: overrides, registry: registry)
            let experiment = try Experiment(recipe: r, registry: registry, file: recipe)
            _ = try Checkpointer(model: experiment.model, optimizer: nil)
                .load(from: URL(fileURLWithPath: checkpoint), optimizerState: false, allowNonFinite: r.allowNonFinite)
            let predictor = try ImagePrediction(experiment: experiment, checkpoint: checkpoint)
            for result in try images.flatMap({ try predictor.predict(paths: [$0], top: top) }) {
                if json {
                    let classes: [JSONValue] = result.top.map {
                        .object(JSONObject([("label", .number(Double($0.label))), ("name", .string($0.name)), ("probability", .number($0.probability))]))
                    }
                    print(JSONValue.object(JSONObject([("image", .string(result.path)), ("top", .array(classes))])).serialized())
                } else {
                    print(result.path + ": " + result.top.map { "\($0.name) \(String(format: "%.4f", $0.probability))" }.joined(separator: ", "))
                }
            }
        } catch {
            throw report(error)
        }
    }
}
