import CStrataKernels

/// A data or checkpoint file (or a data-loading option) that cannot be used as it is.
///
/// Every case is "bad input": `strata` reports it and exits with status 2. Each case
/// carries the file's path, the byte offset where the problem was found when there is one, and
/// what was expected against what was found. ``description`` renders them as one sentence:
///
///     /data/train-images-idx3-ubyte.gz: offset 16: expected 47040000 bytes of image data, found 1200
///
/// Offsets count bytes from the start of the file's *content*: for a gzip file that is the
/// decompressed content, which is what the format's offsets refer to. Errors inside the gzip
/// stream itself (``unreadable(path:reason:)``) give the compressed offset in their reason.
public enum DataError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file does not exist. `hint` says how to obtain it, when that is known.
    case fileNotFound(path: String, hint: String?)
    /// The file exists but cannot be read: permissions, a directory, an I/O error, or a gzip
    /// stream that is truncated or corrupt. `reason` is the system's or zlib's explanation.
    case unreadable(path: String, reason: String)
    /// The file cannot be written; an existing file at `path` was left untouched.
    case unwritable(path: String, reason: String)
    /// The file ends before a part it must contain: `expected` bytes of `what` were due at
    /// `offset`, but only `found` bytes remain.
    case truncated(path: String, offset: Int, what: String, expected: Int, found: Int)
    /// The file does not start with the magic number of the expected format.
    case badMagic(path: String, offset: Int, found: String, expected: String)
    /// An element type the reader does not handle (an IDX type code, a safetensors dtype).
    /// `tensor` names the safetensors entry, when there is one.
    case unsupportedDType(path: String, offset: Int, tensor: String?, found: String, supported: String)
    /// The file holds an array of a different rank than the reader needs.
    case wrongRank(path: String, offset: Int, what: String, expected: Int, found: Int)
    /// `count` bytes follow the end of the content (`after` says which part ended).
    case trailingData(path: String, offset: Int, after: String, count: Int)
    /// A header that is malformed: not JSON, a missing or mistyped field, inconsistent offsets.
    case invalidHeader(path: String, offset: Int, reason: String)
    /// A value that is well-formed but outside its allowed range (a label beyond the class count).
    case invalidValue(path: String, offset: Int, reason: String)
    /// Two files of one data set disagree on the number of examples.
    case countMismatch(path: String, count: Int, otherPath: String, otherCount: Int)
    /// A data-loading option (batch size, normalization, augmentation, limit) is out of range.
    case invalidOption(name: String, value: String, reason: String)

    /// The file the error is about; `nil` for ``invalidOption(name:value:reason:)``.
    public var path: String? {
        switch self {
        case let .fileNotFound(path, _), let .unreadable(path, _), let .unwritable(path, _),
             let .truncated(path, _, _, _, _), let .badMagic(path, _, _, _),
             let .unsupportedDType(path, _, _, _, _), let .wrongRank(path, _, _, _, _),
             let .trailingData(path, _, _, _), let .invalidHeader(path, _, _), let .invalidValue(path, _, _),
             let .countMismatch(path, _, _, _):
            return path
        case .invalidOption:
            return nil
        }
    }

    /// The byte offset of the problem in the file's content, when it is known.
    public var offset: Int? {
        switch self {
        case let .truncated(_, offset, _, _, _), let .badMagic(_, offset, _, _),
             let .unsupportedDType(_, offset, _, _, _), let .wrongRank(_, offset, _, _, _),
             let .trailingData(_, offset, _, _), let .invalidHeader(_, offset, _), let .invalidValue(_, offset, _):
            return offset
        case .fileNotFound, .unreadable, .unwritable, .countMismatch, .invalidOption:
            return nil
        }
    }

    /// What is wrong, without the path and offset.
    public var reason: String {
        switch self {
        case let .fileNotFound(_, hint):
            return hint.map { "no such file (\($0))" } ?? "no such file"
        case let .unreadable(_, reason), let .unwritable(_, reason):
            return reason
        case let .truncated(_, _, what, expected, found):
            return "expected \(expected) bytes of \(what), found \(found)"
        case let .badMagic(_, _, found, expected):
            return "bad magic number \(found), expected \(expected)"
        case let .unsupportedDType(_, _, tensor, found, supported):
            let subject = tensor.map { "tensor '\($0)' has" } ?? "the file has"
            return "\(subject) unsupported element type \(found); only \(supported) can be read"
        case let .wrongRank(_, _, what, expected, found):
            return "expected rank \(expected) (\(what)), found rank \(found)"
        case let .trailingData(_, _, after, count):
            return "\(count) unexpected \(count == 1 ? "byte" : "bytes") after the end of the \(after)"
        case let .invalidHeader(_, _, reason), let .invalidValue(_, _, reason):
            return reason
        case let .countMismatch(_, count, otherPath, otherCount):
            return "holds \(count) examples but \(otherPath) holds \(otherCount)"
        case let .invalidOption(name, value, reason):
            return "invalid option \(name) = \(value): \(reason)"
        }
    }

    /// The error as one sentence: `path: offset N: reason` (parts that are unknown are left out).
    public var description: String {
        var text = ""
        if let path { text += "\(path): " }
        if let offset { text += "offset \(offset): " }
        return text + reason
    }
}

extension DataError {
    /// The error for a failed `sio_read_file` / `sio_write_file_atomic` call.
    ///
    /// - Parameters:
    ///   - status: The `SIO_ERR_*` code the call returned.
    ///   - path: The path passed to the call.
    ///   - message: The call's error text, which starts with `path: ` (that prefix is removed).
    ///   - writing: Whether the call was a write (its failures become ``unwritable(path:reason:)``).
    ///   - hint: How to obtain the file, used when it does not exist.
    init(ioStatus status: Int32, path: String, message: String, writing: Bool = false, hint: String? = nil) {
        let prefix = path + ": "
        let reason = message.hasPrefix(prefix) ? String(message.dropFirst(prefix.count)) : message
        if writing {
            self = .unwritable(path: path, reason: reason.isEmpty ? "write failed (status \(status))" : reason)
        } else if status == SIO_ERR_NOT_FOUND {
            self = .fileNotFound(path: path, hint: hint)
        } else {
            self = .unreadable(path: path, reason: reason.isEmpty ? "read failed (status \(status))" : reason)
        }
    }
}
