import Foundation
import Testing
@testable import StrataCore

/// The recipe schema and the registry agree on the built-in kinds of every component category,
/// so a kind added to one and not the other fails here.
@Suite("Recipe schema kinds match the registry")
struct SchemaKindsTests {
    static func schema() throws -> JSONValue {
        let url = RecipeFixtures.repositoryRoot.appendingPathComponent("schemas/recipe.schema.json")
        return try JSONParser.parse([UInt8](try Data(contentsOf: url)))
    }

    /// The strings of the `enum` at `kind` in the schema value `value`.
    static func kinds(_ value: JSONValue?) -> Set<String> {
        guard case let .array(items)? = value?["properties"]?["kind"]?["enum"] else { return [] }
        return Set(items.compactMap { if case let .string(s) = $0 { return s } else { return nil } })
    }

    @Test func everyCategorysBuiltInKindsAreTheSameSet() throws {
        let schema = try Self.schema()
        let defs = schema["$defs"]
        let registry = ComponentRegistry.builtIn()
        #expect(Self.kinds(defs?["builtInLayerKind"]) == Set(registry.layers.keys))
        #expect(Self.kinds(defs?["builtInOptimizerKind"]) == Set(registry.optimizers.keys))
        #expect(Self.kinds(defs?["builtInCallbackKind"]) == Set(registry.callbacks.keys))
        #expect(Self.kinds(schema["properties"]?["loss"]) == Set(registry.losses.keys))
        // Each layer kind also has its own definition in the layer union.
        guard case let .object(all)? = defs else { Issue.record("no $defs"); return }
        let defined = Set(all.compactMap { _, def -> String? in
            if case let .string(kind)? = def["properties"]?["kind"]?["const"] { return kind }
            return nil
        })
        #expect(Set(registry.layers.keys).isSubset(of: defined), "\(Set(registry.layers.keys).subtracting(defined))")
        // Model builders and schemes other than "fit" come from plugins only.
        #expect(registry.models.isEmpty && Set(registry.schemes.keys) == ["fit"])
    }
}
