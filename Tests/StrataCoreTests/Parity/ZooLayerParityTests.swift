import Testing
@testable import StrataCore

/// The layers the classic CNNs need, against PyTorch (fixtures from scripts/make_fixtures.py).
@Suite("Zoo layer parity with PyTorch")
struct ZooLayerParityTests {
    let runner = LayerParityTests()

    @Test(arguments: ["conv2d_dilated", "conv2d_dilated_stride2_narrow", "conv2d_depthwise_dilated"])
    func dilatedConv(_ name: String) throws {
        let f = try Fixture.load(name)
        let k = f.int("kernel_size")!, s = f.int("stride")!, p = f.int("padding")!, d = f.int("dilation")!
        try runner.run(Conv2d(outChannels: f.int("out_channels")!, kernelSize: (k, k), stride: (s, s), padding: (p, p),
                              dilation: (d, d), groups: f.int("groups", default: 1), bias: f.bool("bias")!), f)
    }

    @Test(arguments: ["maxpool2d_k3s2_ceil", "avgpool2d_k3s2p1_ceil_exclude", "avgpool2d_k3s2_ceil_include", "avgpool2d_k2s2p1_exclude"])
    func poolModes(_ name: String) throws {
        let f = try Fixture.load(name)
        let k = f.int("kernel_size")!, s = f.int("stride")!, p = f.int("padding")!
        try runner.run(Pool2d(name.hasPrefix("max") ? .max : .average, kernelSize: (k, k), stride: (s, s), padding: (p, p),
                              ceilMode: f.bool("ceil_mode", default: false),
                              countIncludePad: f.bool("count_include_pad", default: true)), f)
    }

    @Test(arguments: ["adaptive_maxpool2d_3x2", "adaptive_avgpool2d_3x2", "adaptive_avgpool2d_upsample", "adaptive_maxpool2d_global", "adaptive_avgpool2d_global"])
    func adaptivePools(_ name: String) throws {
        let f = try Fixture.load(name)
        let y = f.tensor("y").shape
        try runner.run(AdaptivePool2d(name.hasPrefix("adaptive_max") ? .max : .average, outputSize: (y[2], y[3])), f)
    }

    @Test func activations() throws {
        try runner.run(PiecewiseActivation(.relu6), try Fixture.load("relu6"))
        try runner.run(PiecewiseActivation(.hardswish), try Fixture.load("hardswish"))
        try runner.run(Softmax(), try Fixture.load("softmax"))
        try runner.run(Softmax(), try Fixture.load("softmax_channels"))
    }

    @Test(arguments: ["local_response_norm", "local_response_norm_even"])
    func localResponseNorm(_ name: String) throws {
        let f = try Fixture.load(name)
        try runner.run(LocalResponseNorm(size: f.int("size")!, alpha: f.float("alpha")!, beta: f.float("beta")!, k: f.float("k")!), f)
    }
}
