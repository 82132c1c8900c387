import CStrata
import CStrataKernels

/// The one way the host creates an instance of a plugin component (layer, loss, optimizer,
/// callback, scheme): `create_with_context` with the component's `StrataComponent.context` when
/// the ops table has it (ABI 0.3), else `create`. The options go in as JSON text and, when
/// `withObject` is set, as a borrowed json-c object released when the call returns.
enum PluginCreate {
    typealias Plain = @convention(c) (UnsafePointer<CChar>?, UnsafeRawPointer?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                      UnsafeMutablePointer<StrataError>?) -> StrataStatus
    typealias WithContext = @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?, UnsafeRawPointer?,
                                            UnsafeMutablePointer<UnsafeMutableRawPointer?>?, UnsafeMutablePointer<StrataError>?) -> StrataStatus

    /// Calls `withContext` (preferred) or `plain`; the loader has checked that one is set.
    static func call(_ plain: Plain?, _ withContext: WithContext?, context: UnsafeMutableRawPointer?, options: JSONObject,
                     withObject: Bool, instance: inout UnsafeMutableRawPointer?, err: inout StrataError) -> StrataStatus {
        JSONValue.object(options).serialized(pretty: false).withCString { json in
            let object = withObject ? sk_json_parse(json) : nil
            defer { if let object { sk_json_release(object) } }
            if let withContext { return withContext(context, json, UnsafeRawPointer(object), &instance, &err) }
            guard let plain else {
                err.code = STRATA_ERR_INTERNAL
                return STRATA_ERR_INTERNAL
            }
            return plain(json, UnsafeRawPointer(object), &instance, &err)
        }
    }
}
