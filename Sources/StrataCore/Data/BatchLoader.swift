import Dispatch
import Foundation

/// Cuts an ``ImageDataset`` into float batches: seeded shuffling, per-channel normalization and
/// CIFAR-style augmentation, written into buffers the caller allocated once.
///
/// Legend: `B` batch size, `C` channels, `H`, `W` image height and width, `N` examples.
///
/// Each epoch visits every example once. In ``Mode/training(seed:shuffle:)`` mode the order is a
/// fresh permutation per epoch, drawn from a xoshiro256** generator seeded by `(seed, epoch)`,
/// so a run is reproducible on any machine and can resume at any epoch; augmentation draws come
/// from the same stream, after the permutation, in the order examples are served: for each
/// example the crop row offset, the crop column offset (when `pad > 0`), then the flip bit (when
/// flipping is on). In ``Mode/evaluation`` mode examples come in data-set order and are never
/// augmented. The last batch of an epoch keeps the remaining `N mod B` examples (PyTorch's
/// `drop_last=False`).
///
/// Each pixel `x` in 0...255 becomes `(x / 255 - mean[c]) / std[c]` (or `x / 255` without
/// normalization), computed once per channel for all 256 byte values, so the per-batch work is
/// one table look-up per pixel and no allocation.
///
///     let loader = try BatchLoader(dataset: train, batchSize: 128, mode: .training(seed: 42),
///                                  normalization: .fashionMNIST, augmentation: .init(pad: 4, horizontalFlip: true))
///     let input = loader.makeInputTensor()
///     let labels = UnsafeMutablePointer<Int32>.allocate(capacity: loader.batchSize)
///     for epoch in 0..<epochs {
///         loader.startEpoch(epoch)
///         while let n = loader.nextBatch(into: input, labels: labels) {
///             let x = input.batchPrefix(n)  // [n, C, H, W]
///             ...
///         }
///     }
public final class BatchLoader {
    /// Whether batches are for training (shuffled, augmented) or for evaluation (neither).
    public enum Mode: Sendable, Equatable {
        /// Shuffle each epoch (unless `shuffle` is false) and apply the augmentation, seeded by `seed`.
        case training(seed: UInt64, shuffle: Bool = true)
        /// Data-set order, no augmentation.
        case evaluation
    }

    /// Per-channel normalization applied after scaling bytes to 0...1: `(x - mean[c]) / std[c]`.
    public struct Normalization: Sendable, Equatable {
        /// Mean of each channel on the 0...1 scale.
        public var mean: [Float]
        /// Standard deviation of each channel on the 0...1 scale; each must be positive.
        public var std: [Float]

        /// A normalization with one mean and one standard deviation per channel.
        public init(mean: [Float], std: [Float]) {
            self.mean = mean
            self.std = std
        }

        /// Fashion-MNIST training-set statistics (one grey channel).
        public static let fashionMNIST = Normalization(mean: [0.2860], std: [0.3530])
        /// CIFAR-10 training-set statistics (RGB), as used by fast.ai and torchvision examples.
        public static let cifar10 = Normalization(mean: [0.4914, 0.4822, 0.4465], std: [0.2470, 0.2435, 0.2616])
    }

    /// Random training-time transforms, in the order applied: pad-and-crop, then flip.
    public struct Augmentation: Sendable, Equatable {
        /// Zero-pad each side by this many pixels, then crop a random `H × W` window (0 turns it off).
        /// Padding is black (pixel value 0) before normalization.
        public var pad: Int
        /// Mirror left-right with probability 1/2.
        public var horizontalFlip: Bool

        /// An augmentation; the defaults do nothing.
        public init(pad: Int = 0, horizontalFlip: Bool = false) {
            self.pad = pad
            self.horizontalFlip = horizontalFlip
        }

        /// No augmentation.
        public static let none = Augmentation()

        /// Whether any transform is on.
        public var isActive: Bool { pad > 0 || horizontalFlip }
    }

    /// The examples served.
    public let dataset: ImageDataset
    /// Examples per full batch (`B`); the last batch of an epoch may be smaller.
    public let batchSize: Int
    /// Training or evaluation.
    public let mode: Mode
    /// The normalization applied, if any.
    public let normalization: Normalization?
    /// The augmentation applied to training batches.
    public let augmentation: Augmentation
    /// The recipe's transforms (`train_transforms` / `eval_transforms`), which replace
    /// `normalization` and `augmentation` when given; each example's randomness is drawn from
    /// ``TransformPipeline/randomStream(seed:epoch:index:)``.
    public let pipeline: TransformPipeline?

    /// The epoch being served (set by ``startEpoch(_:)``).
    public private(set) var epoch = 0
    /// The example indices of the current epoch, in serving order.
    public private(set) var order: [Int]
    /// Examples of the current epoch already served.
    public private(set) var position = 0

    /// `C × 256` converted values: `table[c * 256 + x]` is byte `x` of channel `c` as a float input.
    private var table: [Float]
    /// Threads preparing a batch through a pipeline.
    public var pipelineWorkers = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Batches prepared ahead through a pipeline, on a producer thread (0: prepared when asked).
    /// The batches are the same whatever the depth.
    public var prefetchDepth = 2
    /// The current epoch's producer, started by its first batch.
    private var prefetcher: BatchPrefetcher?

    /// The current epoch's random stream (permutation, then augmentation draws).
    private var generator = RandomStream(seed: 0, stream: 0)

    /// A loader over `dataset`, positioned at the start of epoch 0.
    ///
    /// - Parameters:
    ///   - dataset: The examples.
    ///   - batchSize: Examples per batch, at least 1.
    ///   - mode: ``Mode/training(seed:shuffle:)`` or ``Mode/evaluation``.
    ///   - normalization: Per-channel mean and standard deviation (one per channel), or `nil` for `x / 255`.
    ///   - augmentation: Applied only in training mode.
    /// - Throws: ``DataError/invalidOption(name:value:reason:)`` for an out-of-range option.
    public init(
        dataset: ImageDataset, batchSize: Int, mode: Mode, normalization: Normalization? = nil,
        augmentation: Augmentation = .none, pipeline: TransformPipeline? = nil
    ) throws {
        guard batchSize >= 1 else {
            throw DataError.invalidOption(name: "batchSize", value: "\(batchSize)", reason: "must be at least 1")
        }
        if let normalization {
            guard normalization.mean.count == dataset.channels, normalization.std.count == dataset.channels else {
                throw DataError.invalidOption(
                    name: "normalization", value: "mean \(normalization.mean), std \(normalization.std)",
                    reason: "needs one mean and one std per channel (\(dataset.channels))")
            }
            guard normalization.std.allSatisfy({ $0 > 0 && $0.isFinite }), normalization.mean.allSatisfy(\.isFinite) else {
                throw DataError.invalidOption(
                    name: "normalization", value: "mean \(normalization.mean), std \(normalization.std)",
                    reason: "means must be finite and standard deviations positive")
            }
        }
        guard augmentation.pad >= 0, augmentation.pad <= 4096 else {
            throw DataError.invalidOption(name: "augmentation.pad", value: "\(augmentation.pad)", reason: "must be in 0...4096")
        }
        self.dataset = dataset
        self.batchSize = batchSize
        self.mode = mode
        self.normalization = normalization
        self.augmentation = augmentation
        if let pipeline {
            if case .auto = pipeline.normalization {
                throw DataError.invalidOption(name: "normalize", value: "auto", reason: "must be resolved from the training split first")
            }
            if case let .fixed(n) = pipeline.normalization, n.mean.count != dataset.channels || n.std.count != dataset.channels {
                throw DataError.invalidOption(name: "normalize", value: "mean \(n.mean), std \(n.std)",
                                              reason: "needs one mean and one std per channel (\(dataset.channels))")
            }
        }
        self.pipeline = pipeline
        self.order = Array(0..<dataset.count)
        self.table = Self.conversionTable(channels: dataset.channels, normalization: normalization)
        startEpoch(0)
    }

    /// Shape of the input tensor ``nextBatch(into:labels:)`` fills: `[B, C, H, W]`.
    public var inputShape: [Int] { [batchSize] + exampleInputShape }

    /// Shape of one example as served, `[C, H, W]`: the stored images after the transforms.
    public var exampleInputShape: [Int] { pipeline?.outputShape(dataset.exampleShape) ?? dataset.exampleShape }

    /// Batches per epoch, counting the last partial one: `ceil(N / B)`.
    public var batchesPerEpoch: Int { (dataset.count + batchSize - 1) / batchSize }

    /// Whether batches are augmented (training mode with an active augmentation).
    public var augmentsBatches: Bool {
        if case .training = mode { return augmentation.isActive }
        return false
    }

    /// A zero-filled input tensor of ``inputShape``, to allocate once and reuse for every batch.
    public func makeInputTensor() -> Tensor { Tensor(shape: inputShape) }

    /// Rewinds to the start of `epoch`: draws its permutation (training mode) and resets the stream.
    ///
    /// The same `(seed, epoch)` always gives the same order and augmentations, whatever happened
    /// before, so a run resumed at epoch `e` continues exactly.
    public func startEpoch(_ epoch: Int) {
        prefetcher = nil // stops the previous epoch's producer
        self.epoch = epoch
        position = 0
        switch mode {
        case .evaluation:
            for index in order.indices { order[index] = index }
        case let .training(seed, shuffle):
            generator = RandomStream(seed: seed, stream: UInt64(truncatingIfNeeded: epoch))
            for index in order.indices { order[index] = index }
            if shuffle { shuffleOrder() }
        }
    }

    /// Writes the next batch into `input` and `labels`.
    ///
    /// - Parameters:
    ///   - input: A tensor of at least `B × C × H × W` elements (``makeInputTensor()``); the first
    ///     `n × C × H × W` are overwritten, row-major `[n, C, H, W]`.
    ///   - labels: Room for at least `B` labels; the first `n` are overwritten.
    /// - Returns: `n`, the number of examples written (`B`, or fewer for the last batch), or `nil`
    ///   when the epoch is over (call ``startEpoch(_:)`` for the next one).
    public func nextBatch(into input: Tensor, labels: UnsafeMutablePointer<Int32>) -> Int? {
        let n = min(batchSize, dataset.count - position)
        guard n > 0 else { return nil }
        if let pipeline {
            precondition(input.count >= inputShape.reduce(1, *), "input tensor \(input.shape) is smaller than a batch \(inputShape)")
            pipelineBatch(pipeline, count: n, into: input.data, labels: labels)
            position += n
            return n
        }
        precondition(input.count >= batchSize * dataset.exampleSize,
                     "input tensor \(input.shape) is smaller than a batch \(inputShape)")
        let augment = augmentsBatches
        let exampleSize = dataset.exampleSize
        dataset.withPixels { pixels in
            table.withUnsafeBufferPointer { table in
                dataset.labels.withUnsafeBufferPointer { sourceLabels in
                    for slot in 0..<n {
                        let example = order[position + slot]
                        let source = pixels.baseAddress! + example * exampleSize
                        let destination = input.data + slot * exampleSize
                        if augment {
                            let placement = drawPlacement()
                            convertAugmented(source, into: destination, table: table.baseAddress!, placement: placement)
                        } else {
                            convert(source, into: destination, table: table.baseAddress!)
                        }
                        labels[slot] = sourceLabels[example]
                    }
                }
            }
        }
        position += n
        return n
    }

    // MARK: - Transform pipeline

    /// The next batch through `pipeline`: from the prefetch queue when ``prefetchDepth`` > 0
    /// (started here on the epoch's first batch), else prepared now.
    private func pipelineBatch(_ pipeline: TransformPipeline, count n: Int, into destination: UnsafeMutablePointer<Float>,
                               labels: UnsafeMutablePointer<Int32>) {
        let (seed, epoch) = randomKey
        guard prefetchDepth > 0 else {
            BatchPreparation.prepare(dataset: dataset, pipeline: pipeline, examples: Array(order[position..<(position + n)]),
                                     seed: seed, epoch: epoch, workers: pipelineWorkers, into: destination, labels: labels)
            return
        }
        if prefetcher == nil {
            prefetcher = BatchPrefetcher(dataset: dataset, pipeline: pipeline, order: Array(order[position...]), batchSize: batchSize,
                                         seed: seed, epoch: epoch, workers: pipelineWorkers, depth: prefetchDepth)
        }
        let batch = prefetcher!.next()
        precondition(batch.labels.count == n, "prefetched batch of \(batch.labels.count) examples, expected \(n)")
        batch.values.withUnsafeBufferPointer { destination.update(from: $0.baseAddress!, count: $0.count) }
        batch.labels.withUnsafeBufferPointer { labels.update(from: $0.baseAddress!, count: n) }
    }

    /// `(seed, epoch)` of the random streams: the recipe's in training, fixed in evaluation.
    private var randomKey: (UInt64, Int) {
        switch mode {
        case let .training(seed, _): return (seed, epoch)
        case .evaluation: return (0, 0)
        }
    }

    // MARK: - Conversion kernels

    /// Where an augmented example's window sits: crop origin in the padded image, and the flip.
    struct Placement: Equatable {
        /// Row of the crop's top edge in the padded image, `0...2 × pad`.
        var row: Int
        /// Column of the crop's left edge in the padded image, `0...2 × pad`.
        var column: Int
        /// Whether the crop is mirrored left-right.
        var flip: Bool
    }

    /// Draws the next example's placement from the epoch stream: row, column (if `pad > 0`), flip (if on).
    func drawPlacement() -> Placement {
        let pad = augmentation.pad
        var placement = Placement(row: pad, column: pad, flip: false)
        if pad > 0 {
            placement.row = Int(generator.next(below: UInt64(2 * pad + 1)))
            placement.column = Int(generator.next(below: UInt64(2 * pad + 1)))
        }
        if augmentation.horizontalFlip {
            placement.flip = generator.next() >> 63 == 1
        }
        return placement
    }

    /// One example, no augmentation: `destination[i] = table[c][source[i]]` over `C × H × W` bytes.
    private func convert(_ source: UnsafePointer<UInt8>, into destination: UnsafeMutablePointer<Float>,
                         table: UnsafePointer<Float>) {
        let planeSize = dataset.height * dataset.width
        for channel in 0..<dataset.channels {
            let offset = channel * planeSize
            Self.lookUp(source + offset, into: destination + offset, count: planeSize, table: table + channel * 256)
        }
    }

    /// One example through pad-crop-flip: output pixel `(y, x)` of the crop is input pixel
    /// `(y + row - pad, x + column - pad)`, or padding (byte 0) where that lies outside the
    /// image; with `flip`, output column `x` takes crop column `W - 1 - x`.
    func convertAugmented(_ source: UnsafePointer<UInt8>, into destination: UnsafeMutablePointer<Float>,
                          table: UnsafePointer<Float>, placement: Placement) {
        let (height, width, pad) = (dataset.height, dataset.width, augmentation.pad)
        let rowShift = placement.row - pad       // input row = output row + rowShift
        let columnShift = placement.column - pad // input column = crop column + columnShift
        // Crop columns whose input column lies inside the image: lower..<upper.
        let lower = min(width, max(0, -columnShift))
        let upper = max(lower, min(width, width - columnShift))
        for channel in 0..<dataset.channels {
            let lookup = table + channel * 256
            let padding = lookup[0]
            for y in 0..<height {
                let to = destination + (channel * height + y) * width
                let inputRow = y + rowShift
                guard inputRow >= 0, inputRow < height, lower < upper else {
                    Self.fill(to, count: width, with: padding)
                    continue
                }
                let rowStart = source + (channel * height + inputRow) * width
                if placement.flip {
                    // Output x shows crop column W-1-x: inside for x in (W-upper)..<(W-lower),
                    // reading input columns from upper-1+columnShift down to lower+columnShift.
                    Self.fill(to, count: width - upper, with: padding)
                    Self.lookUpReversed(rowStart + (upper - 1 + columnShift), into: to + (width - upper),
                                        count: upper - lower, table: lookup)
                    Self.fill(to + (width - lower), count: lower, with: padding)
                } else {
                    Self.fill(to, count: lower, with: padding)
                    Self.lookUp(rowStart + (lower + columnShift), into: to + lower, count: upper - lower, table: lookup)
                    Self.fill(to + upper, count: width - upper, with: padding)
                }
            }
        }
    }

    /// `destination[i] = table[source[i]]` for `i` in `0..<count`.
    ///
    /// A `while` loop unrolled by four: as fast as a `for` loop when optimized, and three to five
    /// times faster in unoptimized (debug) builds, where range iteration is a function call.
    @inline(__always)
    private static func lookUp(_ source: UnsafePointer<UInt8>, into destination: UnsafeMutablePointer<Float>,
                               count: Int, table: UnsafePointer<Float>) {
        var i = 0
        while i &+ 4 <= count {
            destination[i] = table[Int(source[i])]
            destination[i &+ 1] = table[Int(source[i &+ 1])]
            destination[i &+ 2] = table[Int(source[i &+ 2])]
            destination[i &+ 3] = table[Int(source[i &+ 3])]
            i &+= 4
        }
        while i < count {
            destination[i] = table[Int(source[i])]
            i &+= 1
        }
    }

    /// `destination[i] = value` for `i` in `0..<count` (padding is a few pixels per row).
    @inline(__always)
    private static func fill(_ destination: UnsafeMutablePointer<Float>, count: Int, with value: Float) {
        var i = 0
        while i < count {
            destination[i] = value
            i &+= 1
        }
    }

    /// `destination[i] = table[last[-i]]` for `i` in `0..<count`: a row read right to left.
    @inline(__always)
    private static func lookUpReversed(_ last: UnsafePointer<UInt8>, into destination: UnsafeMutablePointer<Float>,
                                       count: Int, table: UnsafePointer<Float>) {
        var i = 0
        while i &+ 4 <= count {
            destination[i] = table[Int(last[-i])]
            destination[i &+ 1] = table[Int(last[-(i &+ 1)])]
            destination[i &+ 2] = table[Int(last[-(i &+ 2)])]
            destination[i &+ 3] = table[Int(last[-(i &+ 3)])]
            i &+= 4
        }
        while i < count {
            destination[i] = table[Int(last[-i])]
            i &+= 1
        }
    }

    /// The `C × 256` table of converted byte values, computed in the order PyTorch's
    /// `ToTensor` then `Normalize` use: `x / 255`, then `(x - mean) / std`.
    private static func conversionTable(channels: Int, normalization: Normalization?) -> [Float] {
        var table = [Float](repeating: 0, count: channels * 256)
        for channel in 0..<channels {
            for byte in 0..<256 {
                var value = Float(byte) / 255
                if let normalization {
                    value = (value - normalization.mean[channel]) / normalization.std[channel]
                }
                table[channel * 256 + byte] = value
            }
        }
        return table
    }

    /// Fisher–Yates over ``order`` with unbiased draws from the epoch stream.
    private func shuffleOrder() {
        var index = order.count - 1
        while index > 0 {
            let other = Int(generator.next(below: UInt64(index + 1)))
            order.swapAt(index, other)
            index -= 1
        }
    }
}
