/*
 * gzip_io.c — whole-file reading with transparent gunzip (zlib), and atomic file replacement.
 *
 * This file is plain POSIX + zlib file handling; it parses no format. The contract (status codes,
 * ownership, error text) is documented in include/strata_io.h.
 *
 * Error text always starts with the path so a caller can show it as is:
 *   "<path>: cannot open: No such file or directory"
 *   "<path>: unexpected end of gzip stream (the file ends after 1200 compressed bytes)"
 *   "<path>: corrupt gzip data at compressed byte 37: invalid block type"
 */
#define _POSIX_C_SOURCE 200809L

#include "strata_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#ifndef O_CLOEXEC
#define O_CLOEXEC 0
#endif
#ifndef O_NOFOLLOW
#define O_NOFOLLOW 0
#endif

/* zlib counts in 32-bit uInt; larger buffers are fed in slices of at most this many bytes. */
#define SIO_ZLIB_SLICE ((int64_t)1 << 30)

/* ------------------------------------------------------------------------------------------ */
/* Error text                                                                                  */

static void sio_set_error(char *err, int64_t err_cap, const char *format, ...) {
    if (err == NULL || err_cap <= 0) return;
    va_list args;
    va_start(args, format);
    vsnprintf(err, (size_t)err_cap, format, args);
    va_end(args);
}

/* The status for a failed open/stat: "not found" for a missing file or directory on the path. */
static int32_t sio_status_for_errno(int error) {
    return (error == ENOENT || error == ENOTDIR) ? SIO_ERR_NOT_FOUND : SIO_ERR_IO;
}

/* ------------------------------------------------------------------------------------------ */
/* Reading                                                                                     */

const char *sio_file_kind(uint32_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a named pipe (FIFO)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    if (S_ISREG(mode)) return "a regular file";
    return "a special file";
}

/* Reads everything from `fd` into a new malloc'd buffer. `size_hint` is the expected size (from
 * fstat) or 0 when unknown; the buffer grows if the file turns out longer. */
static int32_t sio_read_all(int fd, const char *path, int64_t size_hint, uint8_t **out, int64_t *out_len,
                            char *err, int64_t err_cap) {
    int64_t capacity = size_hint > 0 ? size_hint + 1 : 65536; /* +1 so EOF is seen without growing */
    uint8_t *buffer = malloc((size_t)capacity);
    if (buffer == NULL) {
        sio_set_error(err, err_cap, "%s: out of memory reading %lld bytes", path, (long long)capacity);
        return SIO_ERR_NO_MEMORY;
    }
    int64_t length = 0;
    for (;;) {
        if (length == capacity) {
            int64_t grown = capacity * 2;
            uint8_t *bigger = realloc(buffer, (size_t)grown);
            if (bigger == NULL) {
                free(buffer);
                sio_set_error(err, err_cap, "%s: out of memory reading %lld bytes", path, (long long)grown);
                return SIO_ERR_NO_MEMORY;
            }
            buffer = bigger;
            capacity = grown;
        }
        int64_t want = capacity - length;
        if (want > SIO_ZLIB_SLICE) want = SIO_ZLIB_SLICE;
        ssize_t got = read(fd, buffer + length, (size_t)want);
        if (got < 0) {
            if (errno == EINTR) continue;
            int error = errno;
            free(buffer);
            sio_set_error(err, err_cap, "%s: read failed at byte %lld: %s", path, (long long)length, strerror(error));
            return SIO_ERR_IO;
        }
        if (got == 0) break;
        length += got;
    }
    *out = buffer;
    *out_len = length;
    return SIO_OK;
}

/* The size recorded in a gzip trailer (ISIZE: decompressed length modulo 2^32, little-endian),
 * used only as a first guess for the output buffer; the buffer grows when the guess is short. */
static int64_t sio_gzip_size_hint(const uint8_t *data, int64_t length) {
    if (length < 18) return 0; /* 10-byte header + 8-byte trailer at least */
    const uint8_t *t = data + length - 4;
    int64_t isize = (int64_t)t[0] | ((int64_t)t[1] << 8) | ((int64_t)t[2] << 16) | ((int64_t)t[3] << 24);
    /* Deflate expands at most ~1032:1; a larger claim is a damaged trailer, not a size. */
    if (isize > length * 1032) return 0;
    return isize;
}

/* Decompresses the gzip member(s) in `data`. On success `*out` is a new malloc'd buffer. */
static int32_t sio_gunzip(const char *path, const uint8_t *data, int64_t length, uint8_t **out, int64_t *out_len,
                          char *err, int64_t err_cap) {
    int64_t capacity = sio_gzip_size_hint(data, length);
    if (capacity < 4096) capacity = length * 4 > 4096 ? length * 4 : 4096;
    uint8_t *buffer = malloc((size_t)capacity);
    if (buffer == NULL) {
        sio_set_error(err, err_cap, "%s: out of memory decompressing into %lld bytes", path, (long long)capacity);
        return SIO_ERR_NO_MEMORY;
    }

    z_stream stream;
    memset(&stream, 0, sizeof stream);
    /* 15 + 16: a 32 KiB window and gzip (not zlib) framing, with the CRC-32 and length checked. */
    if (inflateInit2(&stream, 15 + 16) != Z_OK) {
        free(buffer);
        sio_set_error(err, err_cap, "%s: out of memory starting zlib", path);
        return SIO_ERR_NO_MEMORY;
    }

    int64_t fed = 0;     /* input bytes handed to zlib so far */
    int64_t written = 0; /* output bytes produced so far */
    int32_t status = SIO_OK;
    for (;;) {
        if (stream.avail_in == 0 && fed < length) {
            int64_t slice = length - fed < SIO_ZLIB_SLICE ? length - fed : SIO_ZLIB_SLICE;
            stream.next_in = (Bytef *)(data + fed);
            stream.avail_in = (uInt)slice;
            fed += slice;
        }
        if (written == capacity) {
            int64_t grown = capacity * 2;
            uint8_t *bigger = realloc(buffer, (size_t)grown);
            if (bigger == NULL) {
                sio_set_error(err, err_cap, "%s: out of memory decompressing into %lld bytes", path,
                              (long long)grown);
                status = SIO_ERR_NO_MEMORY;
                break;
            }
            buffer = bigger;
            capacity = grown;
        }
        int64_t room = capacity - written < SIO_ZLIB_SLICE ? capacity - written : SIO_ZLIB_SLICE;
        stream.next_out = buffer + written;
        stream.avail_out = (uInt)room;

        uInt in_before = stream.avail_in;
        int rc = inflate(&stream, Z_NO_FLUSH);
        written += room - (int64_t)stream.avail_out;
        int64_t consumed = fed - (int64_t)stream.avail_in; /* compressed bytes used so far */
        int progressed = stream.avail_in != in_before || stream.avail_out != (uInt)room;

        if (rc == Z_STREAM_END) {
            if (consumed == length) break; /* the common case: one member, nothing after it */
            if (length - consumed >= 2 && data[consumed] == 0x1f && data[consumed + 1] == 0x8b) {
                inflateReset(&stream); /* another gzip member follows: keep appending */
                continue;
            }
            sio_set_error(err, err_cap, "%s: corrupt gzip data at compressed byte %lld: %lld bytes after the end of the gzip stream",
                          path, (long long)consumed, (long long)(length - consumed));
            status = SIO_ERR_GZIP_CORRUPT;
            break;
        }
        if (rc == Z_OK || rc == Z_BUF_ERROR) {
            /* All input used while output room remained: zlib needs bytes the file does not have. */
            if (stream.avail_in == 0 && fed == length && stream.avail_out > 0) {
                sio_set_error(err, err_cap, "%s: unexpected end of gzip stream (the file ends after %lld compressed bytes; it is truncated)",
                              path, (long long)length);
                status = SIO_ERR_GZIP_TRUNCATED;
                break;
            }
            if (!progressed && stream.avail_in > 0 && stream.avail_out > 0) {
                /* Input and room both available yet nothing moved: never loop on it. */
                sio_set_error(err, err_cap, "%s: corrupt gzip data at compressed byte %lld: zlib made no progress",
                              path, (long long)consumed);
                status = SIO_ERR_GZIP_CORRUPT;
                break;
            }
            continue;
        }
        if (rc == Z_MEM_ERROR) {
            sio_set_error(err, err_cap, "%s: out of memory in zlib", path);
            status = SIO_ERR_NO_MEMORY;
            break;
        }
        /* Z_DATA_ERROR, Z_NEED_DICT, Z_STREAM_ERROR: the bytes are not valid gzip. */
        sio_set_error(err, err_cap, "%s: corrupt gzip data at compressed byte %lld: %s", path, (long long)consumed,
                      stream.msg != NULL ? stream.msg : (rc == Z_NEED_DICT ? "needs a preset dictionary" : "invalid data"));
        status = SIO_ERR_GZIP_CORRUPT;
        break;
    }
    inflateEnd(&stream);
    if (status != SIO_OK) {
        free(buffer);
        return status;
    }
    *out = buffer;
    *out_len = written;
    return SIO_OK;
}

int32_t sio_read_file(const char *path, uint8_t **out, int64_t *out_len, char *err, int64_t err_cap) {
    if (out != NULL) *out = NULL;
    if (out_len != NULL) *out_len = 0;
    if (path == NULL || out == NULL || out_len == NULL) {
        sio_set_error(err, err_cap, "sio_read_file: path, out and out_len must not be NULL");
        return SIO_ERR_INVALID_ARGUMENT;
    }
    if (err != NULL && err_cap > 0) err[0] = '\0';

    /* O_NONBLOCK: opening a named pipe with no writer would otherwise wait forever. Only regular
     * files are read, so the flag changes nothing for what is accepted. */
    int fd;
    do {
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int error = errno;
        sio_set_error(err, err_cap, "%s: cannot open: %s", path, strerror(error));
        return sio_status_for_errno(error);
    }
    struct stat info;
    if (fstat(fd, &info) != 0) {
        int error = errno;
        close(fd);
        sio_set_error(err, err_cap, "%s: cannot stat: %s", path, strerror(error));
        return SIO_ERR_IO;
    }
    if (!S_ISREG(info.st_mode)) {
        close(fd);
        sio_set_error(err, err_cap, "%s: is %s, not a regular file", path, sio_file_kind(info.st_mode));
        return SIO_ERR_IO;
    }

    uint8_t *raw = NULL;
    int64_t raw_length = 0;
    int32_t status = sio_read_all(fd, path, (int64_t)info.st_size, &raw, &raw_length,
                                  err, err_cap);
    close(fd);
    if (status != SIO_OK) return status;

    if (raw_length >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
        uint8_t *plain = NULL;
        int64_t plain_length = 0;
        status = sio_gunzip(path, raw, raw_length, &plain, &plain_length, err, err_cap);
        free(raw);
        if (status != SIO_OK) return status;
        *out = plain;
        *out_len = plain_length;
        return SIO_OK;
    }
    *out = raw;
    *out_len = raw_length;
    return SIO_OK;
}

void sio_free(uint8_t *buffer) { free(buffer); }

/* ------------------------------------------------------------------------------------------ */
/* Atomic writing                                                                              */

/* Writes all `length` bytes, retrying on EINTR and short writes. Returns 0 or an errno value. */
static int sio_write_all(int fd, const uint8_t *bytes, int64_t length) {
    while (length > 0) {
        int64_t slice = length < SIO_ZLIB_SLICE ? length : SIO_ZLIB_SLICE;
        ssize_t done = write(fd, bytes, (size_t)slice);
        if (done < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (done == 0) return EIO;
        bytes += done;
        length -= done;
    }
    return 0;
}

/* fsyncs the directory holding `path` so a completed rename survives a crash.
 * Returns 0 or an errno value. Filesystems that cannot sync directories (EINVAL) count as done. */
static int sio_sync_parent_directory(const char *path) {
    const char *slash = strrchr(path, '/');
    char *directory;
    if (slash == NULL) {
        directory = strdup(".");
    } else if (slash == path) {
        directory = strdup("/");
    } else {
        directory = strndup(path, (size_t)(slash - path));
    }
    if (directory == NULL) return ENOMEM;
    int fd = open(directory, O_RDONLY | O_CLOEXEC);
    free(directory);
    if (fd < 0) return errno;
    int result = 0;
    if (fsync(fd) != 0 && errno != EINVAL) result = errno;
    close(fd);
    return result;
}

int32_t sio_write_file_atomic(const char *path, const uint8_t *const *chunks, const int64_t *lengths,
                              int32_t nchunks, char *err, int64_t err_cap) {
    if (path == NULL || path[0] == '\0' || nchunks < 0 || (nchunks > 0 && (chunks == NULL || lengths == NULL))) {
        sio_set_error(err, err_cap, "sio_write_file_atomic: invalid arguments (path empty or NULL, or chunks missing)");
        return SIO_ERR_INVALID_ARGUMENT;
    }
    for (int32_t i = 0; i < nchunks; i++) {
        if (lengths[i] < 0 || (lengths[i] > 0 && chunks[i] == NULL)) {
            sio_set_error(err, err_cap, "%s: chunk %d has length %lld and %s pointer", path, (int)i,
                          (long long)lengths[i], chunks[i] == NULL ? "a NULL" : "a valid");
            return SIO_ERR_INVALID_ARGUMENT;
        }
    }
    if (err != NULL && err_cap > 0) err[0] = '\0';

    size_t temporary_size = strlen(path) + 32;
    char *temporary = malloc(temporary_size);
    if (temporary == NULL) {
        sio_set_error(err, err_cap, "%s: out of memory", path);
        return SIO_ERR_NO_MEMORY;
    }
    snprintf(temporary, temporary_size, "%s.tmp-%ld", path, (long)getpid());

    int fd;
    do {
        fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0666);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        int error = errno;
        /* Nothing was created, so there is nothing to remove. */
        sio_set_error(err, err_cap, "%s: cannot create temporary file %s: %s", path, temporary, strerror(error));
        free(temporary);
        return sio_status_for_errno(error);
    }

    const char *failed_step = NULL;
    int error = 0;
    int64_t offset = 0;
    for (int32_t i = 0; i < nchunks && error == 0; i++) {
        error = sio_write_all(fd, chunks[i], lengths[i]);
        if (error != 0) failed_step = "write";
        else offset += lengths[i];
    }
    if (error == 0 && fsync(fd) != 0) {
        error = errno;
        failed_step = "fsync";
    }
    if (close(fd) != 0 && error == 0) {
        error = errno;
        failed_step = "close";
    }
    if (error == 0 && rename(temporary, path) != 0) {
        error = errno;
        failed_step = "rename";
    }
    if (error != 0) {
        unlink(temporary); /* ours: created above; the destination is untouched */
        if (failed_step[0] == 'w') {
            sio_set_error(err, err_cap, "%s: write to temporary file %s failed at byte %lld: %s; the old file is untouched",
                          path, temporary, (long long)offset, strerror(error));
        } else if (failed_step[0] == 'r') {
            sio_set_error(err, err_cap, "%s: cannot replace with %s: %s; the old file is untouched", path, temporary,
                          strerror(error));
        } else {
            sio_set_error(err, err_cap, "%s: %s of temporary file %s failed: %s; the old file is untouched", path,
                          failed_step, temporary, strerror(error));
        }
        free(temporary);
        return SIO_ERR_IO;
    }
    free(temporary);

    error = sio_sync_parent_directory(path);
    if (error != 0) {
        sio_set_error(err, err_cap, "%s: written and renamed, but its directory could not be synced: %s", path,
                      strerror(error));
        return SIO_ERR_IO;
    }
    return SIO_OK;
}
