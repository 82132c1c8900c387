import Foundation
import Testing
@testable import StrataCore

/// What concatenation by copies costs: the combined inputs (and their gradients) that graph nodes
/// reading several values hold, counted by hand for a small DenseNet, and printed for the d2l
/// recipes' networks at their sizes (docs/zoo.md, "Concatenation").
@Suite("Concatenation memory", .serialized)
struct ConcatMemoryTests {
    static func combination(_ model: Model) -> Int {
        model.root.namedLayers().reduce(0) { $0 + (($1.layer as? LayerGraph)?.combinationFloats ?? 0) }
    }

    /// d2l's DenseNet with growth 4, 8 initial channels and two blocks of two layers on 1×16×16:
    /// the stem leaves 8×4×4; in block 1 the second layer reads 8 + 4 = 12 channels of 4×4; the
    /// transition halves 16 channels to 8 and pools to 2×2; in block 2 the second layer reads 12
    /// channels of 2×2. Combined inputs and their gradients, batch 2: 2·2·(12·16 + 12·4) = 960.
    @Test func smallDenseNetCountedByHand() throws {
        let json = try JSONParser.parse(#"{"kind": "densenet", "variant": "d2l", "growth_rate": 4, "num_init_features": 8, "block_config": [2, 2]}"#)
        let model = try Zoo.model(json, exampleShape: [1, 16, 16], batch: 2)
        #expect(Self.combination(model) == 960)
        // Inception blocks read one value per node: only their output concatenates, into the caller's buffer.
        let googlenet = try Zoo.model(try JSONParser.parse(#"{"kind": "googlenet", "width": 0.125}"#), exampleShape: [1, 32, 32], batch: 2)
        #expect(Self.combination(googlenet) == 0)
    }

    /// d2l's DenseNet of densenet-fashion.json at 96×96, batch 256 (weights left at zero: sizes
    /// only). The stem leaves 64×24×24; layers 2–4 of each block read 32, 64, 96 channels more than
    /// the block's input: blocks at 24², 12², 6², 3² with inputs 64, 96, 112, 120 channels read
    /// (96 + 128 + 160)·576 + (128 + 160 + 192)·144 + (144 + 176 + 208)·36 + (152 + 184 + 216)·9
    /// = 314 280 floats per example, twice with the gradients: 160 911 360 floats (614 MiB).
    @Test func densenetRecipeSize() throws {
        let model = try Zoo.model(try JSONParser.parse(#"{"kind": "densenet", "variant": "d2l"}"#), exampleShape: [1, 96, 96], batch: 256,
                                  weights: .zeros)
        #expect(Self.combination(model) == 2 * 314_280 * 256)
    }
}
