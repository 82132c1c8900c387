import Foundation
import Testing
@testable import StrataCore

/// Parse, build, run: reading a recipe constructs nothing, `Experiment` constructs every
/// component once, and the run calls callbacks in their documented order.
@Suite("Parse, build, run")
struct ParseBuildRunTests {
    /// A layer kind that counts how often it is constructed.
    final class Counter: @unchecked Sendable { var made = 0 }

    static func registry(counting counter: Counter) throws -> ComponentRegistry {
        let r = ComponentRegistry.builtIn()
        try r.registerLayer("counted", summary: "identity that counts its constructions") { c, _ in
            let fail = c.bool("fail", default: false)
            return { _ in
                counter.made += 1
                if fail { throw CoreError.badInput("refused at construction") }
                return Activation(.relu)
            }
        }
        return r
    }

    static let recipe = """
        {"name": "counted", "epochs": 1, "batch_size": 8,
         "model": {"kind": "sequential", "layers": [{"kind": "flatten"}, {"kind": "counted", "fail": FAIL}, {"kind": "linear", "out_features": 10}]},
         "optimizer": {"kind": "sgd", "lr": 0.1}}
        """

    @Test func readingConstructsNothingAndBuildingConstructsOnce() throws {
        let counter = Counter()
        let registry = try Self.registry(counting: counter)
        let file = RecipeFixtures.write(Self.recipe.replacingOccurrences(of: "FAIL", with: "false"), name: "counted")
        let recipe = try Recipe.load(file: file, registry: registry)
        #expect(counter.made == 0)
        let experiment = try Experiment(recipe: recipe, registry: registry, file: file)
        #expect(counter.made == 1)
        #expect(experiment.model.exampleShape == [1, 28, 28])
        #expect(experiment.model.outputExampleShape == [10])
    }

    @Test func aComponentRefusedAtConstructionIsARecipeErrorAtItsPath() throws {
        let counter = Counter()
        let registry = try Self.registry(counting: counter)
        let file = RecipeFixtures.write(Self.recipe.replacingOccurrences(of: "FAIL", with: "true"), name: "counted-fail")
        let recipe = try Recipe.load(file: file, registry: registry)
        #expect(counter.made == 0)
        #expect {
            _ = try Experiment(recipe: recipe, registry: registry, file: file)
        } throws: { error in
            (error as? RecipeValidationError)?.errors.map(\.description) == ["$.model.layers[1]: refused at construction"]
        }
    }

    /// Records the order in which callbacks see trainBegin.
    final class Probe: Callback {
        let kind: String
        let order: CallbackOrder
        let log: Log
        final class Log { var names: [String] = [] }
        init(_ kind: String, _ order: CallbackOrder, _ log: Log) { (self.kind, self.order, self.log) = (kind, order, log) }
        func onEvent(_ event: TrainingEvent, context: inout CallbackContext) throws {
            if event == .trainBegin { log.names.append(kind) }
        }
    }

    @Test func callbacksRunSchedulesFirstAndWritersLastInRecipeOrderWithin() {
        let log = Probe.Log()
        let given: [any Callback] = [Probe("writer-a", .writer, log), Probe("standard-a", .standard, log),
                                     Probe("schedule-a", .schedule, log), Probe("standard-b", .standard, log),
                                     Probe("writer-b", .writer, log), Probe("schedule-b", .schedule, log)]
        #expect(Experiment.ordered(given).map(\.kind)
                == ["schedule-a", "schedule-b", "standard-a", "standard-b", "writer-a", "writer-b"])
        // The built-in kinds declare their place.
        #expect(LRScheduleCallback(CosineSchedule(etaMin: 0)).order == .schedule)
        #expect(ProgressCallback().order == .standard)
        #expect(MetricsLogCallback(url: URL(fileURLWithPath: "/dev/null")).order == .writer)
    }

    @Test func dataGeometryComesFromTheSource() {
        var options = Recipe.DataOptions(dataset: "fashion-mnist", path: "/nowhere", trainLimit: nil, testLimit: nil,
                                         normalization: nil, augmentation: .none)
        #expect(options.source.exampleShape == [1, 28, 28])
        #expect(options.classCount == 10)
        options.classes = [0, 6]
        #expect(options.classCount == 2)
        #expect(Recipe.datasets == DataSources.names)
    }
}
