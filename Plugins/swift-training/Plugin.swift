import CStrata
import StrataKit

/// The plugin's entry point: the three lines the kit asks for.
@_cdecl("strata_plugin_entry")
public func strataPluginEntry(_ host: UnsafePointer<StrataHostAPI>?, _ info: UnsafeMutablePointer<StrataPluginInfo>?,
                              _ err: UnsafeMutablePointer<StrataError>?) -> StrataStatus {
    StrataPlugin.register(name: "swift-training", version: "0.1.0", components: [
        .loss(LabelSmoothingCrossEntropy.self, name: "label_smoothing_ce", description: "Softmax cross-entropy against labels smoothed by epsilon (torch's label_smoothing)."),
        .optimizer(Lion.self, name: "lion", description: "Lion (Chen et al. 2023): the sign of an interpolated momentum, decoupled weight decay."),
        .callback(LinearWarmup.self, name: "lr_warmup", description: "Scales the learning rate linearly from start_factor to 1 over the first steps."),
    ], host: host, info: info, error: err)
}
