import Foundation
import Testing
@testable import StrataCore

@Suite("safetensors")
struct SafeTensorsTests {
    /// A file: the 8-byte length field (`declared`, default the header's length), the header, the data.
    private func file(header: String, data: [UInt8] = [], declared: UInt64? = nil) -> [UInt8] {
        let json = Array(header.utf8)
        let length = declared ?? UInt64(json.count)
        return withUnsafeBytes(of: length.littleEndian) { Array($0) } + json + data
    }

    /// File offset of the first occurrence of `needle` in `header` (which starts at byte 8).
    private func offset(of needle: String, in header: String) -> Int {
        8 + header.utf8.count - header[header.range(of: needle)!.lowerBound...].utf8.count
    }

    /// The error reading `bytes` as a safetensors file gives, with its path checked.
    private func readError(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) throws -> DataError? {
        try DataTestFiles.withDirectory { directory in
            let path = directory + "/bad.safetensors"
            try DataTestFiles.write(bytes, to: path)
            let error = DataTestFiles.capture { _ = try SafeTensors.read(from: URL(fileURLWithPath: path)) }
            #expect(error != nil, "reading should fail", sourceLocation: sourceLocation)
            #expect(error?.path == path, sourceLocation: sourceLocation)
            return error
        }
    }

    /// `description` without the leading `path: ` (which ``readError(_:)`` already checked).
    private func sentence(_ error: DataError?) -> String? {
        guard let error, let path = error.path else { return nil }
        return String(error.description.dropFirst(path.count + 2))
    }

    @Test func roundTrip() throws {
        let weight = Tensor(shape: [2, 3], values: [0.5, -1.25, 2, 3, 0, .pi])
        let scalar = Tensor(shape: [], values: [42])
        let empty = Tensor(shape: [0, 5])
        let image = Tensor(shape: [1, 2, 2, 2], values: (0..<8).map { Float($0) * -0.5 })
        let extremes = Tensor(shape: [4], values: [.greatestFiniteMagnitude, -.leastNonzeroMagnitude, .infinity, -0.0])
        let metadata = ["epoch": "3", "note": "quote \" backslash \\ tab \t newline \n é ✓ \u{1}", "": "empty key"]
        let tensors = [("layer1.0.conv1.weight", weight), ("scalar", scalar), ("empty", empty), ("image", image),
                       ("extremes", extremes)].map { (name: $0.0, tensor: $0.1) }
        try DataTestFiles.withDirectory { directory in
            let url = URL(fileURLWithPath: directory + "/model.safetensors")
            try SafeTensors.write(tensors, metadata: metadata, to: url)
            let loaded = try SafeTensors.read(from: url)
            #expect(loaded.metadata == metadata)
            #expect(loaded.tensors.map(\.name) == tensors.map(\.name))
            for (original, read) in zip(tensors, loaded.tensors) {
                #expect(read.shape == original.tensor.shape)
                #expect(read.tensor.shape == original.tensor.shape)
                #expect(read.tensor.array().map(\.bitPattern) == original.tensor.array().map(\.bitPattern))
            }
            // Identical input gives identical bytes.
            let first = try DataTestFiles.contents(of: url.path)
            try SafeTensors.write(tensors, metadata: metadata, to: url)
            #expect(try DataTestFiles.contents(of: url.path) == first)
        }
    }

    @Test func noTensorsAndNoMetadata() throws {
        try DataTestFiles.withDirectory { directory in
            let url = URL(fileURLWithPath: directory + "/empty.safetensors")
            try SafeTensors.write([], to: url)
            #expect(try DataTestFiles.contents(of: url.path) == file(header: "{}      "))
            let loaded = try SafeTensors.read(from: url)
            #expect(loaded.tensors.isEmpty)
            #expect(loaded.metadata.isEmpty)
        }
    }

    @Test func byteLayoutByHand() throws {
        let tensors = [(name: "a", tensor: Tensor(shape: [2], values: [1, -2])),
                       (name: "b", tensor: Tensor(shape: [], values: [0.5]))]
        try DataTestFiles.withDirectory { directory in
            let url = URL(fileURLWithPath: directory + "/tiny.safetensors")
            try SafeTensors.write(tensors, metadata: ["epoch": "12"], to: url)
            let bytes = try DataTestFiles.contents(of: url.path)

            // 137 bytes of JSON, padded with 7 spaces to 144, a multiple of 8.
            let json = #"{"__metadata__":{"epoch":"12"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"#
                + #""b":{"dtype":"F32","shape":[],"data_offsets":[8,12]}}"#
            #expect(json.utf8.count == 137)
            #expect(bytes.count == 8 + 144 + 12)
            #expect(Array(bytes[0..<8]) == [144, 0, 0, 0, 0, 0, 0, 0])
            #expect(Array(bytes[8..<152]) == Array(json.utf8) + [UInt8](repeating: 0x20, count: 7))
            // 1.0 = 0x3F800000, -2.0 = 0xC0000000, 0.5 = 0x3F000000, little-endian.
            #expect(Array(bytes[152...]) == [0x00, 0x00, 0x80, 0x3F, 0x00, 0x00, 0x00, 0xC0, 0x00, 0x00, 0x00, 0x3F])
        }
    }

    @Test func readsTheReferenceFileFromPythonSafetensors() throws {
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/checkpoint/reference.safetensors")
        try #require(FileManager.default.fileExists(atPath: fixture.path),
                     "missing fixture \(fixture.path): write it with scripts/check_safetensors.py --write (docs/fixtures.md)")
        let loaded = try SafeTensors.read(from: fixture)
        #expect(loaded.metadata == ["format": "pt"])
        // The Python package lays tensors out sorted by name, and the header lists them in that order.
        #expect(loaded.tensors.map(\.name) == ["features.0.bias", "features.0.weight"])
        let byName = Dictionary(uniqueKeysWithValues: loaded.tensors.map { ($0.name, $0) })
        let weight = try #require(byName["features.0.weight"])
        let bias = try #require(byName["features.0.bias"])
        #expect(weight.shape == [2, 3])
        #expect(weight.tensor.array() == [0.5, -1.25, 2.0, 3.0, 0.0, -0.125])
        #expect(bias.shape == [2])
        #expect(bias.tensor.array() == [0.25, -4.0])
    }

    @Test func writesWhatPythonWrites() throws {
        // Same tensors, same metadata, same order as the reference file: the bytes must match.
        let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/checkpoint/reference.safetensors")
        try #require(FileManager.default.fileExists(atPath: fixture.path), "missing fixture \(fixture.path)")
        try DataTestFiles.withDirectory { directory in
            let url = URL(fileURLWithPath: directory + "/same.safetensors")
            try SafeTensors.write([(name: "features.0.bias", tensor: Tensor(shape: [2], values: [0.25, -4])),
                                   (name: "features.0.weight", tensor: Tensor(shape: [2, 3], values: [0.5, -1.25, 2, 3, 0, -0.125]))],
                                  metadata: ["format": "pt"], to: url)
            #expect(try DataTestFiles.contents(of: url.path) == DataTestFiles.contents(of: fixture.path))
        }
    }

    // MARK: - Corrupt files

    @Test func fileShorterThanTheLengthField() throws {
        let error = try readError([1, 2, 3, 4, 5])
        #expect(sentence(error) == "offset 0: expected 8 bytes of header length, found 5")
    }

    @Test func headerLengthLargerThanTheFile() throws {
        let error = try readError(file(header: "{}      ", declared: 1000))
        #expect(sentence(error) == "offset 0: header length 1000 is larger than the 8 bytes that follow it")
        let huge = try readError(file(header: "{}      ", declared: UInt64.max))
        #expect(sentence(huge) == "offset 0: header length 18446744073709551615 is larger than the 8 bytes that follow it")
    }

    @Test func headerLengthOverTheLimit() throws {
        try DataTestFiles.withDirectory { directory in
            let path = directory + "/sparse.safetensors"
            try DataTestFiles.write(file(header: "", declared: 100_000_008), to: path)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
            try handle.truncate(atOffset: 100_000_016) // sparse: no disk space used
            try handle.close()
            let error = DataTestFiles.capture { _ = try SafeTensors.read(from: URL(fileURLWithPath: path)) }
            #expect(error == .invalidHeader(path: path, offset: 0,
                                            reason: "header length 100000008 exceeds the 100000000-byte limit"))
        }
    }

    @Test func headerNotJSON() throws {
        #expect(sentence(try readError(file(header: "hello   ")))
            == "offset 8: the header is not valid JSON: unexpected word 'hello'; strings must be in double quotes")
        #expect(sentence(try readError(file(header: "")))
            == "offset 8: the header is not valid JSON: the header is empty")
        let cut = #"{"a":{"dtype":"F32""#
        #expect(sentence(try readError(file(header: cut)))
            == "offset \(8 + cut.utf8.count): the header is not valid JSON: unexpected end of input: the '{' at line 1, column 6 is not closed")
        #expect(sentence(try readError(file(header: "[]      ")))
            == "offset 8: the header must be a JSON object, found an array")
        #expect(sentence(try readError(file(header: "{} x    ")))
            == "offset 11: the header is not valid JSON: unexpected content after the JSON value")
        #expect(sentence(try readError(file(header: #"{"a" 1}"#)))
            == "offset 13: the header is not valid JSON: expected ':' after object key")
        #expect(sentence(try readError(file(header: #"{"a":01}"#)))
            == "offset 13: the header is not valid JSON: leading zeros are not allowed in numbers")
    }

    @Test func invalidUTF8AndControlCharacters() throws {
        let bad = [UInt8](#"{"w"#.utf8) + [0xff] + [UInt8](#"":{}}"#.utf8)
        let error = try readError(withUnsafeBytes(of: UInt64(bad.count).littleEndian) { Array($0) } + bad)
        #expect(sentence(error) == "offset 11: the header is not valid JSON: invalid UTF-8 byte 0xFF")
        #expect(sentence(try readError(file(header: "{\"a\u{1}\":1}")))
            == "offset 11: the header is not valid JSON: unescaped control character U+0001 in string")
    }

    @Test func deepNestingIsRefusedNotCrashed() throws {
        let error = try readError(file(header: String(repeating: "[", count: 100_000)))
        #expect(sentence(error) == "offset 72: the header is not valid JSON: nesting deeper than 64 levels")
    }

    @Test func missingFields() throws {
        for (field, header) in [
            ("dtype", #"{"w":{"shape":[1],"data_offsets":[0,4]}}"#),
            ("shape", #"{"w":{"dtype":"F32","data_offsets":[0,4]}}"#),
            ("data_offsets", #"{"w":{"dtype":"F32","shape":[1]}}"#),
        ] {
            let error = try readError(file(header: header, data: [0, 0, 0, 0]))
            #expect(sentence(error) == "offset 13: tensor 'w' has no \"\(field)\"")
        }
        #expect(sentence(try readError(file(header: #"{"w":[1,2]}"#)))
            == "offset 13: tensor 'w' must be an object with dtype, shape and data_offsets, found an array")
    }

    @Test func dtypesOtherThanF32AreRefusedByName() throws {
        for dtype in ["F16", "BF16", "F64", "I64", "I32", "U8", "BOOL"] {
            let header = #"{"layer.weight":{"dtype":"\#(dtype)","shape":[2],"data_offsets":[0,8]}}"#
            let error = try readError(file(header: header, data: [UInt8](repeating: 0, count: 8)))
            #expect(error?.offset == offset(of: "\"\(dtype)\"", in: header))
            #expect(sentence(error)
                == "offset \(offset(of: "\"\(dtype)\"", in: header)): tensor 'layer.weight' has unsupported element type \(dtype); only F32 can be read")
        }
        let unknown = #"{"w":{"dtype":"Q4","shape":[2],"data_offsets":[0,8]}}"#
        #expect(try readError(file(header: unknown, data: [UInt8](repeating: 0, count: 8)))?.reason
            == "tensor 'w' has unsupported element type \"Q4\" (not a safetensors dtype); only F32 can be read")
        let notString = #"{"w":{"dtype":32,"shape":[2],"data_offsets":[0,8]}}"#
        #expect(try readError(file(header: notString, data: [UInt8](repeating: 0, count: 8)))?.reason
            == "tensor 'w': \"dtype\" must be a string, found a number")
    }

    @Test func invalidShapesAndOffsets() throws {
        func reason(_ header: String, data: Int) throws -> String? {
            try readError(file(header: header, data: [UInt8](repeating: 0, count: data)))?.reason
        }
        for shape in ["[-1]", "[1.5]", "[\"2\"]", "2", "[1e2]", "[99999999999999999999]"] {
            #expect(try reason(#"{"w":{"dtype":"F32","shape":\#(shape),"data_offsets":[0,4]}}"#, data: 4)
                == "tensor 'w': \"shape\" must be an array of non-negative integers", "shape \(shape)")
        }
        for offsets in ["[0]", "[0,4,8]", "[0,-4]", "0"] {
            #expect(try reason(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":\#(offsets)}}"#, data: 4)
                == "tensor 'w': \"data_offsets\" must be an array of two non-negative integers", "offsets \(offsets)")
        }
        #expect(try reason(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#, data: 8)
            == "tensor 'w': data_offsets [8, 4] end before they begin")
        #expect(try reason(#"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, data: 4)
            == "tensor 'w': shape [2] needs 8 bytes of F32 data but data_offsets [0, 4] span 4")
        #expect(try reason(#"{"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, data: 4)
            == "tensor 'w': shape [4611686018427387904, 4] has more elements than fit in memory")
    }

    @Test func headerIntegersAreReadExactly() throws {
        // 2^53 + 1 has no double: a reader going through doubles would name 9007199254740992.
        let header = #"{"w":{"dtype":"F32","shape":[9007199254740993],"data_offsets":[0,4]}}"#
        #expect(try readError(file(header: header, data: [0, 0, 0, 0]))?.reason
            == "tensor 'w': shape [9007199254740993] needs 36028797018963972 bytes of F32 data but data_offsets [0, 4] span 4")
    }

    @Test func offsetsOutOfRangeOverlappingOrLeavingGaps() throws {
        let outside = #"{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#
        let outsideError = try readError(file(header: outside, data: [0, 0, 0, 0]))
        #expect(sentence(outsideError) == "offset \(offset(of: "[0,8]", in: outside)): "
            + "tensor 'w': data_offsets [0, 8] end beyond the data section, which holds 4 bytes")

        let overlap = #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#
        let overlapError = try readError(file(header: overlap, data: [UInt8](repeating: 0, count: 12)))
        #expect(sentence(overlapError) == "offset \(offset(of: "[4,12]", in: overlap)): "
            + "tensor 'b': data_offsets [4, 12] overlap those of 'a' [0, 8]")

        let gap = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#
        #expect(try readError(file(header: gap, data: [UInt8](repeating: 0, count: 12)))?.reason
            == "tensor 'b': data_offsets [8, 12] leave bytes 4..<8 of the data section unused")

        let late = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        #expect(try readError(file(header: late, data: [UInt8](repeating: 0, count: 8)))?.reason
            == "tensor 'a': data_offsets [4, 8] leave bytes 0..<4 of the data section unused")
    }

    @Test func dataSectionLengthMismatch() throws {
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        let error = try readError(file(header: header, data: [UInt8](repeating: 0, count: 10)))
        #expect(sentence(error) == "offset \(8 + header.utf8.count + 4): the data section holds 10 bytes but the tensors cover only 4")
    }

    @Test func duplicateNamesAndBadMetadata() throws {
        let duplicate = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#
        let error = try readError(file(header: duplicate, data: [UInt8](repeating: 0, count: 8)))
        #expect(sentence(error) == "offset \(offset(of: #","a""#, in: duplicate) + 1): the header is not valid JSON: duplicate key \"a\" (first at line 1, column 2)")
        #expect(try readError(file(header: #"{"__metadata__":{"k":1}}"#))?.reason
            == "\"__metadata__\" value of 'k' must be a string, found a number")
        #expect(try readError(file(header: #"{"__metadata__":[]}"#))?.reason
            == "\"__metadata__\" must be an object of strings, found an array")
    }

    @Test func everyTruncationAndManyCorruptionsFailCleanly() throws {
        try DataTestFiles.withDirectory { directory in
            let url = URL(fileURLWithPath: directory + "/good.safetensors")
            try SafeTensors.write([(name: "w", tensor: Tensor(shape: [3, 2], values: [1, 2, 3, 4, 5, 6])),
                                   (name: "b", tensor: Tensor(shape: [3], values: [7, 8, 9]))],
                                  metadata: ["epoch": "1"], to: url)
            let good = try DataTestFiles.contents(of: url.path)
            let path = directory + "/damaged.safetensors"
            for length in 0..<good.count {
                try DataTestFiles.write(Array(good[0..<length]), to: path)
                let error = DataTestFiles.capture { _ = try SafeTensors.read(from: URL(fileURLWithPath: path)) }
                #expect(error?.path == path, "cut at \(length)")
            }
            var generator = RandomStream(seed: 99, stream: 0)
            for _ in 0..<400 {
                var damaged = good
                for _ in 0...Int(generator.next(below: 3)) {
                    damaged[Int(generator.next(below: UInt64(damaged.count)))] = UInt8(truncatingIfNeeded: generator.next())
                }
                try DataTestFiles.write(damaged, to: path)
                do {
                    _ = try SafeTensors.read(from: URL(fileURLWithPath: path)) // a change in the data can be valid
                } catch let error as DataError {
                    #expect(error.path == path)
                }
            }
        }
    }

    @Test func missingFileAndDirectory() throws {
        try DataTestFiles.withDirectory { directory in
            let missing = directory + "/none.safetensors"
            #expect(DataTestFiles.capture { _ = try SafeTensors.read(from: URL(fileURLWithPath: missing)) }
                == .fileNotFound(path: missing, hint: nil))
            #expect(DataTestFiles.capture { _ = try SafeTensors.read(from: URL(fileURLWithPath: directory)) }
                == .unreadable(path: directory, reason: "is a directory, not a regular file"))
        }
    }

    // MARK: - Atomic writing

    private let original = [(name: "w", tensor: Tensor(shape: [2], values: [1, 2]))]
    private let replacement = [(name: "w", tensor: Tensor(shape: [3], values: [3, 4, 5]))]

    @Test func overwriteReplacesAndLeavesNoTemporaryFile() throws {
        try DataTestFiles.withDirectory { directory in
            let url = URL(fileURLWithPath: directory + "/model.safetensors")
            try SafeTensors.write(original, to: url)
            try SafeTensors.write(replacement, to: url)
            #expect(try SafeTensors.read(from: url).tensors.first?.tensor.array() == [3, 4, 5])
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["model.safetensors"])
        }
    }

    @Test func failedWriteLeavesTheOldFileUntouched() throws {
        try DataTestFiles.withDirectory { directory in
            let url = URL(fileURLWithPath: directory + "/model.safetensors")
            try SafeTensors.write(original, to: url)
            let before = try DataTestFiles.contents(of: url.path)
            // Occupy the temporary file's name with a directory, so creating it fails.
            let temporary = url.path + ".tmp-\(getpid())"
            try FileManager.default.createDirectory(atPath: temporary, withIntermediateDirectories: false)
            let error = DataTestFiles.capture { try SafeTensors.write(replacement, to: url) }
            guard case let .unwritable(path, reason) = error else {
                Issue.record("expected an unwritable error, got \(String(describing: error))")
                return
            }
            #expect(path == url.path)
            #expect(reason.hasPrefix("cannot create temporary file \(temporary)"))
            #expect(try DataTestFiles.contents(of: url.path) == before)
            #expect(try SafeTensors.read(from: url).tensors.first?.tensor.array() == [1, 2])
        }
    }

    @Test func destinationThatIsADirectory() throws {
        try DataTestFiles.withDirectory { directory in
            let target = directory + "/checkpoint.safetensors"
            try FileManager.default.createDirectory(atPath: target + "/inside", withIntermediateDirectories: true)
            let error = DataTestFiles.capture { try SafeTensors.write(original, to: URL(fileURLWithPath: target)) }
            #expect(error?.path == target)
            #expect(error?.reason.contains("cannot replace with") == true, "\(String(describing: error))")
            #expect(error?.reason.hasSuffix("the old file is untouched") == true)
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory) == ["checkpoint.safetensors"])
            #expect(try FileManager.default.contentsOfDirectory(atPath: target) == ["inside"])
        }
    }

    @Test func missingParentDirectory() throws {
        let target = "/nonexistent-strata-dir/model.safetensors"
        let error = DataTestFiles.capture { try SafeTensors.write(original, to: URL(fileURLWithPath: target)) }
        #expect(error == .unwritable(path: target,
                                     reason: "cannot create temporary file \(target).tmp-\(getpid()): No such file or directory"))
    }

    @Test(.enabled(if: getuid() != 0, "permissions do not stop root")) func readOnlyDirectory() throws {
        try DataTestFiles.withDirectory { directory in
            let url = URL(fileURLWithPath: directory + "/model.safetensors")
            try SafeTensors.write(original, to: url)
            let before = try DataTestFiles.contents(of: url.path)
            chmod(directory, 0o555)
            defer { chmod(directory, 0o755) }
            let error = DataTestFiles.capture { try SafeTensors.write(replacement, to: url) }
            #expect(error?.reason.contains("Permission denied") == true)
            #expect(try DataTestFiles.contents(of: url.path) == before)
        }
    }

    @Test func invalidNamesAreRefusedBeforeWriting() throws {
        try DataTestFiles.withDirectory { directory in
            let url = URL(fileURLWithPath: directory + "/model.safetensors")
            let tensor = Tensor(shape: [1])
            #expect(DataTestFiles.capture { try SafeTensors.write([(name: "a", tensor: tensor), (name: "a", tensor: tensor)], to: url) }
                == .unwritable(path: url.path, reason: "the tensor name 'a' appears twice"))
            #expect(DataTestFiles.capture { try SafeTensors.write([(name: "__metadata__", tensor: tensor)], to: url) }
                == .unwritable(path: url.path, reason: "the tensor name \"__metadata__\" is reserved for metadata"))
            #expect(!FileManager.default.fileExists(atPath: url.path))
        }
    }
}
