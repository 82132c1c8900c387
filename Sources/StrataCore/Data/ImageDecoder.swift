import CStrataImage

/// PNG and JPEG files decoded into planar 8-bit images with libpng and libjpeg-turbo.
///
/// A file that is unreadable, empty, truncated or corrupt throws a ``DataError`` naming it; the
/// decoders never abort the process on hostile input (libjpeg's warnings, such as a premature
/// end of data, count as errors rather than being padded with grey).
public enum ImageDecoder {
    /// Largest image accepted, in pixels (width × height), checked before pixel memory is taken.
    public static let maxPixels = 64 << 20
    /// Largest image file read, in bytes.
    public static let maxFileBytes = 256 << 20

    /// The file extensions read as images (lower-cased), as torchvision's `ImageFolder` lists them
    /// for PNG and JPEG.
    public static let extensions: Set<String> = ["png", "jpg", "jpeg"]

    /// Decodes the image file at `path` into `channels` channels (1 grey or 3 RGB).
    ///
    /// - Returns: `[channels, height, width]` bytes.
    /// - Throws: ``DataError/unreadable(path:reason:)`` or ``DataError/invalidValue(path:offset:reason:)``.
    public static func decode(path: String, channels: Int) throws -> PixelImage {
        let bytes: [UInt8]
        do {
            bytes = try RegularFile.read(path, limit: maxFileBytes)
        } catch {
            throw DataError.unreadable(path: path, reason: error.reason)
        }
        return try decode(bytes: bytes, channels: channels, path: path)
    }

    /// Decodes PNG or JPEG `bytes`; `path` names them in errors.
    public static func decode(bytes: [UInt8], channels: Int, path: String) throws -> PixelImage {
        var image = simg_image()
        var message = [CChar](repeating: 0, count: 512)
        var offset: Int64 = -1
        let status = bytes.withUnsafeBufferPointer { buffer in
            simg_decode(buffer.baseAddress, buffer.count, Int32(channels), maxPixels, &image, &message, message.count, &offset)
        }
        guard status == 0, let pixels = image.pixels else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            // A format the decoders do not know is a wrong value at offset 0; corrupt or
            // truncated data at the offset the decoder had read up to.
            if Int(status) == Int(SIMG_ERR_FORMAT) { throw DataError.invalidValue(path: path, offset: 0, reason: reason) }
            if offset >= 0 { throw DataError.invalidValue(path: path, offset: Int(offset), reason: "\(reason); the file is \(bytes.count) bytes") }
            throw DataError.unreadable(path: path, reason: "\(reason) (file of \(bytes.count) bytes)")
        }
        defer { simg_free(&image) }
        let (h, w, c) = (Int(image.height), Int(image.width), Int(image.channels))
        // Interleaved [H, W, C] → planar [C, H, W].
        var planar = [UInt8](repeating: 0, count: c * h * w)
        planar.withUnsafeMutableBufferPointer { out in
            for y in 0..<h {
                for x in 0..<w {
                    for k in 0..<c { out[(k * h + y) * w + x] = pixels[(y * w + x) * c + k] }
                }
            }
        }
        return PixelImage(channels: c, height: h, width: w, bytes: planar)
    }

    /// Writes `image` as an 8-bit PNG file (tests and the example export use it).
    public static func writePNG(_ image: PixelImage, to path: String) throws {
        let (c, h, w) = (image.channels, image.height, image.width)
        var interleaved = [UInt8](repeating: 0, count: c * h * w)
        for k in 0..<c { for i in 0..<(h * w) { interleaved[i * c + k] = image.bytes[k * h * w + i] } }
        var message = [CChar](repeating: 0, count: 512)
        let status = simg_write_png(path, interleaved, Int32(w), Int32(h), Int32(c), &message, message.count)
        guard status == 0 else {
            throw DataError.unwritable(path: path, reason: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
    }
}

/// One 8-bit image, `[channels, height, width]` planar.
public struct PixelImage: Sendable, Equatable {
    public var channels: Int
    public var height: Int
    public var width: Int
    /// Pixel values, `[channels, height, width]` row-major.
    public var bytes: [UInt8]

    public init(channels: Int, height: Int, width: Int, bytes: [UInt8]) {
        self.channels = channels
        self.height = height
        self.width = width
        self.bytes = bytes
    }
}
