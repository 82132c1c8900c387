import CStrata
import CStrataKernels
import Foundation

/// One instance of a plugin's training scheme (`StrataSchemeOps.create`), destroyed with it.
/// The host keeps the data, the run directory, metrics.jsonl and summary.json; the plots are the
/// ones the scheme's manifest declares (`plots`), drawn from the metrics lines it logs.
final class PluginSchemeInstance: TrainingScheme {
    let plugin: LoadedPlugin
    let kind: String
    let ops: UnsafePointer<StrataSchemeOps>
    let instance: UnsafeMutableRawPointer?
    let plots: [PluginManifest.Plot]
    /// A progress display unless the recipe lists callbacks.
    let defaultCallbackKinds = ["progress"]

    init(plugin: LoadedPlugin, kind: String, ops: UnsafePointer<StrataSchemeOps>, options: JSONObject,
         plots: [PluginManifest.Plot]) throws {
        self.plugin = plugin
        self.kind = kind
        self.ops = ops
        self.plots = plots
        var err = PluginLayer.newError()
        var made: UnsafeMutableRawPointer?
        let status = PluginCreate.call(ops.pointee.create, ops.pointee.create_with_context, context: plugin.context(.scheme, kind),
                                       options: options, withObject: false, instance: &made, err: &err)
        guard status == STRATA_OK else {
            throw CoreError.badInput(.component(plugin: plugin.manifest.name, kind: "scheme", name: kind), "plugin \(plugin.manifest.name), scheme \"\(kind)\": \(HostAPI.message(of: &err))")
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
                ? CoreError.badInput(.component(plugin: plugin.manifest.name, kind: "scheme", name: kind), text) : CoreError.runtime(.component(plugin: plugin.manifest.name, kind: "scheme", name: kind), text)
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
    /// Reads the options the manifest declares and loads the plugin on first use; the scheme
    /// instance, whose `create` validates the options, is created when the experiment is built.
    static func pluginSchemeFactory(manifest: PluginManifest, component: PluginManifest.Component) -> SchemeFactory {
        { reader in
            guard let (options, plugin, ops) = resolve(manifest, component, "scheme", \.schemes, &reader) else { return nil }
            let path = reader.path
            let optionPaths = Dictionary(uniqueKeysWithValues: component.parameters.map { ($0.name, reader.childPath($0.name)) })
            return SchemeSpec(kind: component.name) {
                do {
                    return try PluginSchemeInstance(plugin: plugin, kind: component.name, ops: ops, options: options, plots: component.plots)
                } catch {
                    // A message about `option "name"` of a declared option is reported at that option's path.
                    let text = "\(error)"
                    let named = component.parameters.map(\.name).first { text.contains("option \"\($0)\"") }
                    throw ComponentBuildError(path: named.flatMap { optionPaths[$0] } ?? path, message: text)
                }
            }
        }
    }

    /// The built-in scheme "fit": end-to-end training by the trainer (the default).
    static func registerFitScheme(into r: ComponentRegistry) {
        try? r.registerScheme("fit", summary: "End-to-end training of the whole model (the default).") { reader in
            reader.accept("kind")
            return SchemeSpec(kind: "fit") { FitScheme() }
        }
    }
}

extension PluginSchemeInstance {
    /// Runs the scheme: the plugin drives training through "strata.train"; its metrics lines
    /// become the run's records, and the plots its manifest declares are drawn from them.
    func train(_ context: RunContext) throws -> SchemeOutcome {
        let e = context.experiment
        let run = SchemeRun(recipe: e.recipe, registry: e.registry, directory: context.directory, train: context.train,
                            test: context.test, callbacks: context.callbacks)
        let start = DispatchTime.now().uptimeNanoseconds
        try self.run(run)
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
        if let directory = context.directory, !rounds.isEmpty {
            for plot in plots {
                try plot.render(rounds: rounds, number: number)
                    .write(to: directory.plots.appendingPathComponent(plot.file + ".svg"), atomically: true, encoding: .utf8)
            }
        }
        return SchemeOutcome(records: records, trainSeconds: seconds, examplesPerSecond: steps > 0 ? examples / steps : .nan,
                             testAccuracy: lastTest, summaryFields: [("rounds", .number(Double(rounds.count)))])
    }
}

extension PluginManifest.Plot {
    /// The plot as SVG over the metrics lines `rounds`: one chart, or one panel per `panel` the
    /// series name (in order of first use), each with its own y axis, so quantities of different
    /// scales (γ and test accuracy) are not drawn on one.
    func render(rounds: [JSONObject], number: (JSONObject, String) -> Double) -> String {
        let x = rounds.map { number($0, self.x) }
        var panels: [(name: String, lines: [(name: String, values: [Double])])] = []
        for s in series {
            let line = (name: s.label, values: rounds.map { number($0, s.key) })
            if let i = panels.firstIndex(where: { $0.name == s.panel }) { panels[i].lines.append(line) } else { panels.append((s.panel, [line])) }
        }
        if panels.count == 1 {
            return SVGChart(title: title, xLabel: xLabel, yLabel: panels[0].name, x: x, lines: panels[0].lines).render()
        }
        return SVGPanels(title: title, charts: panels.map { SVGChart(title: "", xLabel: xLabel, yLabel: $0.name, x: x, lines: $0.lines) })
            .render()
    }
}
