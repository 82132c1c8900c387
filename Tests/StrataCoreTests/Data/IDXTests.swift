import Foundation
import Testing
@testable import StrataCore

@Suite("IDX reader")
struct IDXTests {
    let images = IDXArray(dimensions: [3, 4, 5], bytes: DataTestFiles.bytes(60, seed: 1))
    let labels = IDXArray(dimensions: [3], bytes: [9, 0, 4])

    @Test func roundTripPlain() throws {
        try DataTestFiles.withDirectory { directory in
            try DataTestFiles.write(IDX.encode(images), to: directory + "/images")
            try DataTestFiles.write(IDX.encode(labels), to: directory + "/labels")
            #expect(try IDX.readImages(path: directory + "/images") == images)
            #expect(try IDX.readLabels(path: directory + "/labels") == labels)
        }
    }

    @Test func encodingIsBigEndianWithMagic() {
        let encoded = IDX.encode(IDXArray(dimensions: [0, 1, 0x0102], bytes: []))
        #expect(encoded == [0, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2])
        #expect(IDX.encode(labels).prefix(8) == [0, 0, 8, 1, 0, 0, 0, 3])
    }

    @Test func roundTripStoredGzip() throws {
        try DataTestFiles.withDirectory { directory in
            // Small blocks: the stream spans several deflate blocks.
            try DataTestFiles.write(DataTestFiles.gzipStored(IDX.encode(images), blockSize: 7), to: directory + "/images.gz")
            try DataTestFiles.write(DataTestFiles.gzipStored(IDX.encode(labels)), to: directory + "/labels.gz")
            #expect(try IDX.readImages(path: directory + "/images.gz") == images)
            #expect(try IDX.readLabels(path: directory + "/labels.gz") == labels)
        }
    }

    @Test func roundTripCompressedByGzipProgram() throws {
        let large = IDXArray(dimensions: [100, 28, 28], bytes: (0..<78_400).map { UInt8(($0 / 7) % 256) })
        guard let compressed = try DataTestFiles.gzipWithProgram(IDX.encode(large)) else {
            print("skipped: no gzip program on this machine")
            return
        }
        #expect(compressed.count < 78_400 / 4, "gzip should have compressed the repetitive content")
        try DataTestFiles.withDirectory { directory in
            try DataTestFiles.write(compressed, to: directory + "/images.gz")
            #expect(try IDX.readImages(path: directory + "/images.gz") == large)
        }
    }

    @Test func concatenatedGzipMembersAreJoined() throws {
        let encoded = IDX.encode(images)
        let joined = DataTestFiles.gzipStored(Array(encoded[0..<30])) + DataTestFiles.gzipStored(Array(encoded[30...]))
        try DataTestFiles.withDirectory { directory in
            try DataTestFiles.write(joined, to: directory + "/images.gz")
            #expect(try IDX.readImages(path: directory + "/images.gz") == images)
        }
    }

    @Test func truncatedImageDataNamesFileAndOffset() throws {
        // The header promises 100 images of 28×28 = 78400 bytes; only 1200 follow.
        let header: [UInt8] = [0, 0, 8, 3, 0, 0, 0, 100, 0, 0, 0, 28, 0, 0, 0, 28]
        try DataTestFiles.withDirectory { directory in
            for name in ["images", "images.gz"] {
                let path = directory + "/" + name
                let content = header + [UInt8](repeating: 7, count: 1200)
                try DataTestFiles.write(name.hasSuffix(".gz") ? DataTestFiles.gzipStored(content) : content, to: path)
                let error = DataTestFiles.capture { _ = try IDX.readImages(path: path) }
                #expect(error == .truncated(path: path, offset: 16, what: "image data", expected: 78_400, found: 1200))
                #expect(error?.description == "\(path): offset 16: expected 78400 bytes of image data, found 1200")
            }
        }
    }

    @Test func truncatedHeader() throws {
        try DataTestFiles.withDirectory { directory in
            let path = directory + "/images"
            try DataTestFiles.write([0, 0, 8, 3, 0, 0, 0, 1, 0, 0], to: path)
            let error = DataTestFiles.capture { _ = try IDX.readImages(path: path) }
            #expect(error == .truncated(path: path, offset: 4, what: "IDX dimension sizes (3 × 4)", expected: 12, found: 6))
            #expect(error?.description == "\(path): offset 4: expected 12 bytes of IDX dimension sizes (3 × 4), found 6")

            try DataTestFiles.write([0, 0], to: path)
            #expect(DataTestFiles.capture { _ = try IDX.readImages(path: path) }
                == .truncated(path: path, offset: 0, what: "IDX magic number", expected: 4, found: 2))

            try DataTestFiles.write([], to: path)
            #expect(DataTestFiles.capture { _ = try IDX.readImages(path: path) }
                == .truncated(path: path, offset: 0, what: "IDX magic number", expected: 4, found: 0))
        }
    }

    @Test func badMagic() throws {
        try DataTestFiles.withDirectory { directory in
            let path = directory + "/images"
            try DataTestFiles.write(Array("P5 28 28 255\n".utf8), to: path)
            let error = DataTestFiles.capture { _ = try IDX.readImages(path: path) }
            #expect(error?.offset == 0)
            #expect(error?.description
                == "\(path): offset 0: bad magic number 0x50352032, expected 0x00000801 (IDX labels) or 0x00000803 (IDX images)")
        }
    }

    @Test func unsupportedElementType() throws {
        try DataTestFiles.withDirectory { directory in
            let path = directory + "/images"
            try DataTestFiles.write([0, 0, 0x0D, 3, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1], to: path)
            let error = DataTestFiles.capture { _ = try IDX.readImages(path: path) }
            #expect(error?.description
                == "\(path): offset 2: the file has unsupported element type 0x0d (float32); only 0x08 (unsigned byte) can be read")
        }
    }

    @Test func wrongRank() throws {
        try DataTestFiles.withDirectory { directory in
            let path = directory + "/labels"
            try DataTestFiles.write(IDX.encode(labels), to: path)
            let error = DataTestFiles.capture { _ = try IDX.readImages(path: path) }
            #expect(error == .wrongRank(path: path, offset: 3, what: "image data, magic 0x00000803", expected: 3, found: 1))
            #expect(error?.description == "\(path): offset 3: expected rank 3 (image data, magic 0x00000803), found rank 1")
        }
    }

    @Test func trailingGarbage() throws {
        try DataTestFiles.withDirectory { directory in
            let path = directory + "/labels"
            try DataTestFiles.write(IDX.encode(labels) + [1, 2, 3, 4, 5], to: path)
            let error = DataTestFiles.capture { _ = try IDX.readLabels(path: path) }
            #expect(error == .trailingData(path: path, offset: 11, after: "label data", count: 5))
            #expect(error?.description == "\(path): offset 11: 5 unexpected bytes after the end of the label data")
        }
    }

    @Test func truncatedGzipStream() throws {
        let compressed = DataTestFiles.gzipStored(IDX.encode(images))
        try DataTestFiles.withDirectory { directory in
            let path = directory + "/images.gz"
            // Cut inside the data, then inside the 8-byte trailer: both are a truncated stream.
            for kept in [40, compressed.count - 3] {
                try DataTestFiles.write(Array(compressed[0..<kept]), to: path)
                let error = DataTestFiles.capture { _ = try IDX.readImages(path: path) }
                guard case let .unreadable(errorPath, reason) = error else {
                    Issue.record("expected an unreadable-file error, got \(String(describing: error))")
                    continue
                }
                #expect(errorPath == path)
                #expect(reason.hasPrefix("unexpected end of gzip stream"))
                #expect(reason.contains("after \(kept) compressed bytes"))
                #expect(error!.description.hasPrefix("\(path): unexpected end of gzip stream"))
            }
        }
    }

    @Test func corruptGzipData() throws {
        var compressed = DataTestFiles.gzipStored(IDX.encode(images))
        try DataTestFiles.withDirectory { directory in
            let path = directory + "/images.gz"
            compressed[10] = 0x07 // BFINAL = 1, BTYPE = 11: a reserved block type
            try DataTestFiles.write(compressed, to: path)
            let error = DataTestFiles.capture { _ = try IDX.readImages(path: path) }
            #expect(error?.description.hasPrefix("\(path): corrupt gzip data at compressed byte") == true)
            #expect(error?.description.hasSuffix("invalid block type") == true)

            compressed = DataTestFiles.gzipStored(IDX.encode(images))
            compressed[compressed.count - 8] ^= 0xff // damage the CRC-32
            try DataTestFiles.write(compressed, to: path)
            let checkError = DataTestFiles.capture { _ = try IDX.readImages(path: path) }
            #expect(checkError?.description.hasSuffix("incorrect data check") == true, "\(String(describing: checkError))")

            compressed = DataTestFiles.gzipStored(IDX.encode(images)) + [0x00, 0x42]
            try DataTestFiles.write(compressed, to: path)
            let trailingError = DataTestFiles.capture { _ = try IDX.readImages(path: path) }
            #expect(trailingError?.description.contains("2 bytes after the end of the gzip stream") == true,
                    "\(String(describing: trailingError))")
        }
    }

    @Test func damagedGzipNeverCrashesOrHangs() throws {
        let content = IDX.encode(IDXArray(dimensions: [20, 28, 28], bytes: (0..<15_680).map { UInt8(($0 / 3) % 256) }))
        var inputs = [DataTestFiles.gzipStored(content)]
        if let compressed = try DataTestFiles.gzipWithProgram(content) { inputs.append(compressed) }
        var generator = RandomStream(seed: 5, stream: 0)
        try DataTestFiles.withDirectory { directory in
            let path = directory + "/images.gz"
            for good in inputs {
                for length in stride(from: 0, to: good.count, by: max(1, good.count / 97)) {
                    try DataTestFiles.write(Array(good[0..<length]), to: path)
                    let error = DataTestFiles.capture { _ = try IDX.readImages(path: path) }
                    #expect(error?.path == path, "cut at \(length)")
                }
                for _ in 0..<150 {
                    var damaged = good
                    for _ in 0...Int(generator.next(below: 4)) {
                        // Keep the magic so the damage reaches zlib.
                        let at = 2 + Int(generator.next(below: UInt64(damaged.count - 2)))
                        damaged[at] = UInt8(truncatingIfNeeded: generator.next())
                    }
                    try DataTestFiles.write(damaged, to: path)
                    do {
                        _ = try IDX.readImages(path: path) // damage to the gzip header's spare fields can be harmless
                    } catch let error as DataError {
                        #expect(error.path == path)
                    }
                }
            }
        }
    }

    @Test func missingFileAndDirectory() throws {
        try DataTestFiles.withDirectory { directory in
            let missing = directory + "/nothing-here.gz"
            let error = DataTestFiles.capture { _ = try IDX.read(path: missing, rank: 1, hint: "download it") }
            #expect(error == .fileNotFound(path: missing, hint: "download it"))
            #expect(error?.description == "\(missing): no such file (download it)")

            let directoryError = DataTestFiles.capture { _ = try IDX.readLabels(path: directory) }
            #expect(directoryError == .unreadable(path: directory, reason: "is a directory, not a regular file"))
        }
    }
}
