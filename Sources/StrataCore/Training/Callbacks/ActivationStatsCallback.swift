import Foundation

/// The mean and standard deviation of named layers' outputs (fast.ai's `ActivationStats`):
/// recipe `{"kind": "activation_stats", "layers": ["layer1", "fc"]}`.
///
/// A forward hook on each layer (``ForwardHook``) copies its output during training; at each
/// batch end the callback takes the mean and the standard deviation (unbiased, as `Tensor.std()`
/// in PyTorch) over every element of that batch's output, and at the epoch end it adds the
/// averages over the epoch's batches to the epoch's record as `act/<layer>/mean` and
/// `act/<layer>/std` (written to `metrics.jsonl` by `metrics_log`). With a run directory it
/// draws `plots/activations.svg`: the means and the standard deviations per epoch, in two
/// panels. The hooks exist from TRAIN_BEGIN to TRAIN_END only.
///
/// The layer names are checked when the experiment is built (`Experiment.init`), so a name the
/// model does not have is refused at `$.callbacks[i].layers[j]` before any data is read.
public final class ActivationStatsCallback: Callback {
    public let kind = "activation_stats"
    /// The layers' dotted paths, in recipe order.
    public let layers: [String]
    private let model: Model
    private let plots: URL?
    private var hooks: [ForwardHook] = []
    /// This epoch's sums of the per-batch means and standard deviations, per layer, and the batches seen.
    private var sums: [(mean: Double, std: Double)]
    private var batches = 0
    /// Per epoch: the epoch and, per layer, the averages over its batches.
    public private(set) var history: [(epoch: Int, stats: [(mean: Double, std: Double)])] = []

    public init(layers: [String], model: Model, plots: URL?) {
        self.layers = layers
        self.model = model
        self.plots = plots
        sums = Array(repeating: (0, 0), count: layers.count)
    }

    deinit { for hook in hooks { hook.remove() } }

    /// The layer names a recipe's `activation_stats` object lists, with their JSON paths (for the
    /// check against the model's layers); empty when `layers` is missing or malformed (the
    /// reader reports that).
    static func references(_ item: JSONValue, path: String) -> [(path: String, name: String)] {
        guard case let .array(names)? = item["layers"] else { return [] }
        return names.enumerated().compactMap { j, v in
            if case let .string(name) = v { return ("\(path).layers[\(j)]", name) }
            return nil
        }
    }

    public func onEvent(_ event: TrainingEvent, context c: inout CallbackContext) throws {
        switch event {
        case .trainBegin:
            if hooks.isEmpty { hooks = try layers.map { try model.hook(layer: $0) } }
        case .epochBegin:
            sums = Array(repeating: (0, 0), count: layers.count)
            batches = 0
        case .batchEnd:
            // The hooks hold this batch's training forward: backward runs no forward.
            for (i, hook) in hooks.enumerated() {
                guard let output = hook.output else { continue }
                let s = Self.meanAndStd(output)
                sums[i].mean += s.mean
                sums[i].std += s.std
            }
            batches += 1
        case .epochEnd:
            let n = Double(batches)
            let stats = sums.map { batches == 0 ? (mean: Double.nan, std: Double.nan) : (mean: $0.mean / n, std: $0.std / n) }
            history.append((c.epoch, stats))
            for (layer, s) in zip(layers, stats) {
                c.metrics.append(("act/\(layer)/mean", s.mean))
                c.metrics.append(("act/\(layer)/std", s.std))
            }
            try writePlot()
        case .trainEnd:
            for hook in hooks { hook.remove() }
            hooks = []
        default:
            break
        }
    }

    /// Mean and unbiased standard deviation over every element of `t` (two passes, in Double);
    /// the standard deviation of a single element is NaN, as in PyTorch.
    static func meanAndStd(_ t: Tensor) -> (mean: Double, std: Double) {
        let n = t.count, p = t.data
        guard n > 0 else { return (.nan, .nan) }
        var sum = 0.0
        for i in 0..<n { sum += Double(p[i]) }
        let mean = sum / Double(n)
        var squares = 0.0
        for i in 0..<n {
            let d = Double(p[i]) - mean
            squares += d * d
        }
        return (mean, n > 1 ? (squares / Double(n - 1)).squareRoot() : .nan)
    }

    /// `plots/activations.svg`: the means (top panel) and the standard deviations (bottom) per
    /// epoch, one line per layer.
    private func writePlot() throws {
        guard let plots else { return }
        let x = history.map { Double($0.epoch) }
        func lines(_ pick: ((mean: Double, std: Double)) -> Double) -> [(name: String, values: [Double])] {
            layers.indices.map { i in (layers[i], history.map { pick($0.stats[i]) }) }
        }
        let svg = SVGPanels(title: "activations", charts: [
            SVGChart(title: "", xLabel: "epoch", yLabel: "mean", x: x, lines: lines(\.mean)),
            SVGChart(title: "", xLabel: "epoch", yLabel: "std", x: x, lines: lines(\.std)),
        ]).render()
        do {
            try FileManager.default.createDirectory(at: plots, withIntermediateDirectories: true)
            try svg.write(to: plots.appendingPathComponent("activations.svg"), atomically: true, encoding: .utf8)
        } catch {
            throw CoreError.runtime("activation_stats: cannot write \(plots.path)/activations.svg: \(error.localizedDescription)")
        }
    }
}
