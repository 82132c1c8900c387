import Foundation
import Testing
@testable import StrataCore

/// The two convolution backends (im2col + BLAS, oneDNN) against PyTorch, finite differences, each
/// other, and themselves (bit-for-bit across runs).
@Suite("Convolution backends")
struct ConvBackendTests {
    static let fixtures = ["conv2d_basic", "conv2d_stride2_nobias", "conv2d_k5_pad2", "conv2d_1x1"]

    @Test func onednnLoadsHere() {
        // libdnnl2 is a dependency (scripts/install-deps.sh): without it every other test here
        // would only exercise im2col.
        #expect(ConvBackend.onednnAvailable, "oneDNN: \(ConvBackend.onednnDescription)")
        #expect(ConvBackend.onednnDescription.hasPrefix("oneDNN 2."))
    }

    @Test(arguments: fixtures, [ConvBackend.im2col, .onednn])
    func pytorchParity(_ name: String, _ backend: ConvBackend) throws {
        let f = try Fixture.load(name)
        let k = f.int("kernel_size")!, s = f.int("stride", default: 1), p = f.int("padding", default: 0)
        let conv = Conv2d(outChannels: f.int("out_channels")!, kernelSize: (k, k), stride: (s, s), padding: (p, p),
                          groups: f.int("groups", default: 1), bias: f.bool("bias", default: true), backend: backend)
        try LayerParityTests().run(conv, f)
        let expected = backend == .onednn ? "onednn" : "im2col"
        #expect(conv.kernels.forward == expected && conv.kernels.backward == expected, "\(name): \(conv.kernels)")
    }

    @Test func onednnFiniteDifferences() throws {
        let checker = GradientChecker()
        try checker.check(Conv2d(outChannels: 4, kernelSize: (3, 3), padding: (1, 1), backend: .onednn), inputShape: [2, 3, 6, 6])
        try checker.check(Conv2d(outChannels: 4, kernelSize: (3, 3), stride: (2, 2), padding: (1, 1), bias: false, backend: .onednn),
                          inputShape: [3, 2, 7, 7])
        try checker.check(Conv2d(outChannels: 2, kernelSize: (5, 5), padding: (2, 2), backend: .onednn), inputShape: [5, 1, 8, 8])
        try checker.check(Conv2d(outChannels: 16, kernelSize: (5, 5), backend: .onednn), inputShape: [3, 6, 9, 9])
    }

    /// One pass of `conv` over fixed random data: output, input gradient, weight and bias gradients.
    func pass(_ conv: Conv2d, _ shape: [Int], seed: UInt64 = 3) throws -> (y: [Float], dx: [Float], dw: [Float], db: [Float]) {
        var context = BuildContext(seed: 7)
        let outShape = try conv.build(inputShape: shape, context: &context)
        var random = RandomStream(seed: seed)
        let x = Tensor(shape: shape), dy = Tensor(shape: outShape), y = Tensor(shape: outShape), dx = Tensor(shape: shape)
        for i in 0..<x.count { x[i] = Float(random.normal()) }
        for i in 0..<dy.count { dy[i] = Float(random.normal()) }
        for (_, p) in conv.namedParameters() { p.grad?.zero() }
        try conv.forward(input: x, output: y, training: true)
        try conv.backward(input: x, output: y, gradOutput: dy, gradInput: dx)
        return (y.array(), dx.array(), conv.weight.grad!.array(), conv.bias?.grad?.array() ?? [])
    }

    /// The small ResNet's and LeNet's convolution shapes (batch 9: parts of 4 and 5 samples on 2
    /// threads), both backends: equal to float rounding.
    @Test(arguments: [(1, 10, 28, 5, 1, 2), (10, 20, 28, 3, 2, 1), (20, 20, 14, 3, 1, 1), (40, 80, 7, 3, 2, 1),
                      (80, 80, 4, 3, 1, 1), (160, 160, 2, 3, 1, 1), (6, 16, 14, 5, 1, 0)])
    func backendsAgree(_ c: (Int, Int, Int, Int, Int, Int)) throws {
        let make = { (backend: ConvBackend) in
            Conv2d(outChannels: c.1, kernelSize: (c.3, c.3), stride: (c.4, c.4), padding: (c.5, c.5), backend: backend)
        }
        let shape = [9, c.0, c.2, c.2]
        let a = try pass(make(.im2col), shape), b = try pass(make(.onednn), shape)
        assertClose(b.y, a.y, rtol: 1e-4, atol: 1e-4, "\(c) y")
        assertClose(b.dx, a.dx, rtol: 1e-4, atol: 1e-4, "\(c) dx")
        assertClose(b.dw, a.dw, rtol: 1e-4, atol: 2e-3, "\(c) dweight")
        assertClose(b.db, a.db, rtol: 1e-4, atol: 1e-3, "\(c) dbias")
    }

    /// Two layers, two passes each, and a second batch size in between: the same bits.
    @Test func onednnIsDeterministic() throws {
        let shape = [33, 20, 14, 14]
        let make = { Conv2d(outChannels: 20, kernelSize: (3, 3), padding: (1, 1), backend: .onednn) }
        let first = make(), second = make()
        let a = try pass(first, shape)
        _ = try pass(first, [7, 20, 14, 14])
        let b = try pass(first, shape), c = try pass(second, shape)
        for other in [b, c] {
            #expect(other.y == a.y)
            #expect(other.dx == a.dx)
            #expect(other.dw == a.dw)
            #expect(other.db == a.db)
        }
    }

    @Test func autoRuleKeepsIm2colWhereItWins() throws {
        var context = BuildContext(seed: 0)
        let stem = Conv2d(outChannels: 10, kernelSize: (5, 5), padding: (2, 2), backend: .auto)
        _ = try stem.build(inputShape: [4, 1, 28, 28], context: &context)
        #expect(stem.kernels == (forward: "im2col", backward: "im2col"))
        let mid = Conv2d(outChannels: 20, kernelSize: (3, 3), padding: (1, 1), backend: .auto)
        _ = try mid.build(inputShape: [4, 20, 14, 14], context: &context)
        #expect(mid.kernels == (forward: "onednn", backward: "onednn"))
        let deep = Conv2d(outChannels: 160, kernelSize: (3, 3), padding: (1, 1), backend: .auto)
        _ = try deep.build(inputShape: [4, 160, 2, 2], context: &context)
        #expect(deep.kernels == (forward: "onednn", backward: "im2col"))
        let grouped = Conv2d(outChannels: 4, kernelSize: (3, 3), groups: 2, backend: .onednn)
        _ = try grouped.build(inputShape: [4, 4, 6, 6], context: &context)
        #expect(grouped.kernels == (forward: "im2col", backward: "im2col"), "groups > 1 stay on im2col")
    }
}
