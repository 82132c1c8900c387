/*
 * tensor.h - StrataTensor, the descriptor every tensor crosses the ABI in.
 *
 * A StrataTensor is a plain description of memory, not an object: no allocator, no refcount,
 * no methods. Its fields mean exactly what DLPack's DLTensor fields mean, so a Strata tensor can
 * be exported as DLPack without a copy. Who owns the memory it describes is stated by each
 * function that passes one.
 *
 * What the core produces today: contiguous float32 tensors on the CPU, images in NCHW order,
 * data 64-byte aligned. A plugin checks dtype and strides and refuses what it cannot handle with
 * STRATA_ERR_UNSUPPORTED rather than assuming.
 *
 * Since ABI 0.1.
 */
#include "strata.h"

#ifndef STRATA_TENSOR_H
#define STRATA_TENSOR_H

#ifdef __cplusplus
extern "C" {
#endif

/** Largest rank a StrataTensor may have. Shape buffers sized for output (such as the
 *  `out_shape` of StrataLayerOps.infer_shape) hold this many entries. Since ABI 0.1. */
#define STRATA_MAX_NDIM 8

/* Type codes for StrataDType.code; the values are DLPack's kDLInt, kDLUInt and kDLFloat, typed
 * uint8_t like the field (Swift imports them as UInt8). */
/** Signed two's-complement integer. Since ABI 0.1. */
#define STRATA_DTYPE_INT ((uint8_t)0)
/** Unsigned integer. Since ABI 0.1. */
#define STRATA_DTYPE_UINT ((uint8_t)1)
/** IEEE 754 binary floating point. Since ABI 0.1. */
#define STRATA_DTYPE_FLOAT ((uint8_t)2)

/* Device types for StrataTensor.device_type; the values are DLPack's DLDeviceType. */
/** Host memory addressable by the CPU. The only device the core uses today. Since ABI 0.1. */
#define STRATA_DEVICE_CPU 1

/* Bits of StrataTensor.flags. Bits not named here are zero; readers ignore bits they do not
 * know. */
/** The consumer must not write through `data`. Since ABI 0.1. */
#define STRATA_TENSOR_READ_ONLY ((uint64_t)1)

/** Element type of a tensor, as in DLPack's DLDataType.
 *
 *  Examples: float32 is {STRATA_DTYPE_FLOAT, 32, 1}; int32 is {STRATA_DTYPE_INT, 32, 1};
 *  uint8 is {STRATA_DTYPE_UINT, 8, 1}. An element occupies bits * lanes / 8 bytes.
 *  Since ABI 0.1. */
typedef struct StrataDType {
    /** Kind of number: STRATA_DTYPE_INT, STRATA_DTYPE_UINT or STRATA_DTYPE_FLOAT.
     *  Stored in 8 bits. Since ABI 0.1. */
    uint8_t code;
    /** Width of one lane in bits: 8, 16, 32 or 64. Since ABI 0.1. */
    uint8_t bits;
    /** Number of lanes per element; 1 for scalar elements (the only value the core uses).
     *  Since ABI 0.1. */
    uint16_t lanes;
} StrataDType;

/** The dtype of the core's tensors, float32, as an initializer:
 *  `StrataDType f32 = STRATA_DTYPE_FLOAT32_INIT;`. Since ABI 0.1. */
#define STRATA_DTYPE_FLOAT32_INIT { STRATA_DTYPE_FLOAT, 32, 1 }
/** int32, the dtype of class-index targets, as an initializer. Since ABI 0.1. */
#define STRATA_DTYPE_INT32_INIT { STRATA_DTYPE_INT, 32, 1 }

/** A tensor descriptor with DLPack semantics.
 *
 *  The element at multi-index (i0, ..., i{ndim-1}) is at byte address
 *      (char *)data + byte_offset
 *        + (i0 * strides[0] + ... + i{ndim-1} * strides[ndim-1]) * (bits * lanes / 8).
 *  For a contiguous (row-major) tensor, strides[ndim-1] = 1 and
 *  strides[k] = strides[k+1] * shape[k+1].
 *
 *  The descriptor itself, its `shape` and `strides` arrays and the memory at `data` each live as
 *  long as the function passing the descriptor says; by default, for the duration of the call.
 *  A receiver copies what it must keep. Endianness is the machine's own.
 *  Since ABI 0.1. */
typedef struct StrataTensor {
    /** First byte of the allocation (add `byte_offset` to reach the first element).
     *  Memory allocated by the host is 64-byte aligned; this is guaranteed for host-allocated
     *  tensors only. May be NULL only when the tensor has no elements. Since ABI 0.1. */
    void *data;
    /** Offset in bytes from `data` to the first element. Zero for tensors the core allocates.
     *  Since ABI 0.1. */
    uint64_t byte_offset;
    /** Where the memory lives: STRATA_DEVICE_CPU (1). Since ABI 0.1. */
    int32_t device_type;
    /** Index of the device among those of its type; 0 for the CPU. Since ABI 0.1. */
    int32_t device_id;
    /** Element type. The core produces float32 ({STRATA_DTYPE_FLOAT, 32, 1}) for activations,
     *  parameters and gradients, and int32 for class-index targets. Since ABI 0.1. */
    StrataDType dtype;
    /** Number of dimensions, 0 (a scalar) to STRATA_MAX_NDIM. Since ABI 0.1. */
    int32_t ndim;
    /** Extent of each dimension, `ndim` entries, outermost first: [N, C, H, W] for images,
     *  [N, F] for features. Unit: elements. Owned by whoever filled the descriptor, for as long
     *  as the descriptor is valid. NULL only when ndim is 0. Since ABI 0.1. */
    const int64_t *shape;
    /** Step between consecutive indices of each dimension, `ndim` entries, in ELEMENTS (not
     *  bytes). Always filled when ndim > 0, also for contiguous tensors: NULL is not a shorthand
     *  for row-major (DLPack v1.2 made the same rule). Same ownership as `shape`. NULL only when
     *  ndim is 0. Since ABI 0.1. */
    const int64_t *strides;
    /** Bit set of STRATA_TENSOR_* flags (STRATA_TENSOR_READ_ONLY). Zero when none applies.
     *  Since ABI 0.1. */
    uint64_t flags;
} StrataTensor;

/** An empty descriptor: every field zero or NULL. Since ABI 0.1. */
#define STRATA_TENSOR_INIT { NULL, 0, 0, 0, { 0, 0, 0 }, 0, NULL, NULL, 0 }

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STRATA_TENSOR_H */
