import CStrataKernels
import Foundation

/// Throughput measurements of a recipe's model on real data (`strata bench`).
public enum Benchmark {
    public struct LayerFigure {
        public let name: String
        public let kind: String
        /// Forward GEMM shape (M×N×K per group, times groups).
        public let shape: String
        public let forwardGFLOPS: Double
        public let sgemmGFLOPS: Double
        public var ratio: Double { forwardGFLOPS / sgemmGFLOPS }
    }

    public struct Figures {
        public let name: String
        public let trainExamplesPerSecond: Double
        public let inferenceExamplesPerSecond: Double
        public let layers: [LayerFigure]
        public let peakRSSBytes: Int64
        /// Training FLOPs per example: 3 × the forward multiply-adds × 2 of the conv2d and linear layers.
        public let trainingFLOPsPerExample: Double
    }

    /// Forward multiply-accumulates per example of the model's conv2d and linear layers (pooling,
    /// activations, normalisation, loss and optimiser are not counted), the convention of
    /// bench/peers/flops.py: training FLOPs = 3 × 2 × this.
    public static func forwardMACsPerExample(_ model: Model) -> Double {
        var macs = 0.0
        for (path, layer) in model.root.namedLayers() {
            guard let out = model.layerShapes[path], let batch = out.first, batch > 0 else { continue }
            let outputs = Double(out.reduce(1, *) / batch)
            if let conv = layer as? Conv2d {
                macs += outputs * Double(conv.inChannels / conv.groups * conv.kernelSize.0 * conv.kernelSize.1)
            } else if let linear = layer as? Linear {
                macs += Double(linear.inFeatures) * Double(linear.outFeatures)
            }
        }
        return macs
    }

    /// Trains `trainBatches` batches after `warmup` (on the shuffled training set), then runs
    /// inference over the test set `inferencePasses` times (median), then times each conv and
    /// linear layer's forward against raw `cblas_sgemm` on the same shape.
    public static func measure(_ experiment: Experiment, trainBatches: Int, warmup: Int = 5,
                               inferencePasses: Int = 3, layerReps: Int = 10, layerFigures withLayers: Bool = true) throws -> Figures {
        let recipe = experiment.recipe
        let (trainSet, testSet) = try experiment.loadData()
        // The recipe's transform lists, as a run applies them (prepared ahead on the prefetch thread).
        let pipelines = try recipe.data.resolvedTransforms(train: trainSet, runDirectory: nil)
        let train = try BatchLoader(dataset: trainSet, batchSize: recipe.batchSize, mode: .training(seed: recipe.seed),
                                    normalization: recipe.data.normalization, augmentation: recipe.data.augmentation,
                                    pipeline: pipelines?.train)
        let test = try BatchLoader(dataset: testSet, batchSize: recipe.batchSize, mode: .evaluation,
                                   normalization: recipe.data.normalization, pipeline: pipelines?.eval)
        let trainer = Trainer(model: experiment.model, loss: experiment.loss, optimizer: experiment.optimizer,
                              slots: experiment.slots, train: train, test: nil, epochs: 1)
        let counter = StepCounter(stopAfter: warmup, startClock: false)
        trainer.callbacks = [counter]
        try trainer.fit()
        let timed = StepCounter(stopAfter: trainBatches, startClock: true)
        trainer.callbacks = [timed]
        try trainer.fit()
        let trainRate = Double(timed.examples) / timed.seconds

        var rates: [Double] = []
        _ = try trainer.evaluate(test)
        for _ in 0..<max(inferencePasses, 1) {
            let t0 = sk_now()
            _ = try trainer.evaluate(test)
            rates.append(Double(testSet.count) / (sk_now() - t0))
        }
        rates.sort()
        let layers = withLayers ? try layerFigures(experiment.model, reps: layerReps) : []
        return Figures(name: recipe.name, trainExamplesPerSecond: trainRate, inferenceExamplesPerSecond: rates[rates.count / 2],
                       layers: layers, peakRSSBytes: sk_peak_rss_bytes(),
                       trainingFLOPsPerExample: 6 * forwardMACsPerExample(experiment.model))
    }

    /// Each conv2d and linear layer's forward at the planned batch, in GFLOP/s, and raw
    /// `cblas_sgemm` with 2 OpenBLAS threads on the GEMM that layer does.
    static func layerFigures(_ model: Model, reps: Int) throws -> [LayerFigure] {
        var figures: [LayerFigure] = []
        let batch = model.maxBatch
        // Input shape of each layer as built (inside any container: sequential, residual, graph).
        let inputs = model.layerInputShapes
        for (path, layer) in model.root.namedLayers() {
            guard layer is Conv2d || layer is Linear, let inShape = inputs[path], let outShape = model.layerShapes[path] else { continue }
            let x = Tensor(shape: inShape), y = Tensor(shape: outShape)
            for i in 0..<x.count { x[i] = Float(i % 13) * 0.05 }
            try layer.forward(input: x, output: y, training: false)
            var best = Double.infinity
            for _ in 0..<reps {
                let t0 = sk_now()
                try layer.forward(input: x, output: y, training: false)
                best = min(best, sk_now() - t0)
            }
            let (m, n, k, groups): (Int, Int, Int, Int)
            if let conv = layer as? Conv2d {
                let p = outShape[2] * outShape[3]
                groups = conv.groups
                (m, n, k) = (conv.outChannels / groups, batch * p, conv.inChannels / groups * conv.kernelSize.0 * conv.kernelSize.1)
            } else {
                let linear = layer as! Linear
                groups = 1
                (m, n, k) = (batch, linear.outFeatures, linear.inFeatures)
            }
            let flops = 2.0 * Double(m) * Double(n) * Double(k) * Double(groups)
            let raw = sk_bench_sgemm(Int64(m), Int64(n), Int64(k), 2, Int32(reps)) * Double(groups)
            figures.append(LayerFigure(name: path, kind: layer.kind, shape: "\(m)x\(n)x\(k)" + (groups > 1 ? " x\(groups)" : ""),
                                       forwardGFLOPS: flops / best / 1e9, sgemmGFLOPS: flops / raw / 1e9))
        }
        return figures
    }
}

/// Stops a run after a number of batches and times them.
final class StepCounter: Callback {
    let kind = "step_counter"
    let stopAfter: Int
    let startClock: Bool
    private(set) var examples = 0
    private(set) var seconds = 0.0
    private var batches = 0
    private var begin = 0.0

    init(stopAfter: Int, startClock: Bool) {
        self.stopAfter = stopAfter
        self.startClock = startClock
    }

    func onEvent(_ event: TrainingEvent, context c: inout CallbackContext) throws {
        switch event {
        case .batchBegin where batches == 0: begin = sk_now()
        case .batchEnd:
            batches += 1
            examples += c.batchSize
            seconds = sk_now() - begin
            if batches >= stopAfter { c.stop = true }
        default: break
        }
    }
}

extension Benchmark {
    /// Forward plus backward time of two single-layer models on the same input: a built-in layer
    /// and a plugin layer computing the same function, to measure what calling through the C ABI
    /// costs. Runs are interleaved (A, B, A, B, …) so drifting machine load hits both alike; the
    /// medians are returned, in seconds.
    public static func layerOverhead(registry: ComponentRegistry, builtIn: JSONValue, plugin: JSONValue,
                                     exampleShape: [Int], batch: Int, reps: Int) throws -> (builtIn: Double, plugin: Double) {
        func model(_ value: JSONValue, _ path: String) throws -> Model {
            let diagnostics = Diagnostics()
            let builder = ModelBuilder(registry: registry, diagnostics: diagnostics)
            let layer = try builder.build(value, path: path, file: "bench")
            var context = BuildContext(seed: 0)
            return try Model(root: layer, exampleShape: exampleShape, maxBatch: batch, context: &context)
        }
        let a = try model(builtIn, "$.builtIn"), b = try model(plugin, "$.plugin")
        let shape = [batch] + exampleShape
        let x = Tensor(shape: shape), y = Tensor(shape: shape), dy = Tensor(shape: shape), dx = Tensor(shape: shape)
        var random = RandomStream(seed: 5)
        for i in 0..<x.count { x[i] = Float(random.normal()); dy[i] = Float(random.normal()) }
        // The layers themselves, with an input gradient (a model's first layer would skip it).
        func step(_ m: Model) throws -> Double {
            let t0 = sk_now()
            try m.root.forward(input: x, output: y, training: true)
            try m.root.backward(input: x, output: y, gradOutput: dy, gradInput: dx)
            return sk_now() - t0
        }
        for _ in 0..<5 { _ = try step(a); _ = try step(b) }
        var ta: [Double] = [], tb: [Double] = []
        for _ in 0..<max(reps, 1) {
            ta.append(try step(a))
            tb.append(try step(b))
        }
        ta.sort(); tb.sort()
        return (ta[ta.count / 2], tb[tb.count / 2])
    }
}
