import Testing
@testable import StrataCore

/// `strata summary` against fast.ai's `learn.summary()` for the lesson-7 networks SimpleNet and
/// ConvNet, whose recipes are in examples/recipes (numbers as fast.ai prints them for 3×32×32).
@Suite("strata summary")
struct SummaryTests {
    func strata(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
        try runStrata(arguments)
    }

    func summary(_ recipe: String, _ extra: [String] = []) throws -> JSONValue {
        let file = RecipeFixtures.repositoryRoot.appendingPathComponent("examples/recipes/\(recipe)").path
        let r = try strata(["summary", file, "--json"] + extra)
        #expect(r.status == 0, "\(r.err)")
        return try JSONParser.parse(r.out)
    }

    /// The leaf layers with parameters or pooling, as (input shape, output shape, trainable, count).
    func rows(_ json: JSONValue, kinds: Set<String>) throws -> [([Int], [Int], Bool?, Int)] {
        let layers = try #require(json["layers"]?.arrayValue)
        func ints(_ v: JSONValue?) -> [Int] { (v?.arrayValue ?? []).compactMap { if case let .number(d) = $0 { return Int(d) } else { return nil } } }
        return layers.filter { if case let .string(k)? = $0["kind"] { return kinds.contains(k) } else { return false } }.map { l in
            var trainable: Bool?
            if case let .bool(b)? = l["trainable"] { trainable = b }
            return (ints(l["input_shape"]), ints(l["output_shape"]), trainable, ints(.array([l["parameters"] ?? .null])).first ?? -1)
        }
    }

    @Test func simpleNetMatchesFastAI() throws {
        let json = try summary("fastai-simplenet-fashion.json", ["--input-shape", "3,32,32"])
        let r = try rows(json, kinds: ["linear"])
        #expect(r.map(\.0) == [[-1, 3072], [-1, 40]])
        #expect(r.map(\.1) == [[-1, 40], [-1, 10]])
        #expect(r.map(\.2) == [true, true])
        #expect(r.map(\.3) == [122_920, 410])
        #expect(json["total_parameters"] == .number(123_330))
        #expect(json["input_shape"] == .array([-1, 3, 32, 32].map { .number(Double($0)) }))
    }

    @Test func convNetMatchesFastAI() throws {
        let json = try summary("fastai-convnet-fashion.json", ["--input-shape", "3,32,32"])
        let r = try rows(json, kinds: ["conv2d", "adaptive_maxpool2d", "linear"])
        #expect(r.map(\.0) == [[-1, 3, 32, 32], [-1, 20, 15, 15], [-1, 40, 7, 7], [-1, 80, 3, 3], [-1, 80]])
        #expect(r.map(\.1) == [[-1, 20, 15, 15], [-1, 40, 7, 7], [-1, 80, 3, 3], [-1, 80, 1, 1], [-1, 10]])
        #expect(r.map(\.2) == [true, true, true, nil, true])
        #expect(r.map(\.3) == [560, 7240, 28_880, 0, 810])
        #expect(json["trainable_parameters"] == .number(37_490))
        #expect(json["non_trainable_parameters"] == .number(0))
    }

    /// Without --input-shape the data set's example shape is used (Fashion-MNIST: 1×28×28).
    @Test func defaultsToTheDataShapeAndCountsBuffersApart() throws {
        let json = try summary("fastai-simplenet-fashion.json")
        #expect(try rows(json, kinds: ["linear"]).map(\.3) == [784 * 40 + 40, 410])
        let bn = RecipeFixtures.write("""
        {"epochs": 1, "optimizer": {"kind": "sgd", "lr": 0.1},
         "model": {"kind": "sequential", "layers": [{"kind": "conv2d", "out_channels": 4, "kernel_size": 3, "bias": false},
                   {"kind": "batchnorm2d"}, {"kind": "flatten"}, {"kind": "linear", "out_features": 10}]}}
        """)
        let r = try strata(["summary", bn])
        #expect(r.status == 0, "\(r.err)")
        // conv 36 + batch norm 8 (running statistics are not parameters) + linear 2 704*10+10
        #expect(r.out.contains("total parameters: \(36 + 8 + 2704 * 10 + 10)"), "\(r.out)")
        #expect(r.out.contains("input [-1, 1, 28, 28]  output [-1, 10]"))
    }

    @Test func badInputShapeExitsTwo() throws {
        let file = RecipeFixtures.repositoryRoot.appendingPathComponent("examples/recipes/fastai-convnet-fashion.json").path
        for bad in ["3,x,32", "0,32,32", "", "3,,3"] {
            let r = try strata(["summary", file, "--input-shape", bad])
            #expect(r.status == 2, "\(bad)")
            #expect(r.err.contains("--input-shape"), "\(r.err)")
        }
        let tooSmall = try strata(["summary", file, "--input-shape", "3,4,4"])
        #expect(tooSmall.status == 2)
        #expect(tooSmall.err.contains("layers.1"), "\(tooSmall.err)")
    }
}
