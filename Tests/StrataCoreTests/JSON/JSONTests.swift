import Testing
@testable import StrataCore

/// A recipe with every section, used by the round-trip and fuzz tests.
private let sampleRecipe = """
{
  "name": "lenet-fashion",
  "seed": 0,
  "threads": 2,
  "epochs": 10,
  "batch_size": 256,
  "data": {
    "dataset": "fashion-mnist",
    "path": "/usr/share/datasets/fashion-mnist",
    "train_limit": null,
    "normalize": {"mean": [0.2860], "std": [0.3530]},
    "augment": {"pad": 4, "flip": true}
  },
  "init": "xavier_uniform",
  "model": {
    "kind": "sequential",
    "layers": [
      {"kind": "conv2d", "out_channels": 6, "kernel_size": 5, "padding": 2},
      {"kind": "sigmoid"},
      {"kind": "avgpool2d", "kernel_size": [2, 2], "stride": 2},
      {"kind": "residual", "body": {"kind": "conv2d", "out_channels": 6, "kernel_size": 3, "padding": 1}, "shortcut": null},
      {"kind": "flatten"},
      {"kind": "linear", "name": "head", "out_features": 10, "init": "kaiming_normal"}
    ]
  },
  "optimizer": {"kind": "sgd", "lr": 0.9, "momentum": 0.9, "nesterov": true, "weight_decay": 5e-4,
                "param_groups": [{"match": "head", "lr_mult": 0.1}]},
  "loss": {"kind": "cross_entropy"},
  "callbacks": [
    {"kind": "progress"},
    {"kind": "checkpoint", "every": 1, "keep_last": 3},
    {"kind": "lr_schedule", "schedule": "sgdr", "cycle_len": 1, "cycle_mult": 2, "eta_min": 1e-6}
  ],
  "note": "Unicode: é, 中文, 😀 and escapes \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude00"
}
"""

private func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(text) }

/// The error a text produces, or nil when it parses.
private func syntaxError(_ bytes: [UInt8], maxDepth: Int = JSONParser.defaultMaxDepth, maxBytes: Int = JSONParser.defaultMaxBytes) -> JSONSyntaxError? {
    do {
        _ = try JSONParser.parse(bytes, maxDepth: maxDepth, maxBytes: maxBytes)
        return nil
    } catch {
        return error
    }
}

private func syntaxError(_ text: String) -> JSONSyntaxError? { syntaxError(Array(text.utf8)) }

// MARK: - Parsing and serializing valid documents

@Suite("JSON values: parsing and serializing")
struct JSONRoundTripTests {
    @Test func scalarsParse() throws {
        #expect(try parse("null") == .null)
        #expect(try parse(" true ") == .bool(true))
        #expect(try parse("false") == .bool(false))
        #expect(try parse("-0.5e+2") == .number(-50))
        #expect(try parse("0") == .number(0))
        #expect(try parse("1E3") == .number(1000))
        #expect(try parse("\"hi\"") == .string("hi"))
        #expect(try parse("[]") == .array([]))
        #expect(try parse("{}") == .object(JSONObject()))
        #expect(try parse("1e-400") == .number(0))  // underflow rounds to zero
    }

    @Test func stringEscapesDecode() throws {
        let value = try parse(#""\" \\ \/ \b \f \n \r \t \u00e9 \ud83d\ude00 \u0000""#)
        #expect(value == .string("\" \\ / \u{8} \u{C} \n \r \t é 😀 \u{0}"))
    }

    @Test func objectsKeepKeyOrder() throws {
        let value = try parse(#"{"b": 1, "a": 2, "c": {"z": [], "y": {}}}"#)
        let object = try #require(value.objectValue)
        #expect(object.keys == ["b", "a", "c"])
        #expect(value.serialized(pretty: false) == #"{"b":1,"a":2,"c":{"z":[],"y":{}}}"#)
    }

    @Test func objectEqualityIgnoresOrder() throws {
        #expect(try parse(#"{"a": 1, "b": [true]}"#) == parse(#"{"b": [true], "a": 1}"#))
        #expect(try parse(#"{"a": 1}"#) != parse(#"{"a": 1, "b": 2}"#))
        #expect(try parse("[1, 2]") != parse("[2, 1]"))
    }

    @Test func sampleRecipeRoundTrips() throws {
        let value = try parse(sampleRecipe)
        #expect(try parse(value.serialized(pretty: false)) == value)
        #expect(try parse(value.serialized(pretty: true)) == value)
        // Serializing is stable: the same text every time.
        let again = try parse(value.serialized(pretty: true))
        #expect(again.serialized(pretty: true) == value.serialized(pretty: true))
        #expect(value["note"]?.stringValue == "Unicode: é, 中文, 😀 and escapes \" \\ / \u{8} \u{C} \n \r \t é 😀")
    }

    @Test func numbersPrintAsIntegersOrShortestDoubles() {
        let cases: [(Double, String)] = [
            (10, "10"), (-3, "-3"), (0, "0"), (-0.0, "0"), (0.1, "0.1"), (0.001, "0.001"), (1e-8, "1e-08"),
            (2.5e-5, "2.5e-05"), (123456789012.5, "123456789012.5"), (9_007_199_254_740_992, "9007199254740992"),
            (1e15, "1000000000000000"), (1e16, "1e+16"), (1e300, "1e+300"), (-1.7976931348623157e308, "-1.7976931348623157e+308"),
            (Double.leastNonzeroMagnitude, "5e-324"), (.nan, "null"), (.infinity, "null"),
        ]
        for (number, text) in cases {
            #expect(JSONValue.number(number).serialized(pretty: false) == text, "\(number)")
        }
    }

    @Test func randomDoublesRoundTripExactly() throws {
        var random = RandomStream(seed: 42)
        for _ in 0..<5000 {
            let number = Double(bitPattern: random.nextUInt64())
            guard number.isFinite else { continue }
            let text = JSONValue.number(number).serialized(pretty: false)
            let back = try #require(try parse(text).numberValue)
            #expect(back == number, "\(text)")
        }
    }

    @Test func longDigitStringsParseWithoutOverflow() throws {
        let digits = String(repeating: "7", count: 300)
        #expect(try parse(digits) == .number(Double(digits)!))
        #expect(try parse("0." + String(repeating: "0", count: 5000) + "1") == .number(0))
        #expect(try parse("1e-99999999999999999999") == .number(0))
    }

    @Test func stringsAreEscapedWhenSerialized() {
        let value = JSONValue.string("a\"b\\c\n\t\u{1}\u{1F}\u{7F}é😀/")
        #expect(value.serialized(pretty: false) == #""a\"b\\c\n\t\u0001\u001F"# + "\u{7F}é😀/\"")
    }

    @Test func prettyOutputIsIndentedAndKeepsFlatContainersOnOneLine() throws {
        let value = try parse(#"{"name":"x","data":{"normalize":{"mean":[0.286],"std":[0.353]}},"layers":[{"kind":"relu"},{"kind":"linear","out_features":10}],"empty":[],"none":{}}"#)
        let expected = """
        {
          "name": "x",
          "data": {
            "normalize": {"mean": [0.286], "std": [0.353]}
          },
          "layers": [{"kind": "relu"}, {"kind": "linear", "out_features": 10}],
          "empty": [],
          "none": {}
        }
        """
        #expect(value.serialized(pretty: true) == expected)
    }

    @Test func prettyOutputBreaksLongLines() {
        let long: JSONValue = .array((0..<30).map { .number(Double($0 * 1000)) })
        let text = long.serialized(pretty: true)
        #expect(text.hasPrefix("[\n  0,\n  1000,\n"))
        #expect(text.hasSuffix("\n  29000\n]"))
    }

    @Test func byteOrderMarkIsSkipped() throws {
        #expect(try JSONParser.parse([0xEF, 0xBB, 0xBF] + Array("[1]".utf8)) == .array([1]))
        // Positions after a byte order mark count from the first character of the text.
        #expect(syntaxError([0xEF, 0xBB, 0xBF] + Array("[1 2]".utf8))?.description
            == "line 1, column 4: expected ',' or ']' after array element")
    }

    @Test func literalsBuildValues() {
        let value: JSONValue = ["a": 1, "b": [true, "x", 2.5], "c": [:]]
        #expect(value.serialized(pretty: false) == #"{"a":1,"b":[true,"x",2.5],"c":{}}"#)
    }

    @Test func objectMutationKeepsOrder() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        object["b"] = 20
        object["d"] = 4
        object.removeValue(forKey: "a")
        #expect(object.keys == ["b", "c", "d"])
        #expect(object["c"] == 3)
        object["c"] = nil
        #expect(object.keys == ["b", "d"])
        #expect(object["d"] == 4)
        let duplicated = JSONObject([("k", 1), ("j", 2), ("k", 3)])
        #expect(duplicated.keys == ["k", "j"])
        #expect(duplicated["k"] == 3)
    }
}

// MARK: - Syntax errors

/// One malformed input and the exact error it must produce.
struct SyntaxErrorCase: Sendable, CustomTestStringConvertible {
    let bytes: [UInt8]
    let expected: String
    init(_ text: String, _ expected: String) { self.init(bytes: Array(text.utf8), expected) }
    init(bytes: [UInt8], _ expected: String) {
        self.bytes = bytes
        self.expected = expected
    }
    var testDescription: String { expected }
}

@Suite("JSON syntax errors name line, column and cause")
struct JSONSyntaxErrorTests {
    static let cases: [SyntaxErrorCase] = [
        // Structure
        SyntaxErrorCase("{\n  \"seed\": 0,\n  \"epochs\": 100 \"batch_size\": 256\n}",
                        "line 3, column 17: expected ',' or '}' after object member"),
        SyntaxErrorCase("[1 2]", "line 1, column 4: expected ',' or ']' after array element"),
        SyntaxErrorCase("{\"a\" 1}", "line 1, column 6: expected ':' after object key"),
        SyntaxErrorCase("{a: 1}", "line 1, column 2: expected a string in double quotes as the object key"),
        SyntaxErrorCase("{\"a\": 1,}", "line 1, column 9: trailing comma before '}'"),
        SyntaxErrorCase("[1, 2, ]", "line 1, column 8: trailing comma before ']'"),
        SyntaxErrorCase("[1] [2]", "line 1, column 5: unexpected content after the JSON value"),
        SyntaxErrorCase("{\"a\": 1}}", "line 1, column 9: unexpected content after the JSON value"),
        SyntaxErrorCase("[,1]", "line 1, column 2: unexpected character ','; expected a value"),
        SyntaxErrorCase("{\"a\": }", "line 1, column 7: unexpected character '}'; expected a value"),
        SyntaxErrorCase("{\"lr\": 0.1, // fast\n}", "line 1, column 13: comments are not allowed in JSON"),
        SyntaxErrorCase("[1 /* one */]", "line 1, column 4: comments are not allowed in JSON"),
        SyntaxErrorCase("{'a': 1}", "line 1, column 2: strings must be in double quotes, not single quotes"),
        SyntaxErrorCase("['a']", "line 1, column 2: strings must be in double quotes, not single quotes"),
        SyntaxErrorCase("{\"kind\": sgd}", "line 1, column 10: unexpected word 'sgd'; strings must be in double quotes"),
        SyntaxErrorCase("[True]", "line 1, column 2: invalid literal 'True'; JSON literals are true, false and null"),
        SyntaxErrorCase("[None]", "line 1, column 2: invalid literal 'None'; JSON literals are true, false and null"),
        SyntaxErrorCase("[tru]", "line 1, column 2: unexpected word 'tru'; strings must be in double quotes"),
        SyntaxErrorCase("{\"a\": 1, \"b\": 2,\n \"a\": 3}", "line 2, column 2: duplicate key \"a\" (first at line 1, column 2)"),
        SyntaxErrorCase("\u{A0}1", "line 1, column 1: unexpected character '\u{A0}' (U+00A0); expected a value"),
        SyntaxErrorCase("[\u{1}]", "line 1, column 2: unexpected character U+0001; expected a value"),
        // Truncation
        SyntaxErrorCase("", "line 1, column 1: unexpected end of input"),
        SyntaxErrorCase("   \n  ", "line 2, column 3: unexpected end of input"),
        SyntaxErrorCase("{\"epochs\": 10,\n \"data\": {\"path\": \"x\"",
                        "line 2, column 22: unexpected end of input: the '{' at line 2, column 10 is not closed"),
        SyntaxErrorCase("[1, [2, ", "line 1, column 9: unexpected end of input: the '[' at line 1, column 5 is not closed"),
        SyntaxErrorCase("{\"a\"", "line 1, column 5: unexpected end of input: the '{' at line 1, column 1 is not closed"),
        SyntaxErrorCase("{\"name\": \"len", "line 1, column 14: unexpected end of input: the string at line 1, column 10 is not closed"),
        SyntaxErrorCase("\"abc\\", "line 1, column 6: unexpected end of input: the string at line 1, column 1 is not closed"),
        SyntaxErrorCase("\"\\u12", "line 1, column 6: unexpected end of input: the string at line 1, column 1 is not closed"),
        SyntaxErrorCase("-", "line 1, column 2: unexpected end of input"),
        SyntaxErrorCase("[1.", "line 1, column 4: unexpected end of input: the '[' at line 1, column 1 is not closed"),
        SyntaxErrorCase("1e", "line 1, column 3: unexpected end of input"),
        SyntaxErrorCase("tr", "line 1, column 1: unexpected word 'tr'; strings must be in double quotes"),
        // Numbers
        SyntaxErrorCase("[NaN]", "line 1, column 2: NaN is not valid JSON"),
        SyntaxErrorCase("{\"lr\": Infinity}", "line 1, column 8: Infinity is not valid JSON"),
        SyntaxErrorCase("[-Infinity]", "line 1, column 2: -Infinity is not valid JSON"),
        SyntaxErrorCase("[01]", "line 1, column 2: leading zeros are not allowed in numbers"),
        SyntaxErrorCase("-007", "line 1, column 1: leading zeros are not allowed in numbers"),
        SyntaxErrorCase("[1.]", "line 1, column 4: expected a digit after the decimal point"),
        SyntaxErrorCase("[.5]", "line 1, column 2: a number must start with a digit"),
        SyntaxErrorCase("[+1]", "line 1, column 2: a number cannot start with '+'"),
        SyntaxErrorCase("[1e+]", "line 1, column 5: expected a digit in the exponent"),
        SyntaxErrorCase("[-x]", "line 1, column 2: expected a digit after '-'"),
        SyntaxErrorCase("[-]", "line 1, column 3: expected a digit after '-'"),
        SyntaxErrorCase("[1e400]", "line 1, column 2: number out of range"),
        SyntaxErrorCase("-1e309", "line 1, column 1: number out of range"),
        SyntaxErrorCase(String(repeating: "9", count: 400), "line 1, column 1: number out of range"),
        // Strings
        SyntaxErrorCase("[\"a\\x\"]", "line 1, column 4: invalid escape '\\x'"),
        SyntaxErrorCase("[\"a\\'\"]", "line 1, column 4: invalid escape '\\''"),
        SyntaxErrorCase("[\"\\u12G4\"]", "line 1, column 3: invalid \\u escape: expected four hex digits"),
        SyntaxErrorCase("[\"\\ud83d\"]", "line 1, column 3: unpaired surrogate \\uD83D"),
        SyntaxErrorCase("[\"\\ud83dx\"]", "line 1, column 3: unpaired surrogate \\uD83D"),
        SyntaxErrorCase("[\"\\ud83d\\u0041\"]", "line 1, column 3: unpaired surrogate \\uD83D"),
        SyntaxErrorCase("[\"ok \\ude00\"]", "line 1, column 6: unpaired surrogate \\uDE00"),
        SyntaxErrorCase("{\"name\": \"two\nlines\"}", "line 1, column 14: unescaped control character U+000A in string"),
        SyntaxErrorCase("[\"tab\there\"]", "line 1, column 6: unescaped control character U+0009 in string"),
        SyntaxErrorCase(bytes: Array("[\"a".utf8) + [0xFF] + Array("\"]".utf8), "line 1, column 4: invalid UTF-8 byte 0xFF"),
        SyntaxErrorCase(bytes: Array("[\"".utf8) + [0xC0, 0x80] + Array("\"]".utf8), "line 1, column 3: invalid UTF-8 byte 0xC0"),
        SyntaxErrorCase(bytes: Array("[\"".utf8) + [0xE2, 0x28, 0xA1] + Array("\"]".utf8),
                        "line 1, column 3: invalid UTF-8 sequence starting with byte 0xE2"),
        SyntaxErrorCase(bytes: Array("[\"".utf8) + [0xED, 0xA0, 0x80] + Array("\"]".utf8),  // an encoded surrogate
                        "line 1, column 3: invalid UTF-8 sequence starting with byte 0xED"),
        SyntaxErrorCase(bytes: Array("[\"".utf8) + [0xF4, 0x90, 0x80, 0x80] + Array("\"]".utf8),  // beyond U+10FFFF
                        "line 1, column 3: invalid UTF-8 sequence starting with byte 0xF4"),
        SyntaxErrorCase(bytes: Array("[\"é\"] ".utf8) + [0xFE], "line 1, column 7: unexpected content after the JSON value"),
        SyntaxErrorCase(bytes: [0x5B, 0xFE, 0x5D], "line 1, column 2: unexpected invalid UTF-8 byte 0xFE; expected a value"),
        // Columns count characters, not bytes.
        SyntaxErrorCase("{\"é😀\": 1 2}", "line 1, column 10: expected ',' or '}' after object member"),
    ]

    @Test(arguments: cases)
    func malformedInputIsRejectedWithItsPosition(_ c: SyntaxErrorCase) throws {
        let error = try #require(syntaxError(c.bytes))
        #expect(error.description == c.expected)
    }

    @Test func errorFieldsAreSeparate() throws {
        let error = try #require(syntaxError("[1,\n  oops]"))
        #expect(error.line == 2)
        #expect(error.column == 3)
        #expect(error.message == "unexpected word 'oops'; strings must be in double quotes")
    }

    @Test func nestingUpToTheLimitIsAccepted() throws {
        let depth = JSONParser.defaultMaxDepth
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(syntaxError(text) == nil)
        let objects = String(repeating: "{\"a\":", count: depth - 1) + "[]" + String(repeating: "}", count: depth - 1)
        #expect(syntaxError(objects) == nil)
    }

    @Test func nestingBeyondTheLimitIsAnError() throws {
        let depth = JSONParser.defaultMaxDepth + 1
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(syntaxError(text)?.description == "line 1, column 65: nesting deeper than 64 levels")
        #expect(syntaxError(Array("[[[".utf8), maxDepth: 2)?.description == "line 1, column 3: nesting deeper than 2 levels")
    }

    @Test func depthBombIsAnErrorNotACrash() throws {
        let arrays = [UInt8](repeating: 0x5B, count: 100_000)
        #expect(syntaxError(arrays)?.description == "line 1, column 65: nesting deeper than 64 levels")
        let objects = Array(String(repeating: "{\"a\":", count: 100_000).utf8)
        #expect(syntaxError(objects)?.description == "line 1, column 321: nesting deeper than 64 levels")
        // With the limit lifted the parser is still iterative: a deep, unclosed document ends in an error.
        #expect(syntaxError(arrays, maxDepth: .max)?.message == "unexpected end of input: the '[' at line 1, column 100000 is not closed")
    }

    @Test func inputLargerThanTheLimitIsRejected() throws {
        let text = Array("[1, 2, 3]".utf8)
        #expect(syntaxError(text, maxBytes: 8)?.description == "line 1, column 1: input is larger than the limit of 8 bytes")
        #expect(syntaxError(text, maxBytes: 9) == nil)
        #expect(JSONParser.defaultMaxBytes == 16 * 1024 * 1024)
    }

    /// Mutations and truncations of a real recipe: every one either parses or throws an error
    /// whose position lies inside the text; a trap would end the test process.
    @Test func fuzzedRecipesNeverTrap() throws {
        let original = Array(sampleRecipe.utf8)
        let interesting: [UInt8] = Array("{}[],:\"\\/0123456789-+.eEtfnu \n\t'".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC3, 0xE2, 0xED, 0xF0, 0xF4, 0xFF]
        var random = RandomStream(seed: 2024)
        var parsed = 0, rejected = 0
        for iteration in 0..<6000 {
            var bytes = original
            let edits = 1 + random.below(4)
            for _ in 0..<edits where !bytes.isEmpty {
                let position = random.below(bytes.count)
                switch random.below(6) {
                case 0: bytes.removeSubrange(position...)  // truncate
                case 1: bytes[position] = interesting[random.below(interesting.count)]
                case 2: bytes.insert(interesting[random.below(interesting.count)], at: position)
                case 3: bytes.remove(at: position)
                case 4: bytes[position] = UInt8(truncatingIfNeeded: random.nextUInt64())
                default:
                    let end = min(bytes.count, position + 1 + random.below(40))
                    bytes.insert(contentsOf: bytes[position..<end], at: random.below(bytes.count))
                }
            }
            if iteration % 10 == 0 { bytes = Array(original.prefix(random.below(original.count + 1))) }
            do {
                let value = try JSONParser.parse(bytes)
                parsed += 1
                #expect(try JSONParser.parse(value.serialized(pretty: true)) == value)
            } catch {
                rejected += 1
                let lines = bytes.filter { $0 == 0x0A }.count + 1
                #expect(error.line >= 1 && error.line <= lines)
                #expect(error.column >= 1 && error.column <= bytes.count + 1)
                #expect(!error.message.isEmpty)
            }
        }
        #expect(parsed + rejected == 6000)
        #expect(rejected > 3000)
    }

    @Test func randomBytesNeverTrap() {
        var random = RandomStream(seed: 7)
        for _ in 0..<2000 {
            let count = random.below(64)
            let bytes = (0..<count).map { _ in UInt8(truncatingIfNeeded: random.nextUInt64()) }
            _ = syntaxError(bytes)
        }
    }
}

// MARK: - Validation

@Suite("ConfigReader reports JSON paths")
struct ConfigReaderTests {
    let recipe: JSONValue = [
        "epochs": 10, "lr": "fast", "ratio": 3.5, "flag": true, "name": "lenet",
        "layers": [["kind": "relu"]], "kernel": [3, 5], "none": .null,
    ]

    /// Runs `body` on a reader of `recipe` at `$` and returns the problems it reported.
    func errors(_ body: (inout ConfigReader) -> Void) -> [String] {
        let diagnostics = Diagnostics()
        var reader = ConfigReader(recipe, path: "$", diagnostics: diagnostics)
        body(&reader)
        return diagnostics.errors.map(\.description)
    }

    @Test func readsWellTypedValuesAndDefaults() {
        let diagnostics = Diagnostics()
        var reader = ConfigReader(recipe, path: "$", diagnostics: diagnostics)
        #expect(reader.int("epochs", default: 0, in: 1...100) == 10)
        #expect(reader.double("ratio", default: 0, in: 0...10, openLower: true) == 3.5)
        #expect(reader.bool("flag", default: false) == true)
        #expect(reader.requiredString("name", choices: ["lenet"]) == "lenet")
        #expect(reader.array("layers", maxCount: 1)?.count == 1)
        #expect(reader.pair("kernel", default: nil, in: 1...9).map { [$0.0, $0.1] } == [3, 5])
        #expect(reader.requiredInt("epochs", in: 1...10) == 10)
        #expect(reader.int("none", default: 4, in: 0...9) == 4)
        #expect(reader.optionalInt("seed", in: 0...9) == nil)
        #expect(reader.optionalObject("none") == nil)
        #expect(reader.value("lr") == "fast")
        reader.finish()
        #expect(diagnostics.errors.map(\.description) == [])
    }

    @Test func wrongTypesNameThePathAndTheValue() {
        #expect(errors { _ = $0.double("lr", default: 0, in: 0...1) } == [#"$.lr: expected a number, got string "fast""#])
        #expect(errors { _ = $0.optionalInt("ratio", in: 0...9) } == ["$.ratio: expected an integer, got 3.5"])
        #expect(errors { _ = $0.optionalInt("flag", in: 0...9) } == ["$.flag: expected an integer, got true"])
        #expect(errors { _ = $0.bool("name", default: false) } == [#"$.name: expected true or false, got string "lenet""#])
        #expect(errors { _ = $0.string("layers") } == ["$.layers: expected a string, got an array"])
        #expect(errors { _ = $0.array("name") } == [#"$.name: expected an array, got string "lenet""#])
        #expect(errors { _ = $0.optionalObject("epochs") } == ["$.epochs: expected an object, got number 10"])
        let diagnostics = Diagnostics()
        _ = ConfigReader([1], path: "$.model", diagnostics: diagnostics)
        #expect(diagnostics.errors.map(\.description) == ["$.model: expected an object, got an array"])
    }

    @Test func requiredKeysAreNamedAtTheirPath() {
        #expect(errors { _ = $0.required("none") } == ["$.none: is required"])
        #expect(errors { _ = $0.requiredString("missing") } == ["$.missing: is required"])
        #expect(errors { _ = $0.requiredInt("missing", in: 0...1) } == ["$.missing: is required"])
        #expect(errors { _ = $0.array("missing", required: true) } == ["$.missing: is required"])
        #expect(errors { _ = $0.pair("stride", default: nil, in: 1...9) } == ["$.stride: is required"])
    }

    @Test func rangesAndChoicesAreChecked() {
        #expect(errors { _ = $0.int("epochs", default: 1, in: 1...5) } == ["$.epochs: 10 is out of range 1...5"])
        #expect(errors { _ = $0.double("ratio", default: 0, in: 0...1) } == ["$.ratio: 3.5 is out of range (at least 0.0, at most 1.0)"])
        #expect(errors { _ = $0.double("ratio", default: 0, in: 3.5...4, openLower: true) }
            == ["$.ratio: 3.5 is out of range (greater than 3.5, at most 4.0)"])
        #expect(errors { _ = $0.array("kernel", maxCount: 1) } == ["$.kernel: has 2 elements, at most 1 are allowed"])
        #expect(errors { _ = $0.pair("kernel", default: (1, 1), in: 1...4) } == ["$.kernel[1]: 5 is out of range 1...4"])
        #expect(errors { _ = $0.pair("layers", default: (1, 1), in: 1...4) }
            == ["$.layers: expected an integer or [height, width], got an array of 1"])
        #expect(errors { _ = $0.choice("name", ["sgd", "adam"], default: "sgd") } == [#"$.name: unknown value "lenet"; expected one of "sgd", "adam""#])
        #expect(errors { _ = $0.requiredString("name", choices: ["sgd"]) } == [#"$.name: unknown value "lenet"; expected one of "sgd""#])
    }

    @Test func unknownKeysListTheKnownOnes() {
        let diagnostics = Diagnostics()
        var optimizer = ConfigReader(["kind": "sgd", "lrr": 0.1], path: "$.optimizer", diagnostics: diagnostics)
        _ = optimizer.string("kind")
        _ = optimizer.double("lr", default: 0.1, in: 0...1)
        optimizer.finish(allowed: ["momentum"])
        #expect(diagnostics.errors.map(\.description) == ["$.optimizer.lrr: unknown key; known keys here: kind, lr, momentum"])
    }

    @Test func diagnosticsCollectEveryError() {
        let diagnostics = Diagnostics()
        var reader = ConfigReader(["epochs": 0, "batch_size": "big", "seed": 1.5], path: "$", diagnostics: diagnostics)
        let epochs = reader.optionalInt("epochs", in: 1...100_000)
        let batch = reader.int("batch_size", default: 256, in: 1...65_536)
        let seed = reader.int("seed", default: 0, in: 0...1 << 32)
        let threads = reader.int("threads", default: 2, in: 1...64)
        diagnostics.error(at: "$.model", "missing")
        #expect(epochs == nil && batch == 256 && seed == 0 && threads == 2)
        #expect(diagnostics.errors.map(\.description) == [
            "$.epochs: 0 is out of range 1...100000",
            #"$.batch_size: expected an integer, got string "big""#,
            "$.seed: expected an integer, got 1.5",
            "$.model: missing",
        ])
        #expect(!diagnostics.isEmpty)
    }
}

// MARK: - Paths and overrides

@Suite("JSON paths and --set overrides")
struct JSONOverrideTests {
    @Test func pathsPrintLikeJSONPath() {
        let path = JSONPath.root.appending("model").appending("layers").appending(index: 3).appending("kernel_size")
        #expect(path.description == "$.model.layers[3].kernel_size")
        #expect(JSONPath.root.description == "$")
        #expect(JSONPath.root.appending("a key").appending("3").appending("x-y").description == #"$["a key"]["3"].x-y"#)
    }

    @Test func pathsParse() throws {
        #expect(try JSONPath(parsing: "optimizer.lr").components == [.key("optimizer"), .key("lr")])
        #expect(try JSONPath(parsing: "model.layers.3.kernel_size").description == "$.model.layers[3].kernel_size")
        #expect(try JSONPath(parsing: "callbacks[0].every").components == [.key("callbacks"), .index(0), .key("every")])
        #expect(try JSONPath(parsing: "$.model.layers[3]").description == "$.model.layers[3]")
        #expect(try JSONPath(parsing: #"$["a key"]["3"].x-y"#).components == [.key("a key"), .key("3"), .key("x-y")])
        #expect(try JSONPath(parsing: "[1][2]").components == [.index(1), .index(2)])
        #expect(try JSONPath(parsing: "$").components.isEmpty)
    }

    @Test(arguments: [
        ("", "invalid path: the path is empty"),
        ("optimizer..lr", "invalid path: empty segment"),
        ("optimizer.", "invalid path: empty segment"),
        (".lr", "invalid path: empty segment"),
        ("a[x]", "invalid path: expected an index or a quoted key after '['"),
        ("a[1", "invalid path: expected ']'"),
        ("a[", "invalid path: '[' is not closed"),
        ("a[0]b", "invalid path: expected '.' or '[' between segments"),
        ("a]", "invalid path: unexpected ']'"),
        ("$x", "invalid path: expected '.' or '[' after '$'"),
        ("a[\"b]", "invalid path: the quoted key is not closed"),
        ("a.99999999999", "invalid path: index too large"),
    ])
    func malformedPathsAreRejected(_ text: String, _ message: String) {
        do {
            _ = try JSONPath(parsing: text)
            Issue.record("\(text) parsed")
        } catch {
            #expect(error.path == text)
            #expect(error.message == message)
        }
    }

    @Test func pathsLongerThanTheLimitAreRejected() {
        let text = Array(repeating: "a", count: 65).joined(separator: ".")
        #expect(throws: RecipeError(path: text, message: "invalid path: more than 64 segments")) { try JSONPath(parsing: text) }
    }

    var recipe: JSONValue {
        ["optimizer": ["kind": "sgd", "lr": 0.9],
         "model": ["kind": "sequential", "layers": [["kind": "relu"], ["kind": "conv2d", "kernel_size": 5]]],
         "callbacks": [["kind": "checkpoint", "every": 1]],
         "data": ["train_limit": .null]]
    }

    @Test func setReplacesExistingValues() throws {
        var value = recipe
        try value.set(path: "optimizer.lr", value: 0.1)
        try value.set(path: "model.layers.1.kernel_size", value: [3, 3])
        try value.set(path: "callbacks[0].every", value: 2)
        #expect(value.value(at: try JSONPath(parsing: "optimizer.lr")) == 0.1)
        #expect(value["model"]?["layers"]?[1]?["kernel_size"] == [3, 3])
        #expect(value["callbacks"]?[0]?["every"] == 2)
        // Order is kept: the replaced member stays where it was.
        #expect(value["optimizer"]?.objectValue?.keys == ["kind", "lr"])
    }

    @Test func setCreatesMissingObjectMembers() throws {
        var value = recipe
        try value.set(path: "optimizer.momentum", value: 0.9)
        try value.set(path: "checkpoint.resume", value: "runs/x/last.safetensors")
        try value.set(path: "data.train_limit.deep", value: 1)  // null counts as missing
        #expect(value["optimizer"]?.objectValue?.keys == ["kind", "lr", "momentum"])
        #expect(value["checkpoint"] == ["resume": "runs/x/last.safetensors"])
        #expect(value["data"]?["train_limit"] == ["deep": 1])
    }

    @Test func setRefusesImpossibleSteps() {
        func failure(_ path: String, _ newValue: JSONValue = 1) -> String? {
            var value = recipe
            let before = value
            do {
                try value.set(path: path, value: newValue)
                return nil
            } catch {
                #expect(value == before, "a failed set must leave the value unchanged")
                return error.description
            }
        }
        #expect(failure("callbacks[1].every") == "$.callbacks: index 1 is past the end of the array (1 element)")
        #expect(failure("model.layers.5") == "$.model.layers: index 5 is past the end of the array (2 elements)")
        #expect(failure("optimizer.lr.x") == #"$.optimizer.lr: cannot set key "x": this is not an object (got number 0.9)"#)
        #expect(failure("optimizer[0]") == "$.optimizer: cannot set [0]: this is not an array (got an object)")
        #expect(failure("callbacks.every") == #"$.callbacks: cannot set key "every": this is not an object (got an array)"#)
        #expect(failure("augment[0]") == "$.augment: does not exist, so [0] cannot be set in it")
        #expect(failure("optimizer..lr") == "optimizer..lr: invalid path: empty segment")
    }

    @Test func setAtTheRootReplacesTheDocument() throws {
        var value = recipe
        try value.set(path: "$", value: ["epochs": 1])
        #expect(value == ["epochs": 1])
    }

    @Test func overrideValuesParseAsJSONOrText() throws {
        #expect(try JSONValue.parseOverride("0.1") == .number(0.1))
        #expect(try JSONValue.parseOverride("-3") == .number(-3))
        #expect(try JSONValue.parseOverride("true") == .bool(true))
        #expect(try JSONValue.parseOverride("null") == .null)
        #expect(try JSONValue.parseOverride("\"text\"") == .string("text"))
        #expect(try JSONValue.parseOverride("\"007\"") == .string("007"))
        #expect(try JSONValue.parseOverride("text") == .string("text"))
        #expect(try JSONValue.parseOverride("run-7 b") == .string("run-7 b"))
        #expect(try JSONValue.parseOverride("") == .string(""))
        #expect(try JSONValue.parseOverride("1e999") == .string("1e999"))
        #expect(try JSONValue.parseOverride("[1, 2]") == [1, 2])
        #expect(try JSONValue.parseOverride(#"{"kind": "adam", "lr": 0.001}"#) == ["kind": "adam", "lr": 0.001])
    }

    @Test func malformedJSONOverridesAreErrors() {
        #expect(throws: JSONSyntaxError(line: 1, column: 6, message: "unexpected end of input: the '[' at line 1, column 1 is not closed")) {
            try JSONValue.parseOverride("[1, 2")
        }
        #expect(throws: JSONSyntaxError(line: 1, column: 2, message: "expected a string in double quotes as the object key")) {
            try JSONValue.parseOverride("{kind: adam}")
        }
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parseOverride("\"unterminated") }
    }
}

// MARK: - Documents with byte positions

@Suite("JSON documents keep byte positions")
struct JSONDocumentTests {
    @Test func valuesKnowTheirByteRanges() throws {
        let text = #"{"a": [1, {"b": null}], "c": "x"}"#
        let document = try JSONParser.parseDocument(Array(text.utf8))
        #expect(document.value == (try JSONParser.parse(text)))
        let a = JSONPath.root.appending("a")
        #expect(document.range(of: .root) == 0..<text.utf8.count)
        #expect(document.range(of: a) == 6..<22)
        #expect(document.range(of: a.appending(index: 0)) == 7..<8)
        #expect(document.range(of: a.appending(index: 1)) == 10..<21)
        #expect(document.offset(of: a.appending(index: 1).appending("b")) == 16)
        #expect(document.offset(of: JSONPath.root.appending("c")) == 29)
        #expect(document.offset(of: JSONPath.root.appending("d")) == nil)
        let empty = try JSONParser.parseDocument(Array(" [ [], {} ] ".utf8))
        #expect(empty.range(of: .root) == 1..<11)
        #expect(empty.range(of: JSONPath.root.appending(index: 0)) == 3..<5)
        #expect(empty.range(of: JSONPath.root.appending(index: 1)) == 7..<9)
    }

    @Test func integersAreReadExactlyOrNotAtAll() throws {
        let text = "[9007199254740993, -42, 3.0, 1e2, 99999999999999999999, \"7\", 9223372036854775807]"
        let document = try JSONParser.parseDocument(Array(text.utf8))
        let exact = (0..<7).map { document.exactInteger(at: JSONPath.root.appending(index: $0)) }
        // 2^53 + 1 has no double: read as a number it would round to 9007199254740992.
        #expect(exact == [9_007_199_254_740_993, -42, nil, nil, nil, nil, Int.max])
        #expect(document.value[0] == .number(9_007_199_254_740_992))
    }

    @Test func syntaxErrorsCarryTheByteOffset() {
        #expect(throws: JSONSyntaxError(line: 2, column: 5, message: "expected ':' after object key")) {
            try JSONParser.parseDocument(Array("{\n\"é\" 1}".utf8))
        }
        do {
            _ = try JSONParser.parseDocument(Array("{\n\"é\" 1}".utf8))
        } catch {
            #expect(error.offset == 7)  // '{', '\n', '"', 'é' (2 bytes), '"', ' ', then the '1'
        }
        do {
            _ = try JSONParser.parse("[1,]")
        } catch {
            #expect(error.offset == 3)
        }
    }
}
