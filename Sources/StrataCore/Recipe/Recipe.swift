import Foundation

/// A validated recipe: every field read, checked and defaulted (docs/recipes.md).
public struct Recipe {
    public struct ParamGroup {
        /// Dotted-name prefix the group applies to (`layers.0` matches `layers.0.weight`).
        public var match: String
        public var learningRateMultiplier: Double
        public var weightDecay: Double?
    }

    /// A callback as the recipe names it, ready to be made for a run.
    public struct CallbackSpec {
        public let kind: String
        public let make: (RunResources) throws -> (any Callback)?
        /// Layers of the model the callback names, with their JSON paths: checked against the
        /// model when the experiment is built (`activation_stats`'s `layers`).
        public var layers: [(path: String, name: String)] = []
    }

    public var name: String
    public var seed: UInt64
    public var threads: Int
    public var epochs: Int
    public var batchSize: Int
    public var data: DataOptions
    public var defaultInit: InitScheme
    /// The model object as given (a training scheme may read it as a graph).
    public var model: JSONValue
    /// The model read from `model`: validated, constructed by `Experiment`.
    public var modelSpec: LayerSpec?
    public var optimizer: OptimizerSpec
    /// Differential learning rates: groups of parameters by dotted-name prefix.
    public var paramGroups: [ParamGroup]
    public var loss: LossSpec
    /// The callbacks the recipe lists; nil when it lists none (the scheme's defaults apply).
    public var callbacks: [CallbackSpec]?
    /// The training scheme; nil for end-to-end training ("fit").
    public var scheme: SchemeSpec?
    /// Gradient clipping in the training loop (`gradient_clip`; nil: none).
    public var gradientClip: GradientClipping?
    /// Checkpoint to load before training (parameters and, if beside it, optimizer state).
    public var resume: String?
    /// Whether a checkpoint with NaN or infinite values may be loaded (`checkpoint.allow_non_finite`).
    public var allowNonFinite = false
    /// The recipe as given, with `--set` overrides applied.
    public var json: JSONValue
    /// Test-time augmentation for `strata eval` (`evaluation.tta`; nil: none unless `--tta`).
    public var tta: TTAOptions? = nil

    public static var datasets: [String] { DataSources.names }
}

/// Every problem found in a recipe, each with its JSON path; exit status 2.
public struct RecipeValidationError: Error, CustomStringConvertible {
    public let file: String
    public let errors: [RecipeError]
    public var description: String {
        "\(file): \(errors.count) error\(errors.count == 1 ? "" : "s") in the recipe:\n"
            + errors.map { "  \($0.description)" }.joined(separator: "\n")
    }
}

extension Recipe {
    /// Reads, overrides and validates a recipe file. Throws `RecipeValidationError` (with every
    /// problem), `CoreError.badInput` for an unreadable file or a malformed JSON text (with line
    /// and column), never anything that crashes.
    public static func load(file: String, overrides: [String] = [], registry: ComponentRegistry) throws -> Recipe {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(file)
        } catch {
            throw CoreError.badInput(.file(file), "\(file): cannot read the recipe: \(error.reason)")
        }
        var json: JSONValue
        do {
            json = try JSONParser.parse(bytes)
        } catch {
            throw CoreError.badInput(.file(file), "\(file): \(error)")
        }
        for item in overrides {
            guard let eq = item.firstIndex(of: "=") else {
                throw CoreError.badInput(.argument("--set \(item)"), "--set \(item): expected path=value, e.g. optimizer.lr=0.1")
            }
            let path = String(item[..<eq]), text = String(item[item.index(after: eq)...])
            do {
                try json.set(path: path, value: JSONValue.parseOverride(text))
            } catch {
                throw CoreError.badInput(.argument("--set \(item)"), "--set \(item): \(error)")
            }
        }
        let defaultName = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        let diagnostics = Diagnostics()
        let recipe = Recipe.parse(json, defaultName: defaultName, registry: registry, diagnostics: diagnostics)
        if !diagnostics.errors.isEmpty { throw RecipeValidationError(file: file, errors: diagnostics.errors) }
        return recipe
    }

    /// This recipe with another model object (e.g. the graph a checkpoint records), read and
    /// validated; throws `RecipeValidationError` naming `file`.
    public func replacingModel(_ model: JSONValue, registry: ComponentRegistry, file: String) throws -> Recipe {
        let diagnostics = Diagnostics()
        var r = self
        r.model = model
        r.modelSpec = ModelBuilder(registry: registry, diagnostics: diagnostics).layer(model, path: "$.model")
        if !diagnostics.isEmpty { throw RecipeValidationError(file: file, errors: diagnostics.errors) }
        return r
    }

    /// Reads and validates a parsed recipe, constructing nothing; problems go to `diagnostics`.
    public static func parse(_ json: JSONValue, defaultName: String, registry: ComponentRegistry, diagnostics: Diagnostics) -> Recipe {
        var r = ConfigReader(json, path: "$", diagnostics: diagnostics)
        r.accept("$schema")
        let name = r.string("name") ?? defaultName
        if !isValidRunName(name) {
            diagnostics.error(at: r.has("name") ? "$.name" : "$", "the run name \"\(name)\" must be 1 to 100 letters, digits, '.', '_' or '-', not starting with '.' (it names the run directory)")
        }
        let seed = r.int("seed", default: 0, in: 0...Int(Int32.max))
        let threads = r.int("threads", default: max(1, ProcessInfo.processInfo.activeProcessorCount), in: 1...64)
        let epochs = r.int("epochs", default: 1, in: 1...100_000)
        if !r.has("epochs") { diagnostics.error(at: "$.epochs", "is required (number of passes over the training data)") }
        let batchSize = r.int("batch_size", default: 256, in: 1...65_536)
        let initName = r.choice("init", InitScheme.weightSchemes.map(\.rawValue), default: "default")
        let data = parseData(r.value("data"), seed: UInt64(seed), diagnostics: diagnostics)
        let model = r.value("model") ?? .null
        var modelSpec: LayerSpec?
        if case .null = model {
            diagnostics.error(at: "$.model", "is required (the network, e.g. {\"kind\": \"sequential\", \"layers\": [...]})")
        } else {
            // Reads and validates the layer tree; `Experiment` constructs it.
            modelSpec = ModelBuilder(registry: registry, diagnostics: diagnostics).layer(model, path: "$.model")
        }
        let (optimizer, groups) = parseOptimizer(r.value("optimizer"), registry: registry, diagnostics: diagnostics)
        var loss = LossSpec(kind: "cross_entropy") { CrossEntropyLoss() }
        if let l = r.value("loss") {
            var c = ConfigReader(l, path: "$.loss", diagnostics: diagnostics)
            if let entry = registry.entry(registry.losses, &c, category: "loss"), let made = entry.factory(&c) { loss = made }
            c.finish()
        }
        let callbacks = parseCallbacks(r.value("callbacks"), registry: registry, diagnostics: diagnostics)
        let gradientClip = GradientClipping.parse(r.value("gradient_clip"), diagnostics: diagnostics)
        var scheme: SchemeSpec? = nil
        if let value = r.value("scheme") {
            var c = ConfigReader(value, path: "$.scheme", diagnostics: diagnostics)
            if let entry = registry.entry(registry.schemes, &c, category: "scheme") { scheme = entry.factory(&c) }
            c.finish()
        }
        if let scheme, scheme.kind != "fit", case let .array(items)? = json["callbacks"] {
            for (i, item) in items.enumerated() {
                guard case let .string(kind)? = item["kind"], schemeRunsOwn.contains(kind) else { continue }
                diagnostics.error(at: "$.callbacks[\(i)]", "\"\(kind)\" does not apply to a run with a \"scheme\": the host writes "
                    + "metrics.jsonl, summary.json and plots/ itself and the scheme saves its own checkpoints "
                    + "(progress, lr_schedule and early_stop do apply)")
            }
            for (i, item) in items.enumerated() {
                guard case .string("activation_stats")? = item["kind"] else { continue }
                diagnostics.error(at: "$.callbacks[\(i)]", "\"activation_stats\" does not apply to a run with a \"scheme\": it hooks "
                    + "the layers of the recipe's model, and a scheme trains models of its own")
            }
        }
        var resume: String? = nil, allowNonFinite = false
        if let ck = r.value("checkpoint") {
            var c = ConfigReader(ck, path: "$.checkpoint", diagnostics: diagnostics)
            resume = c.string("resume")
            allowNonFinite = c.bool("allow_non_finite", default: false)
            c.finish()
        }
        var tta: TTAOptions? = nil
        if let ev = r.value("evaluation") {
            var c = ConfigReader(ev, path: "$.evaluation", diagnostics: diagnostics)
            if let t = c.value("tta") { tta = TTAOptions.parse(t, path: "$.evaluation.tta", diagnostics: diagnostics) }
            c.finish()
        }
        r.finish()
        var recipe = Recipe(name: name, seed: UInt64(seed), threads: threads, epochs: epochs, batchSize: batchSize, data: data,
                      defaultInit: InitScheme(rawValue: initName) ?? .pytorchDefault, model: model, modelSpec: modelSpec, optimizer: optimizer,
                      paramGroups: groups, loss: loss, callbacks: callbacks, scheme: scheme, gradientClip: gradientClip, resume: resume,
                      allowNonFinite: allowNonFinite, json: json)
        recipe.tta = tta
        return recipe
    }

    /// A run name is used as a directory name: no path separators, no `..`, nothing hidden.
    static func isValidRunName(_ name: String) -> Bool {
        guard !name.isEmpty, name.count <= 100, !name.hasPrefix(".") else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) }
    }

    static func floats(_ value: JSONValue?, path: String, diagnostics: Diagnostics, positive: Bool) -> [Float]? {
        guard let value else { diagnostics.error(at: path, "is required"); return nil }
        guard case let .array(items) = value, !items.isEmpty, items.count <= 64 else {
            diagnostics.error(at: path, "expected an array of 1 to 64 numbers, one per channel")
            return nil
        }
        var out: [Float] = []
        for (i, item) in items.enumerated() {
            guard case let .number(x) = item, x.isFinite, abs(x) < 1e6, !positive || x > 0 else {
                diagnostics.error(at: "\(path)[\(i)]", positive ? "expected a positive number" : "expected a finite number")
                return nil
            }
            out.append(Float(x))
        }
        return out
    }

    static func parseOptimizer(_ value: JSONValue?, registry: ComponentRegistry,
                               diagnostics: Diagnostics) -> (OptimizerSpec, [ParamGroup]) {
        let fallback = OptimizerSpec(kind: "sgd", learningRate: 0.01, weightDecay: 0) { SGD(learningRate: 0.01) }
        guard let value else {
            diagnostics.error(at: "$.optimizer", "is required, e.g. {\"kind\": \"sgd\", \"lr\": 0.1}")
            return (fallback, [])
        }
        var c = ConfigReader(value, path: "$.optimizer", diagnostics: diagnostics)
        var groups: [ParamGroup] = []
        if let g = c.value("param_groups") {
            if case let .array(items) = g {
                for (i, item) in items.enumerated() {
                    var gc = ConfigReader(item, path: "$.optimizer.param_groups[\(i)]", diagnostics: diagnostics)
                    let match = gc.string("match")
                    if match == nil { diagnostics.error(at: "$.optimizer.param_groups[\(i)].match", "is required (a dotted-name prefix)") }
                    let mult = gc.double("lr_mult", default: 1, in: 0...1e6)
                    let wd: Double? = gc.has("weight_decay") ? gc.double("weight_decay", default: 0, in: 0...1e6) : nil
                    gc.finish()
                    if let match { groups.append(ParamGroup(match: match, learningRateMultiplier: mult, weightDecay: wd)) }
                }
            } else {
                diagnostics.error(at: "$.optimizer.param_groups", "expected an array of {\"match\", \"lr_mult\", \"weight_decay\"} objects")
            }
        }
        var spec = fallback
        if let entry = registry.entry(registry.optimizers, &c, category: "optimizer"), let made = entry.factory(&c) { spec = made }
        c.finish()
        return (spec, groups)
    }

    /// Callback kinds whose work the host and the scheme already do in a scheme run.
    static let schemeRunsOwn: Set<String> = ["metrics_log", "plot", "checkpoint"]

    /// The callbacks a recipe lists, or nil when it lists none (the scheme's defaults apply).
    static func parseCallbacks(_ value: JSONValue?, registry: ComponentRegistry, diagnostics: Diagnostics) -> [CallbackSpec]? {
        guard let value else { return nil }
        guard case let .array(items) = value else {
            diagnostics.error(at: "$.callbacks", "expected an array of callback objects")
            return []
        }
        var out: [CallbackSpec] = []
        for (i, item) in items.enumerated() {
            var c = ConfigReader(item, path: "$.callbacks[\(i)]", diagnostics: diagnostics)
            if let e = registry.entry(registry.callbacks, &c, category: "callback"), let make = e.factory(&c) {
                var spec = CallbackSpec(kind: e.kind, make: make)
                if e.kind == "activation_stats", e.origin == "built-in" {
                    spec.layers = ActivationStatsCallback.references(item, path: "$.callbacks[\(i)]")
                }
                out.append(spec)
            }
            c.finish()
        }
        return out
    }

    /// Callbacks of the given kinds with their default options (a scheme's defaults).
    static func callbackSpecs(kinds: [String], registry: ComponentRegistry) -> [CallbackSpec] {
        let diagnostics = Diagnostics()
        return kinds.compactMap { kind in
            var c = ConfigReader(.object(JSONObject([("kind", .string(kind))])), path: "$.callbacks", diagnostics: diagnostics)
            guard let e = registry.entry(registry.callbacks, &c, category: "callback"), let make = e.factory(&c) else { return nil }
            return CallbackSpec(kind: kind, make: make)
        }
    }
}
