import CStrata
import StrataKit

/// The plugin's entry point: the three lines the kit asks for.
@_cdecl("strata_plugin_entry")
public func strataPluginEntry(_ host: UnsafePointer<StrataHostAPI>?, _ info: UnsafeMutablePointer<StrataPluginInfo>?,
                              _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    StrataPlugin.register(name: "vision", version: "0.1.0", components: [
        .model(LeNet.self, name: "lenet", description: "d2l's LeNet-5 for 28x28 images: two convolutions with pooling, three linear layers."),
        .model(ResNetSmall.self, name: "resnet_small", description: "fast.ai lesson 7's small ResNet: a stem, then per width a stride-2 convolution and two residual blocks."),
        .model(CifarResNet.self, name: "cifar_resnet", description: "He et al.'s CIFAR ResNet of depth 6n+2: a 3x3 stem, three stages of n basic blocks, average pooling, linear; torchvision names."),
        .layer(Swish.self, name: "swish", description: "Swish (SiLU for beta 1): x * sigmoid(beta * x)."),
    ], host: host, info: info, error: err)
}
