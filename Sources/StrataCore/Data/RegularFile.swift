import CStrataKernels
#if canImport(Glibc)
import Glibc
#endif

/// Reading a small input file whole (a recipe, a plugin manifest) when it must be a regular file.
///
/// The file is opened with `O_NONBLOCK` and its type checked with `fstat` before anything is
/// read, so a named pipe, a device or a socket where a file is expected is refused at once
/// instead of blocking the process in `open` or `read`. (Data files and checkpoints go through
/// `sio_read_file` and `SafeTensors`, which do the same.)
enum RegularFile {
    /// Why a file could not be read: a sentence without the path (the caller names the file).
    struct Failure: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
    }

    /// The whole content of the regular file at `path`.
    ///
    /// - Parameters:
    ///   - path: The file.
    ///   - limit: Largest size accepted, in bytes.
    /// - Throws: ``Failure``: no such file, not a regular file ("is a named pipe (FIFO), not a
    ///   regular file"), larger than `limit`, or a read error.
    static func read(_ path: String, limit: Int = 64 << 20) throws(Failure) -> [UInt8] {
        var fd: Int32
        repeat { fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK) } while fd < 0 && errno == EINTR
        guard fd >= 0 else { throw Failure(reason: "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw Failure(reason: "cannot stat: \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw Failure(reason: "is \(String(cString: sio_file_kind(UInt32(info.st_mode)))), not a regular file")
        }
        guard info.st_size <= limit else { throw Failure(reason: "is \(info.st_size) bytes, more than the \(limit)-byte limit") }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var done = 0
        while true {
            if done == bytes.count { bytes.append(contentsOf: [UInt8](repeating: 0, count: 4096)) }
            let got = bytes.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, $0.count - done) }
            if got < 0 {
                if errno == EINTR { continue }
                throw Failure(reason: "read failed at byte \(done): \(String(cString: strerror(errno)))")
            }
            if got == 0 { break }
            done += got
            guard done <= limit else { throw Failure(reason: "grew past the \(limit)-byte limit while being read") }
        }
        bytes.removeLast(bytes.count - done)
        return bytes
    }

    /// A description of what is at `path` when it exists and is not a regular file ("a named
    /// pipe (FIFO)"), found with `stat` (which never blocks); `nil` for a regular file or a path
    /// that cannot be examined (opening it then reports why).
    static func specialKind(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) != S_IFREG else { return nil }
        return String(cString: sio_file_kind(UInt32(info.st_mode)))
    }
}
