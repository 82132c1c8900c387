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
        .model(LeNetBN.self, name: "lenet_bn", description: "The two-class LeNet of the CNN survey: LeNet-5 with BatchNorm, ReLU and max pooling."),
        .model(AlexNet.self, name: "alexnet", description: "AlexNet, torchvision's (64 first-layer channels) or d2l's (96); torchvision's parameter names."),
        .model(VGG.self, name: "vgg", description: "VGG configurations A to E (torchvision's vgg11 to vgg19, with or without BatchNorm); d2l's channel ratio."),
        .model(NiN.self, name: "nin", description: "d2l's Network in Network: four NiN blocks, max pools, dropout, global average pooling."),
        .model(ResNet.self, name: "resnet", description: "ResNet-18/34/50/101/152 and ResNeXt, torchvision's (parameter names too) or d2l's (convolution biases, shortcut without BatchNorm)."),
        .model(MobileNetV1.self, name: "mobilenet_v1", description: "MobileNet V1: a strided stem and thirteen depthwise separable blocks, with width multiplier alpha."),
        .model(SimpleNet.self, name: "simplenet", description: "fast.ai lesson 7's SimpleNet: linear layers with ReLU, log-softmax."),
        .model(ConvNet.self, name: "convnet", description: "fast.ai lesson 7's ConvNet: stride-2 3x3 convolutions with ReLU, global max pool, linear, log-softmax."),
        .model(ConvBnNet.self, name: "convbnnet", description: "fast.ai lesson 7's ConvBnNet: a 5x5 stem, stride-2 conv-ReLU-BatchNorm layers, global max pool, linear, log-softmax."),
        .model(FastAIResnet.self, name: "fastai_resnet", description: "fast.ai lesson 7's Resnet: ConvBnNet with two residual conv-ReLU-BatchNorm layers after each stride-2 layer."),
        .model(FastAIResnet2.self, name: "fastai_resnet2", description: "fast.ai lesson 7's Resnet2: Resnet with a 7x7 conv-ReLU-BatchNorm stem and dropout before the output layer."),
        .model(CifarResNet.self, name: "cifar_resnet", description: "He et al.'s CIFAR ResNet of depth 6n+2: a 3x3 stem, three stages of n basic blocks, average pooling, linear; torchvision names."),
        .layer(Swish.self, name: "swish", description: "Swish (SiLU for beta 1): x * sigmoid(beta * x)."),
        .layer(BilinearResize.self, name: "bilinear_resize", description: "Bilinear resizing of [N, C, H, W] by a scale (PyTorch interpolate, align_corners false); MobileNet's resolution multiplier."),
    ], host: host, info: info, error: err)
}
