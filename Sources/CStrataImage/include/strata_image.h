#ifndef STRATA_IMAGE_H
#define STRATA_IMAGE_H
/* PNG and JPEG decoding from memory into 8-bit pixels, with libpng and libjpeg-turbo.
 *
 * Every failure, including a truncated or corrupt file, is reported through the return value and
 * a message; nothing aborts the process and nothing reads past the given buffer. */
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes of simg_decode. */
enum {
    SIMG_OK = 0,
    SIMG_ERR_FORMAT = 1,   /* neither a PNG nor a JPEG signature */
    SIMG_ERR_DECODE = 2,   /* the library refused the file (corrupt, truncated, unsupported) */
    SIMG_ERR_TOO_LARGE = 3,/* width × height × channels above the limit */
    SIMG_ERR_MEMORY = 4
};

/* A decoded image: `pixels` is [height, width, channels] row-major (interleaved), owned by the
 * caller after a successful decode and released with simg_free. */
typedef struct {
    int width;
    int height;
    int channels; /* 1 (grey) or 3 (RGB) */
    uint8_t *pixels;
} simg_image;

/* Decodes the PNG or JPEG in `data[0..size)` into `channels` (1 or 3) channels: grey becomes
 * RGB by copying, RGB becomes grey as L = (19595 R + 38470 G + 7471 B + 32768) >> 16 (PIL's
 * "L" conversion); an alpha channel is dropped. Images with more than `max_pixels` pixels
 * are refused before any pixel memory is allocated. On failure writes a sentence into
 * `message` (at most `message_size` bytes), sets `*error_offset` to the byte offset the decoder
 * had read up to when it failed (the file's size for a truncated file; -1 when not known) and
 * returns a nonzero SIMG_ERR_* code. */
int simg_decode(const uint8_t *data, size_t size, int channels, size_t max_pixels, simg_image *out,
                char *message, size_t message_size, long long *error_offset);

/* Releases the pixels of a decoded image (safe on a zeroed image). */
void simg_free(simg_image *image);

/* Writes `pixels` ([height, width, channels], channels 1 or 3) as an 8-bit PNG file at `path`.
 * Returns 0 or writes a message and returns nonzero. */
int simg_write_png(const char *path, const uint8_t *pixels, int width, int height, int channels,
                   char *message, size_t message_size);

#ifdef __cplusplus
}
#endif
#endif
