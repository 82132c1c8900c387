import CStrata
import StrataKit

/// The plugin's entry point: the three lines the kit asks for.
@_cdecl("strata_plugin_entry")
public func strataPluginEntry(_ host: UnsafePointer<StrataHostAPI>?, _ info: UnsafeMutablePointer<StrataPluginInfo>?,
                              _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    StrataPlugin.register(name: "vision", version: "0.1.0", components: [
        .model(LeNet.self, name: "lenet", description: "d2l's LeNet-5 for 28x28 images: two convolutions with pooling, three linear layers."),
        .model(ResNetSmall.self, name: "resnet_small", description: "fast.ai lesson 7's small ResNet: a stem, then per width a stride-2 convolution and two residual blocks."),
        .model(GoogLeNet.self, name: "googlenet", description: "GoogLeNet: d2l's (no batch norm, no auxiliary classifiers) or torchvision's, Inception blocks as graphs."),
        .model(DenseNet.self, name: "densenet", description: "DenseNet: torchvision's DenseNet-121 family or d2l's small DenseNet, dense blocks as dense_concat."),
        .layer(Swish.self, name: "swish", description: "Swish (SiLU for beta 1): x * sigmoid(beta * x)."),
    ], host: host, info: info, error: err)
}
