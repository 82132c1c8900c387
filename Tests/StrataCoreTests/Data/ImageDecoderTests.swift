import Foundation
import Testing
@testable import StrataCore

@Suite("Image decoding")
struct ImageDecoderTests {
    /// Every fixture decodes to the pixels PIL reads from it, as RGB and as grey.
    @Test(arguments: ["rgb.png", "grey.png", "rgba.png", "rgb.jpg", "grey.jpg"])
    func matchesPIL(file: String) throws {
        let expected = try #require(try ImageFixtures.decoded()[file])
        for (channels, reference) in [(3, expected.rgb), (1, expected.grey)] {
            let image = try ImageDecoder.decode(path: ImageFixtures.path(file), channels: channels)
            #expect([image.channels, image.height, image.width] == reference.shape, "\(file) as \(channels) channels")
            let differences = zip(image.bytes, reference.data).map { abs(Int($0) - Int($1)) }
            // PNG and JPEG both decode exactly as PIL (the same libjpeg-turbo; PIL's grey formula).
            #expect(differences.max() == 0, "\(file) as \(channels) channels: largest difference \(differences.max() ?? -1)")
        }
    }

    @Test func writtenPNGReadsBack() throws {
        try DataTestFiles.withDirectory { dir in
            let image = PixelImage(channels: 3, height: 5, width: 4, bytes: (0..<60).map { UInt8($0 * 4) })
            try ImageDecoder.writePNG(image, to: dir + "/a.png")
            #expect(try ImageDecoder.decode(path: dir + "/a.png", channels: 3) == image)
        }
    }

    @Test func emptyFileIsRefusedWithItsName() throws {
        try DataTestFiles.withDirectory { dir in
            try DataTestFiles.write([], to: dir + "/empty.png")
            let error = DataTestFiles.capture { _ = try ImageDecoder.decode(path: dir + "/empty.png", channels: 3) }
            #expect(error?.path == dir + "/empty.png")
            #expect(error?.description.contains("empty") == true)
        }
    }

    @Test func unknownFormatIsRefusedAtOffsetZero() throws {
        let error = DataTestFiles.capture { _ = try ImageDecoder.decode(bytes: Array("GIF89a....".utf8), channels: 1, path: "x.png") }
        #expect(error == .invalidValue(path: "x.png", offset: 0, reason: "not a PNG or JPEG file (unknown signature at offset 0)"))
    }

    /// Every prefix of each fixture (a truncated download) that cuts into the image data is
    /// refused, never padded or crashed on. (A PNG missing only its 12-byte closing IEND chunk
    /// holds all its pixels and is read, as PIL reads it.)
    @Test(arguments: ["rgb.png", "rgba.png", "rgb.jpg", "grey.jpg"])
    func truncatedFilesAreRefused(file: String) throws {
        let bytes = try DataTestFiles.contents(of: ImageFixtures.path(file))
        let whole = file.hasSuffix(".png") ? bytes.count - 12 : bytes.count
        for length in 0..<whole {
            let error = DataTestFiles.capture { _ = try ImageDecoder.decode(bytes: Array(bytes[0..<length]), channels: 3, path: file) }
            #expect(error?.path == file, "\(file) cut to \(length) of \(bytes.count) bytes was accepted")
        }
    }

    /// Bit flips anywhere either decode to an image of a sane size or throw; nothing crashes or hangs.
    @Test(arguments: ["rgb.png", "rgb.jpg"])
    func bitFlipsNeverCrash(file: String) throws {
        let bytes = try DataTestFiles.contents(of: ImageFixtures.path(file))
        var random = RandomStream(seed: 7)
        var refused = 0
        for _ in 0..<400 {
            var copy = bytes
            for _ in 0..<3 {
                let i = random.below(copy.count)
                copy[i] ^= UInt8(1 << random.below(8))
            }
            do {
                let image = try ImageDecoder.decode(bytes: copy, channels: 3, path: file)
                #expect(image.bytes.count == 3 * image.height * image.width)
            } catch let error as DataError {
                #expect(error.path == file)
                refused += 1
            }
        }
        #expect(refused > 0)
    }
}
