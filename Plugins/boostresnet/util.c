/*
 * util.c - helpers of the boostresnet plugin: error messages that name the round and block,
 * a small JSON text builder for metrics lines (numbers as %.10g, NaN/inf as null), a
 * monotonic clock, and the splitmix64 PRNG used for the cache's shuffled permutations.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "brn_plugin.h"

StrataError *brn_herr(brn_ctx *c) {
    c->herr.struct_size = (uint32_t)sizeof(StrataError);
    c->herr.code = STRATA_OK;
    c->herr.message[0] = '\0';
    return &c->herr;
}

static int prefix(brn_ctx *c, char *buf, size_t cap) {
    if (c->round >= 0)
        return snprintf(buf, cap, "%s: round %d (%s): ", c->scheme_name, (int)c->round,
                        c->block != NULL ? c->block : "?");
    return snprintf(buf, cap, "%s: ", c->scheme_name);
}

/* Messages are composed in twice the error buffer; set_error truncates on a UTF-8 boundary. */
StrataStatus brn_fail_host(brn_ctx *c, StrataStatus status, const char *what) {
    char message[2 * STRATA_ERROR_MESSAGE_SIZE];
    int n = prefix(c, message, sizeof message);
    if (n < 0) n = 0;
    if ((size_t)n < sizeof message)
        snprintf(message + n, sizeof message - (size_t)n, "%s failed: %s", what,
                 c->herr.message[0] != '\0' ? c->herr.message : "(no message)");
    return c->host->set_error(c->err, status, message);
}

StrataStatus brn_fail(brn_ctx *c, StrataStatus status, const char *fmt, ...) {
    char message[2 * STRATA_ERROR_MESSAGE_SIZE];
    va_list ap;
    int n = prefix(c, message, sizeof message);
    if (n < 0) n = 0;
    if ((size_t)n < sizeof message) {
        va_start(ap, fmt);
        vsnprintf(message + n, sizeof message - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return c->host->set_error(c->err, status, message);
}

void brn_log(brn_ctx *c, int32_t level, const char *fmt, ...) {
    char message[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    c->host->log(c->host->host_ctx, level, message);
}

/* ---- JSON builder ------------------------------------------------------------------------ */

static void put(brn_json *j, const char *text) {
    size_t n = strlen(text);
    if (j->overflow || j->len + n + 1 > j->cap) {
        j->overflow = 1;
        return;
    }
    memcpy(j->buf + j->len, text, n + 1);
    j->len += n;
}

static void put_key(brn_json *j, const char *key) {
    if (!j->first) put(j, ",");
    j->first = 0;
    put(j, "\"");
    put(j, key); /* keys are ASCII identifiers chosen here */
    put(j, "\":");
}

void brn_json_begin(brn_json *j, char *buf, size_t cap) {
    j->buf = buf;
    j->cap = cap;
    j->len = 0;
    j->first = 1;
    j->overflow = 0;
    if (cap > 0) buf[0] = '\0';
    put(j, "{");
}

void brn_json_end(brn_json *j) { put(j, "}"); }

void brn_json_num(brn_json *j, const char *key, double v) {
    char text[64];
    put_key(j, key);
    if (!isfinite(v)) {
        put(j, "null");
        return;
    }
    snprintf(text, sizeof text, "%.10g", v);
    put(j, text);
}

void brn_json_int(brn_json *j, const char *key, int64_t v) {
    char text[32];
    put_key(j, key);
    snprintf(text, sizeof text, "%lld", (long long)v);
    put(j, text);
}

void brn_json_bool(brn_json *j, const char *key, int v) {
    put_key(j, key);
    put(j, v ? "true" : "false");
}

void brn_json_null(brn_json *j, const char *key) {
    put_key(j, key);
    put(j, "null");
}

void brn_json_raw(brn_json *j, const char *key, const char *raw) {
    put_key(j, key);
    put(j, raw);
}

void brn_json_str(brn_json *j, const char *key, const char *v) {
    char one[8];
    put_key(j, key);
    put(j, "\"");
    for (; *v != '\0'; v++) {
        unsigned char ch = (unsigned char)*v;
        if (ch == '"' || ch == '\\') {
            one[0] = '\\';
            one[1] = (char)ch;
            one[2] = '\0';
        } else if (ch < 0x20) {
            snprintf(one, sizeof one, "\\u%04x", (unsigned)ch);
        } else {
            one[0] = (char)ch;
            one[1] = '\0';
        }
        put(j, one);
    }
    put(j, "\"");
}

/* ---- clock and PRNG ---------------------------------------------------------------------- */

double brn_now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

uint64_t brn_rand_next(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Fisher-Yates with a bounded draw (the tiny modulo bias of 64-bit draws is negligible). */
void brn_shuffle(int64_t *perm, int64_t n, uint64_t *state) {
    int64_t i;
    for (i = n - 1; i > 0; i--) {
        int64_t k = (int64_t)(brn_rand_next(state) % (uint64_t)(i + 1));
        int64_t tmp = perm[i];
        perm[i] = perm[k];
        perm[k] = tmp;
    }
}
