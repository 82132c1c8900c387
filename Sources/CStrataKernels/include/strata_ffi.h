/* strata_ffi.h - the host's side of typed plugin constructors (libffi) and of the json-c
 * configuration object handed to a plugin's create. Swift calls these instead of libffi and
 * json-c directly. */
#ifndef STRATA_FFI_H
#define STRATA_FFI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Argument types of a typed constructor, the manifest's closed vocabulary. */
#define SK_FFI_INT32 0   /* int32_t */
#define SK_FFI_INT64 1   /* int64_t */
#define SK_FFI_FLOAT32 2 /* float, passed as float (no promotion) */
#define SK_FFI_FLOAT64 3 /* double */
#define SK_FFI_BOOL 4    /* int32_t, 0 or 1 */
#define SK_FFI_STRING 5  /* const char *, borrowed for the call */

/* Most declared arguments a constructor may take (the trailing err is extra). */
#define SK_FFI_MAX_ARGS 32

/** One argument value; the member read is the one of its declared type. */
typedef union sk_ffi_value {
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    const char *str;
} sk_ffi_value;

/** A prepared call `void *fn(args..., void *err)`: one non-variadic cif, made once. */
typedef struct sk_ffi_constructor sk_ffi_constructor;

/** Prepares a call of `fn` taking `count` arguments of `types` (SK_FFI_*) and a final pointer,
 *  returning a pointer. Returns NULL when a type is unknown, `count` is out of range, or
 *  ffi_prep_cif fails (then `*status` holds the ffi_status, or -1). The result lives until
 *  sk_ffi_free. */
sk_ffi_constructor *sk_ffi_prepare(void *fn, int32_t count, const int32_t *types, int32_t *status);

/** Calls the prepared constructor with `values` (one per declared argument) and `err` as the
 *  final argument; returns what it returned. */
void *sk_ffi_call(const sk_ffi_constructor *c, const sk_ffi_value *values, void *err);

/** Frees a prepared call (NULL is allowed). */
void sk_ffi_free(sk_ffi_constructor *c);

/** Parses JSON text with json-c's json_tokener_parse; returns the new `json_object *` (owned
 *  by the caller, released with sk_json_release) or NULL when the text is not valid JSON. */
void *sk_json_parse(const char *text);

/** json_object_put on an object from sk_json_parse (NULL is allowed). */
void sk_json_release(void *object);

#ifdef __cplusplus
}
#endif

#endif /* STRATA_FFI_H */
