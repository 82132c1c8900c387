import CStrataKernels

/// One epoch's figures, as written to `metrics.jsonl`.
public struct EpochRecord: Sendable {
    public let epoch: Int
    public let trainLoss: Double
    public let trainAccuracy: Double
    public let testLoss: Double
    public let testAccuracy: Double
    /// Training examples per second (the training loop only; evaluation excluded).
    public let examplesPerSecond: Double
    public let trainSeconds: Double
    public let evalSeconds: Double
    public let learningRate: Double
}

/// The end-to-end training loop ("fit"): for each epoch, every batch goes forward, through the
/// loss, backward and through the optimizer; then the test set is evaluated. Callbacks see every
/// event and may change the learning rate or stop the run.
///
/// Buffers are planned once: the input batch, the labels and every activation are reused for
/// every batch.
public final class Trainer {
    public let model: Model
    public let loss: any Loss
    public let optimizer: any Optimizer
    public let slots: [OptimizerSlot]
    public let train: BatchLoader
    public let test: BatchLoader?
    public let epochs: Int
    public var callbacks: [any Callback]
    public let runDirectory: String?
    /// Gradient clipping between the backward pass and the step (nil: none).
    public let clipping: GradientClipping?
    private let input: Tensor
    private let labels: UnsafeMutablePointer<Int32>
    private let gradients: [Tensor]
    private var batchView: (n: Int, tensor: Tensor)

    public init(model: Model, loss: any Loss, optimizer: any Optimizer, slots: [OptimizerSlot],
                train: BatchLoader, test: BatchLoader?, epochs: Int, callbacks: [any Callback] = [],
                runDirectory: String? = nil, clipping: GradientClipping? = nil) {
        self.model = model
        self.loss = loss
        self.optimizer = optimizer
        self.slots = slots
        self.train = train
        self.test = test
        self.epochs = epochs
        self.callbacks = callbacks
        self.runDirectory = runDirectory
        self.clipping = clipping
        let batch = max(train.batchSize, test?.batchSize ?? 0)
        input = Tensor(shape: [batch] + model.exampleShape)
        labels = .allocate(capacity: batch)
        labels.initialize(repeating: 0, count: batch)
        gradients = model.trainableParameters.compactMap { $0.parameter.grad }
        batchView = (batch, input)
    }

    deinit { labels.deallocate() }

    private func view(_ n: Int) -> Tensor {
        if batchView.n != n { batchView = (n, input.batchPrefix(n)) }
        return batchView.tensor
    }

    private func emit(_ event: TrainingEvent, _ context: inout CallbackContext) throws {
        for callback in callbacks { try callback.onEvent(event, context: &context) }
    }

    /// Trains epochs `firstEpoch...epochs`; returns one record per epoch run.
    @discardableResult
    public func fit(firstEpoch: Int = 1) throws -> [EpochRecord] {
        var c = CallbackContext()
        c.epochs = epochs
        c.batchesPerEpoch = train.batchesPerEpoch
        c.learningRate = optimizer.learningRate
        c.runDirectory = runDirectory
        c.parameters = model.trainableParameters
        c.globalStep = (firstEpoch - 1) * train.batchesPerEpoch
        var records: [EpochRecord] = []
        try emit(.trainBegin, &c)
        var epoch = firstEpoch
        while epoch <= epochs && !c.stop {
            c.epoch = epoch
            c.trainLoss = .nan; c.trainAccuracy = .nan; c.testLoss = .nan; c.testAccuracy = .nan
            c.examplesPerSecond = .nan
            c.metrics = []
            try emit(.epochBegin, &c)
            train.startEpoch(epoch - 1)
            var seen = 0, correct = 0, lossSum = 0.0, batch = 0
            var normSum = 0.0, normMax = 0.0
            c.gradientNorm = .nan; c.gradientNormMax = .nan
            var trainSeconds = 0.0
            var started = sk_now()
            while let n = train.nextBatch(into: input, labels: labels) {
                let x = view(n)
                c.batch = batch
                c.batchSize = n
                try emit(.batchBegin, &c)
                optimizer.learningRate = c.learningRate
                if let m = c.momentum, let o = optimizer as? any MomentumAdjustable { o.momentum = m }
                let result = try step(x) { loss in
                    try NonFiniteStop.checkLoss(loss, epoch: epoch, batch: batch, batches: train.batchesPerEpoch, runDirectory: runDirectory)
                    return true
                }
                guard let result else { break }
                let value = result.value
                if let norm = result.gradientNorm {
                    normSum += norm
                    normMax = max(normMax, norm)
                    c.gradientNorm = normSum / Double(batch + 1)
                    c.gradientNormMax = normMax
                }
                seen += n
                correct += value.correct
                lossSum += value.loss * Double(n)
                c.globalStep += 1
                c.batchLoss = value.loss
                c.trainLoss = lossSum / Double(seen)
                c.trainAccuracy = Double(correct) / Double(seen)
                let now = sk_now()
                trainSeconds += now - started
                c.epochTrainSeconds = trainSeconds
                c.examplesPerSecond = Double(seen) / trainSeconds
                try emit(.batchEnd, &c)
                started = sk_now()
                batch += 1
                if c.stop { break }
            }
            try NonFiniteStop.checkParameters(model, epoch: epoch, batches: batch, runDirectory: runDirectory)
            let evalStart = sk_now()
            if let test {
                let result = try evaluate(test)
                c.testLoss = result.loss
                c.testAccuracy = result.accuracy
            }
            c.epochEvalSeconds = sk_now() - evalStart
            records.append(EpochRecord(epoch: epoch, trainLoss: c.trainLoss, trainAccuracy: c.trainAccuracy,
                                       testLoss: c.testLoss, testAccuracy: c.testAccuracy,
                                       examplesPerSecond: c.examplesPerSecond, trainSeconds: trainSeconds,
                                       evalSeconds: c.epochEvalSeconds, learningRate: c.learningRate))
            try emit(.epochEnd, &c)
            epoch += 1
        }
        try emit(.trainEnd, &c)
        return records
    }

    /// What one training step did: the batch's loss and correct count, and with clipping the
    /// global gradient norm before clipping.
    public struct StepResult {
        public let value: LossValue
        public let gradientNorm: Double?
    }

    /// The training step, shared by `fit` and the LR finder: gradients zeroed, forward on `x` (a
    /// prefix of the input buffer) in training mode, loss against the label buffer, backward,
    /// gradient clipping, optimizer step over `slots` (their parameter groups' rate multipliers
    /// and weight decays) at the optimizer's current rate. `checkLoss` sees the loss before the
    /// backward pass; it may throw, or return false to skip the backward pass and the step (the
    /// result is then nil).
    public func step(_ x: Tensor, checkLoss: (Double) throws -> Bool = { _ in true }) throws -> StepResult? {
        for g in gradients { g.zero() }
        let output = try model.forward(x, training: true)
        let value = try loss.compute(output: output, targets: labels, gradient: model.outputGradient)
        guard try checkLoss(value.loss) else { return nil }
        try model.backward(input: x)
        let norm = clipping.map { $0.apply(gradients) }
        try optimizer.step(slots)
        return StepResult(value: value, gradientNorm: norm)
    }

    /// Reads the next training batch into the input and label buffers; returns the view of its
    /// `n` examples, or nil at the end of the epoch.
    public func nextTrainingBatch() -> Tensor? {
        train.nextBatch(into: input, labels: labels).map(view)
    }

    /// Mean loss and accuracy over a whole data set in evaluation mode (running statistics, no dropout).
    public func evaluate(_ loader: BatchLoader) throws -> (loss: Double, accuracy: Double) {
        loader.startEpoch(0)
        var seen = 0, correct = 0, lossSum = 0.0
        while let n = loader.nextBatch(into: input, labels: labels) {
            let output = try model.forward(view(n), training: false)
            let value = try loss.compute(output: output, targets: labels, gradient: nil)
            seen += n
            correct += value.correct
            lossSum += value.loss * Double(n)
        }
        return seen == 0 ? (.nan, .nan) : (lossSum / Double(seen), Double(correct) / Double(seen))
    }
}
