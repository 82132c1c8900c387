import Foundation
import Testing
@testable import StrataCore

/// Each zoo architecture, at reduced width and input size, trained for ten steps (sixteen for the plain deep networks) on one
/// small batch of class-dependent stripe images: the training loss must fall by a tenth.
@Suite("Zoo networks learn", .serialized)
struct ZooTrainingTests {
    struct Case: CustomStringConvertible, Sendable {
        let model: String  // recipe model object
        let shape: [Int]
        let classes: Int
        let lr: Double
        /// The plain deep networks (AlexNet, VGG, NiN) start slowly at reduced width: Xavier-uniform
        /// weights (as d2l's train_ch6 draws them) and Adam at 0.002 instead of SGD with momentum.
        var xavier = false
        var description: String { model }
    }

    static let cases: [Case] = [
        Case(model: #"{"kind": "lenet_bn"}"#, shape: [1, 28, 28], classes: 2, lr: 0.05),
        Case(model: #"{"kind": "alexnet", "variant": "d2l", "width": 0.0625, "hidden": 1024, "dropout": 0}"#, shape: [1, 67, 67], classes: 10, lr: 0.2, xavier: true),
        Case(model: #"{"kind": "alexnet", "variant": "torchvision", "width": 0.0625, "hidden": 1024, "dropout": 0}"#, shape: [1, 67, 67], classes: 10, lr: 0.2, xavier: true),
        Case(model: #"{"kind": "vgg", "ratio": 16, "hidden": 64, "dropout": 0}"#, shape: [1, 32, 32], classes: 10, lr: 0.2, xavier: true),
        Case(model: #"{"kind": "vgg", "config": "D", "batch_norm": true, "ratio": 32, "hidden": 32, "dropout": 0}"#, shape: [1, 32, 32], classes: 10, lr: 0.05),
        Case(model: #"{"kind": "nin", "width": 0.25, "dropout": 0}"#, shape: [1, 67, 67], classes: 10, lr: 0.2, xavier: true),
        Case(model: #"{"kind": "resnet", "width": 0.125}"#, shape: [1, 32, 32], classes: 10, lr: 0.05),
        Case(model: #"{"kind": "resnet", "variant": "d2l", "width": 0.125}"#, shape: [1, 32, 32], classes: 10, lr: 0.05),
        Case(model: #"{"kind": "resnet", "depth": 50, "width": 0.0625}"#, shape: [1, 32, 32], classes: 10, lr: 0.05),
        Case(model: #"{"kind": "resnet", "depth": 50, "width": 0.0625, "groups": 4, "width_per_group": 16}"#, shape: [1, 32, 32], classes: 10, lr: 0.05),
        Case(model: #"{"kind": "mobilenet_v1", "alpha": 0.125}"#, shape: [1, 32, 32], classes: 10, lr: 0.05),
        Case(model: #"{"kind": "simplenet"}"#, shape: [1, 16, 16], classes: 10, lr: 0.05),
        Case(model: #"{"kind": "convnet"}"#, shape: [1, 16, 16], classes: 10, lr: 0.1),
        Case(model: #"{"kind": "convbnnet", "widths": [8, 16]}"#, shape: [1, 16, 16], classes: 10, lr: 0.05),
        Case(model: #"{"kind": "fastai_resnet", "widths": [8, 16]}"#, shape: [1, 16, 16], classes: 10, lr: 0.05),
        Case(model: #"{"kind": "fastai_resnet2", "widths": [8, 16], "p": 0.2}"#, shape: [1, 16, 16], classes: 10, lr: 0.05),
    ]

    /// `count` images: a class-dependent stripe pattern plus noise; labels cycle through the classes.
    static func batch(count: Int, shape: [Int], classes: Int) -> (Tensor, [Int32]) {
        var random = RandomStream(seed: 7)
        let x = Tensor(shape: [count] + shape)
        let (h, w) = (shape[1], shape[2])
        let labels = (0..<count).map { Int32($0 % classes) }
        for i in 0..<count {
            for c in 0..<shape[0] {
                for y in 0..<h {
                    for xx in 0..<w {
                        let stripe: Float = (xx + y * (Int(labels[i]) + 1)) % 6 < 3 ? 1 : -1
                        x[((i * shape[0] + c) * h + y) * w + xx] = stripe + 0.3 * (Float(random.below(1000)) / 500 - 1)
                    }
                }
            }
        }
        return (x, labels)
    }

    @Test(arguments: cases)
    func lossFalls(_ c: Case) throws {
        let json = try JSONParser.parse(c.model)
        let n = 16
        let model = try Zoo.model(json, exampleShape: c.shape, batch: n, weights: c.xavier ? .xavierUniform : nil)
        let logSoftmax = model.root.namedLayers().contains { $0.layer is LogSoftmax }
        let loss: any Loss = logSoftmax ? NLLLoss() : CrossEntropyLoss()
        let optimizer: any Optimizer = c.xavier ? Adam(learningRate: 0.002) : SGD(learningRate: c.lr, momentum: 0.9)
        let slots = model.trainableParameters.map { OptimizerSlot(name: $0.name, parameter: $0.parameter, weightDecay: 0) }
        let (x, labels) = Self.batch(count: n, shape: c.shape, classes: c.classes)
        var losses: [Double] = []
        for _ in 0..<(c.xavier ? 16 : 10) {
            model.zeroGradients()
            let y = try model.forward(x, training: true)
            let value = try labels.withUnsafeBufferPointer { try loss.compute(output: y, targets: $0.baseAddress!, gradient: model.outputGradient) }
            losses.append(value.loss)
            try model.backward(input: x)
            try optimizer.step(slots)
        }
        #expect(losses.allSatisfy { $0.isFinite }, "\(c.model): \(losses)")
        let (first, last) = (losses[0], losses[losses.count - 1])
        #expect(last < 0.9 * first, "\(c.model): losses \(losses)")
    }
}
