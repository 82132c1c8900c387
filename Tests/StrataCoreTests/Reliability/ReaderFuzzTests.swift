import Foundation
import Testing
@testable import StrataCore

/// Mutations of valid files fed to the readers: each must end in a clean error of the reader's
/// error type or in a valid result, never in a trap (which would end the test process) or a hang
/// (the time limit). Fixed seeds and counts keep every run the same and each test to a few seconds.
@Suite("Reader fuzzing", .timeLimit(.minutes(1)))
struct ReaderFuzzTests {
    /// Mutations of `base`: truncation, bit flips, random bytes over a span, a span deleted or
    /// repeated, bytes appended, and (in `fields`) a 4- or 8-byte field set to an edge value.
    struct Mutator {
        var random: RandomStream
        /// Offsets of binary length fields and their widths in bytes (big- or little-endian).
        var fields: [(offset: Int, width: Int, bigEndian: Bool)] = []

        mutating func mutate(_ base: [UInt8]) -> [UInt8] {
            var bytes = base
            let rounds = 1 + random.below(3)
            for _ in 0..<rounds {
                let choice = random.below(fields.isEmpty ? 6 : 8)
                let at = bytes.isEmpty ? 0 : random.below(bytes.count)
                switch choice {
                case 0: bytes = Array(bytes.prefix(bytes.isEmpty ? 0 : random.below(bytes.count)))
                case 1: if !bytes.isEmpty { bytes[at] ^= UInt8(1 << random.below(8)) }
                case 2:
                    let n = min(bytes.count - at, 1 + random.below(8))
                    for i in 0..<max(n, 0) { bytes[at + i] = UInt8(truncatingIfNeeded: random.nextUInt64()) }
                case 3:
                    let n = min(bytes.count - at, 1 + random.below(16))
                    bytes.removeSubrange(at..<(at + max(n, 0)))
                case 4:
                    let n = min(bytes.count - at, 1 + random.below(16))
                    bytes.insert(contentsOf: bytes[at..<(at + max(n, 0))], at: at)
                case 5: bytes += (0..<(1 + random.below(12))).map { _ in UInt8(truncatingIfNeeded: self.random.nextUInt64()) }
                default:
                    let field = fields[random.below(fields.count)]
                    guard field.offset + field.width <= bytes.count else { continue }
                    let edges: [UInt64] = [0, 1, 2, 7, 8, 255, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff, 0x7fff_ffff_ffff_ffff,
                                           0xffff_ffff_ffff_ffff, UInt64(bytes.count), UInt64(bytes.count) &- 9, random.nextUInt64()]
                    var value = edges[random.below(edges.count)]
                    if field.width == 4 { value &= 0xffff_ffff }
                    for i in 0..<field.width {
                        let shift = field.bigEndian ? 8 * (field.width - 1 - i) : 8 * i
                        bytes[field.offset + i] = UInt8(truncatingIfNeeded: value >> UInt64(shift))
                    }
                }
            }
            return bytes
        }
    }

    @Test func idxReaderRefusesOrReadsEveryMutation() throws {
        var sample = RandomStream(seed: 11)
        let images = IDX.encode(IDXArray(dimensions: [6, 5, 4], bytes: (0..<120).map { _ in UInt8(sample.below(256)) }))
        let labels = IDX.encode(IDXArray(dimensions: [6], bytes: (0..<6).map { UInt8($0 % 3) }))
        var imageMutator = Mutator(random: RandomStream(seed: 2024), fields: [(4, 4, true), (8, 4, true), (12, 4, true), (0, 4, true)])
        var labelMutator = Mutator(random: RandomStream(seed: 2025), fields: [(4, 4, true), (0, 4, true)])
        var (refused, read) = (0, 0)
        // In memory: the decoder alone.
        for i in 0..<3000 {
            let rank = i % 2 == 0 ? 3 : 1
            let bytes = rank == 3 ? imageMutator.mutate(images) : labelMutator.mutate(labels)
            do {
                let array = try bytes.withUnsafeBytes { try IDX.decode($0, rank: rank, path: "fuzz.idx") }
                #expect(array.dimensions.count == rank && array.bytes.count == array.dimensions.reduce(1, *))
                read += 1
            } catch let error as DataError {
                #expect(error.path == "fuzz.idx")
                refused += 1
            }
        }
        // Through files, plain and gzip, into a data set (labels checked against 3 classes).
        try DataTestFiles.withDirectory { directory in
            let (imagesPath, labelsPath) = (directory + "/images", directory + "/labels")
            for i in 0..<300 {
                let mutatedImages = i % 2 == 0 ? imageMutator.mutate(images) : images
                let mutatedLabels = i % 2 == 1 ? labelMutator.mutate(labels) : labels
                // Every third images file is gzip, its compressed stream damaged too.
                var gzipMutator = Mutator(random: RandomStream(seed: UInt64(i)))
                try DataTestFiles.write(i % 3 == 0 ? gzipMutator.mutate(DataTestFiles.gzipStored(mutatedImages)) : mutatedImages,
                                        to: imagesPath)
                try DataTestFiles.write(mutatedLabels, to: labelsPath)
                do {
                    let dataset = try ImageDataset.loadIDX(imagesPath: imagesPath, labelsPath: labelsPath, classCount: 3)
                    #expect(dataset.pixels.count == dataset.count * dataset.exampleSize && dataset.height > 0 && dataset.width > 0)
                    #expect(dataset.labels.allSatisfy { $0 >= 0 && $0 < 3 })
                    read += 1
                } catch let error as DataError {
                    #expect(error.path == imagesPath || error.path == labelsPath, "\(error)")
                    refused += 1
                }
            }
        }
        #expect(refused > 1000 && read > 50, "refused \(refused), read \(read)")
    }

    @Test func safetensorsReaderRefusesOrReadsEveryMutation() throws {
        try DataTestFiles.withDirectory { directory in
            let base = URL(fileURLWithPath: directory + "/base.safetensors")
            let tensors: [(name: String, tensor: Tensor)] = [
                ("layers.0.weight", Tensor(shape: [2, 3])), ("layers.0.bias", Tensor(shape: [2])), ("scalar", Tensor(shape: [])),
            ]
            for (_, t) in tensors { for i in 0..<t.count { t[i] = Float(i) - 1.5 } }
            try SafeTensors.write(tensors, metadata: ["strata.epoch": "3", "format": "pt"], to: base)
            let valid = try DataTestFiles.contents(of: base.path)
            var mutator = Mutator(random: RandomStream(seed: 77), fields: [(0, 8, false)])
            // The digits of the header (shapes, offsets, the epoch) are where a header lies most often.
            let digits = valid.indices.filter { $0 >= 8 && $0 < 8 + 200 && (0x30...0x39).contains(valid[$0]) }
            var digitRandom = RandomStream(seed: 78)
            let path = URL(fileURLWithPath: directory + "/mutated.safetensors")
            var (refused, read) = (0, 0)
            for i in 0..<1000 {
                var bytes = mutator.mutate(valid)
                if i % 3 == 0, case let at = digits[digitRandom.below(digits.count)], at < bytes.count {
                    // A digit becomes a long run of digits, or another digit.
                    let run = Array(repeating: UInt8(0x30 + digitRandom.below(10)), count: 1 + digitRandom.below(24))
                    bytes.replaceSubrange(at...at, with: run)
                }
                try DataTestFiles.write(bytes, to: path.path)
                do {
                    let file = try SafeTensors.read(from: path)
                    for t in file.tensors { #expect(t.tensor.count == t.shape.reduce(1, *) && t.tensor.shape == t.shape) }
                    _ = try SafeTensors.metadata(of: path)
                    read += 1
                } catch let error as DataError {
                    #expect(error.path == path.path, "\(error)")
                    refused += 1
                }
            }
            #expect(refused > 500 && read > 10, "refused \(refused), read \(read)")
        }
    }

    @Test func checkpointLoadRefusesOrLoadsEveryMetadataMutation() throws {
        // A real checkpoint of a small model whose metadata (epoch, optimizer file, digest) is damaged.
        let registry = ComponentRegistry.builtIn()
        let recipe = try Recipe.load(file: RecipeFixtures.write(SyntheticData.recipe(data: "/nonexistent")), registry: registry)
        let experiment = try Experiment(recipe: recipe, registry: registry)
        let checkpointer = Checkpointer(model: experiment.model, optimizer: experiment.optimizer)
        try DataTestFiles.withDirectory { directory in
            let url = URL(fileURLWithPath: directory + "/last.safetensors")
            try checkpointer.save(to: url, epoch: 2)
            let valid = try DataTestFiles.contents(of: url.path)
            let headerLength = Int(valid[0]) | Int(valid[1]) << 8 | Int(valid[2]) << 16
            let metadataEnd = valid.firstIndex(of: UInt8(ascii: "}")) ?? headerLength
            var random = RandomStream(seed: 99)
            var (refused, loaded) = (0, 0)
            for _ in 0..<250 {
                // Same-length changes inside __metadata__ keep the header valid JSON most of the time.
                var bytes = valid
                for _ in 0..<(1 + random.below(3)) {
                    let at = 9 + random.below(max(1, metadataEnd - 9))
                    let pool = Array("0123456789-abcdef./e\\ \"".utf8)
                    bytes[at] = pool[random.below(pool.count)]
                }
                try DataTestFiles.write(bytes, to: url.path)
                do {
                    _ = try checkpointer.load(from: url, optimizerState: true)
                    loaded += 1
                } catch is DataError {
                    refused += 1
                } catch is CoreError {
                    refused += 1
                }
            }
            #expect(refused > 60, "refused \(refused), loaded \(loaded)")
        }
    }

    @Test func manifestReaderRefusesOrReadsEveryMutation() throws {
        let valid = try DataTestFiles.contents(of: RecipeFixtures.repositoryRoot.appendingPathComponent("Plugins/c-layers/plugin.json").path)
        #expect(throws: Never.self) { _ = try PluginManifest.parse(valid, path: "/plugins/c/plugin.json") }
        var mutator = Mutator(random: RandomStream(seed: 5))
        var tokens = RandomStream(seed: 6)
        let replacements = ["1e999", "-1", "0.5", "65536", "99999999999999999999999", "null", "[]", "{}", "\"\"", "\"\\ud800\"",
                            "true", "\"x\"", "[[[[[[[[", "\"kind\"", "\"layer\""].map { Array($0.utf8) }
        var (refused, read) = (0, 0)
        for i in 0..<3000 {
            var bytes = valid
            if i % 2 == 0 {
                // A JSON value (after a ':' or in an array) becomes another kind of value.
                let colons = bytes.indices.filter { bytes[$0] == UInt8(ascii: ":") || bytes[$0] == UInt8(ascii: "[") }
                let at = colons[tokens.below(colons.count)] + 1
                let end = bytes[at...].firstIndex { [UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]")].contains($0) } ?? bytes.count
                bytes.replaceSubrange(at..<end, with: replacements[tokens.below(replacements.count)])
            } else {
                bytes = mutator.mutate(bytes)
            }
            do {
                let manifest = try PluginManifest.parse(bytes, path: "/plugins/c/plugin.json")
                #expect(!manifest.name.isEmpty && manifest.libraryPath.hasPrefix("/"))
                read += 1
            } catch {
                #expect(error.manifest == "/plugins/c/plugin.json" && !error.reason.isEmpty)
                refused += 1
            }
        }
        #expect(refused > 1000 && read > 20, "refused \(refused), read \(read)")
    }
}
