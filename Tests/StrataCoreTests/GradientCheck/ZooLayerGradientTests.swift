import Testing
@testable import StrataCore

@Suite("Finite-difference gradients of the zoo layers")
struct ZooLayerGradientTests {
    let checker = GradientChecker()

    @Test func dilatedConv() throws {
        try checker.check(Conv2d(outChannels: 3, kernelSize: (3, 3), padding: (2, 2), dilation: (2, 2)), inputShape: [2, 2, 9, 9])
        try checker.check(Conv2d(outChannels: 2, kernelSize: (3, 2), stride: (2, 1), padding: (1, 2), dilation: (2, 3), bias: false),
                          inputShape: [2, 2, 7, 6])
    }

    /// groups == C == OC takes the direct depthwise kernel.
    @Test func depthwiseConv() throws {
        try checker.check(Conv2d(outChannels: 4, kernelSize: (3, 3), padding: (1, 1), groups: 4), inputShape: [3, 4, 9, 9])
        try checker.check(Conv2d(outChannels: 3, kernelSize: (3, 3), stride: (2, 2), padding: (2, 2), dilation: (2, 2), groups: 3, bias: false),
                          inputShape: [2, 3, 8, 7])
        try checker.check(Conv2d(outChannels: 2, kernelSize: (5, 3), stride: (1, 3), padding: (0, 1), groups: 2), inputShape: [2, 2, 6, 10])
    }

    @Test func poolModes() throws {
        try checker.check(Pool2d(.max, kernelSize: (3, 3), stride: (2, 2), ceilMode: true), inputShape: [2, 2, 8, 8], inputScale: 10)
        try checker.check(Pool2d(.average, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1), ceilMode: true, countIncludePad: false),
                          inputShape: [2, 2, 8, 8])
        try checker.check(Pool2d(.average, kernelSize: (2, 2), stride: (2, 2), ceilMode: true), inputShape: [2, 2, 5, 5])
    }

    @Test func adaptivePools() throws {
        try checker.check(AdaptivePool2d(.average, outputSize: (3, 2)), inputShape: [2, 3, 7, 5])
        try checker.check(AdaptivePool2d(.max, outputSize: (3, 2)), inputShape: [2, 3, 7, 5], inputScale: 10)
        try checker.check(AdaptivePool2d(.average, outputSize: (4, 7)), inputShape: [1, 2, 3, 5])
    }

    @Test func activations() throws {
        // Inputs spread widely so few probes land within h of a kink; those are skipped by scale.
        try checker.check(PiecewiseActivation(.relu6), inputShape: [2, 3, 4, 4], seed: 4, inputScale: 4)
        try checker.check(PiecewiseActivation(.hardswish), inputShape: [2, 3, 4, 4], seed: 4, inputScale: 3)
        try checker.check(Softmax(), inputShape: [3, 7], inputScale: 2)
        try checker.check(Softmax(), inputShape: [2, 4, 3, 3], inputScale: 2)
    }

    @Test func localResponseNorm() throws {
        try checker.check(LocalResponseNorm(size: 5, alpha: 0.1, beta: 0.75, k: 2), inputShape: [2, 7, 3, 3], inputScale: 3)
        try checker.check(LocalResponseNorm(size: 4, alpha: 0.5, beta: 0.6, k: 1), inputShape: [2, 6, 2, 2], inputScale: 2)
    }
}
