import Foundation

/// A plugin's `plugin.json`, read and checked without opening its library.
///
/// The format is documented in docs/plugins.md and `schemas/plugin.schema.json`:
/// ```json
/// {"name": "c-layers", "version": "0.1.0", "abi": {"major": 0, "minor": 1},
///  "library": "libStrataCLayers.so", "sha256": "…64 hex digits…",
///  "components": [{"kind": "layer", "name": "leaky_relu", "description": "…",
///                  "parameters": {"negative_slope": {"type": "number", "default": 0.01,
///                                                    "description": "…"}}}]}
/// ```
public struct PluginManifest: Sendable {
    /// What a component is; the manifest spells these `layer`, `optimizer`, `loss`, `callback`,
    /// `model` and `scheme`, and the raw values are the ABI's `STRATA_COMPONENT_*` codes.
    public enum Kind: Int32, CaseIterable, Sendable, CustomStringConvertible {
        case layer = 0, optimizer = 1, loss = 2, callback = 3, model = 4, scheme = 5
        /// The manifest's spelling.
        public var description: String {
            switch self {
            case .layer: return "layer"
            case .optimizer: return "optimizer"
            case .loss: return "loss"
            case .callback: return "callback"
            case .model: return "model"
            case .scheme: return "scheme"
            }
        }
        /// The kind spelled `name` in a manifest, or nil.
        public init?(name: String) {
            guard let k = Kind.allCases.first(where: { $0.description == name }) else { return nil }
            self = k
        }
    }

    /// One option of a component, as a recipe sets it.
    public struct Parameter: Sendable {
        /// The types a manifest may declare for an option.
        public static let types = ["integer", "number", "boolean", "string", "array", "object"]
        /// The option's key in the recipe object.
        public let name: String
        /// One of `types`.
        public let type: String
        /// The value used when a recipe leaves the option out; nil when the option is required.
        public let defaultValue: JSONValue?
        /// One line for `strata plugins`.
        public let description: String
    }

    /// One component the plugin declares.
    public struct Component: Sendable {
        /// Layer, loss, …
        public let kind: Kind
        /// The name recipes use (`"kind": "leaky_relu"`).
        public let name: String
        /// One line for `strata plugins`.
        public let description: String
        /// The options, in manifest order.
        public let parameters: [Parameter]
        /// The typed constructor the host calls through libffi instead of `create`, if declared.
        public var constructor: Constructor? = nil
        /// For a scheme: the plots the host draws into `plots/` from the metrics lines it logs.
        public var plots: [Plot] = []
    }

    /// A plot a scheme declares (`"plots": [{"file": "gamma", "title": "…", "x": "epoch",
    /// "x_label": "block", "series": [{"key": "gamma", "label": "γ", "panel": "γ"}]}]`): one line
    /// per series, each the named number of every metrics line that has `x`. Series with different
    /// `panel` names are drawn in stacked panels, each with its own y axis labelled by the name.
    public struct Plot: Sendable {
        public let file: String
        public let title: String
        public let x: String
        public let xLabel: String
        public let series: [(key: String, label: String, panel: String)]
    }

    /// A typed constructor (`"ffi_constructor"`): an exported C function
    /// `void *symbol(arguments..., StrataError *err)` returning the instance, NULL on failure.
    public struct Constructor: Sendable {
        /// The argument types of the manifest's closed vocabulary and how each is passed.
        public enum ArgumentType: String, CaseIterable, Sendable {
            case int32, int64, float32, float64, bool, string
            /// The manifest parameter type an argument of this type takes its value from.
            var parameterType: String {
                switch self {
                case .int32, .int64: return "integer"
                case .float32, .float64: return "number"
                case .bool: return "boolean"
                case .string: return "string"
                }
            }
        }
        /// One argument: the recipe option it takes its value from, and its C type.
        public struct Argument: Sendable {
            /// The option's name (one of the component's `parameters`).
            public let name: String
            /// How it is passed.
            public let type: ArgumentType
        }
        /// The exported symbol.
        public let symbol: String
        /// The declared arguments, in call order (the trailing `StrataError *err` is implied).
        public let arguments: [Argument]
        /// Most declared arguments a constructor may take.
        public static let maxArguments = 32

        /// Checks `value` (a recipe option or a manifest default) against `type`; nil when it
        /// fits, else what is wrong.
        static func problem(_ value: JSONValue, _ type: ArgumentType) -> String? {
            switch (type, value) {
            case (.int32, .number(let d)):
                return d.rounded() == d && d >= -2147483648 && d <= 2147483647 ? nil : "expected an integer that fits int32, got \(value)"
            case (.int64, .number(let d)):
                return d.rounded() == d && d >= -9.223372036854775808e18 && d < 9.223372036854775808e18 ? nil : "expected an integer that fits int64, got \(value)"
            case (.float32, .number(let d)):
                return d.isFinite && abs(d) <= Double(Float.greatestFiniteMagnitude) ? nil : "expected a number within float32 range, got \(value)"
            case (.float64, .number(let d)):
                return d.isFinite ? nil : "expected a finite number, got \(value)"
            case (.bool, .bool):
                return nil
            case (.string, .string(let text)):
                return text.utf8.contains(0) ? "expected a string without NUL characters" : nil
            default:
                return "expected \(type.parameterType == "integer" ? "an" : "a") \(type.parameterType) for a \(type.rawValue) argument, got \(value.typeDescription)"
            }
        }
    }

    /// Absolute path of the `plugin.json` this was read from.
    public let path: String
    /// The plugin's name; its entry point must report the same.
    public let name: String
    /// The plugin's version; its entry point must report the same.
    public let version: String
    /// One sentence for `strata plugins` ("" when absent).
    public let description: String
    /// The ABI major the library is built against.
    public let abiMajor: Int
    /// The ABI minor the library is built against.
    public let abiMinor: Int
    /// The library as written in the manifest (relative to the manifest's folder, or absolute).
    public let library: String
    /// The library's absolute path.
    public let libraryPath: String
    /// Lower-case hex SHA-256 of the library; nil in a source manifest not yet installed.
    public let sha256: String?
    /// What the plugin provides, in manifest order.
    public let components: [Component]

    /// Keys a manifest may have at its top level.
    static let topKeys = ["$schema", "name", "version", "description", "abi", "library", "sha256", "components"]

    /// Reads and checks the manifest at `path`.
    /// - Throws: `PluginRefusal` naming the manifest and every problem with its JSON path.
    public static func load(path: String) throws(PluginRefusal) -> PluginManifest {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(path, limit: 1 << 20)
        } catch {
            throw PluginRefusal(manifest: path, reason: "cannot read the manifest: \(error.reason)")
        }
        return try parse(bytes, path: path)
    }

    /// Parses and checks manifest text; `path` names the manifest in messages and anchors the
    /// library path.
    public static func parse(_ bytes: [UInt8], path: String) throws(PluginRefusal) -> PluginManifest {
        let json: JSONValue
        do {
            json = try JSONParser.parse(bytes, maxBytes: 1 << 20)
        } catch {
            throw PluginRefusal(manifest: path, reason: "malformed JSON: \(error)")
        }
        let diagnostics = Diagnostics()
        var top = ConfigReader(json, path: "$", diagnostics: diagnostics)
        let name = top.requiredString("name")
        if let name, !isComponentName(name) {
            diagnostics.error(at: top.childPath("name"), "must be ASCII letters, digits, '_', '-' or '.', got \(JSONValue.string(name))")
        }
        let version = top.requiredString("version")
        let description = top.string("description") ?? ""
        var major: Int?, minor: Int?
        if let value = top.required("abi") {
            var abi = ConfigReader(value, path: top.childPath("abi"), diagnostics: diagnostics)
            major = abi.requiredInt("major", in: 0...0xFFFF)
            minor = abi.requiredInt("minor", in: 0...0xFFFF)
            abi.finish()
        }
        let library = top.requiredString("library")
        if let library, library.isEmpty { diagnostics.error(at: top.childPath("library"), "must not be empty") }
        var sha256: String?
        if !top.object.containsKey("sha256") {
            top.accept("sha256")
            diagnostics.error(at: "$", "missing required key \"sha256\" (null until `strata plugins install` fills it in)")
        } else if let s = top.string("sha256") {
            if s.utf8.count == 64, s.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) {
                sha256 = s
            } else {
                diagnostics.error(at: top.childPath("sha256"), "expected 64 lower-case hex digits, got \(JSONValue.string(s))")
            }
        }
        var components: [Component] = []
        if let list = top.array("components", required: true) {
            var seen: [String: Int] = [:]
            for (i, item) in list.enumerated() {
                let p = top.childPath("components") + "[\(i)]"
                guard let c = component(item, path: p, diagnostics: diagnostics) else { continue }
                let key = "\(c.kind) \(c.name)"
                if let first = seen[key] {
                    diagnostics.error(at: p + ".name", "\(c.kind) \"\(c.name)\" is declared twice (also at components[\(first)])")
                } else {
                    seen[key] = i
                    components.append(c)
                }
            }
        }
        top.finish(allowed: topKeys)
        guard diagnostics.isEmpty, let name, let version, let major, let minor, let library else {
            let lines = diagnostics.errors.map(\.description)
            throw PluginRefusal(manifest: path, reason: lines.count == 1 ? lines[0] : "\(lines.count) problems: " + lines.joined(separator: "; "))
        }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        let libraryPath = library.hasPrefix("/") ? library : folder.appendingPathComponent(library).standardizedFileURL.path
        return PluginManifest(path: path, name: name, version: version, description: description, abiMajor: major, abiMinor: minor,
                              library: library, libraryPath: libraryPath, sha256: sha256, components: components)
    }

    static func component(_ item: JSONValue, path p: String, diagnostics: Diagnostics) -> Component? {
        var c = ConfigReader(item, path: p, diagnostics: diagnostics)
        let kindName = c.requiredString("kind", choices: Kind.allCases.map(\.description))
        let name = c.requiredString("name")
        if let name, !isComponentName(name) {
            diagnostics.error(at: c.childPath("name"), "must be ASCII letters, digits, '_', '-' or '.', got \(JSONValue.string(name))")
        }
        let description = c.requiredString("description")
        var parameters: [Parameter] = []
        if let object = c.optionalObject("parameters") {
            for (key, spec) in object {
                let q = c.childPath("parameters") + "." + key
                if key == "kind" || key == "name" {
                    diagnostics.error(at: q, "\"\(key)\" is taken by the recipe itself")
                    continue
                }
                var s = ConfigReader(spec, path: q, diagnostics: diagnostics)
                let type = s.requiredString("type", choices: Parameter.types)
                let text = s.requiredString("description")
                let def = s.value("default")
                if let type, let def, !Self.value(def, hasType: type) {
                    diagnostics.error(at: s.childPath("default"), "expected a value of type \(type), got \(def)")
                }
                s.finish()
                if let type, let text { parameters.append(Parameter(name: key, type: type, defaultValue: def, description: text)) }
            }
        }
        var constructor: Constructor?
        if let spec = c.value("ffi_constructor") {
            constructor = Self.constructor(spec, parameters: parameters, path: c.childPath("ffi_constructor"), diagnostics: diagnostics)
        }
        let plots = Self.plots(c.value("plots"), path: c.childPath("plots"), diagnostics: diagnostics)
        c.finish()
        guard let kindName, let kind = Kind(name: kindName), let name, let description else { return nil }
        return Component(kind: kind, name: name, description: description, parameters: parameters, constructor: constructor, plots: plots)
    }

    /// Reads a component's `plots` (see `Plot`); problems go to `diagnostics`.
    static func plots(_ value: JSONValue?, path p: String, diagnostics: Diagnostics) -> [Plot] {
        guard let value else { return [] }
        guard case let .array(items) = value, items.count <= 32 else {
            diagnostics.error(at: p, "expected an array of at most 32 plot objects")
            return []
        }
        var plots: [Plot] = []
        for (i, item) in items.enumerated() {
            var c = ConfigReader(item, path: "\(p)[\(i)]", diagnostics: diagnostics)
            let file = c.requiredString("file")
            if let file, !isComponentName(file) {
                diagnostics.error(at: c.childPath("file"), "must be ASCII letters, digits, '_', '-' or '.', got \(JSONValue.string(file))")
            }
            let title = c.requiredString("title")
            let x = c.string("x") ?? "epoch"
            let xLabel = c.string("x_label") ?? "epoch"
            var series: [(key: String, label: String, panel: String)] = []
            let lines = c.array("series", maxCount: 16, required: true) ?? []
            if lines.isEmpty { diagnostics.error(at: c.childPath("series"), "expected 1 to 16 series") }
            for (j, line) in lines.enumerated() {
                var l = ConfigReader(line, path: c.childPath("series") + "[\(j)]", diagnostics: diagnostics)
                if let key = l.requiredString("key") { series.append((key, l.string("label") ?? key, l.string("panel") ?? "")) }
                l.finish()
            }
            c.finish()
            if let file, let title, !series.isEmpty {
                plots.append(Plot(file: file, title: title, x: x, xLabel: xLabel, series: series))
            }
        }
        return plots
    }

    /// Reads `"ffi_constructor": {"symbol": "...", "arguments": [{"name": "...", "type": "float32"}]}`:
    /// a C identifier, and arguments naming declared parameters of a matching type (their
    /// defaults must fit the C type too).
    static func constructor(_ spec: JSONValue, parameters: [Parameter], path q: String, diagnostics: Diagnostics) -> Constructor? {
        guard case .object = spec else {
            diagnostics.error(at: q, "expected an object {\"symbol\": ..., \"arguments\": [...]}, got \(spec.typeDescription)")
            return nil
        }
        var reader = ConfigReader(spec, path: q, diagnostics: diagnostics)
        _ = reader.string("description")
        let symbol = reader.requiredString("symbol")
        if let symbol, !isCIdentifier(symbol) {
            diagnostics.error(at: reader.childPath("symbol"), "must be a C identifier, got \(JSONValue.string(symbol))")
        }
        var arguments: [Constructor.Argument] = []
        var ok = symbol.map(isCIdentifier) ?? false
        let list = reader.array("arguments", maxCount: Constructor.maxArguments, required: true)
        reader.finish()
        if list == nil { ok = false }
        for (i, item) in (list ?? []).enumerated() {
            var argument = ConfigReader(item, path: reader.childPath("arguments") + "[\(i)]", diagnostics: diagnostics)
            let a = argument.path
            let name = argument.requiredString("name")
            let typeName = argument.requiredString("type", choices: Constructor.ArgumentType.allCases.map(\.rawValue))
            argument.finish()
            guard let name, let typeName, let type = Constructor.ArgumentType(rawValue: typeName) else { ok = false; continue }
            guard let parameter = parameters.first(where: { $0.name == name }) else {
                diagnostics.error(at: a + ".name", "\(JSONValue.string(name)) is not one of the component's parameters")
                ok = false
                continue
            }
            if arguments.contains(where: { $0.name == name }) {
                diagnostics.error(at: a + ".name", "\(JSONValue.string(name)) is passed twice")
                ok = false
            }
            if parameter.type != type.parameterType {
                diagnostics.error(at: a + ".type", "a \(type.rawValue) argument needs a parameter of type \(type.parameterType), \"\(name)\" is declared \(parameter.type)")
                ok = false
            } else if let def = parameter.defaultValue, let problem = Constructor.problem(def, type) {
                diagnostics.error(at: a, "the default of \"\(name)\" does not fit: \(problem)")
                ok = false
            }
            arguments.append(Constructor.Argument(name: name, type: type))
        }
        guard ok, let symbol else { return nil }
        return Constructor(symbol: symbol, arguments: arguments)
    }

    /// A C identifier: ASCII letters, digits and `_`, not starting with a digit.
    static func isCIdentifier(_ s: String) -> Bool {
        guard let first = s.utf8.first, !(0x30...0x39).contains(first), s.utf8.count <= 256 else { return false }
        return s.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x5F }
    }

    /// True when `value` is of the manifest type `type`.
    static func value(_ value: JSONValue, hasType type: String) -> Bool {
        switch (type, value) {
        case ("integer", .number(let d)): return d.rounded() == d
        case ("number", .number), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): return true
        default: return false
        }
    }

    /// ASCII letters, digits, `_`, `-` and `.`, not empty (plugin.h's rule for component names).
    static func isComponentName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 128 && s.utf8.allSatisfy {
            (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x5F || $0 == 0x2D || $0 == 0x2E
        }
    }
}

/// Why a plugin was not used: the manifest (and library, when one is involved) and a sentence.
public struct PluginRefusal: Error, Equatable, Sendable, CustomStringConvertible {
    /// Path of the `plugin.json`.
    public let manifest: String
    /// Path of the library, when the problem is with it.
    public let library: String?
    /// What is wrong, as a sentence.
    public let reason: String

    /// A refusal of the manifest at `manifest` (and `library`, when the problem is with it).
    public init(manifest: String, library: String? = nil, reason: String) {
        self.manifest = manifest
        self.library = library
        self.reason = reason
    }

    public var description: String {
        if let library { return "plugin \(manifest): library \(library): \(reason)" }
        return "plugin \(manifest): \(reason)"
    }
}
