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
    ///
    /// The header is read by the shared JSON parser (``JSONParser/parseDocument(_:maxDepth:maxBytes:)``),
    /// which gives the byte position of every value, so each problem names its offset in the file
    /// (8 + the position in the header), and the digits of `shape` and `data_offsets`, which are read
    /// exactly.
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
            func fail(_ position: Int, _ reason: String) -> DataError {
                .invalidHeader(path: path, offset: 8 + position, reason: reason)
            }
            guard header.contains(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) }) else {
                throw fail(header.count, "the header is not valid JSON: the header is empty")
            }
            let document: JSONDocument
            do {
                document = try JSONParser.parseDocument(header, maxBytes: SafeTensors.maximumHeaderLength)
            } catch {
                throw fail(error.offset ?? 0, "the header is not valid JSON: \(error.message)")
            }
            let reader = HeaderReader(document: document, fail: fail)
            guard case let .object(members) = document.value else {
                throw reader.fail(.root, "the header must be a JSON object, found \(Self.kindName(document.value))")
            }
            for (key, value) in members {
                let here = JSONPath.root.appending(key)
                if key == SafeTensors.metadataKey {
                    metadata = try Self.metadata(value, at: here, reader)
                } else {
                    entries.append(try Self.entry(named: key, value, at: here, reader, path: path))
                }
            }
            try checkTiling(dataLength: dataLength, headerLength: header.count, path: path, fail: fail)
        }

        /// The parsed header and the error it reports at a value's position.
        private struct HeaderReader {
            let document: JSONDocument
            let fail: (Int, String) -> DataError

            /// Header position of the value at `path`.
            func position(_ path: JSONPath) -> Int { document.offset(of: path) ?? 0 }

            func fail(_ path: JSONPath, _ reason: String) -> DataError { fail(position(path), reason) }

            /// The elements of the array at `path` if they are all integers `0...Int.max` written
            /// without fraction or exponent, read from their digits; otherwise nil.
            func nonNegativeIntegers(_ value: JSONValue, at path: JSONPath) -> [Int]? {
                guard case let .array(items) = value else { return nil }
                var result: [Int] = []
                result.reserveCapacity(items.count)
                for index in items.indices {
                    guard let integer = document.exactInteger(at: path.appending(index: index)), integer >= 0 else { return nil }
                    result.append(integer)
                }
                return result
            }
        }

        /// The value's kind for messages ("an object", "a string", ...).
        private static func kindName(_ value: JSONValue) -> String {
            switch value {
            case .object: return "an object"
            case .array: return "an array"
            case .string: return "a string"
            case .number: return "a number"
            case .bool: return "a boolean"
            case .null: return "null"
            }
        }

        private static func metadata(_ value: JSONValue, at here: JSONPath, _ reader: HeaderReader) throws -> [String: String] {
            guard case let .object(pairs) = value else {
                throw reader.fail(here, "\"__metadata__\" must be an object of strings, found \(kindName(value))")
            }
            var result: [String: String] = [:]
            for (key, item) in pairs {
                guard case let .string(text) = item else {
                    throw reader.fail(here.appending(key), "\"__metadata__\" value of '\(key)' must be a string, found \(kindName(item))")
                }
                result[key] = text
            }
            return result
        }

        private static func entry(
            named name: String, _ value: JSONValue, at here: JSONPath, _ reader: HeaderReader, path: String
        ) throws -> Entry {
            guard case let .object(fields) = value else {
                throw reader.fail(here, "tensor '\(name)' must be an object with dtype, shape and data_offsets, found \(kindName(value))")
            }
            func field(_ key: String) throws -> JSONValue {
                guard let found = fields[key] else { throw reader.fail(here, "tensor '\(name)' has no \"\(key)\"") }
                return found
            }
            let dtypeValue = try field("dtype")
            let shapeValue = try field("shape")
            let offsetsValue = try field("data_offsets")
            let dtypePath = here.appending("dtype"), shapePath = here.appending("shape")
            let offsetsPath = here.appending("data_offsets")

            guard case let .string(dtype) = dtypeValue else {
                throw reader.fail(dtypePath, "tensor '\(name)': \"dtype\" must be a string, found \(kindName(dtypeValue))")
            }
            guard dtype == "F32" else {
                let found = knownDTypes.contains(dtype) ? dtype : "\"\(dtype)\" (not a safetensors dtype)"
                throw DataError.unsupportedDType(
                    path: path, offset: 8 + reader.position(dtypePath), tensor: name, found: found, supported: "F32")
            }
            guard let shape = reader.nonNegativeIntegers(shapeValue, at: shapePath) else {
                throw reader.fail(shapePath, "tensor '\(name)': \"shape\" must be an array of non-negative integers")
            }
            guard let offsets = reader.nonNegativeIntegers(offsetsValue, at: offsetsPath), offsets.count == 2 else {
                throw reader.fail(offsetsPath, "tensor '\(name)': \"data_offsets\" must be an array of two non-negative integers")
            }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin <= end else {
                throw reader.fail(offsetsPath, "tensor '\(name)': data_offsets [\(begin), \(end)] end before they begin")
            }
            var byteCount = MemoryLayout<Float>.size
            for size in shape {
                let (product, overflow) = byteCount.multipliedReportingOverflow(by: size)
                guard !overflow else {
                    throw reader.fail(shapePath, "tensor '\(name)': shape \(shape) has more elements than fit in memory")
                }
                byteCount = product
            }
            guard end - begin == byteCount else {
                throw reader.fail(offsetsPath,
                                  "tensor '\(name)': shape \(shape) needs \(byteCount) bytes of F32 data but data_offsets [\(begin), \(end)] span \(end - begin)")
            }
            return Entry(name: name, shape: shape, begin: begin, end: end, offsetsPosition: reader.position(offsetsPath))
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
