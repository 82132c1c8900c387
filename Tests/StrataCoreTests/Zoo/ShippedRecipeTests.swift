import Foundation
import Testing
@testable import StrataCore

/// Every recipe under examples/recipes, run as shipped except for its size: a slice of 64
/// training images, batches of 16, four epochs, no writers, and the large networks at reduced
/// width and input size (the table below). Each trains on real Fashion-MNIST (an image folder
/// made here for the image-folder recipe) and its loss must fall from the first epoch to the
/// last; the few whose recipe settings need more than sixteen steps to move at reduced width
/// only have to run with a finite loss that changes.
@Suite("Shipped recipes train", .serialized, .enabled(if: RecipeFixtures.hasFashionMNIST))
struct ShippedRecipeTests {
    /// Model options merged into a recipe's model, and the resize target replacing its own.
    struct Reduction {
        var model: [String: JSONValue] = [:]
        var size: Int? = nil
        /// The recipe's own optimizer needs more steps than the test takes (plain SGD at d2l's
        /// rate on a thin network): the loss must only be finite and change.
        var runsOnly = false
    }

    static let reductions: [String: Reduction] = [
        "alexnet-fashion.json": Reduction(model: ["width": 0.0625, "hidden": 128, "dropout": 0], size: 67, runsOnly: true),
        "vgg-fashion.json": Reduction(model: ["ratio": 16, "hidden": 64, "dropout": 0], size: 32, runsOnly: true),
        "nin-fashion.json": Reduction(model: ["width": 0.25, "dropout": 0], size: 67, runsOnly: true),
        "googlenet-fashion.json": Reduction(model: ["width": 0.125], size: 32),
        "resnet18-fashion.json": Reduction(model: ["width": 0.125], size: 32),
        "densenet-fashion.json": Reduction(model: ["growth_rate": 8, "num_init_features": 16], size: 32),
        "mobilenet-v1-fashion.json": Reduction(model: ["alpha": 0.25], size: 32),
        "resnet50-fashion.json": Reduction(model: ["width": 0.0625]),
        "resnext50-fashion.json": Reduction(model: ["width": 0.0625, "groups": 4, "width_per_group": 16]),
        "boostresnet-cifar-resnet-fashion.json": Reduction(model: ["depth": 8]),
        "boostresnet-refined-cifar-resnet-fashion.json": Reduction(model: ["depth": 8]),
        "e2e-cifar-resnet-fashion.json": Reduction(model: ["depth": 8]),
    ]

    static var files: [String] {
        let folder = RecipeFixtures.repositoryRoot.appendingPathComponent("examples/recipes")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".json") }.sorted()
    }

    /// Records each batch's loss.
    final class LossRecorder: Callback {
        let kind = "test_loss_recorder"
        var losses: [(epoch: Int, loss: Double)] = []
        func onEvent(_ event: TrainingEvent, context: inout CallbackContext) throws {
            if event == .batchEnd { losses.append((context.epoch, context.batchLoss)) }
        }
    }

    /// The shipped recipe `file`, cut to test size; `imageFolder` replaces an image-folder path.
    static func reduced(_ file: String, imageFolder: String) throws -> String {
        let url = RecipeFixtures.repositoryRoot.appendingPathComponent("examples/recipes/\(file)")
        guard case var .object(recipe) = try JSONParser.parse([UInt8](try Data(contentsOf: url))) else {
            throw CoreError.runtime("\(file) is not an object")
        }
        let reduction = reductions[file] ?? Reduction()
        recipe["threads"] = nil  // the pool's size is process-wide; keep the suite's
        recipe["batch_size"] = 16
        recipe["callbacks"] = recipe["callbacks"].map { value -> JSONValue in
            guard case let .array(items) = value else { return value }
            return .array(items.filter { $0["kind"] == .string("lr_schedule") })
        }
        if case var .object(scheme)? = recipe["scheme"] {
            // Boosting: one short round per block, checked once.
            for key in ["check_every", "max_iters"] where scheme[key] != nil { scheme[key] = 8 }
            recipe["scheme"] = .object(scheme)
            recipe["epochs"] = 1
        } else {
            recipe["epochs"] = 4
        }
        guard case var .object(data) = recipe["data"] ?? .object([:]) else { throw CoreError.runtime("\(file): data") }
        data["train_limit"] = 64
        data["test_limit"] = 16
        if data["dataset"] == .string("image-folder") { data["path"] = .string(imageFolder) }
        if let size = reduction.size {
            for key in ["train_transforms", "eval_transforms"] {
                guard case let .array(steps)? = data[key] else { continue }
                data[key] = .array(steps.map { step in
                    guard case var .object(o) = step, o["kind"] == .string("resize") else { return step }
                    o["size"] = .number(Double(size))
                    return .object(o)
                })
            }
        }
        recipe["data"] = .object(data)
        guard case var .object(model)? = recipe["model"] else { throw CoreError.runtime("\(file): model") }
        for (key, value) in reduction.model { model[key] = value }
        recipe["model"] = .object(model)
        return JSONValue.object(recipe).serialized(pretty: true)
    }

    /// The first 80 Fashion-MNIST training images as PNG files in `root/{train,valid}/<label>/`
    /// (64 and 16), as scripts/export_fashion_mnist_pngs.py lays the data set out.
    static func fashionFolder(_ root: String) throws {
        let data = try FashionMNIST.load(split: .train, limit: 80)
        for i in 0..<data.count {
            let folder = "\(root)/\(i < 64 ? "train" : "valid")/\(data.labels[i])"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            let bytes = Array(data.pixels[(i * 784)..<((i + 1) * 784)])
            try ImageDecoder.writePNG(PixelImage(channels: 1, height: 28, width: 28, bytes: bytes), to: "\(folder)/\(i).png")
        }
    }

    /// The recipes found are the shipped ones (a renamed folder would make the test vacuous).
    @Test func findsTheShippedRecipes() {
        let found = Self.files
        #expect(found.count >= 29, "\(found)")
        for name in ["alexnet-fashion.json", "vgg-fashion.json", "nin-fashion.json", "googlenet-fashion.json",
                     "resnet18-fashion.json", "densenet-fashion.json", "mobilenet-v1-fashion.json"] {
            #expect(found.contains(name))
        }
        for name in Self.reductions.keys { #expect(found.contains(name), "\(name) is reduced but not shipped") }
    }

    @Test(arguments: files)
    func trains(_ file: String) throws {
        try DataTestFiles.withDirectory { folder in
            try Self.fashionFolder(folder)
            let text = try Self.reduced(file, imageFolder: folder)
            let path = RecipeFixtures.write(text, name: file.replacingOccurrences(of: ".json", with: ""))
            let registry = try BoostResNetSchemeTests.registry()
            let experiment = try Experiment(recipe: try Recipe.load(file: path, registry: registry), registry: registry, file: path)
            let recorder = LossRecorder()
            let summary = try experiment.run(directory: nil, recipeText: text, extraCallbacks: [recorder])
            if try JSONParser.parse(text)["scheme"] != nil {
                // A boosting scheme trains block by block outside the fit loop: its figures are the run's.
                let final = try #require(summary.final, "\(file): no record")
                #expect(final.testAccuracy.isFinite && final.testAccuracy >= 0, "\(file): \(final)")
                return
            }
            let losses = recorder.losses
            #expect(losses.count == 16, "\(file): \(losses.count) steps")
            #expect(losses.allSatisfy { $0.loss.isFinite }, "\(file): \(losses)")
            func mean(_ epoch: Int) -> Double {
                let l = losses.filter { $0.epoch == epoch }.map(\.loss)
                return l.reduce(0, +) / Double(max(l.count, 1))
            }
            let (first, last) = (mean(1), mean(4))
            if Self.reductions[file]?.runsOnly == true {
                #expect(Set(losses.map(\.loss)).count > 1, "\(file): the loss does not change: \(losses)")
            } else {
                #expect(last < first, "\(file): epoch 1 mean loss \(first), epoch 4 \(last)")
            }
        }
    }
}
