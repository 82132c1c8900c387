import Foundation
import Testing
@testable import StrataCore

/// The core and the CLI know no particular training scheme: what a scheme needs (its plots, how
/// its checkpoints are evaluated) is declared by the scheme, so no file under Sources/ names one.
@Suite("The core is generic")
struct GenericCoreTests {
    @Test func noSourceFileNamesAPluginScheme() throws {
        let sources = RecipeFixtures.repositoryRoot.appendingPathComponent("Sources")
        let files = FileManager.default.enumerator(atPath: sources.path)?.compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") || $0.hasSuffix(".c") || $0.hasSuffix(".h") } ?? []
        #expect(files.count > 50)
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8).lowercased()
            #expect(!text.contains("boostresnet") && !text.contains("boost_ensemble"), "Sources/\(file) names a plugin scheme")
        }
    }
}
