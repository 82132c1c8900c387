import CStrata
import CStrataKernels
import Foundation

/// A plugin whose library has been checked, opened and has described itself as its manifest
/// said. Its library stays open until the process exits.
public final class LoadedPlugin: @unchecked Sendable {
    /// The manifest it was loaded from.
    public let manifest: PluginManifest
    /// The host table this plugin received (its logs are prefixed with its name).
    let host: UnsafePointer<StrataHostAPI>
    /// Ops table of each layer component, by name.
    let layers: [String: UnsafePointer<StrataLayerOps>]
    /// Ops table of each loss component, by name.
    let losses: [String: UnsafePointer<StrataLossOps>]
    /// The plugin's ABI version as it reported it, encoded (major << 16) | minor.
    public let abiVersion: UInt32
    /// Ops table of each model-builder component, by name.
    var models: [String: UnsafePointer<StrataModelOps>] = [:]
    /// Ops table of each training-scheme component, by name.
    var schemes: [String: UnsafePointer<StrataSchemeOps>] = [:]
    /// Ops table of each optimizer component, by name.
    var optimizers: [String: UnsafePointer<StrataOptimizerOps>] = [:]
    /// Ops table of each callback component, by name.
    var callbacks: [String: UnsafePointer<StrataCallbackOps>] = [:]
    /// Each component's `StrataComponent.context` (ABI 0.3), by "kind name"; absent when NULL
    /// or when the plugin's descriptor predates the field.
    var contexts: [String: UnsafeMutableRawPointer] = [:]
    /// Typed constructors prepared at load time, by "kind name" (`layer scale_shift`).
    let constructors: [String: PreparedConstructor]

    init(manifest: PluginManifest, host: UnsafePointer<StrataHostAPI>, layers: [String: UnsafePointer<StrataLayerOps>],
         losses: [String: UnsafePointer<StrataLossOps>], abiVersion: UInt32, constructors: [String: PreparedConstructor] = [:]) {
        self.manifest = manifest
        self.host = host
        self.layers = layers
        self.losses = losses
        self.abiVersion = abiVersion
        self.constructors = constructors
    }

    /// The typed constructor of the component `kind` `name`, when its manifest declares one.
    func constructor(_ kind: PluginManifest.Kind, _ name: String) -> PreparedConstructor? {
        constructors["\(kind) \(name)"]
    }

    /// The context the plugin gave the component `kind` `name` (nil when none).
    func context(_ kind: PluginManifest.Kind, _ name: String) -> UnsafeMutableRawPointer? {
        contexts["\(kind) \(name)"]
    }
}

/// Opens plugin libraries: checksum, `dlopen(RTLD_NOW | RTLD_LOCAL)`, the entry point, version
/// checks, and the comparison of what the plugin registered with its manifest. Each manifest is
/// loaded at most once per process (its outcome, success or refusal, is remembered); libraries
/// are never closed.
public enum PluginHost {
    /// The ABI major this host implements.
    public static let abiMajor = Int(STRATA_ABI_MAJOR)
    /// The ABI minor this host implements.
    public static let abiMinor = Int(STRATA_ABI_MINOR)

    private final class Cache: @unchecked Sendable {
        let lock = NSLock()
        var outcomes: [String: Result<LoadedPlugin, PluginRefusal>] = [:]
    }
    private static let cache = Cache()

    /// The loaded plugin for `manifest`, loading it on first use.
    /// - Throws: `PluginRefusal` naming the manifest or library and the reason.
    public static func load(_ manifest: PluginManifest) throws(PluginRefusal) -> LoadedPlugin {
        cache.lock.lock()
        defer { cache.lock.unlock() }
        if let outcome = cache.outcomes[manifest.path] { return try outcome.get() }
        let outcome: Result<LoadedPlugin, PluginRefusal>
        do {
            outcome = .success(try open(manifest))
        } catch {
            outcome = .failure(error)
        }
        cache.outcomes[manifest.path] = outcome
        return try outcome.get()
    }

    /// True when loading the manifest at `path` has been attempted (successfully or not).
    static func hasAttempted(_ path: String) -> Bool {
        cache.lock.lock()
        defer { cache.lock.unlock() }
        return cache.outcomes[path] != nil
    }

    /// Lower-case hex SHA-256 of the file at `path`.
    public static func sha256(file path: String) throws(PluginRefusal) -> String {
        if let kind = RegularFile.specialKind(path) {
            throw PluginRefusal(manifest: "", library: path, reason: "cannot read the library: it is \(kind), not a regular file")
        }
        var digest = [UInt8](repeating: 0, count: 32)
        let status = sk_sha256_file(path, &digest)
        guard status == 0 else {
            throw PluginRefusal(manifest: "", library: path, reason: "cannot read the library: \(String(cString: strerror(status)))")
        }
        return hex(digest)
    }

    /// Lower-case hex SHA-256 of `bytes`.
    public static func sha256(_ bytes: [UInt8]) -> String {
        var ctx = sk_sha256_ctx()
        var digest = [UInt8](repeating: 0, count: 32)
        sk_sha256_init(&ctx)
        bytes.withUnsafeBytes { sk_sha256_update(&ctx, $0.baseAddress, $0.count) }
        sk_sha256_final(&ctx, &digest)
        return hex(digest)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
        return String(decoding: out, as: UTF8.self)
    }

    static func version(_ v: UInt32) -> String { "\(v >> 16).\(v & 0xFFFF)" }

    private static func open(_ m: PluginManifest) throws(PluginRefusal) -> LoadedPlugin {
        func refuse(_ reason: String, library: Bool = true) -> PluginRefusal {
            PluginRefusal(manifest: m.path, library: library ? m.libraryPath : nil, reason: reason)
        }
        // 1. Checks that need no library code: ABI major, checksum.
        if let refusal = PluginDiscovery.check(m) { throw refusal }
        guard m.components.count <= 4096 else { throw refuse("declares more than 4096 components", library: false) }
        let actual: String
        do {
            actual = try sha256(file: m.libraryPath)
        } catch {
            throw refuse(error.reason)
        }
        guard let expected = m.sha256, actual == expected else {
            throw refuse("checksum mismatch: the manifest says sha256 \(m.sha256 ?? "null"), the file has \(actual) (a stale or swapped build; `strata plugins install` refreshes installed manifests)")
        }
        // 2. Open and find the entry point.
        guard let handle = dlopen(m.libraryPath, RTLD_NOW | RTLD_LOCAL) else {
            throw refuse("dlopen failed: \(dlerror().map { String(cString: $0) } ?? "unknown error")")
        }
        guard let symbol = dlsym(handle, STRATA_PLUGIN_ENTRY_SYMBOL) else {
            throw refuse("exports no \(STRATA_PLUGIN_ENTRY_SYMBOL) (is it built with STRATA_EXPORT?)")
        }
        let entry = unsafeBitCast(symbol, to: StrataPluginEntryFn.self)
        // 3. Call it once with this plugin's host table.
        let host = HostAPI.makeTable(pluginName: m.name)
        var info = StrataPluginInfo()
        info.struct_size = UInt32(MemoryLayout<StrataPluginInfo>.size)
        var err = StrataError()
        err.struct_size = UInt32(MemoryLayout<StrataError>.size)
        let status = entry(host, &info, &err)
        guard status == STRATA_OK else {
            let code = status == STRATA_ERR_ABI_MISMATCH ? " (ABI mismatch; this host implements ABI \(abiMajor).\(abiMinor))" : ""
            throw refuse("\(STRATA_PLUGIN_ENTRY_SYMBOL) failed with status \(status)\(code): \(HostAPI.message(of: &err))")
        }
        // 4. Versions and identity.
        guard Int(info.abi_version >> 16) == abiMajor else {
            throw refuse("reports ABI \(version(info.abi_version)); this host implements ABI \(abiMajor).\(abiMinor) and refuses another major")
        }
        let name = info.plugin_name.map { String(cString: $0) }
        let version = info.plugin_version.map { String(cString: $0) }
        guard name == m.name else { throw refuse("reports plugin name \(name.map { "\"\($0)\"" } ?? "NULL"), the manifest says \"\(m.name)\"") }
        guard version == m.version else { throw refuse("reports version \(version.map { "\"\($0)\"" } ?? "NULL"), the manifest says \"\(m.version)\"") }
        // 5. The components it registered.
        let count = Int(info.component_count)
        guard count >= 0, count <= 4096, count == 0 || info.components != nil else {
            throw refuse("reports \(info.component_count) components with \(info.components == nil ? "no" : "a") list")
        }
        var registered: [(kind: PluginManifest.Kind, name: String)] = []
        var layers: [String: UnsafePointer<StrataLayerOps>] = [:]
        var losses: [String: UnsafePointer<StrataLossOps>] = [:]
        var models: [String: UnsafePointer<StrataModelOps>] = [:]
        var schemes: [String: UnsafePointer<StrataSchemeOps>] = [:]
        var optimizers: [String: UnsafePointer<StrataOptimizerOps>] = [:]
        var callbacks: [String: UnsafePointer<StrataCallbackOps>] = [:]
        var contexts: [String: UnsafeMutableRawPointer] = [:]
        var registeredConstructors: [String: String] = [:]  // "layer scale_shift" -> symbol
        if count > 0, let list = info.components {
            // The array's stride is the plugin's sizeof(StrataComponent), which a newer minor may have grown.
            let stride = Int(list.pointee.struct_size)
            let needed = MemoryLayout<StrataComponent>.offset(of: \.ops)! + MemoryLayout<UnsafeRawPointer>.size
            guard stride >= needed, stride % 8 == 0 else {
                throw refuse("its StrataComponent has struct_size \(stride); at least \(needed) is needed")
            }
            for i in 0..<count {
                let c = (UnsafeRawPointer(list) + i * stride).assumingMemoryBound(to: StrataComponent.self).pointee
                guard Int(c.abi_version >> 16) == abiMajor else {
                    throw refuse("component \(i) has ABI \(self.version(c.abi_version)); this host implements ABI \(abiMajor).\(abiMinor)")
                }
                guard let cname = c.name.map({ String(cString: $0) }) else { throw refuse("component \(i) has no name") }
                guard let kind = PluginManifest.Kind(rawValue: c.kind) else { throw refuse("component \"\(cname)\" has unknown kind \(c.kind)") }
                guard let ops = c.ops else { throw refuse("\(kind) \"\(cname)\" has no ops table") }
                if registered.contains(where: { $0.kind == kind && $0.name == cname }) {
                    throw refuse("registers \(kind) \"\(cname)\" twice")
                }
                registered.append((kind, cname))
                let constructorOffset = MemoryLayout<StrataComponent>.offset(of: \.ffi_constructor)!
                if stride >= constructorOffset + MemoryLayout<UnsafeRawPointer>.size, let symbol = c.ffi_constructor {
                    registeredConstructors["\(kind) \(cname)"] = String(cString: symbol)
                }
                let contextOffset = MemoryLayout<StrataComponent>.offset(of: \.context)!
                if stride >= contextOffset + MemoryLayout<UnsafeRawPointer>.size, let context = c.context {
                    contexts["\(kind) \(cname)"] = context
                }
                if kind == .layer {
                    layers[cname] = try layerOps(ops, name: cname, refuse: refuse)
                } else if kind == .loss {
                    losses[cname] = try lossOps(ops, name: cname, refuse: refuse)
                } else if kind == .model {
                    models[cname] = try modelOps(ops, name: cname, refuse: refuse)
                } else if kind == .scheme {
                    schemes[cname] = try schemeOps(ops, name: cname, refuse: refuse)
                } else if kind == .optimizer {
                    optimizers[cname] = try optimizerOps(ops, name: cname, refuse: refuse)
                } else if kind == .callback {
                    callbacks[cname] = try callbackOps(ops, name: cname, refuse: refuse)
                }
            }
        }
        // 6. What was registered must be what the manifest declared.
        let declared = Set(m.components.map { "\($0.kind) \"\($0.name)\"" })
        let actualSet = Set(registered.map { "\($0.kind) \"\($0.name)\"" })
        if declared != actualSet {
            var parts: [String] = []
            let missing = declared.subtracting(actualSet).sorted(), extra = actualSet.subtracting(declared).sorted()
            if !missing.isEmpty { parts.append("declared in the manifest but not registered: " + missing.joined(separator: ", ")) }
            if !extra.isEmpty { parts.append("registered but not declared in the manifest: " + extra.joined(separator: ", ")) }
            throw refuse("the components differ from the manifest: " + parts.joined(separator: "; "))
        }
        // 7. Typed constructors: the manifest's and the descriptor's must name the same symbol;
        // each is looked up and its call prepared now. A constructor the descriptor names but
        // the manifest does not declare is not called (create is used).
        var constructors: [String: PreparedConstructor] = [:]
        for c in m.components {
            guard let declared = c.constructor else { continue }
            let key = "\(c.kind) \(c.name)"
            guard c.kind == .layer || c.kind == .loss else {
                throw refuse("\(c.kind) \"\(c.name)\" declares a typed constructor; this host calls typed constructors of layers and losses only")
            }
            guard registeredConstructors[key] == declared.symbol else {
                throw refuse("\(c.kind) \"\(c.name)\": the manifest declares the typed constructor \(declared.symbol), the plugin registers \(registeredConstructors[key] ?? "none")")
            }
            switch PreparedConstructor.prepare(declared, handle: handle) {
            case .success(let prepared): constructors[key] = prepared
            case .failure(let problem): throw refuse("\(c.kind) \"\(c.name)\": \(problem.reason)")
            }
        }
        let loaded = LoadedPlugin(manifest: m, host: host, layers: layers, losses: losses, abiVersion: info.abi_version, constructors: constructors)
        loaded.models = models
        loaded.schemes = schemes
        loaded.optimizers = optimizers
        loaded.callbacks = callbacks
        loaded.contexts = contexts
        return loaded
    }

    /// Checks a component's ops table and returns the host's copy of it: the ABI major, a
    /// `struct_size` of at least `needed` bytes, and the required functions (`required` pairs a
    /// function's name with whether the table has it). Fields beyond the plugin's `struct_size`
    /// stay zero in the copy, so an older minor's shorter table reads as "optional function absent".
    static func checkedOps<Ops>(_ raw: UnsafeRawPointer, kind: String, name: String, empty: Ops, needed: Int,
                                required: [(String, (Ops) -> Bool)],
                                refuse: (String, Bool) -> PluginRefusal) throws(PluginRefusal) -> UnsafePointer<Ops> {
        let header = raw.assumingMemoryBound(to: UInt32.self)
        let size = Int(header[0]), abi = header[1]
        guard Int(abi >> 16) == abiMajor else {
            throw refuse("\(kind) \"\(name)\" has an ops table of ABI \(version(abi)); this host implements ABI \(abiMajor).\(abiMinor)", true)
        }
        guard size >= needed else {
            throw refuse("\(kind) \"\(name)\" has an ops table of struct_size \(size); at least \(needed) is needed", true)
        }
        let ops = UnsafeMutablePointer<Ops>.allocate(capacity: 1)
        ops.initialize(to: empty)
        UnsafeMutableRawPointer(ops).copyMemory(from: raw, byteCount: min(size, MemoryLayout<Ops>.size))
        let missing = required.filter { !$0.1(ops.pointee) }.map(\.0)
        guard missing.isEmpty else {
            ops.deallocate()
            throw refuse("\(kind) \"\(name)\" lacks the required \(missing.joined(separator: ", "))", true)
        }
        return UnsafePointer(ops)
    }

    /// Checks a layer's ops table: create, destroy, infer_shape, forward and backward are required.
    private static func layerOps(_ raw: UnsafeRawPointer, name: String, refuse: (String, Bool) -> PluginRefusal) throws(PluginRefusal) -> UnsafePointer<StrataLayerOps> {
        try checkedOps(raw, kind: "layer", name: name, empty: StrataLayerOps(),
                       needed: MemoryLayout<StrataLayerOps>.offset(of: \.backward)! + MemoryLayout<UnsafeRawPointer>.size,
                       required: [("create", { $0.create != nil || $0.create_with_context != nil }), ("destroy", { $0.destroy != nil }),
                                  ("infer_shape", { $0.infer_shape != nil }), ("forward", { $0.forward != nil }),
                                  ("backward", { $0.backward != nil })],
                       refuse: refuse)
    }

    /// Checks a loss's ops table: create, destroy and forward are required.
    private static func lossOps(_ raw: UnsafeRawPointer, name: String, refuse: (String, Bool) -> PluginRefusal) throws(PluginRefusal) -> UnsafePointer<StrataLossOps> {
        try checkedOps(raw, kind: "loss", name: name, empty: StrataLossOps(),
                       needed: MemoryLayout<StrataLossOps>.offset(of: \.forward)! + MemoryLayout<UnsafeRawPointer>.size,
                       required: [("create", { $0.create != nil || $0.create_with_context != nil }), ("destroy", { $0.destroy != nil }),
                                  ("forward", { $0.forward != nil })],
                       refuse: refuse)
    }

    /// True when field `offset` (of `size` bytes) lies within a table of `structSize` bytes.
    static func has(_ structSize: UInt32, offset: Int, size: Int = MemoryLayout<UnsafeRawPointer>.size) -> Bool {
        Int(structSize) >= offset + size
    }
}
