import Foundation
import Testing
@testable import StrataCore

@Suite("Image transforms")
struct TransformTests {
    /// Each transform against torchvision on the same image (Fixtures/images/transforms.json).
    @Test func matchTorchvision() throws {
        let fixtures = try ImageFixtures.transforms()
        let input = ImageFixtures.image(fixtures.input)
        #expect(fixtures.cases.count == 11)
        for c in fixtures.cases {
            var out: FloatImage
            var scale: Float = 1
            switch c.kind {
            case "resize": out = Resize.apply(input, height: c.size![0], width: c.size![1])
            case "center_crop": out = CenterCrop.apply(input, height: c.size![0], width: c.size![1])
            case "resized_crop":
                let w = c.window!
                out = RandomResizedCrop.apply(input, window: .init(top: w[0], left: w[1], height: w[2], width: w[3]),
                                              height: c.size![0], width: c.size![1])
            case "pad_crop": out = PadCrop.apply(input, pad: c.pad!, top: c.corner![0], left: c.corner![1])
            case "hflip": out = HorizontalFlip.apply(input)
            case "normalize":
                let pipeline = TransformPipeline(normalization: .fixed(.init(mean: c.mean!, std: c.std!)))
                var values = [Float](repeating: 0, count: input.values.count)
                var random = RandomStream(seed: 0)
                values.withUnsafeMutableBufferPointer { pipeline.run(input, random: &random, into: $0.baseAddress!) }
                out = FloatImage(channels: input.channels, height: input.height, width: input.width, values: values)
                scale = 1 / 255
            default: Issue.record("unknown case \(c.kind)"); continue
            }
            #expect([out.channels, out.height, out.width] == c.output.shape, "\(c.name)")
            let worst = zip(out.values, c.output.data).map { abs(Double($0) - $1) }.max() ?? .infinity
            #expect(worst <= 2e-3 * Double(scale), "\(c.name): largest difference \(worst)")
        }
    }

    /// torchvision's fallback when no try fits: the central crop clamped to the ratio range.
    @Test func randomResizedCropFallsBackToCentralCrop() {
        var random = RandomStream(seed: 1)
        // Aspect ratios of 4…5 cannot fit an area of ≥ 99 % of a 20×10 (wide 2:1) image: w = round(√(area·r)) > 20.
        let window = RandomResizedCrop.draw(height: 10, width: 20, scale: 0.99...1, ratio: 4...5, random: &random)
        // in_ratio 2 < 4: w = 20, h = round(20 / 4) = 5, centred: top (10-5)/2 = 2, left 0.
        #expect(window == .init(top: 2, left: 0, height: 5, width: 20))
    }

    /// Drawn windows lie inside the image with area and ratio within the ranges.
    @Test func randomResizedCropWindowsRespectRanges() {
        var random = RandomStream(seed: 3)
        for _ in 0..<500 {
            let w = RandomResizedCrop.draw(height: 40, width: 60, scale: 0.25...0.5, ratio: 0.75...(4.0 / 3), random: &random)
            #expect(w.top >= 0 && w.left >= 0 && w.top + w.height <= 40 && w.left + w.width <= 60)
            let area = Double(w.height * w.width) / 2400
            #expect(area > 0.2 && area < 0.56, "area fraction \(area)")
            let ratio = Double(w.width) / Double(w.height)
            #expect(ratio > 0.6 && ratio < 1.5, "ratio \(ratio)")
        }
    }

    /// A pipeline's output for an example depends on (seed, epoch, index) only.
    @Test func pipelineIsReproducibleAndVariesByExample() {
        let pipeline = TransformPipeline(transforms: [.padCrop(pad: 4), .horizontalFlip(probability: 0.5),
                                                      .randomResizedCrop(height: 8, width: 8, scale: 0.3...1, ratio: 0.75...1.33)])
        let image = FloatImage(channels: 1, height: 12, width: 12, values: (0..<144).map { Float($0) })
        func run(_ seed: UInt64, _ epoch: Int, _ index: Int) -> [Float] {
            var random = TransformPipeline.randomStream(seed: seed, epoch: epoch, index: index)
            return pipeline.transform(image, random: &random).values
        }
        #expect(run(5, 2, 9) == run(5, 2, 9))
        let variants = Set([run(5, 2, 9), run(5, 2, 10), run(5, 3, 9), run(6, 2, 9)].map { $0.description })
        #expect(variants.count == 4)
        #expect(pipeline.outputShape([1, 12, 12]) == [1, 8, 8])
    }

    /// Batches through a pipeline are the same with one worker or several, prefetched or not.
    @Test func batchesDoNotDependOnWorkerCount() throws {
        let pixels = (0..<(20 * 3 * 10 * 10)).map { UInt8(truncatingIfNeeded: $0 &* 37) }
        let data = ImageDataset(pixels: pixels, labels: (0..<20).map { Int32($0 % 4) }, channels: 3, height: 10, width: 10, classCount: 4)
        let pipeline = TransformPipeline(transforms: [.padCrop(pad: 2), .horizontalFlip(probability: 0.5), .centerCrop(height: 8, width: 8)],
                                         normalization: .fixed(.cifar10))
        func epoch(_ workers: Int, prefetch: Int = 0) throws -> [Float] {
            let loader = try BatchLoader(dataset: data, batchSize: 6, mode: .training(seed: 4), pipeline: pipeline)
            loader.pipelineWorkers = workers
            loader.prefetchDepth = prefetch
            // An epoch abandoned half way (its producer stopped) leaves the next one unchanged.
            loader.startEpoch(0)
            let scratch = loader.makeInputTensor(), scratchLabels = UnsafeMutablePointer<Int32>.allocate(capacity: 6)
            defer { scratchLabels.deallocate() }
            _ = loader.nextBatch(into: scratch, labels: scratchLabels)
            loader.startEpoch(1)
            let input = loader.makeInputTensor()
            #expect(input.shape == [6, 3, 8, 8])
            let labels = UnsafeMutablePointer<Int32>.allocate(capacity: 6)
            defer { labels.deallocate() }
            var all: [Float] = []
            while let n = loader.nextBatch(into: input, labels: labels) {
                all += Array(UnsafeBufferPointer(start: input.data, count: n * 192))
            }
            return all
        }
        let one = try epoch(1)
        #expect(one.count == 20 * 192)
        #expect(try epoch(3) == one)
        #expect(try epoch(2, prefetch: 1) == one)
        #expect(try epoch(1, prefetch: 3) == one)
    }

    /// Automatic statistics by hand: one channel of pixels 0 and 255 in equal numbers.
    @Test func channelStatisticsByHand() {
        let data = ImageDataset(pixels: [0, 255, 0, 255, 51, 51, 51, 51], labels: [0, 1], channels: 2, height: 1, width: 2, classCount: 2)
        let s = data.channelStatistics()
        // Channel 0 holds 0, 255, 51, 51 → x/255 = 0, 1, .2, .2: mean .35, variance (.1225+.4225+.0225+.0225)/4 = .1475.
        #expect(abs(s.mean[0] - 0.35) < 1e-6 && abs(s.std[0] - Float(0.1475).squareRoot()) < 1e-6)
        #expect(abs(s.mean[1] - 0.35) < 1e-6)
    }
}
