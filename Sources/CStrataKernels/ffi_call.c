/* ffi_call.c - typed plugin constructors through libffi, and the json-c configuration object
 * (strata_ffi.h). One non-variadic cif per constructor, prepared when the plugin is loaded;
 * float32 arguments are passed as float; the return is read into a pointer-sized buffer. */
#include <ffi.h>
#include <json-c/json.h>
#include <stdlib.h>

#include "strata_ffi.h"

struct sk_ffi_constructor {
    ffi_cif cif;
    void (*fn)(void);
    int32_t count;
    int32_t types[SK_FFI_MAX_ARGS];
    ffi_type *arg_types[SK_FFI_MAX_ARGS + 1];
};

static ffi_type *ffi_type_of(int32_t type) {
    switch (type) {
    case SK_FFI_INT32: return &ffi_type_sint32;
    case SK_FFI_INT64: return &ffi_type_sint64;
    case SK_FFI_FLOAT32: return &ffi_type_float;
    case SK_FFI_FLOAT64: return &ffi_type_double;
    case SK_FFI_BOOL: return &ffi_type_sint32;
    case SK_FFI_STRING: return &ffi_type_pointer;
    default: return NULL;
    }
}

sk_ffi_constructor *sk_ffi_prepare(void *fn, int32_t count, const int32_t *types, int32_t *status) {
    sk_ffi_constructor *c;
    ffi_status s;
    int32_t i;
    if (status != NULL) *status = -1;
    if (fn == NULL || count < 0 || count > SK_FFI_MAX_ARGS || (count > 0 && types == NULL)) return NULL;
    c = (sk_ffi_constructor *)calloc(1, sizeof *c);
    if (c == NULL) return NULL;
    for (i = 0; i < count; i++) {
        c->arg_types[i] = ffi_type_of(types[i]);
        if (c->arg_types[i] == NULL) { free(c); return NULL; }
        c->types[i] = types[i];
    }
    c->arg_types[count] = &ffi_type_pointer; /* StrataError *err */
    c->count = count;
    c->fn = (void (*)(void))fn;
    s = ffi_prep_cif(&c->cif, FFI_DEFAULT_ABI, (unsigned)count + 1, &ffi_type_pointer, c->arg_types);
    if (status != NULL) *status = (int32_t)s;
    if (s != FFI_OK) { free(c); return NULL; }
    return c;
}

void *sk_ffi_call(const sk_ffi_constructor *c, const sk_ffi_value *values, void *err) {
    void *args[SK_FFI_MAX_ARGS + 1];
    sk_ffi_value copies[SK_FFI_MAX_ARGS];
    union { ffi_arg word; void *pointer; } result; /* at least sizeof(ffi_arg), pointer-sized */
    void *err_arg = err;
    int32_t i;
    for (i = 0; i < c->count; i++) {
        copies[i] = values[i];
        switch (c->types[i]) {
        case SK_FFI_INT64: args[i] = &copies[i].i64; break;
        case SK_FFI_FLOAT32: args[i] = &copies[i].f32; break;
        case SK_FFI_FLOAT64: args[i] = &copies[i].f64; break;
        case SK_FFI_STRING: args[i] = &copies[i].str; break;
        default: args[i] = &copies[i].i32; break;
        }
    }
    args[c->count] = &err_arg;
    result.pointer = NULL;
    ffi_call((ffi_cif *)&c->cif, c->fn, &result, args);
    return result.pointer;
}

void sk_ffi_free(sk_ffi_constructor *c) { free(c); }

void *sk_json_parse(const char *text) {
    if (text == NULL) return NULL;
    return json_tokener_parse(text);
}

void sk_json_release(void *object) {
    if (object != NULL) json_object_put((json_object *)object);
}
