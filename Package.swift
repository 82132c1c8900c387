// swift-tools-version:6.0
import PackageDescription

/// Kernels are always compiled with optimisation, even in debug builds, so the
/// test suite trains at realistic speed.
let kernelFlags: [CSetting] = [.unsafeFlags(["-O3", "-march=x86-64-v3", "-fno-math-errno", "-ffp-contract=fast"])]

/// The folder holding this manifest, for linker inputs that need an absolute path.
let packageRoot = String(#filePath.dropLast("Package.swift".count))

let package = Package(
    name: "Strata",
    products: [
        .executable(name: "strata", targets: ["strata"]),
        .library(name: "StrataCore", targets: ["StrataCore"]),
        // The plain-C plugin Plugins/c-layers, built as libStrataCLayers.so next to `strata` and
        // installed into the default plugin folder by `strata plugins install` (docs/plugins.md).
        .library(name: "StrataCLayers", type: .dynamic, targets: ["StrataCLayers"]),
        // The Swift plugin Plugins/vision (model builders lenet and resnet_small, the layer swish),
        // built as libStrataVision.so with the Swift runtime linked dynamically.
        .library(name: "StrataVision", type: .dynamic, targets: ["StrataVision"]),
        // The plain-C plugin Plugins/boostresnet: the training schemes boostresnet and
        // boostresnet-binary, driving training only through the host's "strata.train" interface.
        .library(name: "StrataBoostResNet", type: .dynamic, targets: ["StrataBoostResNet"]),
        // The plain-C plugin Plugins/c-optimizers: the optimizer rmsprop (torch.optim.RMSprop).
        .library(name: "StrataCOptimizers", type: .dynamic, targets: ["StrataCOptimizers"]),
        // The plain-C plugin Plugins/c-callbacks: the callback grad_norm_log (gradient norms per batch).
        .library(name: "StrataCCallbacks", type: .dynamic, targets: ["StrataCCallbacks"]),
        // The Swift plugin Plugins/swift-training: the loss label_smoothing_ce, the optimizer
        // lion and the callback lr_warmup, written with StrataKit.
        .library(name: "StrataSwiftTraining", type: .dynamic, targets: ["StrataSwiftTraining"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // The C ABI (include/strata/) exposed to Swift; the layout checks compile with it.
        .target(name: "CStrata", path: "Sources/CStrata"),
        // BLAS-backed kernels, the thread pool and gzip reading, in C. OpenBLAS is not linked but
        // opened with dlopen after its kernels are chosen from cpuid (blas_loader.c), hence "dl".
        .target(
            name: "CStrataKernels",
            path: "Sources/CStrataKernels",
            cSettings: kernelFlags,
            linkerSettings: [.linkedLibrary("dl"), .linkedLibrary("z"), .linkedLibrary("pthread"),
                             .linkedLibrary("ffi"), .linkedLibrary("json-c")]
        ),
        // PNG and JPEG decoding with libpng and libjpeg-turbo (Data/ImageDecoder.swift).
        .target(
            name: "CStrataImage",
            path: "Sources/CStrataImage",
            cSettings: [.unsafeFlags(["-O2"])],
            linkerSettings: [.linkedLibrary("png16"), .linkedLibrary("jpeg")]
        ),
        .target(
            name: "StrataCore",
            dependencies: ["CStrata", "CStrataKernels", "CStrataImage"],
            path: "Sources/StrataCore"
        ),
        // A plugin links nothing of the core: it sees only include/strata/ and exports only
        // strata_plugin_entry.
        .target(
            name: "StrataCLayers",
            path: "Plugins/c-layers",
            exclude: ["plugin.json"],
            sources: ["plugin.c", "leaky_relu.c", "scale.c", "cross_entropy.c", "scale_shift.c"],
            publicHeadersPath: ".",
            cSettings: [.headerSearchPath("../../include"), .unsafeFlags(["-O3", "-march=x86-64-v3", "-fvisibility=hidden"])],
            linkerSettings: [.linkedLibrary("m"), .linkedLibrary("json-c")]
        ),
        .target(
            name: "StrataCOptimizers",
            path: "Plugins/c-optimizers",
            exclude: ["plugin.json"],
            sources: ["rmsprop.c"],
            publicHeadersPath: ".",
            // No FMA contraction: the update keeps PyTorch's rounding step by step.
            cSettings: [.headerSearchPath("../../include"), .unsafeFlags(["-O2", "-ffp-contract=off", "-fvisibility=hidden"])],
            linkerSettings: [.linkedLibrary("m")]
        ),
        .target(
            name: "StrataCCallbacks",
            path: "Plugins/c-callbacks",
            exclude: ["plugin.json"],
            sources: ["grad_norm_log.c", "layer_output_log.c"],
            publicHeadersPath: ".",
            cSettings: [.headerSearchPath("../../include"), .unsafeFlags(["-O2", "-fvisibility=hidden"])],
            linkerSettings: [.linkedLibrary("m")]
        ),
        // The Swift kit for plugins: Swift protocols over the C ABI and the registration call.
        // It depends on the ABI headers only, never on StrataCore.
        .target(name: "StrataKit", dependencies: ["CStrata"], path: "Sources/StrataKit"),
        .target(
            name: "StrataVision",
            dependencies: ["StrataKit"],
            path: "Plugins/vision",
            exclude: ["plugin.json", "exports.map"],
            // Export only strata_plugin_entry, as a C plugin built with -fvisibility=hidden does.
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=" + packageRoot + "Plugins/vision/exports.map"])]
        ),
        .target(
            name: "StrataSwiftTraining",
            dependencies: ["StrataKit"],
            path: "Plugins/swift-training",
            exclude: ["plugin.json", "exports.map"],
            linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=" + packageRoot + "Plugins/swift-training/exports.map"])]
        ),
        // BoostResNet's numerical bookkeeping (cost matrix, Z, edges, gamma, alpha, score updates),
        // plain C in double, compiled into the plugin and tested on its own.
        .target(
            name: "BoostResNetBookkeeping",
            path: "Plugins/boostresnet/bookkeeping",
            publicHeadersPath: ".",
            cSettings: [.unsafeFlags(["-O2", "-fvisibility=hidden"])]
        ),
        .target(
            name: "StrataBoostResNet",
            dependencies: ["BoostResNetBookkeeping"],
            path: "Plugins/boostresnet",
            exclude: ["plugin.json", "README.md", "bookkeeping"],
            publicHeadersPath: ".",
            cSettings: [.headerSearchPath("../../include"), .unsafeFlags(["-O2", "-march=x86-64-v3", "-fvisibility=hidden"])],
            linkerSettings: [.linkedLibrary("m"), .linkedLibrary("json-c")]
        ),
        .executableTarget(
            name: "strata",
            dependencies: ["StrataCore", "CStrataKernels", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/strata"
        ),
        .testTarget(
            name: "StrataCoreTests",
            dependencies: ["StrataCore", "CStrataKernels", "BoostResNetBookkeeping"],
            path: "Tests/StrataCoreTests",
            resources: [.copy("Fixtures")]
        ),
    ]
)
