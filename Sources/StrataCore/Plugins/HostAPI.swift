import CStrata
import CStrataKernels
import Foundation

/// What the host knows about the plugin a host table was made for; `host_ctx` points at one.
final class HostContext {
    let pluginName: String
    init(pluginName: String) { self.pluginName = pluginName }
}

/// The `StrataHostAPI` table handed to plugins (include/strata/host.h), one per plugin so that
/// log lines name the plugin. Tables live until the process exits, as the ABI promises.
enum HostAPI {
    /// A new table whose logs are prefixed with `pluginName`. Never freed.
    static func makeTable(pluginName: String) -> UnsafePointer<StrataHostAPI> {
        let context = Unmanaged.passRetained(HostContext(pluginName: pluginName)).toOpaque()
        let table = UnsafeMutablePointer<StrataHostAPI>.allocate(capacity: 1)
        table.initialize(to: StrataHostAPI(
            struct_size: UInt32(MemoryLayout<StrataHostAPI>.size),
            abi_version: STRATA_ABI_VERSION,
            host_ctx: context,
            set_error: hostSetError,
            log: hostLog,
            tensor_alloc: hostTensorAlloc,
            tensor_release: hostTensorRelease,
            parallel_for: hostParallelFor,
            thread_count: hostThreadCount,
            config_get_int: hostConfigGetInt,
            config_get_double: hostConfigGetDouble,
            config_get_string: hostConfigGetString,
            config_get_bool: hostConfigGetBool,
            config_has: hostConfigHas,
            get_interface: hostGetInterface))
        return UnsafePointer(table)
    }

    /// Writes `code` and `message` into `err` within its `struct_size`, truncating the message
    /// on a UTF-8 character boundary. Returns `code`.
    @discardableResult
    static func setError(_ err: UnsafeMutablePointer<StrataError>?, _ code: Int32, _ message: String) -> Int32 {
        guard let err else { return code }
        let size = Int(err.pointee.struct_size)
        if size >= MemoryLayout<StrataError>.offset(of: \.code)! + 4 { err.pointee.code = code }
        let messageOffset = MemoryLayout<StrataError>.offset(of: \.message)!
        let capacity = min(Int(STRATA_ERROR_MESSAGE_SIZE), size - messageOffset)
        guard capacity > 0 else { return code }
        var bytes = Array(message.utf8)
        if bytes.count > capacity - 1 {
            var cut = capacity - 1
            while cut > 0 && bytes[cut] & 0xC0 == 0x80 { cut -= 1 }
            bytes = Array(bytes[..<cut])
        }
        let out = (UnsafeMutableRawPointer(err) + messageOffset).assumingMemoryBound(to: UInt8.self)
        for (i, b) in bytes.enumerated() { out[i] = b }
        out[bytes.count] = 0
        return code
    }

    /// The message an error buffer holds.
    /// Stores `value` into field `key` of a struct the plugin allocated with `structSize` bytes
    /// (its own `struct_size`), skipping a field its older, shorter struct does not have.
    static func store<S, T>(_ value: T, _ key: WritableKeyPath<S, T>, in out: UnsafeMutablePointer<S>, structSize: UInt32) {
        if PluginHost.has(structSize, offset: MemoryLayout<S>.offset(of: key)!, size: MemoryLayout<T>.size) {
            out.pointee[keyPath: key] = value
        }
    }

    static func message(of err: UnsafePointer<StrataError>) -> String {
        let offset = MemoryLayout<StrataError>.offset(of: \.message)!
        let p = (UnsafeRawPointer(err) + offset).assumingMemoryBound(to: UInt8.self)
        var n = 0
        while n < Int(STRATA_ERROR_MESSAGE_SIZE) && p[n] != 0 { n += 1 }
        return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
    }

    /// Outcome of looking a dotted path up in config text.
    enum Lookup {
        case absent
        case found(JSONValue)
        case invalid(String)
    }

    /// The value at `path` (object keys separated by dots, decimal segments indexing arrays,
    /// "" for the root) in the JSON text `json`.
    static func lookup(_ json: UnsafePointer<CChar>?, _ path: UnsafePointer<CChar>?) -> Lookup {
        guard let json, let path else { return .invalid("config_json and json_path must not be NULL") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(String(cString: json))
        } catch {
            return .invalid("the configuration is not valid JSON: \(error)")
        }
        let text = String(cString: path)
        var current = value
        if !text.isEmpty {
            for segment in text.split(separator: ".", omittingEmptySubsequences: false) {
                let key = String(segment)
                switch current {
                case let .object(o):
                    guard let next = o[key] else { return .absent }
                    current = next
                case let .array(a):
                    guard let i = Int(key), a.indices.contains(i) else { return .absent }
                    current = a[i]
                default:
                    return .absent
                }
            }
        }
        return current == .null ? .absent : .found(current)
    }

    /// Reads `path` for a typed getter: calls `convert` on a present value and reports a
    /// wrong type as INVALID_ARGUMENT naming the path.
    static func read(_ json: UnsafePointer<CChar>?, _ path: UnsafePointer<CChar>?, _ err: UnsafeMutablePointer<StrataError>?,
                     expected: String, _ convert: (JSONValue) -> Bool) -> Int32 {
        switch lookup(json, path) {
        case .absent: return STRATA_OK
        case let .invalid(message): return setError(err, STRATA_ERR_INVALID_ARGUMENT, message)
        case let .found(value):
            if convert(value) { return STRATA_OK }
            let name = path.map { String(cString: $0) } ?? ""
            return setError(err, STRATA_ERR_INVALID_ARGUMENT, "option \"\(name)\": expected \(expected), got \(value.typeDescription)")
        }
    }
}

/// Block holding a host-allocated tensor's descriptor and its shape and strides.
private struct TensorBlock {
    var tensor: StrataTensor
    var shape: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64)
    var strides: (Int64, Int64, Int64, Int64, Int64, Int64, Int64, Int64)
}

private func hostSetError(_ err: UnsafeMutablePointer<StrataError>?, _ code: Int32, _ message: UnsafePointer<CChar>?) -> StrataStatus {
    HostAPI.setError(err, code, message.map { String(cString: $0) } ?? "")
}

private func hostLog(_ context: UnsafeMutableRawPointer?, _ level: Int32, _ message: UnsafePointer<CChar>?) {
    if level == STRATA_LOG_DEBUG && ProcessInfo.processInfo.environment["STRATA_VERBOSE"] == nil { return }
    let name = context.map { Unmanaged<HostContext>.fromOpaque($0).takeUnretainedValue().pluginName } ?? "?"
    let tag = level >= STRATA_LOG_ERROR ? "error: " : level == STRATA_LOG_WARNING ? "warning: " : ""
    let text = message.map { String(cString: $0) } ?? ""
    FileHandle.standardError.write(Data("strata: plugin \(name): \(tag)\(text)\n".utf8))
}

private func hostTensorAlloc(_ context: UnsafeMutableRawPointer?, _ ndim: Int32, _ shape: UnsafePointer<Int64>?,
                             _ out: UnsafeMutablePointer<UnsafeMutablePointer<StrataTensor>?>?,
                             _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    guard let out, ndim >= 0, ndim <= STRATA_MAX_NDIM, ndim == 0 || shape != nil else {
        return HostAPI.setError(err, STRATA_ERR_INVALID_ARGUMENT, "tensor_alloc: rank must be 0 to \(STRATA_MAX_NDIM) with a shape, and out must not be NULL")
    }
    var count = 1
    for i in 0..<Int(ndim) {
        let d = shape![i]
        guard d >= 0, d < (1 << 40) else { return HostAPI.setError(err, STRATA_ERR_INVALID_ARGUMENT, "tensor_alloc: extent \(d) of dimension \(i) is out of range") }
        let (m, overflow) = count.multipliedReportingOverflow(by: Int(d))
        guard !overflow, m < (1 << 40) else { return HostAPI.setError(err, STRATA_ERR_INVALID_ARGUMENT, "tensor_alloc: too many elements") }
        count = m
    }
    var raw: UnsafeMutableRawPointer?
    guard posix_memalign(&raw, 64, max(count, 1) * 4) == 0, let data = raw else {
        return HostAPI.setError(err, STRATA_ERR_OUT_OF_MEMORY, "tensor_alloc: out of memory for \(count) floats")
    }
    memset(data, 0, max(count, 1) * 4)
    let block = UnsafeMutablePointer<TensorBlock>.allocate(capacity: 1)
    block.initialize(to: TensorBlock(tensor: StrataTensor(), shape: (0, 0, 0, 0, 0, 0, 0, 0), strides: (0, 0, 0, 0, 0, 0, 0, 0)))
    let base = UnsafeMutableRawPointer(block)
    let shapePointer = (base + MemoryLayout<TensorBlock>.offset(of: \.shape)!).assumingMemoryBound(to: Int64.self)
    let stridePointer = (base + MemoryLayout<TensorBlock>.offset(of: \.strides)!).assumingMemoryBound(to: Int64.self)
    var step: Int64 = 1
    for i in stride(from: Int(ndim) - 1, through: 0, by: -1) {
        shapePointer[i] = shape![i]
        stridePointer[i] = step
        step *= shape![i]
    }
    block.pointee.tensor = StrataTensor(data: data, byte_offset: 0, device_type: STRATA_DEVICE_CPU, device_id: 0,
                                        dtype: StrataDType(code: STRATA_DTYPE_FLOAT, bits: 32, lanes: 1), ndim: ndim,
                                        shape: ndim > 0 ? UnsafePointer(shapePointer) : nil,
                                        strides: ndim > 0 ? UnsafePointer(stridePointer) : nil, flags: 0)
    out.pointee = base.assumingMemoryBound(to: StrataTensor.self)
    return STRATA_OK
}

private func hostTensorRelease(_ context: UnsafeMutableRawPointer?, _ tensor: UnsafeMutablePointer<StrataTensor>?) {
    guard let tensor else { return }
    free(tensor.pointee.data)
    UnsafeMutableRawPointer(tensor).assumingMemoryBound(to: TensorBlock.self).deallocate()
}

private func hostParallelFor(_ context: UnsafeMutableRawPointer?, _ n: Int64, _ fn: StrataParallelFn?, _ ctx: UnsafeMutableRawPointer?) {
    guard n > 0, let fn else { return }
    sk_parallel_for(n, 1, fn, ctx)
}

private func hostThreadCount(_ context: UnsafeMutableRawPointer?) -> Int32 { max(sk_threads(), 1) }

private func hostConfigGetInt(_ json: UnsafePointer<CChar>?, _ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<Int64>?,
                              _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    HostAPI.read(json, path, err, expected: "an integer") { v in
        guard case let .number(d) = v, d.rounded() == d, abs(d) < 9.2e18 else { return false }
        out?.pointee = Int64(d)
        return true
    }
}

private func hostConfigGetDouble(_ json: UnsafePointer<CChar>?, _ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<Double>?,
                                 _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    HostAPI.read(json, path, err, expected: "a number") { v in
        guard case let .number(d) = v else { return false }
        out?.pointee = d
        return true
    }
}

private func hostConfigGetString(_ json: UnsafePointer<CChar>?, _ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<CChar>?,
                                 _ capacity: UInt64, _ length: UnsafeMutablePointer<UInt64>?,
                                 _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    var tooLong = false
    let status = HostAPI.read(json, path, err, expected: "a string") { v in
        guard case let .string(s) = v else { return false }
        let bytes = Array(s.utf8)
        length?.pointee = UInt64(bytes.count)
        guard let out, UInt64(bytes.count) < capacity else { tooLong = true; return true }
        for (i, b) in bytes.enumerated() { out[i] = CChar(bitPattern: b) }
        out[bytes.count] = 0
        return true
    }
    if status == STRATA_OK && tooLong {
        let name = path.map { String(cString: $0) } ?? ""
        return HostAPI.setError(err, STRATA_ERR_INVALID_ARGUMENT, "option \"\(name)\": the string does not fit in \(capacity) bytes")
    }
    return status
}

private func hostConfigGetBool(_ json: UnsafePointer<CChar>?, _ path: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<Int32>?,
                               _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    HostAPI.read(json, path, err, expected: "true or false") { v in
        guard case let .bool(b) = v else { return false }
        out?.pointee = b ? 1 : 0
        return true
    }
}

private func hostConfigHas(_ json: UnsafePointer<CChar>?, _ path: UnsafePointer<CChar>?) -> Int32 {
    if case .found = HostAPI.lookup(json, path) { return 1 }
    return 0
}

private func hostGetInterface(_ context: UnsafeMutableRawPointer?, _ name: UnsafePointer<CChar>?, _ minVersion: UInt32) -> UnsafeRawPointer? {
    guard let name else { return nil }
    return TrainInterface.lookup(name: String(cString: name), minVersion: minVersion)
}
