import Foundation
import Testing
@testable import StrataCore

@Suite("Image data sets")
struct DatasetTests {
    /// Writes a generated Fashion-MNIST-shaped split (`count` images of 28×28) into `directory`.
    private func writeSplit(_ split: ImageDataset.Split, count: Int, labelCount: Int? = nil, labels: [UInt8]? = nil,
                            compressed: Bool = true, in directory: String) throws -> IDXArray {
        let names = FashionMNIST.fileNames(for: split)
        let images = IDXArray(dimensions: [count, 28, 28], bytes: DataTestFiles.bytes(count * 784, seed: UInt64(count)))
        let labelBytes = labels ?? (0..<(labelCount ?? count)).map { UInt8($0 % 10) }
        let labelArray = IDXArray(dimensions: [labelBytes.count], bytes: labelBytes)
        func store(_ bytes: [UInt8], _ name: String) throws {
            if compressed {
                try DataTestFiles.write(DataTestFiles.gzipStored(bytes), to: directory + "/" + name)
            } else {
                try DataTestFiles.write(bytes, to: directory + "/" + String(name.dropLast(3)))
            }
        }
        try store(IDX.encode(images), names.images)
        try store(IDX.encode(labelArray), names.labels)
        return images
    }

    @Test func loadsGeneratedSplitWithLimit() throws {
        try DataTestFiles.withDirectory { directory in
            let images = try writeSplit(.test, count: 50, in: directory)
            let all = try FashionMNIST.load(directory: directory, split: .test)
            #expect(all.count == 50)
            #expect(all.exampleShape == [1, 28, 28])
            #expect(all.classCount == 10)
            #expect(all.pixels == images.bytes)
            #expect(all.labels == (0..<50).map { Int32($0 % 10) })

            let first = try FashionMNIST.load(directory: directory, split: .test, limit: 7)
            #expect(first.count == 7)
            #expect(first.pixels == Array(images.bytes[0..<(7 * 784)]))
            #expect(first.labels == Array(all.labels[0..<7]))
            #expect(try FashionMNIST.load(directory: directory, split: .test, limit: 500).count == 50)
            #expect(try FashionMNIST.load(directory: directory, split: .test, limit: 0).count == 0)
        }
    }

    @Test func uncompressedFilesAreFound() throws {
        try DataTestFiles.withDirectory { directory in
            let images = try writeSplit(.train, count: 3, compressed: false, in: directory)
            let dataset = try FashionMNIST.load(directory: directory, split: .train)
            #expect(dataset.pixels == images.bytes)
        }
    }

    @Test func imageAndLabelCountsMustAgree() throws {
        try DataTestFiles.withDirectory { directory in
            _ = try writeSplit(.test, count: 5, labelCount: 4, in: directory)
            let names = FashionMNIST.fileNames(for: .test)
            let error = DataTestFiles.capture { _ = try FashionMNIST.load(directory: directory, split: .test) }
            let imagesPath = directory + "/" + names.images
            let labelsPath = directory + "/" + names.labels
            #expect(error == .countMismatch(path: imagesPath, count: 5, otherPath: labelsPath, otherCount: 4))
            #expect(error?.description == "\(imagesPath): holds 5 examples but \(labelsPath) holds 4")
        }
    }

    @Test func labelsOutsideTheClassesAreRefused() throws {
        try DataTestFiles.withDirectory { directory in
            _ = try writeSplit(.test, count: 3, labels: [1, 12, 3], in: directory)
            let labelsPath = directory + "/" + FashionMNIST.fileNames(for: .test).labels
            let error = DataTestFiles.capture { _ = try FashionMNIST.load(directory: directory, split: .test) }
            #expect(error?.description == "\(labelsPath): offset 9: label 12 of example 1 is outside 0..<10")
        }
    }

    @Test func missingDirectorySaysHowToGetTheData() throws {
        let error = DataTestFiles.capture { _ = try FashionMNIST.load(directory: "/nonexistent/fashion", split: .train) }
        #expect(error == .fileNotFound(path: "/nonexistent/fashion/train-labels-idx1-ubyte.gz", hint: FashionMNIST.installHint))
        #expect(error?.description.contains("dataset-fashion-mnist") == true)
    }

    @Test func negativeLimitIsRefused() throws {
        let error = DataTestFiles.capture { _ = try FashionMNIST.load(directory: "/nonexistent", split: .train, limit: -1) }
        #expect(error == .invalidOption(name: "limit", value: "-1", reason: "must be at least 0"))
    }

    @Test func prefixKeepsTheFirstExamples() {
        let dataset = ImageDataset(pixels: [1, 2, 3, 4, 5, 6], labels: [0, 1, 2], channels: 2, height: 1, width: 1,
                                   classCount: 3)
        let two = dataset.prefix(2)
        #expect(two.count == 2)
        #expect(two.pixels == [1, 2, 3, 4])
        #expect(two.labels == [0, 1])
        #expect(dataset.prefix(10).count == 3)
    }

    /// Smallest and largest byte, in one plain loop (Sequence.min/max are slow in debug builds).
    private func byteRange(_ bytes: [UInt8]) -> ClosedRange<UInt8>? {
        var seen = [Bool](repeating: false, count: 256)
        bytes.withUnsafeBufferPointer { buffer in
            var i = 0
            while i < buffer.count {
                seen[Int(buffer[i])] = true
                i &+= 1
            }
        }
        guard let low = seen.firstIndex(of: true), let high = seen.lastIndex(of: true) else { return nil }
        return UInt8(low)...UInt8(high)
    }

    static let fashionMNISTInstalled = FileManager.default.fileExists(
        atPath: FashionMNIST.defaultDirectory + "/" + FashionMNIST.fileNames(for: .test).images)

    @Test(.enabled(if: fashionMNISTInstalled,
                   "Fashion-MNIST is not installed at /usr/share/datasets/fashion-mnist (apt-get install dataset-fashion-mnist)"))
    func realFashionMNIST() throws {
        let train = try FashionMNIST.load(split: .train)
        #expect(train.count == 60_000)
        #expect(train.exampleShape == [1, 28, 28])
        #expect(train.pixels.count == 60_000 * 784)
        #expect(train.labels.first == 9) // the first training image is an ankle boot
        let trainRange = byteRange(train.pixels)
        #expect(trainRange == 0...255)
        var perClass = [Int](repeating: 0, count: 10)
        for label in train.labels { perClass[Int(label)] += 1 }
        #expect(perClass == [Int](repeating: 6000, count: 10))

        let test = try FashionMNIST.load(split: .test)
        #expect(test.count == 10_000)
        #expect(test.labels.allSatisfy { (0..<10).contains($0) })
        #expect(byteRange(test.pixels) == 0...255)

        let limited = try FashionMNIST.load(split: .train, limit: 100)
        #expect(limited.count == 100)
        #expect(limited.pixels == Array(train.pixels[0..<(100 * 784)]))
    }
}
