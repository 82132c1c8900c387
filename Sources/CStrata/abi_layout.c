/*
 * abi_layout.c - compile-time pins of the published Strata ABI layout (include/strata/).
 *
 * Every field of every published struct has its offset and size written out here as a number.
 * A header change that moves, resizes or removes a field (or changes a constant's value) stops
 * the build with a message naming the field. Appending a field in a new minor means adding its
 * line here and updating the struct's size; nothing above it may change.
 *
 * The layout is published for 64-bit targets (8-byte pointers, 8-byte-aligned int64_t and
 * double), such as x86-64 and AArch64 on Linux and macOS.
 *
 * This file defines no functions and no data; it exists only to be compiled.
 */
#include "../../include/strata/strata.h"

#if defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define ABI_ASSERT(condition, message) _Static_assert(condition, message)
#elif defined(__GNUC__) || defined(__clang__)
/* C99 has no _Static_assert; GCC and Clang accept it as an extension. */
#define ABI_ASSERT(condition, message) __extension__ _Static_assert(condition, message)
#else
#define ABI_ASSERT_JOIN2(a, b) a##b
#define ABI_ASSERT_JOIN(a, b) ABI_ASSERT_JOIN2(a, b)
#define ABI_ASSERT(condition, message) \
    typedef char ABI_ASSERT_JOIN(abi_assert_line_, __LINE__)[(condition) ? 1 : -1]
#endif

/** Pins the byte offset and byte size of `type.field`. */
#define ABI_FIELD(type, field, offset, size)                                            \
    ABI_ASSERT(offsetof(type, field) == (offset), #type "." #field " moved");           \
    ABI_ASSERT(sizeof(((type *)0)->field) == (size), #type "." #field " changed size")

/** Pins the size of `type`, padding included. */
#define ABI_SIZE(type, size) ABI_ASSERT(sizeof(type) == (size), #type " changed size")

/** Pins that the STRATA_..._INIT initializer of `type` is accepted (a wrong field count or type
 *  fails to compile; with -Wextra, a missing field warns). */
#define ABI_INIT(type, init) ABI_ASSERT(sizeof((type)init) == sizeof(type), #type " initializer")

ABI_ASSERT(sizeof(void *) == 8, "the Strata ABI layout is published for 64-bit targets");
ABI_ASSERT(sizeof(double) == 8 && sizeof(float) == 4, "IEEE binary64 and binary32 expected");

/* --- strata.h -------------------------------------------------------------------------- */

ABI_ASSERT(STRATA_ABI_MAJOR == 0, "ABI major");
ABI_ASSERT(STRATA_ABI_MINOR == 5, "ABI minor");
ABI_ASSERT(STRATA_ABI_VERSION == 0x00000005, "STRATA_ABI_VERSION encoding");
ABI_ASSERT(STRATA_MAKE_VERSION(2, 7) == 0x00020007u, "STRATA_MAKE_VERSION encoding");
ABI_ASSERT(STRATA_VERSION_MAJOR(0x00020007u) == 2, "STRATA_VERSION_MAJOR");
ABI_ASSERT(STRATA_VERSION_MINOR(0x00020007u) == 7, "STRATA_VERSION_MINOR");

/* --- tensor.h -------------------------------------------------------------------------- */

ABI_ASSERT(STRATA_MAX_NDIM == 8, "STRATA_MAX_NDIM");
ABI_ASSERT(STRATA_DTYPE_INT == 0, "STRATA_DTYPE_INT (DLPack kDLInt)");
ABI_ASSERT(STRATA_DTYPE_UINT == 1, "STRATA_DTYPE_UINT (DLPack kDLUInt)");
ABI_ASSERT(STRATA_DTYPE_FLOAT == 2, "STRATA_DTYPE_FLOAT (DLPack kDLFloat)");
ABI_ASSERT(STRATA_DEVICE_CPU == 1, "STRATA_DEVICE_CPU (DLPack kDLCPU)");
ABI_ASSERT(STRATA_TENSOR_READ_ONLY == 1, "STRATA_TENSOR_READ_ONLY");

ABI_FIELD(StrataDType, code, 0, 1);
ABI_FIELD(StrataDType, bits, 1, 1);
ABI_FIELD(StrataDType, lanes, 2, 2);
ABI_SIZE(StrataDType, 4);

ABI_FIELD(StrataTensor, data, 0, 8);
ABI_FIELD(StrataTensor, byte_offset, 8, 8);
ABI_FIELD(StrataTensor, device_type, 16, 4);
ABI_FIELD(StrataTensor, device_id, 20, 4);
ABI_FIELD(StrataTensor, dtype, 24, 4);
ABI_FIELD(StrataTensor, ndim, 28, 4);
ABI_FIELD(StrataTensor, shape, 32, 8);
ABI_FIELD(StrataTensor, strides, 40, 8);
ABI_FIELD(StrataTensor, flags, 48, 8);
ABI_SIZE(StrataTensor, 56);
ABI_INIT(StrataTensor, STRATA_TENSOR_INIT);

/* --- status.h -------------------------------------------------------------------------- */

ABI_ASSERT(sizeof(StrataStatus) == 4, "StrataStatus is int32_t");
ABI_ASSERT(STRATA_OK == 0, "STRATA_OK");
ABI_ASSERT(STRATA_ERR_INVALID_ARGUMENT == 1, "STRATA_ERR_INVALID_ARGUMENT");
ABI_ASSERT(STRATA_ERR_SHAPE_MISMATCH == 2, "STRATA_ERR_SHAPE_MISMATCH");
ABI_ASSERT(STRATA_ERR_UNSUPPORTED == 3, "STRATA_ERR_UNSUPPORTED");
ABI_ASSERT(STRATA_ERR_OUT_OF_MEMORY == 4, "STRATA_ERR_OUT_OF_MEMORY");
ABI_ASSERT(STRATA_ERR_INTERNAL == 5, "STRATA_ERR_INTERNAL");
ABI_ASSERT(STRATA_ERR_ABI_MISMATCH == 6, "STRATA_ERR_ABI_MISMATCH");
ABI_ASSERT(STRATA_ERROR_MESSAGE_SIZE == 512, "STRATA_ERROR_MESSAGE_SIZE");

ABI_FIELD(StrataError, struct_size, 0, 4);
ABI_FIELD(StrataError, code, 4, 4);
ABI_FIELD(StrataError, message, 8, 512);
ABI_SIZE(StrataError, 520);
ABI_INIT(StrataError, STRATA_ERROR_INIT);

/* --- host.h ---------------------------------------------------------------------------- */

ABI_ASSERT(STRATA_LOG_DEBUG == 0, "STRATA_LOG_DEBUG");
ABI_ASSERT(STRATA_LOG_INFO == 1, "STRATA_LOG_INFO");
ABI_ASSERT(STRATA_LOG_WARNING == 2, "STRATA_LOG_WARNING");
ABI_ASSERT(STRATA_LOG_ERROR == 3, "STRATA_LOG_ERROR");

ABI_FIELD(StrataHostAPI, struct_size, 0, 4);
ABI_FIELD(StrataHostAPI, abi_version, 4, 4);
ABI_FIELD(StrataHostAPI, host_ctx, 8, 8);
ABI_FIELD(StrataHostAPI, set_error, 16, 8);
ABI_FIELD(StrataHostAPI, log, 24, 8);
ABI_FIELD(StrataHostAPI, tensor_alloc, 32, 8);
ABI_FIELD(StrataHostAPI, tensor_release, 40, 8);
ABI_FIELD(StrataHostAPI, parallel_for, 48, 8);
ABI_FIELD(StrataHostAPI, thread_count, 56, 8);
ABI_FIELD(StrataHostAPI, config_get_int, 64, 8);
ABI_FIELD(StrataHostAPI, config_get_double, 72, 8);
ABI_FIELD(StrataHostAPI, config_get_string, 80, 8);
ABI_FIELD(StrataHostAPI, config_get_bool, 88, 8);
ABI_FIELD(StrataHostAPI, config_has, 96, 8);
ABI_FIELD(StrataHostAPI, get_interface, 104, 8);
ABI_SIZE(StrataHostAPI, 112);
ABI_INIT(StrataHostAPI, STRATA_HOST_API_INIT);

/* --- layer.h --------------------------------------------------------------------------- */

ABI_ASSERT(STRATA_PARAM_WEIGHT == 0, "STRATA_PARAM_WEIGHT");
ABI_ASSERT(STRATA_PARAM_BIAS == 1, "STRATA_PARAM_BIAS");
ABI_ASSERT(STRATA_PARAM_BUFFER == 2, "STRATA_PARAM_BUFFER");
ABI_ASSERT(STRATA_INIT_DEFAULT == 0, "STRATA_INIT_DEFAULT");
ABI_ASSERT(STRATA_INIT_ZEROS == 1, "STRATA_INIT_ZEROS");
ABI_ASSERT(STRATA_INIT_ONES == 2, "STRATA_INIT_ONES");
ABI_ASSERT(STRATA_INIT_XAVIER_UNIFORM == 3, "STRATA_INIT_XAVIER_UNIFORM");
ABI_ASSERT(STRATA_INIT_KAIMING_UNIFORM == 4, "STRATA_INIT_KAIMING_UNIFORM");
ABI_ASSERT(STRATA_INIT_KAIMING_NORMAL == 5, "STRATA_INIT_KAIMING_NORMAL");

ABI_FIELD(StrataParamInfo, struct_size, 0, 4);
ABI_FIELD(StrataParamInfo, abi_version, 4, 4);
ABI_FIELD(StrataParamInfo, name, 8, 8);
ABI_FIELD(StrataParamInfo, ndim, 16, 4);
ABI_FIELD(StrataParamInfo, reserved0, 20, 4);
ABI_FIELD(StrataParamInfo, shape, 24, 64);
ABI_FIELD(StrataParamInfo, role, 88, 4);
ABI_FIELD(StrataParamInfo, init, 92, 4);
ABI_FIELD(StrataParamInfo, fan_in, 96, 8);
ABI_FIELD(StrataParamInfo, fan_out, 104, 8);
ABI_SIZE(StrataParamInfo, 112);
ABI_INIT(StrataParamInfo, STRATA_PARAM_INFO_INIT);

ABI_FIELD(StrataLayerOps, struct_size, 0, 4);
ABI_FIELD(StrataLayerOps, abi_version, 4, 4);
ABI_FIELD(StrataLayerOps, create, 8, 8);
ABI_FIELD(StrataLayerOps, destroy, 16, 8);
ABI_FIELD(StrataLayerOps, infer_shape, 24, 8);
ABI_FIELD(StrataLayerOps, parameter_count, 32, 8);
ABI_FIELD(StrataLayerOps, parameter_info, 40, 8);
ABI_FIELD(StrataLayerOps, bind_parameters, 48, 8);
ABI_FIELD(StrataLayerOps, forward, 56, 8);
ABI_FIELD(StrataLayerOps, backward, 64, 8);
ABI_FIELD(StrataLayerOps, workspace_size, 72, 8);
ABI_FIELD(StrataLayerOps, bind_workspace, 80, 8);
ABI_FIELD(StrataLayerOps, create_with_context, 88, 8);  /* 0.3 */
ABI_SIZE(StrataLayerOps, 96);
ABI_INIT(StrataLayerOps, STRATA_LAYER_OPS_INIT);

/* --- optimizer.h ----------------------------------------------------------------------- */

ABI_FIELD(StrataOptimizerOps, struct_size, 0, 4);
ABI_FIELD(StrataOptimizerOps, abi_version, 4, 4);
ABI_FIELD(StrataOptimizerOps, create, 8, 8);
ABI_FIELD(StrataOptimizerOps, destroy, 16, 8);
ABI_FIELD(StrataOptimizerOps, step, 24, 8);
ABI_FIELD(StrataOptimizerOps, state_count, 32, 8);
ABI_FIELD(StrataOptimizerOps, state_name, 40, 8);
ABI_FIELD(StrataOptimizerOps, bind_state, 48, 8);
ABI_FIELD(StrataOptimizerOps, create_with_context, 56, 8);  /* 0.3 */
ABI_FIELD(StrataOptimizerOps, bind_weight_decay, 64, 8);  /* 0.3 */
ABI_SIZE(StrataOptimizerOps, 72);
ABI_INIT(StrataOptimizerOps, STRATA_OPTIMIZER_OPS_INIT);

/* --- loss.h ---------------------------------------------------------------------------- */

ABI_FIELD(StrataLossOps, struct_size, 0, 4);
ABI_FIELD(StrataLossOps, abi_version, 4, 4);
ABI_FIELD(StrataLossOps, create, 8, 8);
ABI_FIELD(StrataLossOps, destroy, 16, 8);
ABI_FIELD(StrataLossOps, forward, 24, 8);
ABI_FIELD(StrataLossOps, create_with_context, 32, 8);  /* 0.3 */
ABI_SIZE(StrataLossOps, 40);
ABI_INIT(StrataLossOps, STRATA_LOSS_OPS_INIT);

/* --- callback.h ------------------------------------------------------------------------ */

ABI_ASSERT(STRATA_EVENT_TRAIN_BEGIN == 0, "STRATA_EVENT_TRAIN_BEGIN");
ABI_ASSERT(STRATA_EVENT_EPOCH_BEGIN == 1, "STRATA_EVENT_EPOCH_BEGIN");
ABI_ASSERT(STRATA_EVENT_BATCH_BEGIN == 2, "STRATA_EVENT_BATCH_BEGIN");
ABI_ASSERT(STRATA_EVENT_BATCH_END == 3, "STRATA_EVENT_BATCH_END");
ABI_ASSERT(STRATA_EVENT_EPOCH_END == 4, "STRATA_EVENT_EPOCH_END");
ABI_ASSERT(STRATA_EVENT_TRAIN_END == 5, "STRATA_EVENT_TRAIN_END");

ABI_FIELD(StrataCallbackContext, struct_size, 0, 4);
ABI_FIELD(StrataCallbackContext, abi_version, 4, 4);
ABI_FIELD(StrataCallbackContext, epoch, 8, 8);
ABI_FIELD(StrataCallbackContext, epochs, 16, 8);
ABI_FIELD(StrataCallbackContext, batch, 24, 8);
ABI_FIELD(StrataCallbackContext, batches_per_epoch, 32, 8);
ABI_FIELD(StrataCallbackContext, global_step, 40, 8);
ABI_FIELD(StrataCallbackContext, learning_rate, 48, 8);
ABI_FIELD(StrataCallbackContext, stop, 56, 4);
ABI_FIELD(StrataCallbackContext, reserved0, 60, 4);
ABI_FIELD(StrataCallbackContext, train_loss, 64, 8);
ABI_FIELD(StrataCallbackContext, train_acc, 72, 8);
ABI_FIELD(StrataCallbackContext, test_acc, 80, 8);
ABI_FIELD(StrataCallbackContext, examples_per_s, 88, 8);
ABI_FIELD(StrataCallbackContext, run_dir, 96, 8);
ABI_FIELD(StrataCallbackContext, batch_loss, 104, 8);  /* 0.3 */
ABI_FIELD(StrataCallbackContext, test_loss, 112, 8);
ABI_FIELD(StrataCallbackContext, parameter_count, 120, 4);
ABI_FIELD(StrataCallbackContext, reserved1, 124, 4);
ABI_FIELD(StrataCallbackContext, parameter_names, 128, 8);
ABI_FIELD(StrataCallbackContext, parameters, 136, 8);
ABI_FIELD(StrataCallbackContext, gradients, 144, 8);
ABI_FIELD(StrataCallbackContext, model, 152, 8);  /* 0.5 */
ABI_SIZE(StrataCallbackContext, 160);
ABI_INIT(StrataCallbackContext, STRATA_CALLBACK_CONTEXT_INIT);

ABI_FIELD(StrataCallbackOps, struct_size, 0, 4);
ABI_FIELD(StrataCallbackOps, abi_version, 4, 4);
ABI_FIELD(StrataCallbackOps, create, 8, 8);
ABI_FIELD(StrataCallbackOps, destroy, 16, 8);
ABI_FIELD(StrataCallbackOps, on_event, 24, 8);
ABI_FIELD(StrataCallbackOps, create_with_context, 32, 8);  /* 0.3 */
ABI_SIZE(StrataCallbackOps, 40);
ABI_INIT(StrataCallbackOps, STRATA_CALLBACK_OPS_INIT);

/* --- model.h --------------------------------------------------------------------------- */

ABI_FIELD(StrataModelOps, struct_size, 0, 4);
ABI_FIELD(StrataModelOps, abi_version, 4, 4);
ABI_FIELD(StrataModelOps, build, 8, 8);
ABI_FIELD(StrataModelOps, release_string, 16, 8);
ABI_FIELD(StrataModelOps, build_with_context, 24, 8);  /* 0.3 */
ABI_SIZE(StrataModelOps, 32);
ABI_INIT(StrataModelOps, STRATA_MODEL_OPS_INIT);

/* --- scheme.h -------------------------------------------------------------------------- */

ABI_ASSERT(STRATA_TRAIN_INTERFACE_VERSION == 0x00000003u, "strata.train interface version");
ABI_ASSERT(STRATA_SPLIT_TRAIN == 0, "STRATA_SPLIT_TRAIN");
ABI_ASSERT(STRATA_SPLIT_TEST == 1, "STRATA_SPLIT_TEST");
ABI_ASSERT(STRATA_DATASET_SHUFFLE == 1, "STRATA_DATASET_SHUFFLE");
ABI_ASSERT(STRATA_DATASET_AUGMENT == 2, "STRATA_DATASET_AUGMENT");
ABI_ASSERT(STRATA_DATASET_DROP_LAST == 4, "STRATA_DATASET_DROP_LAST");

ABI_FIELD(StrataParameter, struct_size, 0, 4);
ABI_FIELD(StrataParameter, abi_version, 4, 4);
ABI_FIELD(StrataParameter, name, 8, 8);
ABI_FIELD(StrataParameter, value, 16, 8);
ABI_FIELD(StrataParameter, grad, 24, 8);
ABI_FIELD(StrataParameter, role, 32, 4);
ABI_FIELD(StrataParameter, reserved0, 36, 4);
ABI_SIZE(StrataParameter, 40);
ABI_INIT(StrataParameter, STRATA_PARAMETER_INIT);

ABI_FIELD(StrataBatch, struct_size, 0, 4);
ABI_FIELD(StrataBatch, abi_version, 4, 4);
ABI_FIELD(StrataBatch, count, 8, 8);
ABI_FIELD(StrataBatch, inputs, 16, 8);
ABI_FIELD(StrataBatch, targets, 24, 8);
ABI_FIELD(StrataBatch, indices, 32, 8);
ABI_SIZE(StrataBatch, 40);
ABI_INIT(StrataBatch, STRATA_BATCH_INIT);

ABI_FIELD(StrataTrainAPI, struct_size, 0, 4);
ABI_FIELD(StrataTrainAPI, abi_version, 4, 4);
ABI_FIELD(StrataTrainAPI, run_recipe, 8, 8);
ABI_FIELD(StrataTrainAPI, run_directory, 16, 8);
ABI_FIELD(StrataTrainAPI, run_log_metrics, 24, 8);
ABI_FIELD(StrataTrainAPI, run_dispatch_event, 32, 8);
ABI_FIELD(StrataTrainAPI, run_save_checkpoint, 40, 8);
ABI_FIELD(StrataTrainAPI, model_build, 48, 8);
ABI_FIELD(StrataTrainAPI, model_release, 56, 8);
ABI_FIELD(StrataTrainAPI, model_child_count, 64, 8);
ABI_FIELD(StrataTrainAPI, model_forward, 72, 8);
ABI_FIELD(StrataTrainAPI, model_backward, 80, 8);
ABI_FIELD(StrataTrainAPI, model_zero_grad, 88, 8);
ABI_FIELD(StrataTrainAPI, model_parameter_count, 96, 8);
ABI_FIELD(StrataTrainAPI, model_parameter, 104, 8);
ABI_FIELD(StrataTrainAPI, optimizer_create, 112, 8);
ABI_FIELD(StrataTrainAPI, optimizer_release, 120, 8);
ABI_FIELD(StrataTrainAPI, optimizer_step, 128, 8);
ABI_FIELD(StrataTrainAPI, dataset_open, 136, 8);
ABI_FIELD(StrataTrainAPI, dataset_release, 144, 8);
ABI_FIELD(StrataTrainAPI, dataset_size, 152, 8);
ABI_FIELD(StrataTrainAPI, dataset_next, 160, 8);
ABI_FIELD(StrataTrainAPI, dataset_reset, 168, 8);
ABI_FIELD(StrataTrainAPI, model_child_kind, 176, 8);
ABI_FIELD(StrataTrainAPI, model_child_name, 184, 8);
ABI_FIELD(StrataTrainAPI, model_child_shape, 192, 8);
ABI_FIELD(StrataTrainAPI, model_graph, 200, 8);
ABI_FIELD(StrataTrainAPI, dataset_class_count, 208, 8);
ABI_FIELD(StrataTrainAPI, model_hook, 216, 8);          /* interface 0.3 */
ABI_FIELD(StrataTrainAPI, hook_output, 224, 8);         /* interface 0.3 */
ABI_FIELD(StrataTrainAPI, hook_remove, 232, 8);         /* interface 0.3 */
ABI_SIZE(StrataTrainAPI, 240);
ABI_INIT(StrataTrainAPI, STRATA_TRAIN_API_INIT);

ABI_FIELD(StrataSchemeOps, struct_size, 0, 4);
ABI_FIELD(StrataSchemeOps, abi_version, 4, 4);
ABI_FIELD(StrataSchemeOps, create, 8, 8);
ABI_FIELD(StrataSchemeOps, destroy, 16, 8);
ABI_FIELD(StrataSchemeOps, run, 24, 8);
ABI_FIELD(StrataSchemeOps, create_with_context, 32, 8);  /* 0.3 */
ABI_SIZE(StrataSchemeOps, 40);
ABI_INIT(StrataSchemeOps, STRATA_SCHEME_OPS_INIT);

/* --- plugin.h -------------------------------------------------------------------------- */

ABI_ASSERT(STRATA_COMPONENT_LAYER == 0, "STRATA_COMPONENT_LAYER");
ABI_ASSERT(STRATA_COMPONENT_OPTIMIZER == 1, "STRATA_COMPONENT_OPTIMIZER");
ABI_ASSERT(STRATA_COMPONENT_LOSS == 2, "STRATA_COMPONENT_LOSS");
ABI_ASSERT(STRATA_COMPONENT_CALLBACK == 3, "STRATA_COMPONENT_CALLBACK");
ABI_ASSERT(STRATA_COMPONENT_MODEL == 4, "STRATA_COMPONENT_MODEL");
ABI_ASSERT(STRATA_COMPONENT_SCHEME == 5, "STRATA_COMPONENT_SCHEME");

ABI_FIELD(StrataComponent, struct_size, 0, 4);
ABI_FIELD(StrataComponent, abi_version, 4, 4);
ABI_FIELD(StrataComponent, kind, 8, 4);
ABI_FIELD(StrataComponent, reserved0, 12, 4);
ABI_FIELD(StrataComponent, name, 16, 8);
ABI_FIELD(StrataComponent, description, 24, 8);
ABI_FIELD(StrataComponent, ops, 32, 8);
ABI_FIELD(StrataComponent, ffi_constructor, 40, 8);
ABI_FIELD(StrataComponent, context, 48, 8);  /* 0.3 */
ABI_SIZE(StrataComponent, 56);
ABI_INIT(StrataComponent, STRATA_COMPONENT_INIT);

ABI_FIELD(StrataPluginInfo, struct_size, 0, 4);
ABI_FIELD(StrataPluginInfo, abi_version, 4, 4);
ABI_FIELD(StrataPluginInfo, plugin_name, 8, 8);
ABI_FIELD(StrataPluginInfo, plugin_version, 16, 8);
ABI_FIELD(StrataPluginInfo, component_count, 24, 4);
ABI_FIELD(StrataPluginInfo, reserved0, 28, 4);
ABI_FIELD(StrataPluginInfo, components, 32, 8);
ABI_SIZE(StrataPluginInfo, 40);
ABI_INIT(StrataPluginInfo, STRATA_PLUGIN_INFO_INIT);
