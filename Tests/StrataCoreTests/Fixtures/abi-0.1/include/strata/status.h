/*
 * status.h - status codes and the error buffer.
 *
 * Every fallible function of the ABI returns a StrataStatus and receives a StrataError owned by
 * the caller. On failure the callee writes a human sentence into the error (through
 * host->set_error, which never allocates) and returns the same code it stored there. The host
 * checks every status and turns the sentence into a message naming the plugin, the component
 * and the recipe path involved, so the sentence itself says only what went wrong:
 * "expected 4-D input [N, C, H, W], got 2-D [64, 10]".
 *
 * Nothing else may carry an error across the boundary: no C++ exception, Swift error, longjmp,
 * abort or exit.
 *
 * Since ABI 0.1.
 */
#include "strata.h"

#ifndef STRATA_STATUS_H
#define STRATA_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

/** Result of a fallible call: STRATA_OK or one of the STRATA_ERR_* codes. Later minors may add
 *  codes; a reader treats an unknown nonzero code like STRATA_ERR_INTERNAL. Since ABI 0.1. */
typedef int32_t StrataStatus;

/** Success. Since ABI 0.1. */
#define STRATA_OK 0
/** A value is outside what the function accepts: a bad config option, a NULL where a pointer is
 *  required, an index out of range. Since ABI 0.1. */
#define STRATA_ERR_INVALID_ARGUMENT 1
/** Tensor shapes do not fit together: a wrong rank, a channel count that differs from the one
 *  inferred, mismatched logits and targets. Since ABI 0.1. */
#define STRATA_ERR_SHAPE_MISMATCH 2
/** A well-formed request this implementation does not handle: another dtype, non-contiguous
 *  strides, another device, an optional feature. Since ABI 0.1. */
#define STRATA_ERR_UNSUPPORTED 3
/** An allocation failed. Since ABI 0.1. */
#define STRATA_ERR_OUT_OF_MEMORY 4
/** A broken invariant inside the callee: a bug, not bad input. Since ABI 0.1. */
#define STRATA_ERR_INTERNAL 5
/** The two sides were built for different ABI majors, or a required table or interface is
 *  missing or too old. Since ABI 0.1. */
#define STRATA_ERR_ABI_MISMATCH 6

/** Capacity of StrataError.message in bytes, terminating NUL included. Since ABI 0.1. */
#define STRATA_ERROR_MESSAGE_SIZE 512

/** An error buffer, owned by the caller (in practice the host), filled by the callee.
 *
 *  The caller initializes it with STRATA_ERROR_INIT before each call; the callee fills it
 *  through host->set_error (or, if it must, by writing `code` and a NUL-terminated `message`
 *  itself, never beyond STRATA_ERROR_MESSAGE_SIZE bytes). Nothing in it is allocated, so nothing
 *  has to be freed. Borrowed for the duration of the call; never keep the pointer.
 *  Since ABI 0.1. */
typedef struct StrataError {
    /** sizeof(StrataError) as the caller compiled it. A callee writes no byte beyond it.
     *  Since ABI 0.1. */
    uint32_t struct_size;
    /** STRATA_OK until the callee reports a failure; then the StrataStatus it returns.
     *  Since ABI 0.1. */
    int32_t code;
    /** A UTF-8 sentence saying what went wrong, NUL-terminated, truncated to fit; empty ("")
     *  when no message was given. Since ABI 0.1. */
    char message[STRATA_ERROR_MESSAGE_SIZE];
} StrataError;

/** A cleared error buffer: `StrataError err = STRATA_ERROR_INIT;`. Since ABI 0.1. */
#define STRATA_ERROR_INIT { (uint32_t)sizeof(StrataError), STRATA_OK, { 0 } }

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STRATA_STATUS_H */
