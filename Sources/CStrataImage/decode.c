/* PNG (libpng's simplified API) and JPEG (libjpeg-turbo) decoding from memory. */
#include "strata_image.h"

#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <jpeglib.h>
#include <png.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

static void set_message(char *message, size_t size, const char *text) {
    if (message && size > 0) snprintf(message, size, "%s", text);
}

void simg_free(simg_image *image) {
    if (!image) return;
    free(image->pixels);
    image->pixels = NULL;
}

/* Converts `count` pixels from `from` channels to `to` channels (1 ↔ 3); `dst` may not alias `src`. */
static void convert_channels(const uint8_t *src, int from, uint8_t *dst, int to, size_t count) {
    if (from == to) { memcpy(dst, src, count * (size_t)from); return; }
    if (from == 1) { /* grey → RGB */
        for (size_t i = 0; i < count; i++) dst[3 * i] = dst[3 * i + 1] = dst[3 * i + 2] = src[i];
        return;
    }
    for (size_t i = 0; i < count; i++) { /* RGB → grey, PIL's integer formula */
        const uint8_t *p = src + 3 * i;
        dst[i] = (uint8_t)((19595u * p[0] + 38470u * p[1] + 7471u * p[2] + 0x8000u) >> 16);
    }
}

static int check_size(size_t width, size_t height, size_t max_pixels, char *message, size_t message_size) {
    if (width == 0 || height == 0) {
        set_message(message, message_size, "the image has no pixels (width or height 0)");
        return SIMG_ERR_DECODE;
    }
    if (width > max_pixels || height > max_pixels || width * height > max_pixels) {
        char text[160];
        snprintf(text, sizeof text, "the image is %zu×%zu pixels, more than the limit of %zu pixels", width, height, max_pixels);
        set_message(message, message_size, text);
        return SIMG_ERR_TOO_LARGE;
    }
    return SIMG_OK;
}

static int decode_png(const uint8_t *data, size_t size, int channels, size_t max_pixels, simg_image *out,
                      char *message, size_t message_size) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&image, data, size)) {
        char text[200];
        snprintf(text, sizeof text, "not a readable PNG: %s", image.message);
        set_message(message, message_size, text);
        png_image_free(&image);
        return SIMG_ERR_DECODE;
    }
    int status = check_size(image.width, image.height, max_pixels, message, message_size);
    if (status != SIMG_OK) { png_image_free(&image); return status; }
    /* Read in the file's own colour kind (grey or RGB, with its alpha channel if any, so that
     * libpng does not composite), then drop the alpha and convert as PIL does. */
    int native = (image.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
    int alpha = (image.format & PNG_FORMAT_FLAG_ALPHA) ? 1 : 0;
    image.format = native == 3 ? (alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB) : (alpha ? PNG_FORMAT_GA : PNG_FORMAT_GRAY);
    size_t count = (size_t)image.width * image.height;
    uint8_t *buffer = malloc(count * (size_t)(native + alpha));
    if (!buffer) { png_image_free(&image); set_message(message, message_size, "out of memory"); return SIMG_ERR_MEMORY; }
    if (!png_image_finish_read(&image, NULL, buffer, 0, NULL)) {
        char text[200];
        snprintf(text, sizeof text, "corrupt or truncated PNG: %s", image.message);
        set_message(message, message_size, text);
        free(buffer);
        png_image_free(&image);
        return SIMG_ERR_DECODE;
    }
    if (alpha) { /* [H, W, native + 1] → [H, W, native] in place */
        for (size_t i = 0; i < count; i++)
            for (int k = 0; k < native; k++) buffer[i * native + k] = buffer[i * (native + 1) + k];
    }
    out->width = (int)image.width;
    out->height = (int)image.height;
    out->channels = channels;
    if (native == channels) {
        out->pixels = buffer;
    } else {
        out->pixels = malloc(count * (size_t)channels);
        if (!out->pixels) { free(buffer); set_message(message, message_size, "out of memory"); return SIMG_ERR_MEMORY; }
        convert_channels(buffer, native, out->pixels, channels, count);
        free(buffer);
    }
    png_image_free(&image);
    return SIMG_OK;
}

/* libjpeg reports errors through error_exit, which must not return: jump back to the decoder.
 * Warnings (a truncated file is "Premature end of JPEG file", which libjpeg would otherwise
 * pad with grey) are treated as errors too. */
typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf escape;
    char text[JMSG_LENGTH_MAX];
} jpeg_errors;

static void jpeg_fail(j_common_ptr info) {
    jpeg_errors *errors = (jpeg_errors *)info->err;
    (*info->err->format_message)(info, errors->text);
    longjmp(errors->escape, 1);
}

static void jpeg_message(j_common_ptr info, int level) {
    if (level < 0) jpeg_fail(info); /* a warning: corrupt data */
}

static int decode_jpeg(const uint8_t *data, size_t size, int channels, size_t max_pixels, simg_image *out,
                       char *message, size_t message_size) {
    struct jpeg_decompress_struct info;
    jpeg_errors errors;
    uint8_t *volatile pixels = NULL;
    memset(&info, 0, sizeof info);
    info.err = jpeg_std_error(&errors.base);
    errors.base.error_exit = jpeg_fail;
    errors.base.emit_message = jpeg_message;
    errors.text[0] = 0;
    if (setjmp(errors.escape)) {
        char text[JMSG_LENGTH_MAX + 40];
        snprintf(text, sizeof text, "corrupt or truncated JPEG: %s", errors.text);
        set_message(message, message_size, text);
        free(pixels);
        jpeg_destroy_decompress(&info);
        return SIMG_ERR_DECODE;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, (unsigned long)size);
    jpeg_read_header(&info, TRUE);
    int status = check_size(info.image_width, info.image_height, max_pixels, message, message_size);
    if (status != SIMG_OK) { jpeg_destroy_decompress(&info); return status; }
    info.out_color_space = channels == 3 ? JCS_RGB : JCS_GRAYSCALE;
    jpeg_start_decompress(&info);
    if (info.output_components != channels) {
        set_message(message, message_size, "unsupported JPEG colour space");
        jpeg_destroy_decompress(&info);
        return SIMG_ERR_DECODE;
    }
    size_t stride = (size_t)info.output_width * (size_t)channels;
    pixels = malloc(stride * info.output_height);
    if (!pixels) { jpeg_destroy_decompress(&info); set_message(message, message_size, "out of memory"); return SIMG_ERR_MEMORY; }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = pixels + stride * info.output_scanline;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    out->width = (int)info.output_width;
    out->height = (int)info.output_height;
    out->channels = channels;
    out->pixels = pixels;
    jpeg_destroy_decompress(&info);
    return SIMG_OK;
}

int simg_decode(const uint8_t *data, size_t size, int channels, size_t max_pixels, simg_image *out,
                char *message, size_t message_size) {
    static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memset(out, 0, sizeof *out);
    if (channels != 1 && channels != 3) {
        set_message(message, message_size, "channels must be 1 or 3");
        return SIMG_ERR_DECODE;
    }
    if (size >= 8 && memcmp(data, png_signature, 8) == 0)
        return decode_png(data, size, channels, max_pixels, out, message, message_size);
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        return decode_jpeg(data, size, channels, max_pixels, out, message, message_size);
    set_message(message, message_size, size == 0 ? "the file is empty (0 bytes)" : "not a PNG or JPEG file (unknown signature at offset 0)");
    return SIMG_ERR_FORMAT;
}

int simg_write_png(const char *path, const uint8_t *pixels, int width, int height, int channels,
                   char *message, size_t message_size) {
    png_image image;
    memset(&image, 0, sizeof image);
    image.version = PNG_IMAGE_VERSION;
    image.width = (png_uint_32)width;
    image.height = (png_uint_32)height;
    image.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    if (!png_image_write_to_file(&image, path, 0, pixels, 0, NULL)) {
        set_message(message, message_size, image.message);
        png_image_free(&image);
        return 1;
    }
    png_image_free(&image);
    return 0;
}
