import Testing
@testable import StrataCore

@Suite("Finite-difference gradients of every layer")
struct LayerGradientTests {
    let checker = GradientChecker()

    @Test func linear() throws {
        try checker.check(Linear(outFeatures: 5), inputShape: [4, 7])
        try checker.check(Linear(outFeatures: 3, bias: false), inputShape: [3, 6])
    }

    @Test func conv2dBasic() throws {
        try checker.check(Conv2d(outChannels: 4, kernelSize: (3, 3), padding: (1, 1)), inputShape: [2, 3, 6, 6])
    }

    @Test func conv2dStrideNoBias() throws {
        try checker.check(Conv2d(outChannels: 4, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1), bias: false),
                          inputShape: [3, 2, 7, 7])
    }

    @Test func conv2dGroupsAndPointwise() throws {
        try checker.check(Conv2d(outChannels: 6, kernelSize: (3, 3), padding: (1, 1), groups: 2), inputShape: [2, 4, 5, 5])
        try checker.check(Conv2d(outChannels: 3, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1), groups: 3),
                          inputShape: [2, 3, 5, 5])
        try checker.check(Conv2d(outChannels: 5, kernelSize: (1, 1)), inputShape: [3, 4, 4, 4])
        try checker.check(Conv2d(outChannels: 2, kernelSize: (5, 5), padding: (2, 2)), inputShape: [5, 1, 8, 8])
    }

    @Test func activations() throws {
        try checker.check(Activation(.sigmoid), inputShape: [2, 3, 4, 4])
        try checker.check(Activation(.tanh), inputShape: [2, 3, 4, 4])
        // ReLU's kink: inputs scaled up so that no probe straddles zero.
        try checker.check(Activation(.relu), inputShape: [2, 3, 4, 4], inputScale: 10)
    }

    @Test func pooling() throws {
        try checker.check(Pool2d(.average, kernelSize: (2, 2)), inputShape: [2, 3, 6, 6])
        try checker.check(Pool2d(.average, kernelSize: (3, 3), stride: (1, 1), padding: (1, 1)), inputShape: [2, 2, 5, 5])
        try checker.check(Pool2d(.max, kernelSize: (2, 2)), inputShape: [2, 3, 6, 6], inputScale: 10)
        try checker.check(Pool2d(.max, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1)), inputShape: [2, 2, 7, 7], inputScale: 10)
        try checker.check(GlobalPool2d(.average), inputShape: [2, 3, 5, 5])
        try checker.check(GlobalPool2d(.max), inputShape: [2, 3, 5, 5], inputScale: 10)
    }

    @Test func batchNorm() throws {
        try checker.check(BatchNorm(spatial: true), inputShape: [4, 3, 5, 5])
        try checker.check(BatchNorm(spatial: false), inputShape: [8, 5])
        try checker.check(BatchNorm(spatial: true), inputShape: [4, 3, 5, 5], training: false)
    }

    @Test func logSoftmax() throws {
        try checker.check(LogSoftmax(), inputShape: [4, 7], inputScale: 3)
    }

    @Test func flattenAndDropout() throws {
        try checker.check(Flatten(), inputShape: [2, 3, 4, 4])
        try checker.check(Dropout(p: 0.3), inputShape: [4, 50], training: false)
    }

    @Test func containers() throws {
        let seq = Sequential([Conv2d(outChannels: 3, kernelSize: (3, 3), padding: (1, 1)), Activation(.tanh),
                              Pool2d(.average, kernelSize: (2, 2)), Flatten(), Linear(outFeatures: 4)])
        try checker.check(seq, inputShape: [2, 2, 6, 6])
        let identity = Residual(body: Sequential([Conv2d(outChannels: 3, kernelSize: (3, 3), padding: (1, 1)), Activation(.tanh)]))
        try checker.check(identity, inputShape: [2, 3, 5, 5])
        let projected = Residual(body: Sequential([Conv2d(outChannels: 4, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1)),
                                                   BatchNorm(spatial: true)]),
                                 shortcut: Conv2d(outChannels: 4, kernelSize: (1, 1), stride: (2, 2)))
        try checker.check(projected, inputShape: [3, 2, 6, 6])
    }
}
