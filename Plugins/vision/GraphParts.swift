import StrataKit

/// Recipe-graph pieces the zoo's builders share: each returns one layer object of the core's
/// recipe language. Input channels are never given: a convolution or linear layer takes them from
/// the shape flowing into it, so every builder accepts images of any channel count.
enum G {
    static func conv(_ name: String, _ out: Int, _ kernel: Int, stride: Int = 1, padding: Int = 0,
                     groups: Int = 1, bias: Bool = true) -> KitJSON {
        .object([("kind", "conv2d"), ("name", .string(name)), ("out_channels", .int(out)), ("kernel_size", .int(kernel)),
                 ("stride", .int(stride)), ("padding", .int(padding)), ("groups", .int(groups)), ("bias", .bool(bias))])
    }
    static func linear(_ name: String, _ out: Int) -> KitJSON {
        .object([("kind", "linear"), ("name", .string(name)), ("out_features", .int(out))])
    }
    static func bn(_ name: String) -> KitJSON { .object([("kind", "batchnorm2d"), ("name", .string(name))]) }
    static func relu(_ name: String) -> KitJSON { .object([("kind", "relu"), ("name", .string(name))]) }
    static func dropout(_ name: String, _ p: Double) -> KitJSON { .object([("kind", "dropout"), ("name", .string(name)), ("p", .number(p))]) }
    static func flatten(_ name: String) -> KitJSON { .object([("kind", "flatten"), ("name", .string(name))]) }
    static func logSoftmax(_ name: String) -> KitJSON { .object([("kind", "log_softmax"), ("name", .string(name))]) }
    static func maxpool(_ name: String, _ kernel: Int, stride: Int, padding: Int = 0) -> KitJSON {
        .object([("kind", "maxpool2d"), ("name", .string(name)), ("kernel_size", .int(kernel)), ("stride", .int(stride)), ("padding", .int(padding))])
    }
    static func globalPool(_ name: String, max: Bool = false) -> KitJSON {
        .object([("kind", .string(max ? "adaptive_maxpool2d" : "adaptive_avgpool2d")), ("name", .string(name)), ("output_size", 1)])
    }
    /// A sequential; `name` nil leaves the default (its index in the parent).
    static func seq(_ name: String?, _ layers: [KitJSON]) -> KitJSON {
        var members: [(String, KitJSON)] = [("kind", "sequential"), ("layers", .array(layers))]
        if let name { members.append(("name", .string(name))) }
        return .object(members)
    }
    /// Layers named by their index, as `nn.Sequential` names them (`features.0`, `features.3`).
    static func indexed(_ name: String, _ layers: [(String) -> KitJSON]) -> KitJSON {
        seq(name, layers.enumerated().map { $0.element(String($0.offset)) })
    }
    static func root(_ layers: [KitJSON]) -> String { seq(nil, layers).serialized() }
}

/// Option readers with the ranges every builder checks.
extension KitConfig {
    func classes() throws -> Int {
        let classes = try int("classes", default: 10)
        guard (1...1_000_000).contains(classes) else { throw KitError.invalidArgument("classes must be between 1 and 1000000, got \(classes)") }
        return classes
    }
    func probability(_ key: String, default value: Double) throws -> Double {
        let p = try double(key, default: value)
        guard p >= 0, p < 1 else { throw KitError.invalidArgument("\(key) must be at least 0 and below 1, got \(p)") }
        return p
    }
    /// A positive factor scaling channel counts (width multiplier).
    func factor(_ key: String, default value: Double) throws -> Double {
        let f = try double(key, default: value)
        guard f > 0, f <= 64 else { throw KitError.invalidArgument("\(key) must be above 0 and at most 64, got \(f)") }
        return f
    }
    func choice(_ key: String, _ choices: [String], default value: String) throws -> String {
        let s = try string(key, default: value)
        guard choices.contains(s) else {
            throw KitError.invalidArgument("\(key) must be one of \(choices.map { "\"\($0)\"" }.joined(separator: ", ")), got \"\(s)\"")
        }
        return s
    }
}

/// `channels × factor`, rounded, at least 1.
func scaled(_ channels: Int, _ factor: Double) -> Int { max(1, Int((Double(channels) * factor).rounded())) }
