import ArgumentParser
import Foundation
import StrataCore

struct Cam: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write, per image file, a PNG of the image with the class activation map of the predicted class (or --class) overlaid.",
        discussion: """
        The map is the features pooled by the model's head weighted by the head's linear weights of
        the class, clamped at 0, normalised to 0...1 and upsampled bilinearly (docs/recipes.md,
        "Class activation maps"). The model must end with a global pool and a linear layer. Each
        image is prepared as `strata predict` prepares it; the picture is enlarged to at least 224
        pixels a side. Exit status: 0 success, 2 bad input, 1 any other failure.
        """)

    @Argument(help: "The recipe file (JSON).") var recipe: String
    @Option(name: .long, help: "The checkpoint (.safetensors) to load.") var checkpoint: String
    @Argument(help: "Image files (PNG or JPEG).") var images: [String]
    @Option(name: .customLong("class"), help: "Map this class index instead of the predicted one.") var mapClass: Int?
    @Option(name: .long, help: "Folder for the PNG files (created if missing).") var out: String = "cam"
    @Option(name: .customLong("set"), help: "Override a recipe field by JSON path (repeatable).") var overrides: [String] = []

    func run() throws {
        do {
            guard !images.isEmpty else { throw CoreError.badInput("cam: name at least one image file") }
            let registry = ComponentRegistry.withPlugins()
            let r = try Recipe.load(file: recipe, overrides: overrides, registry: registry)
            let experiment = try Experiment(recipe: r, registry: registry, file: recipe)
            let cam = try ClassActivationMap(model: experiment.model)
            _ = try Checkpointer(model: experiment.model, optimizer: nil)
                .load(from: URL(fileURLWithPath: checkpoint), optimizerState: false, allowNonFinite: r.allowNonFinite)
            let pipeline = try ImagePrediction(experiment: experiment, checkpoint: checkpoint).pipeline
            do {
                try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            } catch {
                throw CoreError.badInput(.argument("--out \(out)"), "--out \(out): cannot create the folder: \(error.localizedDescription)")
            }
            let stored = experiment.source.exampleShape
            let names = experiment.source.classNames
            let selected = r.data.classes
            func name(_ label: Int) -> String {
                let original = selected.map { $0[label] } ?? label
                return original < names.count ? names[original] : "\(original)"
            }
            let input = Tensor(shape: [1] + experiment.model.exampleShape)  // [1, C, H, W]
            for path in images {
                var image = try ImageDecoder.decode(path: path, channels: stored[0])
                if image.height != stored[1] || image.width != stored[2] {
                    image = Resize.apply(FloatImage(image), height: stored[1], width: stored[2]).rounded
                }
                var random = TransformPipeline.randomStream(seed: 0, epoch: 0, index: 0)
                let shown = pipeline.transform(FloatImage(image), random: &random)  // what the model sees, 0...255
                random = TransformPipeline.randomStream(seed: 0, epoch: 0, index: 0)
                pipeline.run(FloatImage(image), random: &random, into: input.data)
                let result = try cam.compute(model: experiment.model, input: input, mapClass: mapClass)
                // Enlarge small images (28 × 28) so the map can be seen: nearest for the image,
                // bilinear from the features for the map.
                let scale = max(1, (224 + max(shown.height, shown.width) - 1) / max(shown.height, shown.width))
                let big = Self.enlarge(shown, by: scale)
                let heat = result.upsampled(height: big.height, width: big.width)
                let base = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
                let file = (out as NSString).appendingPathComponent(base + "-cam.png")
                try ImageDecoder.writePNG(ClassActivationMap.overlay(image: big, heat: heat), to: file)
                let p = result.probabilities[result.predicted]
                print("\(path): predicted \(name(result.predicted)) (\(String(format: "%.4f", p))), map of \(name(result.mapClass)) "
                      + "from \(cam.featureLayer) \(result.height)×\(result.width) → \(file)")
            }
        } catch {
            throw report(error)
        }
    }

    /// `image` with each pixel repeated `k × k` times.
    static func enlarge(_ image: FloatImage, by k: Int) -> FloatImage {
        guard k > 1 else { return image }
        let (c, h, w) = (image.channels, image.height, image.width)
        var values = [Float](repeating: 0, count: c * h * k * w * k)
        for ch in 0..<c {
            for y in 0..<(h * k) {
                for x in 0..<(w * k) { values[(ch * h * k + y) * w * k + x] = image.values[(ch * h + y / k) * w + x / k] }
            }
        }
        return FloatImage(channels: c, height: h * k, width: w * k, values: values)
    }
}
