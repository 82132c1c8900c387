import Foundation
import Testing
@testable import StrataCore

@Suite("Image folder and CIFAR-10 sources")
struct ImageSourceTests {
    /// A `h × w` grey or RGB image whose pixels are `seed`-dependent.
    static func image(_ seed: Int, channels: Int = 3, height: Int = 6, width: Int = 5) -> PixelImage {
        PixelImage(channels: channels, height: height, width: width,
                   bytes: (0..<(channels * height * width)).map { UInt8(truncatingIfNeeded: $0 * 7 + seed * 31) })
    }

    /// Writes `root/<class>/<i>.png` for each class and count.
    static func folder(_ root: String, _ classes: [(String, Int)], size: (Int, Int) = (6, 5)) throws {
        for (c, (name, count)) in classes.enumerated() {
            try FileManager.default.createDirectory(atPath: root + "/" + name, withIntermediateDirectories: true)
            for i in 0..<count {
                try ImageDecoder.writePNG(image(c * 100 + i, height: size.0, width: size.1), to: "\(root)/\(name)/\(i).png")
            }
        }
    }

    @Test func classesSortedAndSplitFolders() throws {
        try DataTestFiles.withDirectory { dir in
            try Self.folder(dir + "/train", [("dog", 3), ("Cat", 2), ("bird", 1)])
            try Self.folder(dir + "/valid", [("dog", 1), ("bird", 2)])
            try DataTestFiles.write(Array("not an image".utf8), to: dir + "/train/dog/notes.txt")
            let source = try ImageFolderSource(root: dir, channels: 3, size: nil, validFraction: nil, seed: 0, skipBad: false)
            // Code-point order, as Python's sorted(): upper case first.
            #expect(source.classNames == ["Cat", "bird", "dog"])
            #expect(source.exampleShape == [3, 6, 5])
            let train = try source.load(split: .train, limit: nil)
            #expect(train.labels == [0, 0, 1, 2, 2, 2])
            // The first Cat image is image(100) (Cat is the second class written).
            #expect(Array(train.pixels[0..<90]) == Self.image(100).bytes)
            let valid = try source.load(split: .test, limit: nil)
            #expect(valid.labels == [1, 1, 2])
        }
    }

    @Test func seededValidationFraction() throws {
        try DataTestFiles.withDirectory { dir in
            try Self.folder(dir, [("a", 10), ("b", 10)])
            let one = try ImageFolderSource(root: dir, channels: 1, size: nil, validFraction: 0.25, seed: 3, skipBad: false)
            let again = try ImageFolderSource(root: dir, channels: 1, size: nil, validFraction: 0.25, seed: 3, skipBad: false)
            let other = try ImageFolderSource(root: dir, channels: 1, size: nil, validFraction: 0.25, seed: 4, skipBad: false)
            #expect(one.layout.valid.count == 5 && one.layout.train.count == 15)
            #expect(one.layout.valid == again.layout.valid)
            #expect(one.layout.valid != other.layout.valid)
            #expect(Set(one.layout.valid.map(\.path)).isDisjoint(with: one.layout.train.map(\.path)))
            #expect(try one.load(split: .train, limit: nil).channels == 1)
        }
    }

    @Test func resizesToTheRequestedSize() throws {
        try DataTestFiles.withDirectory { dir in
            try Self.folder(dir, [("a", 2), ("b", 2)], size: (12, 10))
            let source = try ImageFolderSource(root: dir, channels: 3, size: (6, 5), validFraction: 0.5, seed: 0, skipBad: false)
            let data = try source.load(split: .train, limit: nil)
            #expect(data.exampleShape == [3, 6, 5])
            // Halving a side: output 0 is centred at input 1 with support 2, taps at inputs 0, 1, 2
            // with triangle weights .75, .75, .25, normalised to 3/7, 3/7, 1/7.
            let full = FloatImage(Self.image(0, height: 12, width: 10))
            let expected = Resize.apply(full, height: 6, width: 5).rounded.bytes
            #expect(Array(data.pixels[0..<90]) == expected)
            let v = full.values
            let taps: [Float] = [3.0 / 7, 3.0 / 7, 1.0 / 7]
            var corner: Float = 0
            for r in 0..<3 { for c in 0..<3 { corner += taps[r] * taps[c] * v[r * 10 + c] } }
            #expect(Int(expected[0]) == Int(corner.rounded()))
        }
    }

    @Test func mixedSizesWithoutResizeNameTheFile() throws {
        try DataTestFiles.withDirectory { dir in
            try Self.folder(dir, [("a", 2), ("b", 2)])
            try ImageDecoder.writePNG(Self.image(9, height: 7, width: 5), to: dir + "/b/1.png")
            let source = try ImageFolderSource(root: dir, channels: 3, size: nil, validFraction: 0.5, seed: 1, skipBad: true)
            let error = DataTestFiles.capture {
                _ = try source.load(split: .train, limit: nil)
                _ = try source.load(split: .test, limit: nil)
            }
            #expect(error?.path == dir + "/b/1.png")
            #expect(error?.description.contains("set data.size") == true)
        }
    }

    @Test func badFolders() throws {
        try DataTestFiles.withDirectory { dir in
            let missing = DataTestFiles.capture { _ = try ImageFolderLayout.scan(root: dir + "/nope", validFraction: nil, seed: 0) }
            #expect(missing?.path == dir + "/nope")
            let noClasses = DataTestFiles.capture { _ = try ImageFolderLayout.scan(root: dir, validFraction: nil, seed: 0) }
            #expect(noClasses?.description.contains("has no class sub-folders") == true)
            try Self.folder(dir, [("a", 2)])
            try FileManager.default.createDirectory(atPath: dir + "/b", withIntermediateDirectories: true)
            let empty = DataTestFiles.capture { _ = try ImageFolderLayout.scan(root: dir, validFraction: nil, seed: 0) }
            #expect(empty == .invalidValue(path: dir + "/b", offset: 0, reason: "the class folder holds no .png, .jpg or .jpeg image"))
        }
    }

    @Test func corruptImagesAreRefusedOrSkippedAndCounted() throws {
        try DataTestFiles.withDirectory { dir in
            try Self.folder(dir, [("a", 3), ("b", 3)])
            var bytes = try DataTestFiles.contents(of: dir + "/a/1.png")
            bytes.removeLast(30)
            try DataTestFiles.write(bytes, to: dir + "/a/1.png")
            try DataTestFiles.write([], to: dir + "/b/2.png")
            for skip in [false, true] {
                let source = try ImageFolderSource(root: dir, channels: 3, size: nil, validFraction: 0.01, seed: 0, skipBad: skip)
                let split: ImageDataset.Split = source.layout.train.contains { $0.path.hasSuffix("a/1.png") } ? .train : .test
                if skip {
                    let data = try source.load(split: split, limit: nil)
                    #expect(data.skippedFiles.contains(dir + "/a/1.png"))
                    #expect(data.count == data.fileCount - data.skippedFiles.count)
                } else {
                    let error = DataTestFiles.capture { _ = try source.load(split: split, limit: nil) }
                    #expect(error?.path == dir + "/a/1.png")
                    #expect(error?.description.contains("truncated PNG") == true)
                }
            }
        }
    }

    // MARK: CIFAR-10

    /// `count` CIFAR records with labels `i % 10` and pixels from `seed`.
    static func cifarRecords(_ count: Int, seed: Int) -> [UInt8] {
        (0..<count).flatMap { i in [UInt8(i % 10)] + (0..<3072).map { UInt8(truncatingIfNeeded: $0 + i * 13 + seed) } }
    }

    @Test func cifarBinaryLoadsRecordsInOrder() throws {
        try DataTestFiles.withDirectory { dir in
            try DataTestFiles.write(Self.cifarRecords(3, seed: 1), to: dir + "/data_batch_1.bin")
            try DataTestFiles.write(Self.cifarRecords(2, seed: 2), to: dir + "/data_batch_2.bin")
            try DataTestFiles.write(Self.cifarRecords(4, seed: 3), to: dir + "/test_batch.bin")
            let source = CIFAR10BinarySource(directory: dir)
            #expect(source.exampleShape == [3, 32, 32] && source.classNames[3] == "cat")
            let train = try source.load(split: .train, limit: nil)
            #expect(train.count == 5 && train.labels == [0, 1, 2, 0, 1])
            // Record 0 of batch 2 (example 3): red plane first, row-major.
            #expect(train.pixels[3 * 3072 + 0] == 2 && train.pixels[3 * 3072 + 1025] == UInt8(truncatingIfNeeded: 1025 + 2))
            #expect(try source.load(split: .train, limit: 4).count == 4)
            #expect(try source.load(split: .test, limit: nil).labels == [0, 1, 2, 3])
        }
    }

    @Test func cifarWrongLengthAndBadLabelNameFileAndOffset() throws {
        try DataTestFiles.withDirectory { dir in
            try DataTestFiles.write(Array(Self.cifarRecords(2, seed: 0).dropLast(5)), to: dir + "/data_batch_1.bin")
            var records = Self.cifarRecords(2, seed: 0)
            records[3073] = 12
            try DataTestFiles.write(records, to: dir + "/test_batch.bin")
            let source = CIFAR10BinarySource(directory: dir)
            let short = DataTestFiles.capture { _ = try source.load(split: .train, limit: nil) }
            #expect(short?.path == dir + "/data_batch_1.bin" && short?.offset == 3073)
            #expect(short?.description.contains("not a multiple of 3073") == true)
            let label = DataTestFiles.capture { _ = try source.load(split: .test, limit: nil) }
            #expect(label == .invalidValue(path: dir + "/test_batch.bin", offset: 3073, reason: "label 12 of record 1 is outside 0..<10"))
            try FileManager.default.removeItem(atPath: dir + "/test_batch.bin")
            let missing = DataTestFiles.capture { _ = try source.load(split: .test, limit: nil) }
            #expect(missing?.path == dir + "/test_batch.bin")
        }
    }
}
