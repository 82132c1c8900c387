import Foundation
import Testing

// Loads the PyTorch parity fixtures written by scripts/make_fixtures.py
// (Tests/StrataCoreTests/Fixtures/parity/<case>.json) and compares values with a tolerance.
// The file format and the tensor names are described in docs/fixtures.md.

/// A value of a fixture's `config` object.
enum FixtureValue: Decodable, Sendable, Equatable {
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Bool first: JSON `true` must not become 1. Int before Double: `3` stays an Int.
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "config values must be a bool, number or string")
        }
    }
}

/// Why a fixture could not be loaded.
enum FixtureError: Error, CustomStringConvertible {
    case notFound(String)
    case unreadable(String, underlying: any Error)
    case malformed(String, reason: String)

    var description: String {
        switch self {
        case .notFound(let name):
            return "fixture '\(name)' not found in the test bundle (Fixtures/parity/\(name).json); "
                + "run /usr/bin/python3 scripts/make_fixtures.py"
        case .unreadable(let name, let underlying):
            return "fixture '\(name)' could not be read: \(underlying)"
        case .malformed(let name, let reason):
            return "fixture '\(name)' is malformed: \(reason)"
        }
    }
}

/// One parity case: the op kind, its options (recipe naming) and its named float32 tensors.
struct Fixture: Sendable {
    /// The case name, which is also the file name without `.json`.
    let name: String
    /// The op kind, for example `conv2d`, `batchnorm2d`, `cross_entropy`, `adam`.
    let op: String
    /// The op's options, keyed as in a Strata recipe (`kernel_size`, `lr`, `nesterov`, ...).
    let config: [String: FixtureValue]
    private let tensors: [String: FixtureTensor]

    /// Loads `Fixtures/parity/<name>.json` from the test bundle.
    static func load(_ name: String) throws -> Fixture {
        guard let url = Bundle.module.url(
            forResource: name, withExtension: "json", subdirectory: "Fixtures/parity")
        else { throw FixtureError.notFound(name) }
        let bytes: Data
        do { bytes = try Data(contentsOf: url) } catch {
            throw FixtureError.unreadable(name, underlying: error)
        }
        let file: FixtureFile
        do { file = try JSONDecoder().decode(FixtureFile.self, from: bytes) } catch {
            throw FixtureError.malformed(name, reason: "\(error)")
        }
        for (tensorName, tensor) in file.tensors {
            let expected = tensor.shape.reduce(1, *)
            guard tensor.data.count == expected else {
                throw FixtureError.malformed(
                    name, reason: "tensor '\(tensorName)' has \(tensor.data.count) values for shape \(tensor.shape)")
            }
        }
        return Fixture(name: file.case, op: file.op, config: file.config, tensors: file.tensors)
    }

    /// Names of all tensors in the fixture, sorted.
    var tensorNames: [String] { tensors.keys.sorted() }

    /// Whether the fixture holds a tensor with this name (for example `bias` or `dbias`).
    func has(_ tensorName: String) -> Bool { tensors[tensorName] != nil }

    /// A tensor's shape and row-major float32 values. A missing name records a test issue
    /// and returns an empty tensor of shape `[0]`.
    func tensor(
        _ tensorName: String, sourceLocation: SourceLocation = #_sourceLocation
    ) -> (shape: [Int], data: [Float]) {
        guard let tensor = tensors[tensorName] else {
            Issue.record(
                "fixture '\(name)' has no tensor '\(tensorName)'; it has \(tensorNames.joined(separator: ", "))",
                sourceLocation: sourceLocation)
            return (shape: [0], data: [])
        }
        return (shape: tensor.shape, data: tensor.data.map { Float($0) })
    }

    /// An integer option; also accepts a number with no fractional part.
    func int(_ key: String) -> Int? {
        switch config[key] {
        case .int(let value): return value
        case .double(let value) where value.rounded() == value: return Int(exactly: value)
        default: return nil
        }
    }

    /// A real option; integers are widened.
    func double(_ key: String) -> Double? {
        switch config[key] {
        case .double(let value): return value
        case .int(let value): return Double(value)
        default: return nil
        }
    }

    /// A real option narrowed to Float.
    func float(_ key: String) -> Float? { double(key).map { Float($0) } }

    func bool(_ key: String) -> Bool? {
        if case .bool(let value) = config[key] { return value }
        return nil
    }

    func string(_ key: String) -> String? {
        if case .string(let value) = config[key] { return value }
        return nil
    }

    /// The option, or `fallback` when the key is absent.
    func int(_ key: String, default fallback: Int) -> Int { int(key) ?? fallback }
    func double(_ key: String, default fallback: Double) -> Double { double(key) ?? fallback }
    func float(_ key: String, default fallback: Float) -> Float { float(key) ?? fallback }
    func bool(_ key: String, default fallback: Bool) -> Bool { bool(key) ?? fallback }
}

/// One tensor as stored: values are float32 written as float64 decimals, so they are read as
/// Double and narrowed, which gives back the exact float32.
private struct FixtureTensor: Decodable, Sendable {
    let shape: [Int]
    let data: [Double]
}

private struct FixtureFile: Decodable {
    let `case`: String
    let op: String
    let config: [String: FixtureValue]
    let tensors: [String: FixtureTensor]
}

/// Expects `actual` to match `expected` element by element, as `torch.allclose` does:
/// `|a - e| <= atol + rtol * |e|`, with NaN never close. On failure one issue is recorded that
/// gives the number of mismatches, the first mismatching index with both values, and the
/// largest absolute difference and where it is.
func assertClose(
    _ actual: [Float], _ expected: [Float], rtol: Float, atol: Float, _ what: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    guard actual.count == expected.count else {
        Issue.record(
            "\(what): \(actual.count) values, expected \(expected.count)", sourceLocation: sourceLocation)
        return
    }
    var mismatches = 0
    var firstMismatch: Int?
    var maxDiff: Float = 0
    var maxDiffIndex = 0
    for index in actual.indices {
        let a = actual[index], e = expected[index]
        let diff = abs(a - e)
        if diff.isNaN {
            if !maxDiff.isNaN { maxDiff = .nan; maxDiffIndex = index }
        } else if diff > maxDiff {  // false once maxDiff is NaN, so the first NaN is kept
            maxDiff = diff
            maxDiffIndex = index
        }
        if !(diff <= atol + rtol * abs(e)) {
            mismatches += 1
            if firstMismatch == nil { firstMismatch = index }
        }
    }
    guard let first = firstMismatch else { return }
    Issue.record(
        """
        \(what): \(mismatches) of \(actual.count) values differ (rtol \(rtol), atol \(atol)); \
        first at [\(first)]: got \(actual[first]), expected \(expected[first]); \
        max abs difference \(maxDiff) at [\(maxDiffIndex)]
        """,
        sourceLocation: sourceLocation)
}
