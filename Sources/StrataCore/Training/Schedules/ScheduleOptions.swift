/// Reads an `lr_schedule` callback's recipe object (docs/recipes.md, "Learning-rate schedules").
enum ScheduleOptions {
    static let kinds = ["step", "exponential", "cosine", "warmup", "one_cycle", "sgdr"]

    /// The schedule the object names, or nil after recording why at its JSON path.
    static func parse(_ c: inout ConfigReader) -> (any LearningRateSchedule)? {
        guard c.has("schedule") else {
            c.diagnostics.error(at: c.childPath("schedule"), "is required: one of \(kinds.map { "\"\($0)\"" }.joined(separator: ", "))")
            return nil
        }
        switch c.choice("schedule", kinds, default: "") {
        case "step":
            return StepSchedule(stepSize: c.int("step_size", default: 1, in: 1...100_000),
                                gamma: c.double("gamma", default: 0.1, in: 0...1e6))
        case "exponential":
            return ExponentialSchedule(gamma: c.double("gamma", default: 0.9, in: 0...1e6))
        case "cosine":
            return CosineSchedule(etaMin: c.double("eta_min", default: 0, in: 0...1e6))
        case "warmup":
            return WarmupSchedule(warmupEpochs: c.double("warmup_epochs", default: 1, in: 0...100_000, openLower: true),
                                  startFactor: c.double("start_factor", default: 0.1, in: 0...1, openLower: true))
        case "one_cycle":
            let pct = c.double("pct_start", default: 0.25, in: 0...1, openLower: true)
            if pct >= 1 { c.diagnostics.error(at: c.childPath("pct_start"), "must be below 1 (the fraction of training spent warming up)") }
            let div = c.double("div", default: 25, in: 1...1e12)
            let divFinal = c.double("div_final", default: 1e5, in: 1...1e12)
            var moms: (Double, Double, Double)? = (0.95, 0.85, 0.95)
            if let value = c.value("moms") {
                let path = c.childPath("moms")
                if case .null = value {
                    moms = nil
                } else if case let .array(items) = value, items.count == 3,
                          case let numbers = items.compactMap(\.numberValue), numbers.count == 3, numbers.allSatisfy({ (0...1).contains($0) && $0 < 1 }) {
                    moms = (numbers[0], numbers[1], numbers[2])
                } else {
                    c.diagnostics.error(at: path, "expected three momenta in [0, 1) (start, middle, end), e.g. [0.95, 0.85, 0.95], or null to leave the momentum alone")
                }
            }
            return OneCycleSchedule(pctStart: min(pct, 0.999), div: div, divFinal: divFinal, moms: moms)
        case "sgdr":
            return SGDRSchedule(cycleLength: c.int("cycle_len", default: 1, in: 1...100_000),
                                cycleMultiplier: c.int("cycle_mult", default: 1, in: 1...100),
                                etaMin: c.double("eta_min", default: 0, in: 0...1e6))
        default:
            return nil
        }
    }
}
