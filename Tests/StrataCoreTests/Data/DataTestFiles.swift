import Foundation
@testable import StrataCore

/// Scratch files for the data and checkpoint tests: temporary directories, raw writes, and a
/// small gzip encoder so compressed inputs can be generated without external programs.
enum DataTestFiles {
    /// A new empty directory under the system temporary directory.
    static func makeDirectory() throws -> String {
        var template = Array((NSTemporaryDirectory() + "/strata-data-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw CocoaError(.fileWriteUnknown)
        }
        return String(cString: made)
    }

    /// Runs `body` with a new temporary directory, removed afterwards.
    static func withDirectory<Result>(_ body: (String) throws -> Result) throws -> Result {
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return try body(directory)
    }

    /// Writes `bytes` to `path`, replacing it.
    static func write(_ bytes: [UInt8], to path: String) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }

    /// The bytes of the file at `path`.
    static func contents(of path: String) throws -> [UInt8] {
        [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// Runs `body` and returns the ``DataError`` it throws (nil if it throws nothing or something else).
    static func capture(_ body: () throws -> Void) -> DataError? {
        do {
            try body()
            return nil
        } catch let error as DataError {
            return error
        } catch {
            return nil
        }
    }

    /// A gzip file holding `data` in uncompressed ("stored") deflate blocks of at most
    /// `blockSize` bytes, with a correct CRC-32 and length trailer.
    static func gzipStored(_ data: [UInt8], blockSize: Int = 65_535) -> [UInt8] {
        // Header: magic, CM = deflate, no flags, mtime 0, XFL 0, OS = unknown.
        var out: [UInt8] = [0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0xff]
        var start = 0
        repeat {
            let length = min(blockSize, data.count - start)
            let isFinal = start + length == data.count
            out.append(isFinal ? 0x01 : 0x00) // BFINAL, BTYPE = 00 (stored)
            out += [UInt8(length & 0xff), UInt8(length >> 8), UInt8(~length & 0xff), UInt8((~length >> 8) & 0xff)]
            out += data[start..<(start + length)]
            start += length
        } while start < data.count
        out += littleEndian(crc32(data))
        out += littleEndian(UInt32(truncatingIfNeeded: data.count))
        return out
    }

    /// `data` compressed by the system's `gzip` program (real Huffman-coded deflate), or nil if
    /// there is no `gzip` on this machine.
    static func gzipWithProgram(_ data: [UInt8]) throws -> [UInt8]? {
        let program = ["/usr/bin/gzip", "/bin/gzip"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let program else { return nil }
        let directory = try makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let input = directory + "/plain"
        try write(data, to: input)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = ["-9", "-n", input]
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { return nil }
        return try contents(of: input + ".gz")
    }

    /// CRC-32 (IEEE 802.3, the one gzip uses).
    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1
            }
        }
        return ~crc
    }

    static func littleEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xff), UInt8((value >> 8) & 0xff), UInt8((value >> 16) & 0xff), UInt8(value >> 24)]
    }

    /// Deterministic pseudo-random bytes for test content.
    static func bytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = RandomStream(seed: seed, stream: 0)
        return (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next() >> 56) }
    }
}
