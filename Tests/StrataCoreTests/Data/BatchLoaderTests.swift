import Testing
@testable import StrataCore

@Suite("Batch loader")
struct BatchLoaderTests {
    /// `count` one-pixel-per-channel examples whose label is their index and whose pixels are
    /// `index % 256`, so every served value says which example it came from.
    private func indexedDataset(count: Int, channels: Int = 1, height: Int = 2, width: Int = 3) -> ImageDataset {
        let size = channels * height * width
        var pixels: [UInt8] = []
        for index in 0..<count { pixels += [UInt8](repeating: UInt8(index % 256), count: size) }
        return ImageDataset(pixels: pixels, labels: (0..<count).map(Int32.init), channels: channels, height: height,
                            width: width, classCount: count)
    }

    /// Serves one whole epoch and returns the labels of each batch.
    private func epochBatches(_ loader: BatchLoader, epoch: Int) -> [[Int32]] {
        let input = loader.makeInputTensor()
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: loader.batchSize)
        defer { labels.deallocate() }
        loader.startEpoch(epoch)
        var batches: [[Int32]] = []
        while let n = loader.nextBatch(into: input, labels: labels) {
            batches.append(Array(UnsafeBufferPointer(start: labels, count: n)))
        }
        return batches
    }

    @Test func splitMix64MatchesReference() {
        // Published output of Vigna's splitmix64.c for seed 1234567.
        var generator = SplitMix64(state: 1_234_567)
        let outputs = (0..<5).map { _ in generator.next() }
        #expect(outputs == [6_457_827_717_110_365_317, 3_203_168_211_198_807_973, 9_817_491_932_198_370_423,
                            4_593_380_528_125_082_431, 16_408_922_859_458_223_821])
    }

    @Test func xoshiro256StarStarMatchesReference() {
        // Output of Blackman and Vigna's xoshiro256starstar.c from state {1, 2, 3, 4}.
        var generator = RandomStream(state: (1, 2, 3, 4))
        let outputs = (0..<5).map { _ in generator.next() }
        #expect(outputs == [11520, 0, 1_509_978_240, 1_215_971_899_390_074_240, 1_216_172_134_540_287_360])
    }

    @Test func boundedDrawsStayInRangeAndCoverIt() {
        var generator = RandomStream(seed: 3, stream: 0)
        var seen = Set<UInt64>()
        for _ in 0..<1000 {
            let value = generator.next(below: 9)
            #expect(value < 9)
            seen.insert(value)
        }
        #expect(seen.count == 9)
    }

    @Test func epochIsAPermutationInBatchesWithPartialLast() throws {
        let loader = try BatchLoader(dataset: indexedDataset(count: 103), batchSize: 10, mode: .training(seed: 7))
        #expect(loader.batchesPerEpoch == 11)
        #expect(loader.inputShape == [10, 1, 2, 3])
        let batches = epochBatches(loader, epoch: 0)
        #expect(batches.map(\.count) == [Int](repeating: 10, count: 10) + [3])
        let served = batches.flatMap { $0 }
        #expect(served.sorted() == (0..<103).map(Int32.init))
        #expect(served != (0..<103).map(Int32.init), "training order should be shuffled")
        #expect(served.map(Int.init) == loader.order)
    }

    @Test func nextBatchReturnsNilAfterTheEpochUntilRestarted() throws {
        let loader = try BatchLoader(dataset: indexedDataset(count: 4), batchSize: 4, mode: .evaluation)
        let input = loader.makeInputTensor()
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: 4)
        defer { labels.deallocate() }
        #expect(loader.nextBatch(into: input, labels: labels) == 4)
        #expect(loader.nextBatch(into: input, labels: labels) == nil)
        #expect(loader.nextBatch(into: input, labels: labels) == nil)
        loader.startEpoch(1)
        #expect(loader.nextBatch(into: input, labels: labels) == 4)
    }

    @Test func sameSeedSameOrderAndEpochsDiffer() throws {
        let dataset = indexedDataset(count: 50)
        let first = try BatchLoader(dataset: dataset, batchSize: 8, mode: .training(seed: 42))
        let second = try BatchLoader(dataset: dataset, batchSize: 8, mode: .training(seed: 42))
        let other = try BatchLoader(dataset: dataset, batchSize: 8, mode: .training(seed: 43))

        let epoch0 = epochBatches(first, epoch: 0)
        let epoch1 = epochBatches(first, epoch: 1)
        #expect(epoch0 != epoch1, "each epoch draws a new permutation")
        #expect(epochBatches(second, epoch: 0) == epoch0)
        #expect(epochBatches(other, epoch: 0) != epoch0)
        // Resuming straight at epoch 1 (as after loading a checkpoint) gives the same order.
        let resumed = try BatchLoader(dataset: dataset, batchSize: 8, mode: .training(seed: 42))
        #expect(epochBatches(resumed, epoch: 1) == epoch1)
        #expect(epochBatches(first, epoch: 0) == epoch0)
    }

    @Test func orderIsPinnedAcrossMachines() throws {
        // The generator is specified bit for bit, so this order is the same everywhere.
        let loader = try BatchLoader(dataset: indexedDataset(count: 10), batchSize: 10, mode: .training(seed: 2024))
        #expect(loader.order == Self.pinnedOrderSeed2024)
    }

    /// Order of 10 examples for seed 2024, epoch 0 (checked against an independent Python
    /// transcription of splitmix64 + xoshiro256** + Lemire + Fisher–Yates).
    static let pinnedOrderSeed2024 = [3, 7, 4, 8, 6, 5, 1, 0, 9, 2]

    @Test func evaluationKeepsDatasetOrderAndNeverAugments() throws {
        let dataset = indexedDataset(count: 25)
        let loader = try BatchLoader(dataset: dataset, batchSize: 10, mode: .evaluation,
                                     augmentation: .init(pad: 2, horizontalFlip: true))
        #expect(!loader.augmentsBatches)
        #expect(epochBatches(loader, epoch: 3).flatMap { $0 } == (0..<25).map(Int32.init))

        let unshuffled = try BatchLoader(dataset: dataset, batchSize: 10, mode: .training(seed: 1, shuffle: false))
        #expect(epochBatches(unshuffled, epoch: 2).flatMap { $0 } == (0..<25).map(Int32.init))
    }

    @Test func pixelsFollowTheirLabels() throws {
        let loader = try BatchLoader(dataset: indexedDataset(count: 300, channels: 2), batchSize: 64, mode: .training(seed: 5))
        let input = loader.makeInputTensor()
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: 64)
        defer { labels.deallocate() }
        while let n = loader.nextBatch(into: input, labels: labels) {
            for slot in 0..<n {
                let expected = Float(Int(labels[slot]) % 256) / 255
                for i in 0..<12 { #expect(input[slot * 12 + i] == expected) }
            }
        }
    }

    @Test func scalesToUnitRangeWithoutNormalization() throws {
        let dataset = ImageDataset(pixels: [0, 51, 255, 128], labels: [3], channels: 1, height: 2, width: 2, classCount: 4)
        let loader = try BatchLoader(dataset: dataset, batchSize: 1, mode: .evaluation)
        let input = loader.makeInputTensor()
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        defer { labels.deallocate() }
        #expect(loader.nextBatch(into: input, labels: labels) == 1)
        #expect(input.array() == [0, 0.2, 1, Float(128) / 255])
        #expect(labels[0] == 3)
    }

    @Test func normalizesPerChannel() throws {
        // Channel 0: (x/255 - 0.5) / 0.25; channel 1: (x/255 - 0.2) / 0.5.
        let dataset = ImageDataset(pixels: [0, 51, 255, 0, 51, 255], labels: [0], channels: 2, height: 1, width: 3,
                                   classCount: 1)
        let loader = try BatchLoader(dataset: dataset, batchSize: 1, mode: .training(seed: 1),
                                     normalization: .init(mean: [0.5, 0.2], std: [0.25, 0.5]))
        let input = loader.makeInputTensor()
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        defer { labels.deallocate() }
        _ = loader.nextBatch(into: input, labels: labels)
        let expected: [Float] = [-2, -1.2, 2, -0.4, 0, 1.6]
        for (got, want) in zip(input.array(), expected) { #expect(abs(got - want) < 1e-6) }
        // Exactly PyTorch's ToTensor + Normalize arithmetic, in float32.
        #expect(input[1] == (Float(51) / 255 - Float(0.5)) / Float(0.25))
    }

    @Test func fashionMNISTNormalizationConstants() {
        #expect(BatchLoader.Normalization.fashionMNIST.mean == [0.2860])
        #expect(BatchLoader.Normalization.fashionMNIST.std == [0.3530])
    }

    /// A 1×3×3 image 1...9 (as bytes) and the loader's identity table (x / 255).
    private func tinyImageLoader(pad: Int, flip: Bool) throws -> BatchLoader {
        let dataset = ImageDataset(pixels: Array(1...9), labels: [0], channels: 1, height: 3, width: 3, classCount: 1)
        return try BatchLoader(dataset: dataset, batchSize: 1, mode: .training(seed: 1),
                               augmentation: .init(pad: pad, horizontalFlip: flip))
    }

    /// The loader's output for the tiny image at `placement`, back in byte units.
    private func place(_ loader: BatchLoader, _ placement: BatchLoader.Placement) -> [Int] {
        let output = Tensor(shape: [1, 1, 3, 3])
        let table = (0..<256).map { Float($0) / 255 }
        loader.dataset.pixels.withUnsafeBufferPointer { pixels in
            table.withUnsafeBufferPointer { table in
                loader.convertAugmented(pixels.baseAddress!, into: output.data, table: table.baseAddress!, placement: placement)
            }
        }
        return output.array().map { Int(($0 * 255).rounded()) }
    }

    @Test func padAndCropByHand() throws {
        let loader = try tinyImageLoader(pad: 1, flip: false)
        // Image:     Padded (pad 1):   Crop at row 0, column 0 is the top-left 3×3 window.
        // 1 2 3      0 0 0 0 0
        // 4 5 6      0 1 2 3 0
        // 7 8 9      0 4 5 6 0
        //            0 7 8 9 0
        //            0 0 0 0 0
        #expect(place(loader, .init(row: 0, column: 0, flip: false)) == [0, 0, 0, 0, 1, 2, 0, 4, 5])
        #expect(place(loader, .init(row: 1, column: 1, flip: false)) == [1, 2, 3, 4, 5, 6, 7, 8, 9])
        #expect(place(loader, .init(row: 2, column: 2, flip: false)) == [5, 6, 0, 8, 9, 0, 0, 0, 0])
        #expect(place(loader, .init(row: 2, column: 0, flip: false)) == [0, 4, 5, 0, 7, 8, 0, 0, 0])
        #expect(place(loader, .init(row: 0, column: 1, flip: false)) == [0, 0, 0, 1, 2, 3, 4, 5, 6])
    }

    @Test func flipByHand() throws {
        let loader = try tinyImageLoader(pad: 1, flip: true)
        #expect(place(loader, .init(row: 1, column: 1, flip: true)) == [3, 2, 1, 6, 5, 4, 9, 8, 7])
        // Crop first (top-left window), then mirror it.
        #expect(place(loader, .init(row: 0, column: 0, flip: true)) == [0, 0, 0, 2, 1, 0, 5, 4, 0])
        #expect(place(loader, .init(row: 2, column: 2, flip: true)) == [0, 6, 5, 0, 9, 8, 0, 0, 0])
    }

    @Test func paddingTakesTheNormalizedValueOfBlack() throws {
        let dataset = ImageDataset(pixels: [255], labels: [0], channels: 1, height: 1, width: 1, classCount: 1)
        let loader = try BatchLoader(dataset: dataset, batchSize: 1, mode: .training(seed: 9),
                                     normalization: .init(mean: [0.5], std: [0.5]), augmentation: .init(pad: 1))
        let input = loader.makeInputTensor()
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: 1)
        defer { labels.deallocate() }
        var values = Set<Float>()
        for epoch in 0..<40 {
            loader.startEpoch(epoch)
            _ = loader.nextBatch(into: input, labels: labels)
            values.insert(input[0])
        }
        #expect(values == [-1, 1], "a 1×1 crop shows either the pixel (1) or padding ((0 - 0.5) / 0.5)")
    }

    /// Reference pad-crop-flip on one channel, written the slow obvious way.
    private func naiveAugment(_ image: [UInt8], height: Int, width: Int, pad: Int,
                              row: Int, column: Int, flip: Bool) -> [UInt8] {
        let paddedWidth = width + 2 * pad
        var padded = [UInt8](repeating: 0, count: (height + 2 * pad) * paddedWidth)
        for y in 0..<height { for x in 0..<width { padded[(y + pad) * paddedWidth + x + pad] = image[y * width + x] } }
        var crop = [UInt8](repeating: 0, count: height * width)
        for y in 0..<height { for x in 0..<width { crop[y * width + x] = padded[(y + row) * paddedWidth + x + column] } }
        if flip { for y in 0..<height { crop[(y * width)..<((y + 1) * width)].reverse() } }
        return crop
    }

    @Test func augmentationMatchesNaiveReferenceEverywhere() throws {
        let (channels, height, width, pad) = (2, 3, 5, 2)
        let image = DataTestFiles.bytes(channels * height * width, seed: 11)
        let dataset = ImageDataset(pixels: image, labels: [0], channels: channels, height: height, width: width, classCount: 1)
        let loader = try BatchLoader(dataset: dataset, batchSize: 1, mode: .training(seed: 1),
                                     augmentation: .init(pad: pad, horizontalFlip: true))
        let table = (0..<(256 * channels)).map { Float($0 % 256) }
        let output = Tensor(shape: [1, channels, height, width])
        for row in 0...(2 * pad) {
            for column in 0...(2 * pad) {
                for flip in [false, true] {
                    image.withUnsafeBufferPointer { pixels in
                        table.withUnsafeBufferPointer { table in
                            loader.convertAugmented(pixels.baseAddress!, into: output.data, table: table.baseAddress!,
                                                    placement: .init(row: row, column: column, flip: flip))
                        }
                    }
                    var expected: [UInt8] = []
                    for channel in 0..<channels {
                        let plane = Array(image[(channel * 15)..<((channel + 1) * 15)])
                        expected += naiveAugment(plane, height: height, width: width, pad: pad, row: row, column: column, flip: flip)
                    }
                    #expect(output.array() == expected.map(Float.init), "row \(row), column \(column), flip \(flip)")
                }
            }
        }
    }

    @Test func servedBatchesUseTheEpochStreamPlacements() throws {
        // Unshuffled training: the stream holds only augmentation draws, in serving order.
        let count = 20
        let image = DataTestFiles.bytes(count * 16, seed: 4)
        let dataset = ImageDataset(pixels: image, labels: (0..<count).map(Int32.init), channels: 1, height: 4, width: 4,
                                   classCount: count)
        let seed: UInt64 = 77
        let loader = try BatchLoader(dataset: dataset, batchSize: 6, mode: .training(seed: seed, shuffle: false),
                                     augmentation: .init(pad: 1, horizontalFlip: true))
        let input = loader.makeInputTensor()
        let labels = UnsafeMutablePointer<Int32>.allocate(capacity: 6)
        defer { labels.deallocate() }
        var replay = RandomStream(seed: seed, stream: 3)
        loader.startEpoch(3)
        var flips = 0
        while let n = loader.nextBatch(into: input, labels: labels) {
            for slot in 0..<n {
                let example = Int(labels[slot])
                let row = Int(replay.next(below: 3)), column = Int(replay.next(below: 3))
                let flip = replay.next() >> 63 == 1
                flips += flip ? 1 : 0
                let expected = naiveAugment(Array(image[(example * 16)..<((example + 1) * 16)]), height: 4, width: 4,
                                            pad: 1, row: row, column: column, flip: flip)
                let got = (0..<16).map { UInt8((input[slot * 16 + $0] * 255).rounded()) }
                #expect(got == expected, "example \(example)")
            }
        }
        #expect(flips > 0 && flips < count)
    }

    @Test func flipsAboutHalfTheTime() throws {
        let loader = try tinyImageLoader(pad: 0, flip: true)
        var flips = 0
        for _ in 0..<2000 where loader.drawPlacement().flip { flips += 1 }
        #expect((850...1150).contains(flips))
    }

    @Test func invalidOptionsAreRefused() {
        let dataset = indexedDataset(count: 4, channels: 3)
        #expect(DataTestFiles.capture { _ = try BatchLoader(dataset: dataset, batchSize: 0, mode: .evaluation) }
            == .invalidOption(name: "batchSize", value: "0", reason: "must be at least 1"))
        let wrongCount = DataTestFiles.capture {
            _ = try BatchLoader(dataset: dataset, batchSize: 2, mode: .evaluation, normalization: .fashionMNIST)
        }
        #expect(wrongCount?.description.contains("needs one mean and one std per channel (3)") == true)
        let zeroStd = DataTestFiles.capture {
            _ = try BatchLoader(dataset: dataset, batchSize: 2, mode: .evaluation,
                                normalization: .init(mean: [0, 0, 0], std: [1, 0, 1]))
        }
        #expect(zeroStd?.description.contains("standard deviations positive") == true)
        #expect(DataTestFiles.capture {
            _ = try BatchLoader(dataset: dataset, batchSize: 2, mode: .evaluation, augmentation: .init(pad: -1))
        } == .invalidOption(name: "augmentation.pad", value: "-1", reason: "must be in 0...4096"))
    }
}
