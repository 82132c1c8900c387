import CStrataKernels
import Foundation

/// Reading and writing checkpoints in the safetensors format (Hugging Face), float32 only.
///
/// A safetensors file is:
///
///     bytes 0..<8        N, the header length, unsigned 64-bit little-endian
///     bytes 8..<8+N      a UTF-8 JSON object, padded with spaces so N is a multiple of 8:
///                        {"__metadata__": {"key": "value", ...},
///                         "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ...}
///     bytes 8+N..<end    the data section: each tensor's elements, little-endian, row-major, at
///                        [begin, end) relative to the start of the data section
///
/// Writing lays the tensors out in the order given, back to back, and replaces the destination
/// atomically (temporary file, fsync, rename), so a crash never leaves half a checkpoint. The
/// header lists `__metadata__` first (with sorted keys, omitted when empty) and then the tensors
/// in that order — the same layout the Python `safetensors` package produces, and byte-identical
/// for identical input.
///
/// Reading checks everything before it allocates: the header length against the file size, the
/// JSON, each entry's `dtype`, `shape` and `data_offsets`, that each tensor's byte range matches
/// its shape, and that the ranges tile the data section exactly (no overlap, no gap, nothing
/// left over). Every failure is a ``DataError`` naming the file and the byte offset in it. Only
/// `F32` tensors are read; a file with `F16`, `BF16`, `F64`, `I64` or any other dtype is refused
/// with a message naming the tensor and its dtype.
public enum SafeTensors {
    /// Largest header accepted, in bytes (the reference implementation's limit).
    public static let maximumHeaderLength = 100_000_000

    /// Writes `tensors` and `metadata` to `url` as a safetensors file, atomically.
    ///
    /// - Parameters:
    ///   - tensors: Names (PyTorch-style dotted paths such as `layer1.0.conv1.weight`) and
    ///     tensors, in the order to lay them out. Names must be unique and not `__metadata__`.
    ///   - metadata: Free-form string pairs stored under `__metadata__` (e.g. `"epoch": "3"`).
    ///   - url: The destination file. An existing file is replaced only once the new one is
    ///     completely on disk; if writing fails it is left untouched.
    /// - Throws: ``DataError/unwritable(path:reason:)`` naming the file and the reason.
    public static func write(
        _ tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:], to url: URL
    ) throws {
        let path = url.path
        var seen = Set<String>()
        for (name, _) in tensors {
            guard name != metadataKey else {
                throw DataError.unwritable(path: path, reason: "the tensor name \"\(metadataKey)\" is reserved for metadata")
            }
            guard seen.insert(name).inserted else {
                throw DataError.unwritable(path: path, reason: "the tensor name '\(name)' appears twice")
            }
        }
        let prefix = encodeHeader(tensors.map { ($0.name, $0.tensor.shape) }, metadata: metadata)

        var message = [CChar](repeating: 0, count: 4096)
        #if _endian(little)
        // The tensors' storage already holds little-endian floats: hand it to the writer as is.
        let status: Int32 = withExtendedLifetime(tensors) {
            prefix.withUnsafeBufferPointer { head in
                let chunks: [UnsafePointer<UInt8>?] = [head.baseAddress] + tensors.map {
                    UnsafePointer(UnsafeRawPointer($0.tensor.data).assumingMemoryBound(to: UInt8.self))
                }
                let lengths = [Int64(head.count)] + tensors.map { Int64($0.tensor.count * MemoryLayout<Float>.size) }
                return sio_write_file_atomic(path, chunks, lengths, Int32(chunks.count), &message, Int64(message.count))
            }
        }
        #else
        var data: [UInt8] = []
        for (_, tensor) in tensors {
            for i in 0..<tensor.count {
                withUnsafeBytes(of: tensor[i].bitPattern.littleEndian) { data += $0 }
            }
        }
        let status: Int32 = prefix.withUnsafeBufferPointer { head in
            data.withUnsafeBufferPointer { body in
                let chunks: [UnsafePointer<UInt8>?] = [head.baseAddress, body.baseAddress]
                let lengths = [Int64(head.count), Int64(body.count)]
                return sio_write_file_atomic(path, chunks, lengths, 2, &message, Int64(message.count))
            }
        }
        #endif
        guard status == SIO_OK else {
            let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw DataError(ioStatus: status, path: path, message: text, writing: true)
        }
    }

    /// The SHA-256 (64 lower-case hex digits) of the bytes ``write(_:metadata:to:)`` writes for
    /// `tensors` and `metadata`, computed without writing them.
    static func sha256(of tensors: [(name: String, tensor: Tensor)], metadata: [String: String]) -> String {
        var context = sk_sha256_ctx()
        sk_sha256_init(&context)
        let prefix = encodeHeader(tensors.map { ($0.name, $0.tensor.shape) }, metadata: metadata)
        prefix.withUnsafeBytes { sk_sha256_update(&context, $0.baseAddress, $0.count) }
        for (_, tensor) in tensors {
            #if _endian(little)
            sk_sha256_update(&context, tensor.data, tensor.count * MemoryLayout<Float>.size)
            #else
            for i in 0..<tensor.count {
                withUnsafeBytes(of: tensor[i].bitPattern.littleEndian) { sk_sha256_update(&context, $0.baseAddress, $0.count) }
            }
            #endif
        }
        var digest = [UInt8](repeating: 0, count: 32)
        sk_sha256_final(&context, &digest)
        return digest.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// Reads every tensor and the metadata of a safetensors file.
    ///
    /// - Parameter url: The file.
    /// - Returns: The tensors in the order the header lists them, each with its shape, and the
    ///   `__metadata__` pairs (empty when the file has none).
    /// - Throws: ``DataError`` naming the file and the byte offset of the first problem.
    public static func read(
        from url: URL
    ) throws -> (tensors: [(name: String, shape: [Int], tensor: Tensor)], metadata: [String: String]) {
        let (file, layout, dataStart) = try openHeader(url.path)
        var tensors: [(name: String, shape: [Int], tensor: Tensor)] = []
        tensors.reserveCapacity(layout.entries.count)
        for entry in layout.entries {
            let tensor = Tensor(shape: entry.shape)
            let bytes = UnsafeMutableRawBufferPointer(start: tensor.data, count: entry.end - entry.begin)
            try file.read(at: dataStart + entry.begin, into: bytes, what: "data of tensor '\(entry.name)'")
            #if !_endian(little)
            for i in 0..<tensor.count { tensor[i] = Float(bitPattern: UInt32(littleEndian: tensor[i].bitPattern)) }
            #endif
            tensors.append((entry.name, entry.shape, tensor))
        }
        return (tensors, layout.metadata)
    }

    /// The `__metadata__` pairs of a safetensors file, reading only its header (checked as by
    /// ``read(from:)``).
    public static func metadata(of url: URL) throws -> [String: String] {
        try openHeader(url.path).layout.metadata
    }

    /// Opens the file and reads and checks its header; returns where the data section starts.
    private static func openHeader(_ path: String) throws -> (file: ReadOnlyFile, layout: HeaderLayout, dataStart: Int) {
        let file = try ReadOnlyFile(path: path)
        let fileSize = file.size
        guard fileSize >= 8 else {
            throw DataError.truncated(path: path, offset: 0, what: "header length", expected: 8, found: fileSize)
        }
        var lengthField: UInt64 = 0
        try withUnsafeMutableBytes(of: &lengthField) { try file.read(at: 0, into: $0, what: "header length") }
        let declaredLength = UInt64(littleEndian: lengthField)
        guard declaredLength <= UInt64(fileSize - 8) else {
            throw DataError.invalidHeader(
                path: path, offset: 0,
                reason: "header length \(declaredLength) is larger than the \(fileSize - 8) bytes that follow it")
        }
        guard declaredLength <= UInt64(maximumHeaderLength) else {
            throw DataError.invalidHeader(
                path: path, offset: 0,
                reason: "header length \(declaredLength) exceeds the \(maximumHeaderLength)-byte limit")
        }
        let headerLength = Int(declaredLength)
        var header = [UInt8](repeating: 0, count: headerLength)
        try header.withUnsafeMutableBytes { try file.read(at: 8, into: $0, what: "header") }

        let dataStart = 8 + headerLength
        return (file, try HeaderLayout(header: header, path: path, dataLength: fileSize - dataStart), dataStart)
    }

    /// The key of the metadata object in the header.
    static let metadataKey = "__metadata__"

    /// The 8-byte length field followed by the space-padded JSON header for `entries` laid out
    /// back to back in order.
    static func encodeHeader(_ entries: [(name: String, shape: [Int])], metadata: [String: String]) -> [UInt8] {
        var parts: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }
            parts.append("\(jsonString(metadataKey)):{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for (name, shape) in entries {
            let byteCount = shape.reduce(1, *) * MemoryLayout<Float>.size
            let dims = shape.map(String.init).joined(separator: ",")
            parts.append("\(jsonString(name)):{\"dtype\":\"F32\",\"shape\":[\(dims)],\"data_offsets\":[\(offset),\(offset + byteCount)]}")
            offset += byteCount
        }
        var json = Array("{\(parts.joined(separator: ","))}".utf8)
        json += [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8)
        let length = UInt64(json.count).littleEndian
        return withUnsafeBytes(of: length) { Array($0) } + json
    }

    /// `text` as a JSON string literal.
    private static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let digits = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

// MARK: - Header validation

extension SafeTensors {
    /// One tensor's entry in a validated header.
    struct Entry {
        var name: String
        var shape: [Int]
        /// Byte range in the data section.
        var begin: Int
        var end: Int
        /// Header position of `data_offsets` (for error offsets).
        var offsetsPosition: Int
    }

    /// The tensors and metadata of a header, checked against the format and the data section.
    struct HeaderLayout {
        /// Entries in header order.
        var entries: [Entry] = []
        var metadata: [String: String] = [:]

        /// Element sizes of the dtypes the format defines, to tell "unsupported" from "unknown".
        private static let knownDTypes: Set<String> = [
            "BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "I16", "U16", "F16",
            "BF16", "I32", "U32", "F32", "F64", "I64", "U64", "C64",
        ]

        /// Parses and validates `header` (the bytes after the length field).
        ///
        /// - Parameters:
        ///   - header: The JSON bytes, padding included.
        ///   - path: The file name used in errors.
        ///   - dataLength: Bytes in the data section (file size − 8 − header length).
        init(header: [UInt8], path: String, dataLength: Int) throws {
            var parser = HeaderParser(bytes: header, path: path)
            let root = try parser.parseDocument()
            func fail(_ position: Int, _ reason: String) -> DataError {
                .invalidHeader(path: path, offset: 8 + position, reason: reason)
            }
            guard case let .object(members) = root.value else {
                throw fail(root.position, "the header must be a JSON object, found \(root.value.kindName)")
            }
            var seen = Set<String>()
            for member in members {
                guard seen.insert(member.key).inserted else {
                    throw fail(member.keyPosition, "the key '\(member.key)' appears twice in the header")
                }
                if member.key == SafeTensors.metadataKey {
                    metadata = try Self.metadata(member.value, fail: fail)
                } else {
                    entries.append(try Self.entry(named: member.key, member.value, path: path, fail: fail))
                }
            }
            try checkTiling(dataLength: dataLength, headerLength: header.count, path: path, fail: fail)
        }

        private static func metadata(_ value: HeaderParser.Located, fail: (Int, String) -> DataError) throws -> [String: String] {
            guard case let .object(pairs) = value.value else {
                throw fail(value.position, "\"__metadata__\" must be an object of strings, found \(value.value.kindName)")
            }
            var result: [String: String] = [:]
            for pair in pairs {
                guard case let .string(text) = pair.value.value else {
                    throw fail(pair.value.position,
                               "\"__metadata__\" value of '\(pair.key)' must be a string, found \(pair.value.value.kindName)")
                }
                result[pair.key] = text
            }
            return result
        }

        private static func entry(
            named name: String, _ value: HeaderParser.Located, path: String, fail: (Int, String) -> DataError
        ) throws -> Entry {
            guard case let .object(fields) = value.value else {
                throw fail(value.position, "tensor '\(name)' must be an object with dtype, shape and data_offsets, found \(value.value.kindName)")
            }
            func field(_ key: String) throws -> HeaderParser.Located {
                guard let found = fields.first(where: { $0.key == key }) else {
                    throw fail(value.position, "tensor '\(name)' has no \"\(key)\"")
                }
                return found.value
            }
            let dtypeValue = try field("dtype")
            let shapeValue = try field("shape")
            let offsetsValue = try field("data_offsets")

            guard case let .string(dtype) = dtypeValue.value else {
                throw fail(dtypeValue.position, "tensor '\(name)': \"dtype\" must be a string, found \(dtypeValue.value.kindName)")
            }
            guard dtype == "F32" else {
                let found = knownDTypes.contains(dtype) ? dtype : "\"\(dtype)\" (not a safetensors dtype)"
                throw DataError.unsupportedDType(
                    path: path, offset: 8 + dtypeValue.position, tensor: name, found: found, supported: "F32")
            }
            guard let shape = shapeValue.nonNegativeIntegers() else {
                throw fail(shapeValue.position, "tensor '\(name)': \"shape\" must be an array of non-negative integers")
            }
            guard let offsets = offsetsValue.nonNegativeIntegers(), offsets.count == 2 else {
                throw fail(offsetsValue.position, "tensor '\(name)': \"data_offsets\" must be an array of two non-negative integers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end else {
                throw fail(offsetsValue.position, "tensor '\(name)': data_offsets [\(begin), \(end)] end before they begin")
            }
            var byteCount = MemoryLayout<Float>.size
            for size in shape {
                let (product, overflow) = byteCount.multipliedReportingOverflow(by: size)
                guard !overflow else {
                    throw fail(shapeValue.position, "tensor '\(name)': shape \(shape) has more elements than fit in memory")
                }
                byteCount = product
            }
            guard end - begin == byteCount else {
                throw fail(offsetsValue.position,
                           "tensor '\(name)': shape \(shape) needs \(byteCount) bytes of F32 data but data_offsets [\(begin), \(end)] span \(end - begin)")
            }
            return Entry(name: name, shape: shape, begin: begin, end: end, offsetsPosition: offsetsValue.position)
        }

        /// Checks that the byte ranges lie in the data section and tile it exactly.
        private func checkTiling(dataLength: Int, headerLength: Int, path: String, fail: (Int, String) -> DataError) throws {
            for entry in entries where entry.end > dataLength {
                throw fail(entry.offsetsPosition,
                           "tensor '\(entry.name)': data_offsets [\(entry.begin), \(entry.end)] end beyond the data section, which holds \(dataLength) bytes")
            }
            let laidOut = entries.enumerated().sorted {
                ($0.element.begin, $0.element.end, $0.offset) < ($1.element.begin, $1.element.end, $1.offset)
            }.map(\.element)
            var covered = 0
            var previous: Entry?
            for entry in laidOut {
                if entry.begin < covered, let previous {
                    throw fail(entry.offsetsPosition,
                               "tensor '\(entry.name)': data_offsets [\(entry.begin), \(entry.end)] overlap those of '\(previous.name)' [\(previous.begin), \(previous.end)]")
                }
                if entry.begin > covered {
                    throw fail(entry.offsetsPosition,
                               "tensor '\(entry.name)': data_offsets [\(entry.begin), \(entry.end)] leave bytes \(covered)..<\(entry.begin) of the data section unused")
                }
                covered = entry.end
                previous = entry
            }
            guard covered == dataLength else {
                throw DataError.invalidHeader(
                    path: path, offset: 8 + headerLength + covered,
                    reason: "the data section holds \(dataLength) bytes but the tensors cover only \(covered)")
            }
        }
    }
}

// MARK: - Header JSON

extension SafeTensors {
    /// A strict JSON (RFC 8259) parser for the header that keeps each value's byte position, so
    /// errors can point into the file, and keeps object members in file order.
    struct HeaderParser {
        /// A JSON value; numbers keep their text so integers are read exactly.
        enum Value {
            case object([Member])
            case array([Located])
            case string(String)
            case number(String)
            case bool(Bool)
            case null

            /// The value's kind for messages ("an object", "a string", ...).
            var kindName: String {
                switch self {
                case .object: return "an object"
                case .array: return "an array"
                case .string: return "a string"
                case .number: return "a number"
                case .bool: return "a boolean"
                case .null: return "null"
                }
            }
        }

        /// A value and the header position of its first byte.
        struct Located {
            var value: Value
            var position: Int

            /// The elements if this is an array of integers `0...Int.max` written without sign,
            /// fraction or exponent; otherwise `nil`.
            func nonNegativeIntegers() -> [Int]? {
                guard case let .array(items) = value else { return nil }
                var result: [Int] = []
                result.reserveCapacity(items.count)
                for item in items {
                    guard case let .number(text) = item.value, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                          let integer = Int(text) else { return nil }
                    result.append(integer)
                }
                return result
            }
        }

        /// An object member: key, the position of the key, and the value.
        struct Member {
            var key: String
            var keyPosition: Int
            var value: Located
        }

        /// Nesting deeper than this is refused (a header needs 3 levels), so corrupt input
        /// cannot exhaust the stack.
        static let maximumDepth = 64

        let bytes: [UInt8]
        let path: String
        var position = 0

        init(bytes: [UInt8], path: String) {
            self.bytes = bytes
            self.path = path
        }

        /// Parses the whole header: one value, then only whitespace (the padding).
        mutating func parseDocument() throws -> Located {
            skipWhitespace()
            guard position < bytes.count else { throw failure("the header is empty") }
            let value = try parseValue(depth: 0)
            skipWhitespace()
            guard position == bytes.count else {
                throw failure("unexpected \(describe(bytes[position])) after the end of the JSON object")
            }
            return value
        }

        private func failure(_ reason: String, at where_: Int? = nil) -> DataError {
            .invalidHeader(path: path, offset: 8 + (where_ ?? position), reason: "the header is not valid JSON: \(reason)")
        }

        private func describe(_ byte: UInt8) -> String {
            (0x21...0x7e).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte 0x\(String(byte, radix: 16))"
        }

        private mutating func skipWhitespace() {
            while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
        }

        private mutating func parseValue(depth: Int) throws -> Located {
            guard depth <= Self.maximumDepth else { throw failure("nesting deeper than \(Self.maximumDepth) levels") }
            guard position < bytes.count else { throw failure("unexpected end of the header") }
            let start = position
            switch bytes[position] {
            case UInt8(ascii: "{"): return Located(value: try parseObject(depth: depth), position: start)
            case UInt8(ascii: "["): return Located(value: try parseArray(depth: depth), position: start)
            case UInt8(ascii: "\""): return Located(value: .string(try parseString()), position: start)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return Located(value: .number(try parseNumber()), position: start)
            case UInt8(ascii: "t"): try expectLiteral("true"); return Located(value: .bool(true), position: start)
            case UInt8(ascii: "f"): try expectLiteral("false"); return Located(value: .bool(false), position: start)
            case UInt8(ascii: "n"): try expectLiteral("null"); return Located(value: .null, position: start)
            default: throw failure("unexpected \(describe(bytes[position])) where a value should start")
            }
        }

        private mutating func parseObject(depth: Int) throws -> Value {
            position += 1 // {
            var members: [Member] = []
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                position += 1
                return .object(members)
            }
            while true {
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                    throw failure(position < bytes.count ? "expected a string key, found \(describe(bytes[position]))"
                                                          : "unexpected end of the header inside an object")
                }
                let keyPosition = position
                let key = try parseString()
                skipWhitespace()
                guard position < bytes.count, bytes[position] == UInt8(ascii: ":") else {
                    throw failure("expected ':' after the key '\(key)'")
                }
                position += 1
                skipWhitespace()
                members.append(Member(key: key, keyPosition: keyPosition, value: try parseValue(depth: depth + 1)))
                skipWhitespace()
                guard position < bytes.count else { throw failure("unexpected end of the header inside an object") }
                if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                if bytes[position] == UInt8(ascii: "}") { position += 1; return .object(members) }
                throw failure("expected ',' or '}' in an object, found \(describe(bytes[position]))")
            }
        }

        private mutating func parseArray(depth: Int) throws -> Value {
            position += 1 // [
            var items: [Located] = []
            skipWhitespace()
            if position < bytes.count, bytes[position] == UInt8(ascii: "]") {
                position += 1
                return .array(items)
            }
            while true {
                skipWhitespace()
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                guard position < bytes.count else { throw failure("unexpected end of the header inside an array") }
                if bytes[position] == UInt8(ascii: ",") { position += 1; continue }
                if bytes[position] == UInt8(ascii: "]") { position += 1; return .array(items) }
                throw failure("expected ',' or ']' in an array, found \(describe(bytes[position]))")
            }
        }

        private mutating func parseString() throws -> String {
            let start = position
            position += 1 // opening quote
            var utf8: [UInt8] = []
            while true {
                guard position < bytes.count else { throw failure("unterminated string", at: start) }
                let byte = bytes[position]
                position += 1
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: utf8, as: UTF8.self) else {
                        throw failure("a string is not valid UTF-8", at: start)
                    }
                    return text
                case UInt8(ascii: "\\"):
                    try parseEscape(into: &utf8)
                case 0..<0x20:
                    throw failure("a control character (byte 0x\(String(byte, radix: 16))) inside a string", at: position - 1)
                default:
                    utf8.append(byte)
                }
            }
        }

        private mutating func parseEscape(into utf8: inout [UInt8]) throws {
            guard position < bytes.count else { throw failure("unterminated escape sequence") }
            let escapeStart = position - 1
            let code = bytes[position]
            position += 1
            let simple: [UInt8: UInt8] = [
                UInt8(ascii: "\""): 0x22, UInt8(ascii: "\\"): 0x5C, UInt8(ascii: "/"): 0x2F, UInt8(ascii: "b"): 0x08,
                UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
            ]
            if let byte = simple[code] {
                utf8.append(byte)
                return
            }
            guard code == UInt8(ascii: "u") else { throw failure("invalid escape sequence", at: escapeStart) }
            var scalarValue = try parseHex4(escapeStart: escapeStart)
            if (0xD800...0xDBFF).contains(scalarValue) {
                guard position + 1 < bytes.count, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
                else { throw failure("a lone UTF-16 surrogate in \\u escape", at: escapeStart) }
                position += 2
                let low = try parseHex4(escapeStart: escapeStart)
                guard (0xDC00...0xDFFF).contains(low) else {
                    throw failure("a lone UTF-16 surrogate in \\u escape", at: escapeStart)
                }
                scalarValue = 0x10000 + ((scalarValue - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let scalar = Unicode.Scalar(scalarValue) else {
                throw failure("a lone UTF-16 surrogate in \\u escape", at: escapeStart)
            }
            utf8.append(contentsOf: Array(String(Character(scalar)).utf8))
        }

        private mutating func parseHex4(escapeStart: Int) throws -> UInt32 {
            guard position + 4 <= bytes.count else { throw failure("truncated \\u escape", at: escapeStart) }
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let digit = hexDigit(bytes[position]) else {
                    throw failure("invalid \\u escape", at: escapeStart)
                }
                value = value << 4 | digit
                position += 1
            }
            return value
        }

        private func hexDigit(_ byte: UInt8) -> UInt32? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
            default: return nil
            }
        }

        /// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`, returned as text.
        private mutating func parseNumber() throws -> String {
            let start = position
            func digits() -> Int {
                let first = position
                while position < bytes.count, (0x30...0x39).contains(bytes[position]) { position += 1 }
                return position - first
            }
            if bytes[position] == UInt8(ascii: "-") { position += 1 }
            let integerStart = position
            guard digits() > 0 else { throw failure("a number without digits", at: start) }
            if bytes[integerStart] == UInt8(ascii: "0"), position - integerStart > 1 {
                throw failure("a number with a leading zero", at: start)
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
                position += 1
                guard digits() > 0 else { throw failure("a number without digits after '.'", at: start) }
            }
            if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
                position += 1
                if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                    position += 1
                }
                guard digits() > 0 else { throw failure("a number without exponent digits", at: start) }
            }
            return String(decoding: bytes[start..<position], as: UTF8.self)
        }

        private mutating func expectLiteral(_ literal: String) throws {
            let expected = Array(literal.utf8)
            guard position + expected.count <= bytes.count, Array(bytes[position..<(position + expected.count)]) == expected
            else { throw failure("unexpected \(describe(bytes[position])) where a value should start") }
            position += expected.count
        }
    }
}

// MARK: - File access

extension SafeTensors {
    /// A file opened for positioned reads; closed when released.
    final class ReadOnlyFile {
        let path: String
        let descriptor: Int32
        /// Size in bytes when opened.
        let size: Int

        init(path: String) throws {
            self.path = path
            // O_NONBLOCK: a named pipe must be refused, not waited on (only regular files are read).
            var fd: Int32
            repeat { fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) } while fd < 0 && errno == EINTR
            guard fd >= 0 else {
                let error = errno
                if error == ENOENT || error == ENOTDIR { throw DataError.fileNotFound(path: path, hint: nil) }
                throw DataError.unreadable(path: path, reason: "cannot open: \(String(cString: strerror(error)))")
            }
            var info = stat()
            guard fstat(fd, &info) == 0 else {
                let error = errno
                close(fd)
                throw DataError.unreadable(path: path, reason: "cannot stat: \(String(cString: strerror(error)))")
            }
            guard (info.st_mode & S_IFMT) == S_IFREG else {
                close(fd)
                let kind = String(cString: sio_file_kind(UInt32(info.st_mode)))
                throw DataError.unreadable(path: path, reason: "is \(kind), not a regular file")
            }
            descriptor = fd
            size = Int(info.st_size)
        }

        deinit { close(descriptor) }

        /// Fills `buffer` from byte `offset`; a short file is a ``DataError/truncated(path:offset:what:expected:found:)``.
        func read(at offset: Int, into buffer: UnsafeMutableRawBufferPointer, what: String) throws {
            var done = 0
            while done < buffer.count {
                let got = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
                if got < 0 {
                    if errno == EINTR { continue }
                    throw DataError.unreadable(
                        path: path, reason: "read failed at byte \(offset + done): \(String(cString: strerror(errno)))")
                }
                if got == 0 {
                    throw DataError.truncated(path: path, offset: offset, what: what, expected: buffer.count, found: done)
                }
                done += got
            }
        }
    }
}
