import Dispatch
import Foundation

/// Examples through a transform pipeline into a batch: the work a ``BatchLoader`` with a
/// pipeline does per batch, split over `workers` threads.
enum BatchPreparation {
    /// Writes `examples` (indices into `dataset`) through `pipeline` into `destination`
    /// (`examples.count × C × H × W` floats of the pipeline's output shape) and their labels.
    /// Each example's result depends only on `(seed, epoch, example)`, not on the thread.
    static func prepare(dataset: ImageDataset, pipeline: TransformPipeline, examples: [Int], seed: UInt64, epoch: Int,
                        workers: Int, into destination: UnsafeMutablePointer<Float>, labels: UnsafeMutablePointer<Int32>) {
        let n = examples.count
        let outSize = pipeline.outputShape(dataset.exampleShape).reduce(1, *)
        let (c, h, w) = (dataset.channels, dataset.height, dataset.width)
        let stored = dataset.exampleSize
        let workers = max(1, min(n, workers))
        dataset.withPixels { pixels in
            // Each worker writes only its own slots of `destination` and `labels`.
            nonisolated(unsafe) let pixels = pixels, destination = destination, labels = labels
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var slot = worker
                while slot < n {
                    let example = examples[slot]
                    let base = example * stored
                    let image = FloatImage(channels: c, height: h, width: w, values: pixels[base..<(base + stored)].map(Float.init))
                    var random = TransformPipeline.randomStream(seed: seed, epoch: epoch, index: example)
                    pipeline.run(image, random: &random, into: destination + slot * outSize)
                    labels[slot] = dataset.labels[example]
                    slot += workers
                }
            }
        }
    }
}

/// Prepares an epoch's batches ahead of training on a producer thread, keeping at most `depth`
/// ready (a bounded queue), so augmentation overlaps the training step. The batches are the ones
/// ``BatchPreparation/prepare`` gives in order, so prefetching changes no number.
///
/// Dropping the prefetcher (a new epoch, or the loader going away) stops the producer.
final class BatchPrefetcher {
    /// One prepared batch: `[n, C, H, W]` inputs and `[n]` labels.
    struct Batch: Sendable {
        var values: [Float]
        var labels: [Int32]
    }

    /// State shared with the producer thread, guarded by `condition`.
    private final class Shared: @unchecked Sendable {
        let condition = NSCondition()
        var ready: [Batch] = []
        var done = false
        var cancelled = false
    }

    private let shared = Shared()

    init(dataset: ImageDataset, pipeline: TransformPipeline, order: [Int], batchSize: Int, seed: UInt64, epoch: Int,
         workers: Int, depth: Int) {
        let shared = self.shared
        let outSize = pipeline.outputShape(dataset.exampleShape).reduce(1, *)
        let thread = Thread {
            var start = 0
            while start < order.count {
                let examples = Array(order[start..<min(order.count, start + batchSize)])
                var batch = Batch(values: [Float](repeating: 0, count: examples.count * outSize),
                                  labels: [Int32](repeating: 0, count: examples.count))
                batch.values.withUnsafeMutableBufferPointer { values in
                    batch.labels.withUnsafeMutableBufferPointer { labels in
                        BatchPreparation.prepare(dataset: dataset, pipeline: pipeline, examples: examples, seed: seed, epoch: epoch,
                                                 workers: workers, into: values.baseAddress!, labels: labels.baseAddress!)
                    }
                }
                start += examples.count
                shared.condition.lock()
                while shared.ready.count >= depth && !shared.cancelled { shared.condition.wait() }
                if shared.cancelled { shared.condition.unlock(); break }
                shared.ready.append(batch)
                shared.condition.broadcast()
                shared.condition.unlock()
            }
            shared.condition.lock()
            shared.done = true
            shared.condition.broadcast()
            shared.condition.unlock()
        }
        thread.name = "strata.prefetch"
        thread.start()
    }

    /// The next batch, waiting for the producer if it is behind. Only called for batches the
    /// epoch has (the loader counts them), so the producer always delivers one.
    func next() -> Batch {
        shared.condition.lock()
        defer { shared.condition.unlock() }
        while shared.ready.isEmpty && !shared.done { shared.condition.wait() }
        let batch = shared.ready.removeFirst()
        shared.condition.broadcast()
        return batch
    }

    deinit {
        shared.condition.lock()
        shared.cancelled = true
        shared.condition.broadcast()
        shared.condition.unlock()
    }
}
