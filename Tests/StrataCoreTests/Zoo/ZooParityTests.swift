import Foundation
import Testing
@testable import StrataCore

/// Each zoo architecture against its PyTorch definition (torchvision's, or d2l's, the CNN
/// survey's or fast.ai's as the document writes it), made by scripts/make_zoo_fixtures.py at
/// reduced width: the reference's weights are loaded into the network the vision plugin builds,
/// then evaluation-mode outputs, training-mode outputs and one backward's parameter gradients
/// (of the first layer's weight and the last layer's weight and bias) must agree within 1e-4 relative error.
@Suite("Zoo parity with PyTorch", .serialized)
struct ZooParityTests {
    static let cases = ["lenet_bn", "alexnet_d2l", "alexnet_torchvision", "vgg_d2l", "vgg13_bn_torchvision", "nin",
                        "resnet18_torchvision", "resnet50_torchvision", "resnext50_torchvision", "resnet18_d2l",
                        "mobilenet_v1", "fastai_simplenet", "fastai_convnet", "fastai_convbnnet", "fastai_resnet", "fastai_resnet2"]

    @Test(arguments: cases)
    func matchesPyTorch(_ name: String) throws {
        let (tensors, metadata) = try SafeTensors.read(from: Zoo.fixtures.appendingPathComponent("\(name).safetensors"))
        let byName = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.tensor) })
        let modelJSON = try JSONParser.parse(try #require(metadata["model"]))
        let x = try #require(byName["x"])
        let model = try Zoo.model(modelJSON, exampleShape: Array(x.shape.dropFirst()), batch: x.shape[0])

        // Reference parameters, in the reference's order; matched by name or by position.
        let reference = tensors.filter { $0.name.hasPrefix("param.") }.map { (String($0.name.dropFirst(6)), $0.tensor) }
        let ours = model.namedParameters
        try #require(reference.count == ours.count, "\(name): \(reference.count) reference tensors, \(ours.count) in Strata")
        var strataName: [String: String] = [:]
        let exact = metadata["names"] == "exact"
        let oursByName = Dictionary(uniqueKeysWithValues: ours.map { ($0.name, $0.parameter) })
        for (i, (refName, value)) in reference.enumerated() {
            let target: (name: String, parameter: Parameter)
            if exact {
                let p = try #require(oursByName[refName], "\(name): Strata has no parameter \(refName); it has \(ours.map(\.name))")
                target = (refName, p)
            } else {
                target = ours[i]
            }
            try #require(target.parameter.value.shape == value.shape, "\(name): \(refName) is \(value.shape), Strata's \(target.name) \(target.parameter.value.shape)")
            target.parameter.value.copy(from: value)
            strataName[refName] = target.name
        }

        let eval = try model.forward(x, training: false).array()
        let evalError = Zoo.relativeError(eval, try #require(byName["eval.y"]).array())
        #expect(evalError <= 1e-4, "\(name): evaluation output relative error \(evalError)")

        model.zeroGradients()
        let train = try model.forward(x, training: true).array()
        let trainError = Zoo.relativeError(train, try #require(byName["train.y"]).array())
        #expect(trainError <= 1e-4, "\(name): training output relative error \(trainError)")
        model.outputGradient.copy(from: try #require(byName["dy"]))
        try model.backward(input: x)
        let graded = tensors.filter { $0.name.hasPrefix("grad.") }
        #expect(graded.count == 3)
        for (gradName, expected) in graded.map({ ($0.name, $0.tensor) }) {
            let refName = String(gradName.dropFirst(5))
            let mapped = try #require(strataName[refName])
            let parameter = try #require(oursByName[mapped])
            let error = Zoo.relativeError(try #require(parameter.grad).array(), expected.array())
            #expect(error <= 1e-4, "\(name): gradient of \(refName) relative error \(error)")
        }
    }
}
