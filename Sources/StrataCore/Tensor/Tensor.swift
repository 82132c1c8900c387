#if canImport(Glibc)
import Glibc
#endif

/// Owned float32 storage, 64-byte aligned, zero-filled on creation.
///
/// Storage is a reference type so that many `Tensor` views (different shapes, a batch
/// slice) can share one allocation. It is freed when the last view goes away.
public final class TensorStorage: @unchecked Sendable {
    /// First element; 64-byte aligned.
    public let pointer: UnsafeMutablePointer<Float>
    /// Number of float32 elements allocated.
    public let capacity: Int

    /// Whether `deinit` frees `pointer` (false for memory borrowed from a plugin).
    private let owned: Bool

    /// A view of `capacity` floats at `pointer`, owned by someone else (a plugin's buffer passed
    /// for the duration of a call); never freed here.
    public init(borrowing pointer: UnsafeMutablePointer<Float>, capacity: Int) {
        self.pointer = pointer
        self.capacity = capacity
        self.owned = false
    }

    public init(capacity: Int) {
        owned = true
        let count = max(capacity, 1)
        var raw: UnsafeMutableRawPointer?
        let status = posix_memalign(&raw, 64, count * MemoryLayout<Float>.stride)
        guard status == 0, let raw else {
            // Allocation failure of a planned buffer is not recoverable input; it is a broken invariant.
            fatalError("out of memory allocating \(count) floats")
        }
        memset(raw, 0, count * MemoryLayout<Float>.stride)
        pointer = raw.bindMemory(to: Float.self, capacity: count)
        self.capacity = capacity
    }

    deinit { if owned { free(pointer) } }
}

/// A dense float32 tensor in row-major (NCHW for images) order: a shape over a storage.
///
/// `Tensor` is a value that *refers* to storage: copying a `Tensor` copies the view, not the
/// data. Use `copy()` for a deep copy.
public struct Tensor: @unchecked Sendable {
    public let storage: TensorStorage
    /// Offset of the first element in `storage`, in elements.
    public let offset: Int
    /// Dimensions, outermost first (N, C, H, W for images).
    public private(set) var shape: [Int]

    /// A new zero-filled tensor.
    public init(shape: [Int]) {
        let n = shape.reduce(1, *)
        self.storage = TensorStorage(capacity: n)
        self.offset = 0
        self.shape = shape
    }

    /// A new tensor holding `values` (row-major); `values.count` must equal the shape's element count.
    public init(shape: [Int], values: [Float]) {
        precondition(values.count == shape.reduce(1, *), "values do not fill shape \(shape)")
        self.init(shape: shape)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { self.data.update(from: base, count: values.count) }
        }
    }

    /// A view of existing storage.
    public init(storage: TensorStorage, offset: Int = 0, shape: [Int]) {
        precondition(offset + shape.reduce(1, *) <= storage.capacity, "view \(shape) exceeds storage")
        self.storage = storage
        self.offset = offset
        self.shape = shape
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// Number of dimensions.
    public var rank: Int { shape.count }
    /// Pointer to the first element.
    public var data: UnsafeMutablePointer<Float> { storage.pointer + offset }

    /// Elements per item of the leading (batch) dimension.
    public var itemCount: Int { shape.dropFirst().reduce(1, *) }

    /// The first `n` items of the leading dimension, sharing storage.
    public func batchPrefix(_ n: Int) -> Tensor {
        var s = shape
        s[0] = n
        return Tensor(storage: storage, offset: offset, shape: s)
    }

    /// The same elements under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "reshape \(shape) -> \(newShape) changes the element count")
        return Tensor(storage: storage, offset: offset, shape: newShape)
    }

    /// The elements as an array (row-major).
    public func array() -> [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    /// A deep copy in new storage.
    public func copy() -> Tensor {
        let t = Tensor(shape: shape)
        t.data.update(from: data, count: count)
        return t
    }

    /// Sets every element to zero.
    public func zero() { memset(data, 0, count * MemoryLayout<Float>.stride) }

    /// Copies the elements of `other` (same element count) into this tensor.
    public func copy(from other: Tensor) {
        precondition(other.count == count, "copy between tensors of \(other.count) and \(count) elements")
        data.update(from: other.data, count: count)
    }

    public subscript(_ i: Int) -> Float {
        get { data[i] }
        nonmutating set { data[i] = newValue }
    }
}
