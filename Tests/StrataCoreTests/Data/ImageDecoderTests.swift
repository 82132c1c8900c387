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

    /// A truncated file is refused at its end: the offset is the file's size.
    @Test(arguments: ["rgb.png", "rgb.jpg"])
    func truncationIsReportedAtTheEnd(file: String) throws {
        let bytes = try DataTestFiles.contents(of: ImageFixtures.path(file))
        let cut = Array(bytes.prefix(bytes.count / 2))
        let error = try #require(DataTestFiles.capture { _ = try ImageDecoder.decode(bytes: cut, channels: 3, path: file) })
        let kind = file.hasSuffix(".png") ? "PNG" : "JPEG"
        #expect(error.offset == cut.count)
        #expect(error.description.hasPrefix("\(file): offset \(cut.count): truncated \(kind): the data ends before the image is complete"), "\(error)")
    }

    /// A flipped bit in a PNG's image data: zlib refuses the stream, or, in the chunk's CRC,
    /// libpng refuses the chunk. Either error names libpng's reason and the offset the decoder
    /// had read to, past the damaged byte and within the file.
    @Test func corruptPNGDataIsReportedAtItsOffset() throws {
        let bytes = try DataTestFiles.contents(of: ImageFixtures.path("rgb.png"))
        let idat = try #require(Self.chunkOffset("IDAT", in: bytes))
        let length = bytes[idat..<(idat + 4)].reduce(0) { $0 << 8 | Int($1) }
        for (damaged, reason) in [(idat + 8 + 3, "corrupt PNG data (IDAT: "), (idat + 8 + length + 1, "corrupt PNG data (IDAT: CRC error)")] {
            var copy = bytes
            copy[damaged] ^= 0x10
            let error = try #require(DataTestFiles.capture { _ = try ImageDecoder.decode(bytes: copy, channels: 3, path: "rgb.png") })
            let offset = try #require(error.offset)
            #expect(offset > damaged && offset <= bytes.count, "\(error)")
            #expect(error.description.hasPrefix("rgb.png: offset \(offset): " + reason), "\(error)")
        }
    }

    /// Damage to a JPEG's Huffman table definition is refused at an offset inside the file.
    @Test func corruptJPEGDataIsReportedAtItsOffset() throws {
        let bytes = try DataTestFiles.contents(of: ImageFixtures.path("rgb.jpg"))
        let dht = try #require((0..<(bytes.count - 1)).first { bytes[$0] == 0xFF && bytes[$0 + 1] == 0xC4 })
        var copy = bytes
        for i in (dht + 5)..<(dht + 21) { copy[i] = 0xFF } // 16 code counts of 255: more codes than the table can hold
        let error = try #require(DataTestFiles.capture { _ = try ImageDecoder.decode(bytes: copy, channels: 3, path: "rgb.jpg") })
        let offset = try #require(error.offset)
        #expect(offset > dht && offset <= bytes.count, "\(error)")
        #expect(error.description.contains("corrupt JPEG data ("), "\(error)")
    }

    /// Every refusal of a bit-flipped file carries a byte offset within the file.
    @Test(arguments: ["rgb.png", "rgb.jpg"])
    func bitFlipRefusalsCarryAnOffset(file: String) throws {
        let bytes = try DataTestFiles.contents(of: ImageFixtures.path(file))
        var random = RandomStream(seed: 11)
        var refused = 0
        for _ in 0..<200 {
            var copy = bytes
            let i = random.below(copy.count - 8) + 8
            copy[i] ^= UInt8(1 << random.below(8))
            guard let error = DataTestFiles.capture({ _ = try ImageDecoder.decode(bytes: copy, channels: 3, path: file) }) else { continue }
            refused += 1
            let offset = try #require(error.offset, "\(error)")
            #expect(offset >= 0 && offset <= bytes.count, "\(error)")
        }
        #expect(refused > 0)
    }

    /// The offset of the first chunk of `type` in a PNG file.
    static func chunkOffset(_ type: String, in bytes: [UInt8]) -> Int? {
        var at = 8
        while at + 8 <= bytes.count {
            let length = bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) }
            if String(decoding: bytes[(at + 4)..<(at + 8)], as: UTF8.self) == type { return at }
            at += 12 + length
        }
        return nil
    }
}
