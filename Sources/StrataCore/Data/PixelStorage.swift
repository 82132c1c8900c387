#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Where a data set's decoded 8-bit pixels live: a byte array in memory, or a flat `uint8` file
/// mapped read-only (the disk cache, for image folders larger than `data.cache.memory_mb`).
/// Both hold `[count, C, H, W]` bytes; readers take them through ``withBytes(_:)``, so batches
/// are the same bit for bit wherever the pixels are.
public enum PixelStorage: Sendable {
    case memory([UInt8])
    case file(MappedPixelFile)

    /// Bytes held.
    public var count: Int {
        switch self {
        case let .memory(bytes): return bytes.count
        case let .file(file): return file.count
        }
    }

    /// Runs `body` over the bytes (valid only during the call).
    public func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        switch self {
        case let .memory(bytes): return try bytes.withUnsafeBufferPointer(body)
        case let .file(file): return try body(file.bytes)
        }
    }
}

/// A flat byte file mapped read-only into memory; the file is removed when the last data set
/// using it goes away (it is a cache, not a product of the run).
public final class MappedPixelFile: @unchecked Sendable {
    public let path: String
    public let count: Int
    private let base: UnsafeMutableRawPointer?

    /// Maps the file at `path` (written completely beforehand).
    /// - Throws: ``DataError/unreadable(path:reason:)`` when it cannot be opened or mapped.
    init(path: String, count: Int) throws {
        self.path = path
        self.count = count
        guard count > 0 else { base = nil; return }
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw DataError.unreadable(path: path, reason: "cannot open the image cache: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let mapped = mmap(nil, count, PROT_READ, MAP_SHARED, fd, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw DataError.unreadable(path: path, reason: "cannot map the image cache: \(String(cString: strerror(errno)))")
        }
        base = mapped
    }

    /// The mapped bytes.
    var bytes: UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(start: base?.assumingMemoryBound(to: UInt8.self), count: count)
    }

    deinit {
        if let base { munmap(base, count) }
        unlink(path)
    }
}

/// The memory budget of decoded images (`data.cache`) and the folder the disk cache goes to.
public struct DataCache: Sendable {
    /// Bytes of decoded images kept in memory; a split that would take more goes to a file.
    public var memoryBytes: Int
    /// Folder of the cache files (the run's `cache/`, else the temporary folder).
    public var directory: String

    public init(memoryBytes: Int, directory: String) {
        self.memoryBytes = memoryBytes
        self.directory = directory
    }
}

/// Collects decoded images one after another into memory, or, when their total exceeds the
/// budget, into a cache file, written as they come so no more than one chunk is held at once.
struct PixelSink {
    private var memory: [UInt8] = []
    private var file: FileHandle?
    private var path: String?
    private var written = 0

    /// A sink for `bytes` bytes of images; `name` names the cache file (`<name>-<pid>-<n>.u8`).
    init(bytes: Int, cache: DataCache?, name: String) throws {
        guard let cache, bytes > cache.memoryBytes else {
            memory.reserveCapacity(bytes)
            return
        }
        do {
            try FileManager.default.createDirectory(atPath: cache.directory, withIntermediateDirectories: true)
        } catch {
            throw DataError.unwritable(path: cache.directory, reason: "cannot create the image cache folder")
        }
        let path = cache.directory + "/\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).u8"
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw DataError.unwritable(path: path, reason: "cannot create the image cache file")
        }
        self.path = path
        file = handle
    }

    /// Whether images go to a file.
    var isOnDisk: Bool { file != nil }

    mutating func append(_ bytes: [UInt8]) throws {
        guard let file, let path else {
            memory.append(contentsOf: bytes)
            return
        }
        do { try file.write(contentsOf: bytes) } catch {
            throw DataError.unwritable(path: path, reason: "cannot write the image cache (\(error.localizedDescription))")
        }
        written += bytes.count
    }

    /// Removes the cache file of a load that failed.
    mutating func discard() {
        try? file?.close()
        file = nil
        if let path { unlink(path) }
        path = nil
    }

    /// The pixels collected.
    mutating func finish() throws -> PixelStorage {
        guard let file, let path else { return .memory(memory) }
        do { try file.close() } catch {
            throw DataError.unwritable(path: path, reason: "cannot write the image cache (\(error.localizedDescription))")
        }
        self.file = nil
        return .file(try MappedPixelFile(path: path, count: written))
    }
}
