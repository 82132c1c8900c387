/* PNG (libpng's simplified API) and JPEG (libjpeg-turbo) decoding from memory. */
#include "strata_image.h"

#include <stdio.h> /* before jpeglib.h, which uses FILE */
#include <jpeglib.h>
#include <jerror.h>
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

/* libpng reads through this source, so an error knows how far into the file it came. */
typedef struct {
    const uint8_t *data;
    size_t size;
    size_t offset;  /* bytes handed to libpng so far */
    int truncated;  /* libpng asked for bytes past the end */
    jmp_buf escape;
    char text[200];
} png_source;

static void png_read_memory(png_structp png, png_bytep out, size_t count) {
    png_source *source = (png_source *)png_get_io_ptr(png);
    if (count > source->size - source->offset) {
        source->offset = source->size;
        source->truncated = 1;
        png_error(png, "the data ends early");
    }
    memcpy(out, source->data + source->offset, count);
    source->offset += count;
}

/* libpng's error function must not return: jump back to the decoder. */
static void png_fail(png_structp png, png_const_charp text) {
    png_source *source = (png_source *)png_get_error_ptr(png);
    snprintf(source->text, sizeof source->text, "%s", text);
    longjmp(source->escape, 1);
}

/* Warnings (a bad CRC in an ancillary chunk, which libpng then skips) do not stop the read. */
static void png_ignore(png_structp png, png_const_charp text) {
    (void)png;
    (void)text;
}

static int decode_png(const uint8_t *data, size_t size, int channels, size_t max_pixels, simg_image *out,
                      char *message, size_t message_size, long long *error_offset) {
    png_source source;
    memset(&source, 0, sizeof source);
    source.data = data;
    source.size = size;
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &source, png_fail, png_ignore);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        set_message(message, message_size, "out of memory");
        return SIMG_ERR_MEMORY;
    }
    uint8_t *volatile buffer = NULL;   /* [H, W, native] */
    png_bytep *volatile rows = NULL;   /* [H] pointers into buffer */
    if (setjmp(source.escape)) {
        char text[320];
        if (source.truncated)
            snprintf(text, sizeof text, "truncated PNG: the data ends before the image is complete");
        else
            snprintf(text, sizeof text, "corrupt PNG data (%s)", source.text);
        set_message(message, message_size, text);
        *error_offset = (long long)source.offset;
        free(buffer);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return SIMG_ERR_DECODE;
    }
    png_set_read_fn(png, &source, png_read_memory);
    png_read_info(png, info);
    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    int status = check_size(width, height, max_pixels, message, message_size);
    if (status != SIMG_OK) { png_destroy_read_struct(&png, &info, NULL); return status; }
    /* 8-bit grey or RGB in the file's own colour kind: palettes and low bit depths expanded,
     * 16 bits cut to their high byte, alpha dropped (PIL's convert("RGB") drops it too); no
     * gamma conversion, as PIL applies none. */
    png_set_expand(png);
    png_set_strip_16(png);
    png_set_strip_alpha(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int native = png_get_channels(png, info);
    size_t stride = png_get_rowbytes(png, info);
    if ((native != 1 && native != 3) || stride != (size_t)width * (size_t)native) {
        png_destroy_read_struct(&png, &info, NULL);
        set_message(message, message_size, "unsupported PNG colour type");
        return SIMG_ERR_DECODE;
    }
    size_t count = (size_t)width * height;
    buffer = malloc(count * (size_t)native);
    rows = malloc(sizeof(png_bytep) * height);
    if (!buffer || !rows) {
        free(buffer);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        set_message(message, message_size, "out of memory");
        return SIMG_ERR_MEMORY;
    }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = buffer + stride * y;
    /* The pixels only: what follows the image data (IEND) is not needed, as PIL does not read it. */
    png_read_image(png, rows);
    free(rows);
    rows = NULL;
    png_destroy_read_struct(&png, &info, NULL);
    out->width = (int)width;
    out->height = (int)height;
    out->channels = channels;
    if (native == channels) {
        out->pixels = buffer;
    } else {
        out->pixels = malloc(count * (size_t)channels);
        if (!out->pixels) { free(buffer); set_message(message, message_size, "out of memory"); return SIMG_ERR_MEMORY; }
        convert_channels(buffer, native, out->pixels, channels, count);
        free(buffer);
    }
    return SIMG_OK;
}

/* libjpeg reports errors through error_exit, which must not return: jump back to the decoder.
 * Warnings (a truncated file is "Premature end of JPEG file", which libjpeg would otherwise
 * pad with grey) are treated as errors too. */
typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf escape;
    char text[JMSG_LENGTH_MAX];
    int truncated; /* libjpeg reached the end of the data (JWRN_JPEG_EOF) */
} jpeg_errors;

static void jpeg_fail(j_common_ptr info) {
    jpeg_errors *errors = (jpeg_errors *)info->err;
    (*info->err->format_message)(info, errors->text);
    longjmp(errors->escape, 1);
}

static void jpeg_message(j_common_ptr info, int level) {
    if (level >= 0) return;
    jpeg_errors *errors = (jpeg_errors *)info->err;
    if (info->err->msg_code == JWRN_JPEG_EOF) errors->truncated = 1;
    jpeg_fail(info); /* a warning: corrupt or missing data */
}

static int decode_jpeg(const uint8_t *data, size_t size, int channels, size_t max_pixels, simg_image *out,
                       char *message, size_t message_size, long long *error_offset) {
    struct jpeg_decompress_struct info;
    jpeg_errors errors;
    uint8_t *volatile pixels = NULL;
    memset(&info, 0, sizeof info);
    info.err = jpeg_std_error(&errors.base);
    errors.base.error_exit = jpeg_fail;
    errors.base.emit_message = jpeg_message;
    errors.text[0] = 0;
    errors.truncated = 0;
    if (setjmp(errors.escape)) {
        /* How far the source manager came: its next byte, or the end once libjpeg has been
         * handed its fake end-of-image marker. */
        size_t offset = size;
        if (info.src && info.src->next_input_byte >= data && info.src->next_input_byte <= data + size)
            offset = (size_t)(info.src->next_input_byte - data);
        if (errors.truncated) offset = size;
        char text[JMSG_LENGTH_MAX + 80];
        if (errors.truncated)
            snprintf(text, sizeof text, "truncated JPEG: the data ends before the image is complete (%s)", errors.text);
        else
            snprintf(text, sizeof text, "corrupt JPEG data (%s)", errors.text);
        set_message(message, message_size, text);
        *error_offset = (long long)offset;
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
                char *message, size_t message_size, long long *error_offset) {
    static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memset(out, 0, sizeof *out);
    *error_offset = -1;
    if (channels != 1 && channels != 3) {
        set_message(message, message_size, "channels must be 1 or 3");
        return SIMG_ERR_DECODE;
    }
    if (size >= 8 && memcmp(data, png_signature, 8) == 0)
        return decode_png(data, size, channels, max_pixels, out, message, message_size, error_offset);
    if (size >= 3 && data[0] == 0xFF && data[1] == 0xD8 && data[2] == 0xFF)
        return decode_jpeg(data, size, channels, max_pixels, out, message, message_size, error_offset);
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
