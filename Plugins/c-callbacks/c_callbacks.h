/* c_callbacks.h - what the files of the c-callbacks plugin share. */
#ifndef C_CALLBACKS_H
#define C_CALLBACKS_H

#include <strata/strata.h>

/* The host table, written once by strata_plugin_entry (grad_norm_log.c) before any other call. */
extern const StrataHostAPI *c_callbacks_host;

/* The ops of the layer_output_log callback (layer_output_log.c). */
extern const StrataCallbackOps layer_output_log_ops;

#endif /* C_CALLBACKS_H */
