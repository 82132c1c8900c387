/*
 * strata.h - the Strata C ABI, version 0.5.
 *
 * This is the only contract between the Strata core and a plugin. A plugin is a shared library
 * that exports one function, `strata_plugin_entry` (plugin.h), and describes its components
 * (layers, optimizers, losses, callbacks, model builders, training schemes) as tables of
 * function pointers. The core hands the plugin a table of host functions (host.h). Plugins link
 * nothing of the core.
 *
 * Include this header. The topic headers it includes are a way to read the ABI one concern at a
 * time; each of them includes this file first, so including any one of them gives the whole ABI.
 *
 *   tensor.h     StrataTensor, the tensor descriptor (DLPack semantics)
 *   status.h     StrataStatus codes and StrataError, the error buffer
 *   host.h       StrataHostAPI, the functions the core offers every plugin
 *   layer.h      StrataLayerOps
 *   optimizer.h  StrataOptimizerOps
 *   loss.h       StrataLossOps
 *   callback.h   StrataCallbackOps and StrataCallbackContext
 *   model.h      StrataModelOps (model builders)
 *   scheme.h     StrataSchemeOps and StrataTrainAPI, the "strata.train" host interface
 *   plugin.h     StrataComponent, StrataPluginInfo, strata_plugin_entry, the versioning policy
 *
 * Rules that hold everywhere (docs/abi.md explains them with examples):
 *
 * Ownership. Whoever allocates frees, through its own table. The host allocates activations,
 *   gradients, parameters and optimizer state; a plugin never frees memory it did not allocate.
 *   Anything a plugin allocates for the host to hold comes with a release function in the same
 *   table. Every pointer argument is borrowed for the duration of the call unless its comment
 *   says otherwise. Strings a plugin hands out in descriptors (names, descriptions) live as long
 *   as the library, which the host never unloads while the process runs.
 *
 * Errors. Every fallible function returns a StrataStatus and receives a host-owned StrataError
 *   that it fills with a sentence through host->set_error. Nothing unwinds across the boundary:
 *   no C++ exception, Swift error, longjmp, abort or exit leaves a plugin.
 *
 * Threading classes. Every function of an ops table belongs to one class:
 *   Discovery  may run on any thread, concurrently with any other call; touches no mutable state.
 *   Instance   may run on any thread, but never concurrently with another call on the same
 *              instance; distinct instances may be used concurrently.
 *   Compute    the per-batch hot path; the rules of Instance, and it should not allocate. It may
 *              split its work with host->parallel_for. Distinct instances may compute in parallel.
 *   Plugins keep no mutable global state (the host table pointer, stored once by the entry
 *   point before any other call, is the usual exception) and start no threads of their own.
 *   Host functions are thread-safe unless their comment says otherwise.
 *
 * Versioning. Every ops table and extensible struct starts with `uint32_t struct_size;
 *   uint32_t abi_version;`. Fields are only appended; a reader uses a field only when it lies
 *   within `struct_size` (STRATA_HAS_FIELD) and still NULL-checks every optional pointer. A major
 *   mismatch is refused; a minor mismatch is adapted to. The full policy is in plugin.h.
 *
 * Hygiene. Fixed-width integer types; constants are #defined values stored in int32_t fields
 *   (dtype codes in uint8_t, flag bits in uint64_t), never enum-typed fields; no variadic
 *   functions; every callback takes a `void *ctx`; C99 and C++ compatible; includes only
 *   <stdint.h> and <stddef.h>.
 *   All structures are laid out for 64-bit targets; Sources/CStrata/abi_layout.c pins every
 *   field's offset and size.
 */
#ifndef STRATA_STRATA_H
#define STRATA_STRATA_H

#include <stddef.h>
#include <stdint.h>

/** Major version of the ABI these headers describe. A plugin of another major is refused. */
#define STRATA_ABI_MAJOR 0
/** Minor version of the ABI these headers describe. Minors only append fields and constants. */
#define STRATA_ABI_MINOR 5

/** Encodes a (major, minor) pair as one uint32_t value: major in the high 16 bits, minor in the
 *  low 16. Usable in #if. */
#define STRATA_MAKE_VERSION(major, minor) (((major) << 16) | (minor))
/** The major part of a version encoded by STRATA_MAKE_VERSION. */
#define STRATA_VERSION_MAJOR(version) (((version) >> 16) & 0xFFFF)
/** The minor part of a version encoded by STRATA_MAKE_VERSION. */
#define STRATA_VERSION_MINOR(version) ((version) & 0xFFFF)

/** The ABI version of these headers, (STRATA_ABI_MAJOR << 16) | STRATA_ABI_MINOR: 0x00000005
 *  for ABI 0.5. Written into the `abi_version` field of every table and extensible struct.
 *  Spelled as one unsigned literal so that Swift imports it (as UInt32, the type of those
 *  fields) and #if can test it; the check below keeps it equal to the encoded pair. */
#define STRATA_ABI_VERSION 0x00000005u

#if STRATA_ABI_VERSION != STRATA_MAKE_VERSION(STRATA_ABI_MAJOR, STRATA_ABI_MINOR)
#error "STRATA_ABI_VERSION must equal (STRATA_ABI_MAJOR << 16) | STRATA_ABI_MINOR"
#endif

/** Marks the one symbol a plugin exports, `strata_plugin_entry` (and, when it declares one,
 *  the typed constructors named by StrataComponent.ffi_constructor). Plugins are built with
 *  -fvisibility=hidden so that nothing else leaves the library. */
#if defined(_WIN32) || defined(__CYGWIN__)
#define STRATA_EXPORT __declspec(dllexport)
#elif defined(__GNUC__) || defined(__clang__)
#define STRATA_EXPORT __attribute__((visibility("default")))
#else
#define STRATA_EXPORT
#endif

/** The first two initializers of any versioned struct: its size and STRATA_ABI_VERSION.
 *  Lets a C plugin write a constant table with designated initializers:
 *      static const StrataLayerOps ops = { STRATA_STRUCT_HEADER(StrataLayerOps),
 *                                          .create = my_create, ... };
 *  Every field left out is zero (NULL). */
#define STRATA_STRUCT_HEADER(type) (uint32_t)sizeof(type), (uint32_t)STRATA_ABI_VERSION

/** Nonzero when the struct `*ptr` of type `type` is large enough to hold `field`, judged by its
 *  own `struct_size`. Check this before reading any field added after ABI 0.1, and still
 *  NULL-check optional function pointers: a size says a slot exists, not that it is filled. */
#define STRATA_HAS_FIELD(type, ptr, field) \
    ((ptr)->struct_size >= offsetof(type, field) + sizeof(((type *)0)->field))

/** Nonzero when the function pointer `field` of `*ptr` lies within its `struct_size` and is
 *  not NULL, i.e. when it may be called. */
#define STRATA_HAS_FUNCTION(type, ptr, field) \
    (STRATA_HAS_FIELD(type, ptr, field) && (ptr)->field != NULL)

#ifdef __cplusplus
extern "C" {
#endif

/* The topics, in dependency order. Each carries its own extern "C" guard as well. */
#include "tensor.h"
#include "status.h"
#include "host.h"
#include "layer.h"
#include "optimizer.h"
#include "loss.h"
#include "callback.h"
#include "model.h"
#include "scheme.h"
#include "plugin.h"

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STRATA_STRATA_H */
