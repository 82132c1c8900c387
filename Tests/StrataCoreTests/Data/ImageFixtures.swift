import Foundation
@testable import StrataCore

/// The files under Fixtures/images (scripts/make_image_fixtures.py): small PNG and JPEG images
/// with the pixels PIL decodes from them, and torchvision's outputs of each transform.
enum ImageFixtures {
    struct Array3: Decodable {
        let shape: [Int]
        let data: [Double]
    }

    struct Decoded: Decodable {
        let rgb: Array3
        let grey: Array3
    }

    struct TransformCase: Decodable {
        let name: String
        let kind: String
        let size: [Int]?
        let window: [Int]?
        let pad: Int?
        let corner: [Int]?
        let mean: [Float]?
        let std: [Float]?
        let output: Array3
    }

    struct Transforms: Decodable {
        let input: Array3
        let cases: [TransformCase]
    }

    static func path(_ name: String) throws -> String {
        let base = (name as NSString).deletingPathExtension, ext = (name as NSString).pathExtension
        guard let url = Bundle.module.url(forResource: base, withExtension: ext, subdirectory: "Fixtures/images") else {
            throw CocoaError(.fileNoSuchFile)
        }
        return url.path
    }

    static func decoded() throws -> [String: Decoded] {
        try JSONDecoder().decode([String: Decoded].self, from: Data(contentsOf: URL(fileURLWithPath: path("decoded.json"))))
    }

    static func transforms() throws -> Transforms {
        try JSONDecoder().decode(Transforms.self, from: Data(contentsOf: URL(fileURLWithPath: path("transforms.json"))))
    }

    static func image(_ a: Array3) -> FloatImage {
        FloatImage(channels: a.shape[0], height: a.shape[1], width: a.shape[2], values: a.data.map(Float.init))
    }
}
