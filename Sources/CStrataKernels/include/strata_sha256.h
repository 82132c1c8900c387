/* strata_sha256.h — SHA-256 (FIPS 180-4), used to check a plugin library against the
 * checksum in its manifest before it is opened. Not a security boundary: loading a plugin
 * runs its code, so plugins are only found on STRATA_PLUGIN_PATH and the default folder. */
#ifndef STRATA_SHA256_H
#define STRATA_SHA256_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Incremental hashing state. Initialise with sk_sha256_init. */
typedef struct {
    uint32_t state[8];
    uint64_t length;      /* bytes hashed so far */
    uint8_t block[64];    /* pending input */
    uint32_t filled;      /* bytes pending in `block` */
} sk_sha256_ctx;

/** Starts a new hash. */
void sk_sha256_init(sk_sha256_ctx *ctx);
/** Adds `size` bytes at `data` (may be NULL when size is 0). */
void sk_sha256_update(sk_sha256_ctx *ctx, const void *data, size_t size);
/** Finishes the hash and writes the 32-byte digest. */
void sk_sha256_final(sk_sha256_ctx *ctx, uint8_t digest[32]);

/** Hashes the file at `path` into `digest`. Returns 0 on success, else the errno of the
 *  failing open or read. */
int sk_sha256_file(const char *path, uint8_t digest[32]);

#ifdef __cplusplus
}
#endif

#endif /* STRATA_SHA256_H */
