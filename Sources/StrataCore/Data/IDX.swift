import CStrataKernels

/// One array read from an IDX file: its dimensions and its unsigned-byte elements, row-major.
///
/// For an images file (`*-idx3-ubyte`) the dimensions are `[count, height, width]`; for a labels
/// file (`*-idx1-ubyte`) they are `[count]`.
public struct IDXArray: Sendable, Equatable {
    /// Sizes, outermost first.
    public let dimensions: [Int]
    /// The elements in row-major order; `bytes.count` is the product of `dimensions`.
    public let bytes: [UInt8]

    /// An array of `bytes` under `dimensions`. The element count must match the dimensions.
    public init(dimensions: [Int], bytes: [UInt8]) {
        precondition(dimensions.allSatisfy { $0 >= 0 && $0 <= Int(UInt32.max) }, "IDX dimensions must fit in UInt32")
        precondition(bytes.count == dimensions.reduce(1, *), "IDX array of \(dimensions) needs \(dimensions.reduce(1, *)) bytes")
        self.dimensions = dimensions
        self.bytes = bytes
    }
}

/// Reader (and, for tests and data preparation, writer) of the IDX format used by MNIST and Fashion-MNIST.
///
/// An IDX file is a 4-byte magic number — two zero bytes, an element-type code, the rank — then
/// one big-endian `UInt32` per dimension, then the elements. Only unsigned-byte elements (type
/// `0x08`) are read: magic `0x00000801` is a labels file, `0x00000803` an images file. Files may
/// be gzip-compressed; they are decompressed transparently.
///
/// Every problem is a ``DataError`` naming the file and the byte offset (in the decompressed
/// content) where it was found: a bad magic number, an unsupported element type, the wrong rank,
/// a truncated header, fewer element bytes than the dimensions say, or bytes after the elements.
public enum IDX {
    /// Magic number of a rank-1 unsigned-byte file (labels).
    public static let labelsMagic: UInt32 = 0x0000_0801
    /// Magic number of a rank-3 unsigned-byte file (images).
    public static let imagesMagic: UInt32 = 0x0000_0803
    /// Element-type code of unsigned bytes, the only type read.
    public static let unsignedByteType: UInt8 = 0x08

    /// Reads an images file: an unsigned-byte array of rank 3, `[count, height, width]`.
    ///
    /// - Parameter path: The file, plain or gzip-compressed.
    /// - Throws: ``DataError`` naming the file and, where it applies, the byte offset.
    public static func readImages(path: String) throws -> IDXArray {
        try read(path: path, rank: 3)
    }

    /// Reads a labels file: an unsigned-byte array of rank 1, `[count]`.
    ///
    /// - Parameter path: The file, plain or gzip-compressed.
    /// - Throws: ``DataError`` naming the file and, where it applies, the byte offset.
    public static func readLabels(path: String) throws -> IDXArray {
        try read(path: path, rank: 1)
    }

    /// Reads an unsigned-byte IDX file whose rank must be `rank`.
    ///
    /// - Parameters:
    ///   - path: The file, plain or gzip-compressed.
    ///   - rank: The rank the caller needs (1 for labels, 3 for images).
    ///   - hint: How to obtain the file, added to the error when it does not exist.
    /// - Throws: ``DataError`` naming the file and, where it applies, the byte offset.
    public static func read(path: String, rank: Int, hint: String? = nil) throws -> IDXArray {
        try withFileContents(path: path, hint: hint) { content in
            try decode(content, rank: rank, path: path)
        }
    }

    /// Decodes IDX bytes already in memory.
    ///
    /// - Parameters:
    ///   - content: The whole (decompressed) file.
    ///   - rank: The rank the caller needs.
    ///   - path: The file name used in errors.
    /// - Throws: ``DataError`` naming `path` and the byte offset of the problem.
    public static func decode(_ content: UnsafeRawBufferPointer, rank: Int, path: String) throws -> IDXArray {
        let what = rank == 3 ? "image data" : rank == 1 ? "label data" : "data"
        guard content.count >= 4 else {
            throw DataError.truncated(path: path, offset: 0, what: "IDX magic number", expected: 4, found: content.count)
        }
        let magic = readBigEndianUInt32(content, at: 0)
        guard content[0] == 0, content[1] == 0 else {
            throw DataError.badMagic(
                path: path, offset: 0, found: hex(magic),
                expected: "\(hex(labelsMagic)) (IDX labels) or \(hex(imagesMagic)) (IDX images)")
        }
        guard content[2] == unsignedByteType else {
            throw DataError.unsupportedDType(
                path: path, offset: 2, tensor: nil, found: typeName(content[2]), supported: typeName(unsignedByteType))
        }
        let fileRank = Int(content[3])
        guard fileRank == rank else {
            throw DataError.wrongRank(
                path: path, offset: 3, what: "\(what), magic \(hex(0x0800 | UInt32(rank)))", expected: rank, found: fileRank)
        }

        let dataOffset = 4 + 4 * rank
        guard content.count >= dataOffset else {
            throw DataError.truncated(
                path: path, offset: 4, what: "IDX dimension sizes (\(rank) × 4)", expected: 4 * rank,
                found: content.count - 4)
        }
        var dimensions: [Int] = []
        var elementCount = 1
        var overflow = false
        for axis in 0..<rank {
            let size = Int(readBigEndianUInt32(content, at: 4 + 4 * axis))
            dimensions.append(size)
            (elementCount, overflow) = elementCount.multipliedReportingOverflow(by: size)
            guard !overflow else {
                throw DataError.invalidHeader(
                    path: path, offset: 4, reason: "dimensions \(dimensions) describe more elements than fit in memory")
            }
        }

        let available = content.count - dataOffset
        guard available >= elementCount else {
            throw DataError.truncated(path: path, offset: dataOffset, what: what, expected: elementCount, found: available)
        }
        guard available == elementCount else {
            throw DataError.trailingData(
                path: path, offset: dataOffset + elementCount, after: what, count: available - elementCount)
        }
        let bytes = [UInt8](unsafeUninitializedCapacity: elementCount) { buffer, initialized in
            if elementCount > 0, let base = content.baseAddress {
                buffer.baseAddress!.initialize(from: (base + dataOffset).assumingMemoryBound(to: UInt8.self), count: elementCount)
            }
            initialized = elementCount
        }
        return IDXArray(dimensions: dimensions, bytes: bytes)
    }

    /// The uncompressed IDX encoding of an unsigned-byte array (magic, big-endian dimensions, bytes).
    public static func encode(_ array: IDXArray) -> [UInt8] {
        var out: [UInt8] = [0, 0, unsignedByteType, UInt8(array.dimensions.count)]
        out.reserveCapacity(4 + 4 * array.dimensions.count + array.bytes.count)
        for size in array.dimensions {
            let value = UInt32(size)
            out += [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
        }
        out += array.bytes
        return out
    }

    /// Calls `body` with the whole content of the file at `path`, gunzipped if it is gzip.
    ///
    /// The buffer is valid only during `body`.
    static func withFileContents<Result>(
        path: String, hint: String? = nil, _ body: (UnsafeRawBufferPointer) throws -> Result
    ) throws -> Result {
        var buffer: UnsafeMutablePointer<UInt8>?
        var length: Int64 = 0
        var message = [CChar](repeating: 0, count: 4096)
        let status = sio_read_file(path, &buffer, &length, &message, Int64(message.count))
        guard status == SIO_OK else {
            let text = message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            throw DataError(ioStatus: status, path: path, message: text, hint: hint)
        }
        defer { sio_free(buffer) }
        return try body(UnsafeRawBufferPointer(start: buffer, count: Int(length)))
    }

    private static func readBigEndianUInt32(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8
            | UInt32(bytes[offset + 3])
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }

    /// An IDX element-type code with its name, e.g. `0x0d (float32)`.
    private static func typeName(_ code: UInt8) -> String {
        let names: [UInt8: String] = [
            0x08: "unsigned byte", 0x09: "signed byte", 0x0B: "int16", 0x0C: "int32", 0x0D: "float32", 0x0E: "float64",
        ]
        let digits = String(code, radix: 16)
        let text = "0x" + (digits.count < 2 ? "0" : "") + digits
        return names[code].map { "\(text) (\($0))" } ?? "\(text) (not an IDX type)"
    }
}
