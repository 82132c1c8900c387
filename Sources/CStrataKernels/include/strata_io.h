/*
 * strata_io.h — whole-file reading with transparent gunzip, and atomic file replacement.
 *
 * These are the two file operations the data loaders and the checkpoint writer are built on:
 *   - sio_read_file reads a file into one buffer, decompressing it first if it is gzip
 *     (IDX data sets ship as *.gz);
 *   - sio_write_file_atomic replaces a file so that a reader (or a crash) sees either the
 *     complete old content or the complete new content, never a half-written file.
 *
 * Not here: parsing of any format (IDX, safetensors) — that lives in Swift, in StrataCore/Data
 * and StrataCore/Checkpoint.
 *
 * Errors: every function returns one of the SIO_* status codes below. On failure it writes a
 * NUL-terminated sentence into `err` (at most `err_cap` bytes, truncated if longer) that starts
 * with the file path, e.g. "/data/x.gz: unexpected end of gzip stream (...)". `err` may be
 * NULL (or `err_cap` 0) when the caller does not want the message.
 *
 * Threading: all functions are reentrant; they share no state.
 */
#ifndef STRATA_IO_H
#define STRATA_IO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Success. */
#define SIO_OK 0
/** The file (or a directory on its path) does not exist. */
#define SIO_ERR_NOT_FOUND 1
/** The file could not be opened, read, written, synced or renamed (permissions, a directory,
 *  disk full, ...); the message carries the system's reason. */
#define SIO_ERR_IO 2
/** The file is gzip but the compressed stream ends before its end marker and trailer. */
#define SIO_ERR_GZIP_TRUNCATED 3
/** The file is gzip but the compressed data is invalid (zlib's message is quoted), or it is
 *  followed by bytes that are not another gzip member. */
#define SIO_ERR_GZIP_CORRUPT 4
/** A buffer could not be allocated. */
#define SIO_ERR_NO_MEMORY 5
/** An argument is invalid (NULL path, negative length, NULL chunk with a non-zero length). */
#define SIO_ERR_INVALID_ARGUMENT 6

/**
 * Reads the whole file at `path` into a new buffer.
 *
 * If the file starts with the gzip magic bytes 0x1f 0x8b it is decompressed (concatenated gzip
 * members are joined, as gzip(1) does) and the buffer holds the decompressed bytes; otherwise
 * it holds the file's bytes unchanged.
 *
 * Only regular files are read: a directory, a named pipe, a device or a socket is refused with
 * SIO_ERR_IO ("<path>: is a named pipe (FIFO), not a regular file") without blocking, since the
 * file is opened with O_NONBLOCK and its type checked with fstat before any read.
 *
 * @param path     NUL-terminated file path. Borrowed for the call. Never NULL.
 * @param out      Receives the buffer on success, NULL on failure. Owned by the caller from
 *                 then on; release it with sio_free. Never NULL.
 * @param out_len  Receives the buffer's length in bytes (0 on failure). Never NULL.
 * @param err      Receives the error sentence on failure; may be NULL.
 * @param err_cap  Capacity of `err` in bytes, including the terminating NUL.
 * @return SIO_OK or an SIO_ERR_* code.
 */
int32_t sio_read_file(const char *path, uint8_t **out, int64_t *out_len, char *err, int64_t err_cap);

/** What kind of file an st_mode describes, for messages: "a named pipe (FIFO)", "a directory", ... */
const char *sio_file_kind(uint32_t mode);

/** Releases a buffer returned by sio_read_file. NULL is allowed and does nothing. */
void sio_free(uint8_t *buffer);

/**
 * Replaces the file at `path` with the concatenation of `nchunks` byte ranges, atomically.
 *
 * Writes `<path>.tmp-<pid>` in the same directory, fsyncs it, renames it over `path`, then
 * fsyncs the directory so the rename itself is durable. On any failure before the rename, the
 * temporary file is removed and an existing file at `path` is left untouched. (If only the final
 * directory fsync fails, the new file is already in place and SIO_ERR_IO is returned with a
 * message saying so.) New files get mode 0666 minus the process umask. The temporary name
 * depends only on the path and the process, so two threads of one process must not write the
 * same path at the same time.
 *
 * @param path     NUL-terminated destination path. Borrowed for the call. Never NULL.
 * @param chunks   `nchunks` pointers to the bytes to write, in order. Borrowed for the call.
 *                 A chunk may be NULL only when its length is 0. May be NULL when nchunks is 0.
 * @param lengths  `nchunks` lengths in bytes, each >= 0. Borrowed for the call.
 * @param nchunks  Number of chunks, >= 0 (0 writes an empty file).
 * @param err      Receives the error sentence on failure; may be NULL.
 * @param err_cap  Capacity of `err` in bytes, including the terminating NUL.
 * @return SIO_OK or an SIO_ERR_* code.
 */
int32_t sio_write_file_atomic(const char *path, const uint8_t *const *chunks, const int64_t *lengths,
                              int32_t nchunks, char *err, int64_t err_cap);

#ifdef __cplusplus
}
#endif

#endif /* STRATA_IO_H */
