import Foundation
import Testing
@testable import StrataCore

/// Hostile values for every boostresnet option: each is a recipe error at `$.scheme`, or loads
/// (and the most extreme values that load then train on a tiny slice, or fail with a message
/// naming the plugin) — never a crash, a trap or a hang.
extension BoostResNetSchemeTests {
    static let hostileValues: [String: [String]] = [
        "number": ["-1e300", "1e300", "0", "-1", "0.999999", "1", "\"x\"", "null", "[]", "{}", "true"],
        "integer": ["-5", "0", "1", "3", "4611686018427387904", "1.5", "\"2\"", "null", "[1]"],
        "string": ["\"\"", "\"zzz\"", "3", "null", "[\"paper\"]", "\"paper\\u0000x\""],
        "boolean": ["1", "\"true\"", "null", "true", "false"],
        "array": ["[0]", "[1]", "[100]", "[-1]", "[2, 2]", "[3, 1]", "[\"a\"]", "[1.5]", "{}", "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"],
    ]

    @Test func hostileSchemeOptionsAreRecipeErrorsOrRun() throws {
        let registry = try Self.registry()
        let manifest = try JSONParser.parse(String(contentsOf: RecipeFixtures.repositoryRoot
            .appendingPathComponent("Plugins/boostresnet/plugin.json"), encoding: .utf8))
        guard case let .array(components)? = manifest["components"] else { Issue.record("no components"); return }
        var loaded = 0, refused = 0, ran = 0, failed = 0
        for component in components {
            guard case let .string(scheme)? = component["name"], case let .object(parameters)? = component["parameters"] else { continue }
            for (option, spec) in parameters {
                guard case let .string(type)? = spec["type"], let values = Self.hostileValues[type] else {
                    Issue.record("\(scheme).\(option): no hostile values for its type")
                    continue
                }
                var runnable: [(value: String, text: String, file: String)] = []
                for value in values {
                    // Small bounds for everything else, so that whatever loads runs in moments.
                    var options = ["\"kind\": \"\(scheme)\"", "\"\(option)\": \(value)"]
                    for (k, v) in [("check_every", "3"), ("max_iters", "3"), ("rounds", "2")] where k != option { options.append("\"\(k)\": \(v)") }
                    let text = Self.recipe(scheme: "{" + options.joined(separator: ", ") + "}", classes: scheme.hasSuffix("binary") ? [0, 6] : nil,
                                           train: 200, test: 100)
                    let file = RecipeFixtures.write(text, name: "brn-fuzz")
                    do {
                        try RecipeFixtures.build(file: file, registry: registry)
                        loaded += 1
                        // Loaded: it may run unless it asks for an unbounded amount of work.
                        if !(["check_every", "max_iters"].contains(option) && (Double(value) ?? 0) > 1000) { runnable.append((value, text, file)) }
                    } catch let error as RecipeValidationError {
                        refused += 1
                        #expect(error.description.contains("$.scheme"), "\(scheme).\(option) = \(value): \(error)")
                    }
                }
                // The extremes that loaded run on the slice (each run takes a moment).
                for candidate in Set([runnable.first?.value, runnable.last?.value].compactMap { $0 }) {
                    guard let (value, text, file) = runnable.first(where: { $0.value == candidate }) else { continue }
                    do {
                        let (_, rounds, _) = try Self.run(text, file: file, registry: registry)
                        for r in rounds where option != "max_iters" {
                            #expect(Self.number(r, "iterations") <= 3, "\(scheme).\(option) = \(value): max_iters 3 is a cap")
                        }
                        ran += 1
                    } catch let error as CoreError {
                        failed += 1
                        #expect("\(error)".contains("boostresnet"), "\(scheme).\(option) = \(value): \(error)")
                    }
                }
            }
        }
        // A string is taken whole: an embedded NUL does not make "paper\0x" the preset "paper".
        let nul = RecipeFixtures.write(Self.recipe(scheme: #"{"kind": "boostresnet", "preset": "paper\u0000x"}"#), name: "brn-nul")
        #expect(throws: RecipeValidationError.self) { try RecipeFixtures.build(file: nul, registry: registry) }
        #expect(loaded > 0 && refused > 0 && ran > 0, "loaded \(loaded), refused \(refused), ran \(ran), failed \(failed)")
    }
}
