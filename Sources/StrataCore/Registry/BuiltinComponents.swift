import Foundation

/// The core's optimizers, losses and callbacks and their recipe options (docs/recipes.md).
enum BuiltinComponents {
    static func register(into r: ComponentRegistry) {
        try? r.registerOptimizer("sgd", summary: "SGD with momentum, dampening, Nesterov and weight decay (torch.optim.SGD)") { c in
            let lr = c.double("lr", default: 0.01, in: 0...1e6, openLower: true)
            let momentum = c.double("momentum", default: 0, in: 0...1)
            let dampening = c.double("dampening", default: 0, in: 0...1)
            let nesterov = c.bool("nesterov", default: false)
            let wd = c.double("weight_decay", default: 0, in: 0...1e6)
            if nesterov && (momentum == 0 || dampening != 0) {
                c.diagnostics.error(at: c.childPath("nesterov"), "Nesterov momentum needs momentum > 0 and dampening 0")
            }
            return OptimizerSpec(kind: "sgd", learningRate: lr, weightDecay: wd) {
                SGD(learningRate: lr, momentum: Float(momentum), dampening: Float(dampening), nesterov: nesterov, weightDecay: Float(wd))
            }
        }
        for (kind, decoupled) in [("adam", false), ("adamw", true)] {
            try? r.registerOptimizer(kind, summary: decoupled ? "AdamW, decoupled weight decay (torch.optim.AdamW)"
                                                            : "Adam with L2 weight decay (torch.optim.Adam)") { c in
                let lr = c.double("lr", default: 1e-3, in: 0...1e6, openLower: true)
                let b1 = c.double("beta1", default: 0.9, in: 0...0.999_999_9)
                let b2 = c.double("beta2", default: 0.999, in: 0...0.999_999_9)
                let eps = c.double("eps", default: 1e-8, in: 0...1, openLower: true)
                let wd = c.double("weight_decay", default: decoupled ? 0.01 : 0, in: 0...1e6)
                let amsgrad = c.bool("amsgrad", default: false)
                return OptimizerSpec(kind: kind, learningRate: lr, weightDecay: wd) {
                    Adam(learningRate: lr, beta1: Float(b1), beta2: Float(b2), eps: Float(eps), weightDecay: Float(wd),
                         decoupled: decoupled, amsgrad: amsgrad)
                }
            }
        }
        try? r.registerLoss("cross_entropy", summary: "softmax cross-entropy over class scores") { _ in LossSpec(kind: "cross_entropy") { CrossEntropyLoss() } }
        try? r.registerLoss("nll", summary: "negative log-likelihood over log-probabilities") { _ in LossSpec(kind: "nll") { NLLLoss() } }
        try? r.registerLoss("mixture_nll", summary: "negative log-likelihood of non-negative scores normalised per row (mixtures, boosted ensembles)") { _ in LossSpec(kind: "mixture_nll") { MixtureNLLLoss() } }
        try? r.registerLoss("mse", summary: "mean squared error against one-hot targets") { _ in LossSpec(kind: "mse") { MSELoss() } }

        try? r.registerCallback("progress", summary: "progress bar on a terminal, one line per epoch otherwise") { _ in
            { _ in ProgressCallback() }
        }
        try? r.registerCallback("metrics_log", summary: "metrics.jsonl, one object per epoch") { _ in
            { res in res.runDirectory.map { MetricsLogCallback(url: $0.metricsFile) } }
        }
        try? r.registerCallback("checkpoint", summary: "safetensors checkpoints every N epochs, written atomically, and the best by a monitored figure") { c in
            let every = c.int("every", default: 1, in: 1...100_000)
            let keep = c.int("keep_last", default: 2, in: 1...1000)
            var best: CheckpointCallback.BestCheckpoint? = nil
            if c.has("monitor") {
                let monitor = c.choice("monitor", CheckpointCallback.BestCheckpoint.monitors, default: "test_loss")
                let mode = c.choice("mode", ["min", "max"], default: monitor.hasSuffix("loss") ? "min" : "max")
                best = .init(monitor: monitor, minimize: mode == "min")
            } else if c.has("mode") {
                c.accept("mode")
                c.diagnostics.error(at: c.childPath("mode"), "needs \"monitor\" (the figure that makes a checkpoint the best)")
            }
            return { res in
                res.runDirectory.map {
                    CheckpointCallback(directory: $0.checkpoints,
                                       checkpointer: res.checkpointer, every: every, keepLast: keep, best: best)
                }
            }
        }
        try? r.registerCallback("plot", summary: "SVG curves of loss and accuracy per epoch in plots/") { _ in
            { res in res.runDirectory.map { PlotCallback(directory: $0.plots) } }
        }
        try? r.registerCallback("early_stop", summary: "stop when a figure stops improving") { c in
            let monitor = c.choice("monitor", ["test_acc", "test_loss", "train_loss"], default: "test_acc")
            let patience = c.int("patience", default: 3, in: 1...100_000)
            let minDelta = c.double("min_delta", default: 0, in: 0...1e6)
            return { _ in EarlyStopCallback(monitor: monitor, patience: patience, minDelta: minDelta) }
        }
        try? r.registerCallback("activation_stats", summary: "mean and std of named layers' outputs per epoch (metrics.jsonl act/<layer>/mean|std, plots/activations.svg)") { c in
            guard let items = c.array("layers", maxCount: 64, required: true) else { return nil }
            var layers: [String] = []
            for (j, item) in items.enumerated() {
                guard case let .string(name) = item, !name.isEmpty else {
                    c.diagnostics.error(at: "\(c.childPath("layers"))[\(j)]", "expected a layer's dotted name, e.g. \"layer1\" or \"features.0\"")
                    continue
                }
                if layers.contains(name) {
                    c.diagnostics.error(at: "\(c.childPath("layers"))[\(j)]", "\"\(name)\" is listed twice")
                    continue
                }
                layers.append(name)
            }
            if items.isEmpty { c.diagnostics.error(at: c.childPath("layers"), "expected at least one layer name") }
            return { res in
                guard let model = res.model else {
                    throw CoreError.badInput("activation_stats: the run exposes no model to hook (a plugin scheme trains models of its own)")
                }
                return ActivationStatsCallback(layers: layers, model: model, plots: res.runDirectory?.plots)
            }
        }
        try? r.registerCallback("lr_schedule", summary: "step, exponential, cosine, warmup, one_cycle or sgdr (cosine with warm restarts and snapshots)") { c in
            guard let schedule = ScheduleOptions.parse(&c) else { return nil }
            // Snapshots at cycle ends: only a schedule with cycles has the option.
            let snapshots = schedule is SGDRSchedule ? c.bool("snapshots", default: true) : false
            return { res in
                LRScheduleCallback(schedule, snapshots: snapshots, checkpointer: res.checkpointer,
                                   checkpoints: res.runDirectory?.checkpoints)
            }
        }
    }
}
