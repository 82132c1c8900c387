import CStrata

/// A forward hook handed to a scheme (`StrataHook`, interface 0.3): the core's ``ForwardHook``
/// and the descriptor of its copy. Removing the handle (hook_remove, or the end of the run)
/// removes the hook, so a layer nobody watches is never copied.
final class SchemeHook {
    let hook: ForwardHook
    /// Describes `hook.output`; refreshed by each hook_output call.
    let box = DescriptorBox()

    init(_ hook: ForwardHook) { self.hook = hook }

    deinit { hook.remove() }
}

func trainModelHook(_ model: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<OpaquePointer?>?,
                    _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    guard let m = TrainInterface.object(model, as: SchemeModel.self), let name, let out else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "model_hook: bad model handle, or NULL layer name or out")
    }
    out.pointee = nil
    let layer = String(cString: name)
    guard !layer.isEmpty else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "model_hook: the layer name is empty; name a layer inside the model (e.g. a model_child_name)")
    }
    return TrainInterface.guarded(err, "model_hook") {
        let hook = try m.model.hook(layer: layer)
        out.pointee = OpaquePointer(m.run.retain(SchemeHook(hook)))
    }
}

func trainHookOutput(_ hook: OpaquePointer?, _ output: UnsafeMutablePointer<UnsafePointer<StrataTensor>?>?,
                     _ captures: UnsafeMutablePointer<Int64>?, _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    guard let h = TrainInterface.object(hook, as: SchemeHook.self), let output else {
        return TrainInterface.fail(err, STRATA_ERR_INVALID_ARGUMENT, "hook_output: bad hook handle or NULL output")
    }
    captures?.pointee = Int64(h.hook.captures)
    guard let copy = h.hook.output else {
        output.pointee = nil
        return STRATA_OK
    }
    h.box.update(copy, readOnly: true)
    output.pointee = UnsafePointer(h.box.tensor)
    return STRATA_OK
}

func trainHookRemove(_ hook: OpaquePointer?) {
    TrainInterface.release(hook, as: SchemeHook.self)
}
