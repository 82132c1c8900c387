import Testing
@testable import StrataCore

/// A convolution holds an im2col workspace only once im2col runs: a layer oneDNN runs in both
/// directions holds none (docs/zoo.md, "Memory of ResNet-18 at 96").
@Suite("Convolution workspace", .serialized)
struct ConvWorkspaceTests {
    func run(_ backend: ConvBackend) throws -> (layer: Conv2d, y: [Float], dx: [Float], dw: [Float]) {
        let conv = Conv2d(outChannels: 16, kernelSize: (3, 3), padding: (1, 1), backend: backend)
        var context = BuildContext(seed: 3)
        let shape = try conv.build(inputShape: [4, 8, 12, 12], context: &context)
        #expect(conv.workspaceFloats == 0, "\(backend): no workspace at build")
        let x = Tensor(shape: [4, 8, 12, 12]), y = Tensor(shape: shape), dy = Tensor(shape: shape), dx = Tensor(shape: [4, 8, 12, 12])
        for i in 0..<x.count { x[i] = Float((i * 37) % 101) / 50 - 1 }
        for i in 0..<dy.count { dy[i] = Float((i * 53) % 89) / 44 - 1 }
        try conv.forward(input: x, output: y, training: true)
        conv.weight.grad!.zero()
        conv.bias!.grad!.zero()
        try conv.backward(input: x, output: y, gradOutput: dy, gradInput: dx)
        return (conv, y.array(), dx.array(), conv.weight.grad!.array())
    }

    @Test func onlyIm2colHoldsAWorkspace() throws {
        let im2col = try run(.im2col)
        // One part per pool thread: 8·3·3 rows of 144 columns for each of its examples at least.
        #expect(im2col.layer.workspaceFloats >= 8 * 9 * 144)
        guard ConvBackend.onednnAvailable else { return }
        let onednn = try run(.onednn)
        #expect(onednn.layer.kernels == (forward: "onednn", backward: "onednn"))
        #expect(onednn.layer.workspaceFloats == 0)
        // Same results either way (the workspace is scratch, not state).
        #expect(Zoo.relativeError(onednn.y, im2col.y) < 1e-5)
        #expect(Zoo.relativeError(onednn.dx, im2col.dx) < 1e-5)
        #expect(Zoo.relativeError(onednn.dw, im2col.dw) < 1e-5)
    }
}
