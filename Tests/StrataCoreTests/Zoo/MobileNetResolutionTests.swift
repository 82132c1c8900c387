import Foundation
import Testing
@testable import StrataCore

/// MobileNet V1's resolution multiplier ρ: the vision plugin's `bilinear_resize` layer against
/// PyTorch's `F.interpolate` (fixtures from scripts/make_zoo_layer_fixtures.py) and against finite
/// differences, and the `rho` option of `mobilenet_v1` giving the paper's input sizes.
@Suite("MobileNet resolution multiplier", .serialized)
struct MobileNetResolutionTests {
    func resize(_ scale: Double, _ diagnostics: Diagnostics) throws -> any Layer {
        try #require(try PluginFixtures.layer(#"{"kind": "bilinear_resize", "scale": \#(scale)}"#,
                                              registry: try Zoo.registry(), diagnostics: diagnostics), "\(diagnostics.errors)")
    }

    @Test(arguments: ["bilinear_resize_shrink", "bilinear_resize_grow"])
    func resizeMatchesPyTorch(_ name: String) throws {
        let f = try Fixture.load(name)
        try LayerParityTests().run(try resize(f.double("scale")!, Diagnostics()), f)
    }

    @Test func resizeGradientMatchesFiniteDifferences() throws {
        for scale in [4.0 / 7.0, 1.5] {
            try GradientChecker().check(try resize(scale, Diagnostics()), inputShape: [2, 2, 5, 6])
        }
    }

    @Test func rhoSetsTheInputResolution() throws {
        // The paper's 224, 192, 160, 128 from 224x224 data; the last feature map is 1/32 of it.
        for (rho, side) in [(1.0, 224), (6.0 / 7.0, 192), (5.0 / 7.0, 160), (4.0 / 7.0, 128)] {
            let model = try Zoo.model(["kind": "mobilenet_v1", "rho": .number(rho), "alpha": 0.25],
                                      exampleShape: [3, 224, 224], batch: 1, weights: .zeros)
            #expect(model.layerInputShapes["conv1"] == [1, 3, side, side], "rho \(rho)")
            #expect(model.layerShapes["layers.12"] == [1, 256, side / 32, side / 32], "rho \(rho)")
            #expect(model.layerShapes.keys.contains("resize") == (rho != 1), "rho \(rho)")
            // ρ adds no parameters: 27·8 + 2·8 for the stem, 13 blocks of 9·c + 2·c + c·o + 2·o, 256·10 + 10.
            #expect(ModelSummary.totalParameters(model) == 215_642, "rho \(rho)")
        }
        // Out of range: the builder's message, no model.
        for rho in [0.0, 1.5] {
            #expect(throws: (any Error).self) {
                _ = try Zoo.model(["kind": "mobilenet_v1", "rho": .number(rho)], exampleShape: [3, 224, 224], batch: 1, weights: .zeros)
            }
        }
    }
}
