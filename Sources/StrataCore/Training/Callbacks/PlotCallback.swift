import Foundation

/// Draws the run's curves as SVG in its `plots/` folder after every epoch (charts in
/// `Plots/`): `loss.svg` (train and test loss per epoch), `accuracy.svg` (train and test
/// accuracy per epoch) and `lr.svg` (the learning rate of each optimizer step, on a log axis,
/// against the epoch reached, so a schedule's shape within an epoch shows).
public final class PlotCallback: Callback {
    public let kind = "plot"
    public let order = CallbackOrder.writer
    private let directory: URL
    private var epochs: [Double] = []
    private var series: [String: [Double]] = [:]
    /// Learning rate per recorded step, and where in training (epochs done) the step was.
    private var lrSteps: [Double] = []
    private var lrValues: [Double] = []
    /// Most steps `lr.svg` records; longer runs record every k-th step.
    static let maxLRPoints = 2000

    public init(directory: URL) { self.directory = directory }

    public func onEvent(_ event: TrainingEvent, context c: inout CallbackContext) throws {
        switch event {
        case .batchBegin:
            // Writers run after schedules, so this is the rate the step uses.
            let total = max(1, c.batchesPerEpoch * max(c.epochs, 1))
            let every = max(1, (total + Self.maxLRPoints - 1) / Self.maxLRPoints)
            guard c.globalStep % every == 0 || c.batch == 0 else { return }
            lrSteps.append(Double(c.epoch - 1) + Double(c.batch) / Double(max(c.batchesPerEpoch, 1)))
            lrValues.append(c.learningRate)
        case .epochEnd:
            epochs.append(Double(c.epoch))
            for (name, value) in [("train loss", c.trainLoss), ("test loss", c.testLoss),
                                  ("train accuracy", c.trainAccuracy), ("test accuracy", c.testAccuracy)] {
                series[name, default: []].append(value)
            }
            try write()
        default:
            return
        }
    }

    private func write() throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func line(_ name: String) -> (name: String, values: [Double]) { (name, series[name] ?? []) }
        let charts = [
            ("loss", SVGChart(title: "loss", xLabel: "epoch", yLabel: "loss", x: epochs,
                              lines: [line("train loss"), line("test loss")])),
            ("accuracy", SVGChart(title: "accuracy", xLabel: "epoch", yLabel: "accuracy", x: epochs,
                                  lines: [line("train accuracy"), line("test accuracy")])),
            ("lr", SVGChart(title: "learning rate", xLabel: "epoch", yLabel: "learning rate", x: lrSteps,
                            lines: [("learning rate", lrValues)], logY: true)),
        ]
        for (file, chart) in charts {
            try chart.render().write(to: directory.appendingPathComponent(file + ".svg"), atomically: true, encoding: .utf8)
        }
    }
}
