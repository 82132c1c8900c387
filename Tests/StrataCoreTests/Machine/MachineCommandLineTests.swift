import Foundation
import Testing
@testable import StrataCore

/// What `strata run` says about the CPU and the BLAS, and what it records in summary.json.
@Suite("Machine facts on the command line", .enabled(if: RecipeFixtures.hasFashionMNIST))
struct MachineCommandLineTests {
    static let recipe = RecipeFixtures.write(RecipeFixtures.smallCNN
        .replacingOccurrences(of: "\"epochs\": 2", with: "\"epochs\": 1")
        .replacingOccurrences(of: "\"train_limit\": 8000, \"test_limit\": 2000", with: "\"train_limit\": 512, \"test_limit\": 256"))

    func machine(_ directory: URL) throws -> [String: Any] {
        let data = try Data(contentsOf: directory.appendingPathComponent("summary.json"))
        let summary = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(summary["machine"] as? [String: Any])
    }

    @Test func runPrintsAndRecordsTheCoreChosenFromCPUID() throws {
        let out = RecipeFixtures.temporaryDirectory("run")
        let r = try runStrata(["run", Self.recipe, "--out", out.path], environment: [:])
        #expect(r.status == 0, "\(r.err)")
        let lines = r.out.split(separator: "\n").map(String.init)
        let local = try MachineInfo.current()
        #expect(lines.first == "cpu: \(local.lines[0].dropFirst("cpu: ".count))")
        #expect(lines.dropFirst().first?.hasPrefix("blas: OpenBLAS ") == true, "\(lines)")
        let m = try machine(out)
        #expect(m["cpu_model"] as? String == local.cpuModel)
        if ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil {
            #expect(m["blas_core_source"] as? String == "cpuid")
            #expect((m["blas_core"] as? String)?.lowercased() == local.cpuidCore.lowercased())
        }
    }

    @Test func anExplicitCoreIsRespected() throws {
        let out = RecipeFixtures.temporaryDirectory("run")
        let r = try runStrata(["run", Self.recipe, "--out", out.path], environment: ["OPENBLAS_CORETYPE": "Sandybridge"])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.split(separator: "\n").dropFirst().first?.hasSuffix("core Sandybridge (OPENBLAS_CORETYPE set by the user)") == true,
                "\(r.out)")
        let m = try machine(out)
        #expect(m["blas_core"] as? String == "Sandybridge")
        #expect(m["blas_core_source"] as? String == "user")
    }

    @Test func aMissingBLASIsAFailureNamingTheLibrary() throws {
        let r = try runStrata(["run", Self.recipe, "--out", RecipeFixtures.temporaryDirectory("run").path],
                              environment: ["STRATA_BLAS_LIBRARY": "/nonexistent/libopenblas.so.0"])
        #expect(r.status == 1)
        #expect(r.err.hasPrefix("strata: no BLAS could be opened: /nonexistent/libopenblas.so.0"), "\(r.err)")
        #expect(r.err.contains("STRATA_BLAS_LIBRARY"))
    }
}
