import CStrata
import CStrataKernels
import Foundation

/// A recipe's training scheme: end-to-end training ("fit", `plugin` nil) or a plugin's scheme,
/// already created from the recipe's options (so bad options fail before any data is read).
public struct SchemeSpec {
    public let kind: String
    let plugin: PluginSchemeInstance?
}

/// One instance of a plugin's training scheme (`StrataSchemeOps.create`), destroyed with it.
final class PluginSchemeInstance {
    let plugin: LoadedPlugin
    let kind: String
    let ops: UnsafePointer<StrataSchemeOps>
    let instance: UnsafeMutableRawPointer?

    init(plugin: LoadedPlugin, kind: String, ops: UnsafePointer<StrataSchemeOps>, options: JSONObject) throws {
        self.plugin = plugin
        self.kind = kind
        self.ops = ops
        var err = PluginLayer.newError()
        var made: UnsafeMutableRawPointer?
        let status = PluginCreate.call(ops.pointee.create, ops.pointee.create_with_context, context: plugin.context(.scheme, kind),
                                       options: options, withObject: false, instance: &made, err: &err)
        guard status == STRATA_OK else {
            throw StrataError.badInput("plugin \(plugin.manifest.name), scheme \"\(kind)\": \(HostAPI.message(of: &err))")
        }
        instance = made
    }

    deinit { ops.pointee.destroy!(instance) }

    /// Runs the scheme over `run` through the "strata.train" interface.
    func run(_ run: SchemeRun) throws {
        let handle = run.retain(run)
        defer {
            run.releaseAll()
            run.closeLog()
        }
        var err = PluginLayer.newError()
        let status = ops.pointee.run!(instance, plugin.host, OpaquePointer(handle), &err)
        guard status == STRATA_OK else {
            let message = HostAPI.message(of: &err)
            let text = "plugin \(plugin.manifest.name), scheme \"\(kind)\" ($.scheme): the run failed (\(PluginLayer.statusName(status))): "
                + (message.isEmpty ? "no message" : message)
            throw status == STRATA_ERR_INVALID_ARGUMENT || status == STRATA_ERR_SHAPE_MISMATCH
                ? StrataError.badInput(text) : StrataError.runtime(text)
        }
    }
}

extension PluginHost {
    /// Checks a scheme's ops table: create, destroy and run are required.
    static func schemeOps(_ raw: UnsafeRawPointer, name: String, refuse: (String, Bool) -> PluginRefusal) throws(PluginRefusal) -> UnsafePointer<StrataSchemeOps> {
        try checkedOps(raw, kind: "scheme", name: name, empty: StrataSchemeOps(),
                       needed: MemoryLayout<StrataSchemeOps>.offset(of: \.run)! + MemoryLayout<UnsafeRawPointer>.size,
                       required: [("create", { $0.create != nil || $0.create_with_context != nil }), ("destroy", { $0.destroy != nil }), ("run", { $0.run != nil })],
                       refuse: refuse)
    }
}

extension ComponentRegistry {
    /// Reads the options the manifest declares, loads the plugin on first use and creates the
    /// scheme instance, whose `create` validates the options.
    static func pluginSchemeFactory(manifest: PluginManifest, component: PluginManifest.Component) -> SchemeFactory {
        { reader in
            guard let (options, plugin, ops) = resolve(manifest, component, "scheme", \.schemes, &reader) else { return nil }
            do {
                return SchemeSpec(kind: component.name, plugin: try PluginSchemeInstance(plugin: plugin, kind: component.name, ops: ops, options: options))
            } catch {
                // A message about `option "name"` of a declared option is reported at that option's path.
                let text = "\(error)"
                let named = component.parameters.map(\.name).first { text.contains("option \"\($0)\"") }
                reader.diagnostics.error(at: named.map { reader.childPath($0) } ?? reader.path, text)
                return nil
            }
        }
    }

    /// The built-in scheme "fit": end-to-end training by the trainer (the default).
    static func registerFitScheme(into r: ComponentRegistry) {
        try? r.registerScheme("fit", summary: "End-to-end training of the whole model (the default).") { reader in
            reader.accept("kind")
            return SchemeSpec(kind: "fit", plugin: nil)
        }
    }
}

extension Experiment {
    /// Runs the recipe's plugin scheme: the plugin drives training through "strata.train"; the
    /// host keeps the data, the run directory, metrics.jsonl, summary.json and the plots.
    func runScheme(_ scheme: PluginSchemeInstance, directory: URL?, extraCallbacks: [any Callback]) throws -> RunSummary {
        let (trainSet, testSet) = try loadData()
        if let directory { try prepareRunDirectory(directory) }
        // Callbacks take the events the scheme dispatches: the recipe's (which Recipe.load keeps
        // to kinds that apply to scheme runs), or a progress display when it lists none.
        var callbacks: [any Callback] = [ProgressCallback()] + extraCallbacks
        if case let .object(o) = recipe.json, o["callbacks"] != nil {
            let resources = RunResources(runDirectory: directory?.path, checkpointer: Checkpointer(model: model, optimizer: nil))
            callbacks = try recipe.callbacks.compactMap { try $0.make(resources) } + extraCallbacks
        }
        let run = SchemeRun(recipe: recipe, registry: registry, directory: directory, train: trainSet, test: testSet, callbacks: callbacks)
        let start = DispatchTime.now().uptimeNanoseconds
        try scheme.run(run)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        func number(_ o: JSONObject, _ key: String) -> Double {
            if case let .number(x)? = o[key] { return x }
            return .nan
        }
        let rounds = run.metrics.filter { $0["epoch"] != nil && $0["train_acc"] != nil }
        let records = rounds.map { o in
            EpochRecord(epoch: Int(exactly: number(o, "epoch").rounded()) ?? 0, trainLoss: number(o, "train_loss"), trainAccuracy: number(o, "train_acc"),
                        testLoss: number(o, "test_loss"), testAccuracy: number(o, "test_acc"), examplesPerSecond: number(o, "examples_per_s"),
                        trainSeconds: number(o, "seconds"), evalSeconds: 0, learningRate: number(o, "lr"))
        }
        let lastTest = run.metrics.last { number($0, "test_acc").isFinite }.map { number($0, "test_acc") } ?? .nan
        let steps = rounds.map { number($0, "train_seconds") }.filter(\.isFinite).reduce(0, +)
        let examples = rounds.map { number($0, "examples_per_s") * number($0, "train_seconds") }.filter(\.isFinite).reduce(0, +)
        let summary = RunSummary(records: records, trainSeconds: seconds, examplesPerSecond: steps > 0 ? examples / steps : .nan,
                                 peakRSSBytes: sk_peak_rss_bytes(), runDirectory: directory)
        if let directory {
            var json = summaryJSON(summary)
            if case var .object(o) = json {
                o["scheme"] = .string(scheme.kind)
                o["test_acc"] = jsonNumber(lastTest)
                o["rounds"] = .number(Double(rounds.count))
                json = .object(o)
            }
            try Data((json.serialized(pretty: true) + "\n").utf8).write(to: directory.appendingPathComponent("summary.json"))
            try writeSchemePlots(rounds, to: directory.appendingPathComponent("plots"), number: number)
        }
        return summary
    }

    /// `accuracy.svg` (train and test accuracy per round) and, when the rounds report gamma
    /// (boosting), `gamma.svg`: gamma, gamma-tilde and test accuracy per block.
    private func writeSchemePlots(_ rounds: [JSONObject], to folder: URL, number: (JSONObject, String) -> Double) throws {
        guard !rounds.isEmpty else { return }
        let x = rounds.map { number($0, "epoch") }
        try SVGChart(title: "accuracy", xLabel: "round", x: x,
                     lines: [("train accuracy", rounds.map { number($0, "train_acc") }), ("test accuracy", rounds.map { number($0, "test_acc") })])
            .render().write(to: folder.appendingPathComponent("accuracy.svg"), atomically: true, encoding: .utf8)
        if rounds.contains(where: { $0["gamma"] != nil }) {
            try SVGChart(title: "gamma and test accuracy per block", xLabel: "block", x: x,
                         lines: [("gamma", rounds.map { number($0, "gamma") }), ("gamma-tilde", rounds.map { number($0, "gamma_tilde") }),
                                 ("test accuracy", rounds.map { number($0, "test_acc") })])
                .render().write(to: folder.appendingPathComponent("gamma.svg"), atomically: true, encoding: .utf8)
        }
    }
}
