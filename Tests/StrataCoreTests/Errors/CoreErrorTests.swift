import Foundation
import Testing
@testable import StrataCore

/// The core's errors carry where (as data) and what (as the sentence the user reads).
@Suite("Typed core errors")
struct CoreErrorTests {
    @Test func aRecipeThatCannotBeReadNamesItsFile() {
        let file = "/nonexistent/recipe.json"
        #expect {
            _ = try Recipe.load(file: file, registry: .builtIn())
        } throws: { error in
            guard let e = error as? CoreError else { return false }
            return e.place == .file(file) && e.exitStatus == 2 && e.message.hasPrefix(file + ": cannot read the recipe")
        }
    }

    @Test func aBadOverrideNamesTheArgument() throws {
        let file = RecipeFixtures.write(#"{"epochs": 1, "model": {"kind": "flatten"}, "optimizer": {"kind": "sgd"}}"#, name: "core-error")
        #expect {
            _ = try Recipe.load(file: file, overrides: ["optimizer.lr"], registry: .builtIn())
        } throws: { error in
            (error as? CoreError)?.place == .argument("--set optimizer.lr")
        }
    }

    @Test func placesAndStatusesOfEachCase() {
        let shape = CoreError.shape(where: "$.model: layer 1 (linear)", message: "expects [N, F]")
        #expect(shape.place == .layer("$.model: layer 1 (linear)") && shape.exitStatus == 2)
        #expect(shape.description == "model: $.model: layer 1 (linear): expects [N, F]")
        let nan = CoreError.runtime(.step(epoch: 2, batch: 4), "epoch 2, batch 4 of 6: the training loss is nan")
        #expect(nan.exitStatus == 1 && nan.place == .step(epoch: 2, batch: 4) && nan.description == nan.message)
        #expect(CoreError.badInput("plain").place == .unspecified)
    }
}
