import Foundation
import Testing
@testable import StrataCore

/// Bad image files in a run: refused with the file and byte offset (exit 2), or, with
/// `data.skip_bad`, left out and recorded in the run directory.
@Suite("Bad images in runs")
struct BadImageRunTests {
    func recipe(_ path: String, skip: Bool) -> String {
        """
        {"name": "bad-images", "epochs": 1, "batch_size": 4, "model": \(ImageRecipeTests.model), "optimizer": {"kind": "sgd", "lr": 0.05},
         "callbacks": [], "data": {"dataset": "image-folder", "path": "\(path)", "skip_bad": \(skip)}}
        """
    }

    /// `dir/data/{train,valid}` with a cut PNG and a zero-byte file in the training split and a
    /// bit-flipped one in the validation split; returns the three bad paths.
    func folderWithBadFiles(_ dir: String) throws -> [String] {
        try ImageSourceTests.folder(dir + "/data/train", [("a", 3), ("b", 3), ("c", 3)])
        try ImageSourceTests.folder(dir + "/data/valid", [("a", 2), ("b", 2), ("c", 2)])
        let cut = dir + "/data/train/a/1.png", empty = dir + "/data/train/c/0.png", flipped = dir + "/data/valid/b/1.png"
        let bytes = try DataTestFiles.contents(of: cut)
        try DataTestFiles.write(Array(bytes.prefix(bytes.count - 30)), to: cut)
        try DataTestFiles.write([], to: empty)
        var damaged = try DataTestFiles.contents(of: flipped)
        let idat = try #require(ImageDecoderTests.chunkOffset("IDAT", in: damaged))
        let length = damaged[idat..<(idat + 4)].reduce(0) { $0 << 8 | Int($1) }
        damaged[idat + 8 + length] ^= 0x01 // the chunk's CRC
        try DataTestFiles.write(damaged, to: flipped)
        return [cut, empty, flipped]
    }

    @Test func skippedFilesAreRecordedInTheRunDirectory() throws {
        try DataTestFiles.withDirectory { dir in
            let bad = try folderWithBadFiles(dir)
            let text = recipe(dir + "/data", skip: true)
            let file = RecipeFixtures.write(text, name: "skip-bad")
            let registry = ComponentRegistry.builtIn()
            let experiment = try Experiment(recipe: try Recipe.load(file: file, registry: registry), registry: registry, file: file)
            let summary = try experiment.run(directory: URL(fileURLWithPath: dir + "/run"), recipeText: text)
            #expect(summary.records.count == 1)
            let json = try JSONParser.parse(DataTestFiles.contents(of: dir + "/run/summary.json"))
            #expect(json["data"]?["skipped"] == .number(3))
            #expect(json["data"]?["skipped_train"] == .number(2))
            #expect(json["data"]?["skipped_test"] == .number(1))
            #expect(json["data"]?["skipped_files"] == .string("skipped-files.txt"))
            let listed = String(decoding: try DataTestFiles.contents(of: dir + "/run/skipped-files.txt"), as: UTF8.self)
            #expect(listed == bad.map { $0 + "\n" }.joined())
        }
    }

    @Test func withoutSkippingTheRunStopsNamingTheFileAndOffset() throws {
        try DataTestFiles.withDirectory { dir in
            let bad = try folderWithBadFiles(dir)
            let size = try DataTestFiles.contents(of: bad[0]).count
            let file = RecipeFixtures.write(recipe(dir + "/data", skip: false), name: "stop-bad")
            let (status, _, err) = try runStrata(["run", file, "--out", dir + "/runs/x"])
            #expect(status == 2, "\(err)")
            #expect(err.contains("\(bad[0]): offset \(size): truncated PNG"), "\(err)")
            // The validation split's flipped bit, on its own.
            try ImageSourceTests.folder(dir + "/data/train", [("a", 3), ("b", 3), ("c", 3)])
            let (again, _, flippedErr) = try runStrata(["run", file, "--out", dir + "/runs/y"])
            #expect(again == 2, "\(flippedErr)")
            #expect(flippedErr.contains("\(bad[2]): offset "), "\(flippedErr)")
            #expect(flippedErr.contains("corrupt PNG data (IDAT: CRC error)"), "\(flippedErr)")
        }
    }
}
