/// The core's layer kinds and their recipe options (docs/recipes.md lists them).
enum BuiltinLayers {
    static let maxChannels = 1 << 16
    static let maxKernel = 1024

    static func register(into r: ComponentRegistry) {
        func add(_ kind: String, _ summary: String, _ f: @escaping ComponentRegistry.LayerFactory) {
            try? r.registerLayer(kind, summary: summary, factory: f)
        }
        add("sequential", "runs its layers in order") { c, b in
            guard let v = c.value("layers") else {
                c.diagnostics.error(at: c.childPath("layers"), "is required (a list of layers)")
                return nil
            }
            guard case let .array(items) = v, !items.isEmpty else {
                c.diagnostics.error(at: c.childPath("layers"), "expected a non-empty array of layers")
                return nil
            }
            var children: [(name: String, spec: LayerSpec)] = []
            var names = Set<String>()
            for (i, item) in items.enumerated() {
                let p = c.childPath("layers") + "[\(i)]"
                let name = ModelBuilder.name(of: item) ?? String(i)
                // Layers named "" add no name level and may repeat; the model refuses parameter names that collide.
                if !name.isEmpty, !names.insert(name).inserted { c.diagnostics.error(at: p + ".name", "duplicate layer name \"\(name)\"") }
                if let spec = b.layer(item, path: p) { children.append((name, spec)) }
            }
            guard children.count == items.count else { return nil }
            return { build in Sequential(try children.map { ($0.name, try $0.spec.build(&build)) }) }
        }
        add("residual", "body(x) + shortcut(x); the shortcut is the identity when null") { c, b in
            guard let bodyValue = c.value("body") else {
                c.diagnostics.error(at: c.childPath("body"), "is required (the residual branch)")
                return nil
            }
            let body = b.layer(bodyValue, path: c.childPath("body"))
            var shortcut: LayerSpec? = nil
            if let s = c.value("shortcut") {
                shortcut = b.layer(s, path: c.childPath("shortcut"))
                if shortcut == nil { return nil }
            }
            // Names of the two children in parameter names; "" adds no name level.
            let bodyName = c.string("body_name") ?? "body"
            let shortcutName = c.string("shortcut_name") ?? "shortcut"
            for (key, name) in [("body_name", bodyName), ("shortcut_name", shortcutName)] where name.contains(".") {
                c.diagnostics.error(at: c.childPath(key), "a name must contain no '.'")
            }
            if !bodyName.isEmpty, bodyName == shortcutName {
                c.diagnostics.error(at: c.childPath("shortcut_name"), "must differ from body_name \"\(bodyName)\"")
            }
            guard let body else { return nil }
            return { build in Residual(body: try body.build(&build), shortcut: try shortcut?.build(&build), bodyName: bodyName, shortcutName: shortcutName) }
        }
        GraphLayers.register(add)
        add("tapped_ensemble", "a trunk with tapped heads: Σ α·o of auxiliary heads reading trunk outputs (telescoping: the last head only)") { c, b in
            TappedEnsemble.fromRecipe(&c, b)
        }
        add("linear", "fully connected: y = x·Wᵀ + b") { c, _ in
            let out = c.optionalInt("out_features", in: 1...(1 << 20))
            if !c.has("out_features") { c.diagnostics.error(at: c.childPath("out_features"), "is required") }
            let bias = c.bool("bias", default: true)
            let initScheme = readInit(&c)
            guard let out else { return nil }
            return { _ in Linear(outFeatures: out, bias: bias, initScheme: initScheme) }
        }
        add("conv2d", "2-D convolution (im2col + GEMM), with stride, padding, dilation and groups") { c, _ in
            let out = c.optionalInt("out_channels", in: 1...maxChannels)
            if !c.has("out_channels") { c.diagnostics.error(at: c.childPath("out_channels"), "is required") }
            let k = c.pair("kernel_size", default: nil, in: 1...maxKernel)
            let s = c.pair("stride", default: (1, 1), in: 1...maxKernel)!
            let p = c.pair("padding", default: (0, 0), in: 0...maxKernel)!
            let d = c.pair("dilation", default: (1, 1), in: 1...maxKernel)!
            let groups = c.int("groups", default: 1, in: 1...maxChannels)
            let bias = c.bool("bias", default: true)
            let initScheme = readInit(&c)
            guard let out, let k else { return nil }
            if out % groups != 0 { c.diagnostics.error(at: c.childPath("groups"), "\(groups) does not divide out_channels \(out)") }
            return { _ in Conv2d(outChannels: out, kernelSize: k, stride: s, padding: p, dilation: d, groups: groups, bias: bias, initScheme: initScheme) }
        }
        add("relu", "max(x, 0)") { _, _ in { _ in Activation(.relu) } }
        add("sigmoid", "1 / (1 + e^-x)") { _, _ in { _ in Activation(.sigmoid) } }
        add("tanh", "hyperbolic tangent") { _, _ in { _ in Activation(.tanh) } }
        add("flatten", "[N, ...] -> [N, product]") { _, _ in { _ in Flatten() } }
        add("relu6", "min(max(x, 0), 6)") { _, _ in { _ in PiecewiseActivation(.relu6) } }
        add("hardswish", "x * relu6(x + 3) / 6") { _, _ in { _ in PiecewiseActivation(.hardswish) } }
        add("softmax", "exp(x) / sum(exp(x)) over dimension 1 (channels or classes)") { _, _ in { _ in Softmax() } }
        add("local_response_norm", "AlexNet's normalisation across `size` neighbouring channels") { c, _ in
            let size = c.requiredInt("size", in: 1...maxChannels)
            let alpha = c.double("alpha", default: 1e-4, in: 0...1e6)
            let beta = c.double("beta", default: 0.75, in: 0...1e3)
            let k = c.double("k", default: 1, in: 0...1e6, openLower: true)
            guard let size else { return nil }
            return { _ in LocalResponseNorm(size: size, alpha: Float(alpha), beta: Float(beta), k: Float(k)) }
        }
        add("log_softmax", "x - log(sum(exp(x))) over each row of [N, K] (the input nll expects)") { _, _ in { _ in LogSoftmax() } }
        for (kind, mode) in [("maxpool2d", Pool2d.Mode.max), ("avgpool2d", .average)] {
            add(kind, mode == .max ? "max over windows" : "mean over windows") { c, _ in
                let k = c.pair("kernel_size", default: nil, in: 1...maxKernel)
                let s = c.pair("stride", default: k, in: 1...maxKernel)
                let p = c.pair("padding", default: (0, 0), in: 0...maxKernel)!
                let ceil = c.bool("ceil_mode", default: false)
                let includePad = mode == .average ? c.bool("count_include_pad", default: true) : true
                guard let k else { return nil }
                return { _ in Pool2d(mode, kernelSize: k, stride: s ?? k, padding: p, ceilMode: ceil, countIncludePad: includePad) }
            }
        }
        for (kind, mode) in [("adaptive_maxpool2d", Pool2d.Mode.max), ("adaptive_avgpool2d", .average)] {
            add(kind, "adaptive \(mode == .max ? "max" : "average") pool to output_size (default 1x1)") { c, _ in
                let size = c.pair("output_size", default: (1, 1), in: 1...maxKernel)!
                return { _ in AdaptivePool2d(mode, outputSize: size) }
            }
        }
        for (kind, spatial) in [("batchnorm2d", true), ("batchnorm1d", false)] {
            add(kind, "batch normalisation over " + (spatial ? "[N, C, H, W]" : "[N, C]")) { c, _ in
                let eps = c.double("eps", default: 1e-5, in: 0...1, openLower: true)
                let momentum = c.double("momentum", default: 0.1, in: 0...1)
                let affine = c.bool("affine", default: true)
                return { _ in BatchNorm(spatial: spatial, eps: Float(eps), momentum: Float(momentum), affine: affine) }
            }
        }
        add("dropout", "inverted dropout with probability p") { c, _ in
            let p = c.double("p", default: 0.5, in: 0...0.999_999)
            return { _ in Dropout(p: Float(p)) }
        }
    }

    /// The layer's `init` option, if any.
    static func readInit(_ c: inout ConfigReader) -> InitScheme? {
        guard c.has("init") else { c.accept("init"); return nil }
        let name = c.choice("init", InitScheme.weightSchemes.map(\.rawValue), default: "default")
        return InitScheme(rawValue: name)
    }
}

extension InitScheme {
    /// Schemes a recipe may name for conv2d and linear weights.
    public static let weightSchemes: [InitScheme] = [.pytorchDefault, .xavierUniform, .xavierNormal, .kaimingUniform, .kaimingNormal]
}
