import CStrataKernels

/// The CPU a run executes on and the BLAS it uses, as `strata run` and `strata bench` print them
/// in their first lines and record them in `summary.json` (`machine`).
///
/// OpenBLAS is opened at start-up by the kernels (blas_loader.c) after choosing its kernels
/// from the CPU's feature bits; see docs/bench.md.
public struct MachineInfo: Sendable {
    /// CPU brand string, e.g. "AMD EPYC".
    public let cpuModel: String
    /// Feature names the kernels care about, e.g. ["AVX2", "FMA"].
    public let cpuFeatures: [String]
    /// The library opened, e.g. "libopenblas.so.0".
    public let blasLibrary: String
    /// `openblas_get_config()`, e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Zen MAX_THREADS=64".
    public let blasConfig: String
    /// The core whose kernels run, e.g. "Zen".
    public let blasCore: String
    /// The core the feature bits allow (what Strata asks for unless the user set OPENBLAS_CORETYPE).
    public let cpuidCore: String
    /// Who chose the core: "cpuid", "user" (OPENBLAS_CORETYPE) or "library".
    public let coreSource: String

    /// This process's machine facts; throws when no BLAS could be opened.
    public static func current() throws -> MachineInfo {
        guard sk_blas_load() == 0 else {
            throw CoreError.runtime("no BLAS could be opened: " + String(cString: sk_blas_error()))
        }
        let f = sk_cpu_features()
        return MachineInfo(cpuModel: String(cString: sk_cpu_model()), cpuFeatures: featureNames(f),
                           blasLibrary: String(cString: sk_blas_library()), blasConfig: String(cString: sk_blas_config()),
                           blasCore: String(cString: sk_blas_core()), cpuidCore: String(cString: sk_blas_core_for_features(f)),
                           coreSource: String(cString: sk_blas_core_source()))
    }

    /// Names of the set bits among SK_CPU_* (vendor flag excluded), widest last.
    public static func featureNames(_ f: UInt32) -> [String] {
        let table: [(Int, String)] = [
            (SK_CPU_SSE3, "SSE3"), (SK_CPU_SSSE3, "SSSE3"), (SK_CPU_SSE4_2, "SSE4.2"), (SK_CPU_AVX, "AVX"),
            (SK_CPU_AVX2, "AVX2"), (SK_CPU_FMA, "FMA"), (SK_CPU_AVX512F, "AVX512F"), (SK_CPU_AVX512BW, "AVX512BW"),
            (SK_CPU_AVX512DQ, "AVX512DQ"), (SK_CPU_AVX512VL, "AVX512VL"), (SK_CPU_AVX512_BF16, "AVX512_BF16"),
        ]
        return table.filter { f & UInt32($0.0) != 0 }.map(\.1)
    }

    /// True when the running core is one of OpenBLAS's generic ones (Prescott, Core2, Nehalem, …).
    public var coreIsGeneric: Bool { sk_blas_core_is_generic(blasCore) != 0 }

    /// The two lines the CLI prints first.
    public var lines: [String] {
        let how: String
        switch coreSource {
        case "cpuid": how = "chosen from cpuid"
        case "user": how = "OPENBLAS_CORETYPE set by the user"
        default: how = "chosen by the library"
        }
        let version = blasConfig.split(separator: " ").prefix(2).joined(separator: " ")
        return [
            "cpu: \(cpuModel) (\(cpuFeatures.filter { $0.hasPrefix("AVX") || $0 == "FMA" }.joined(separator: " ")))",
            "blas: \(version.isEmpty ? blasLibrary : version), core \(blasCore) (\(how))",
        ]
    }

    /// The `machine` object of `summary.json`.
    public var json: JSONValue {
        .object(JSONObject([
            ("cpu_model", .string(cpuModel)),
            ("cpu_features", .array(cpuFeatures.map { .string($0) })),
            ("blas_library", .string(blasLibrary)),
            ("blas_config", .string(blasConfig)),
            ("blas_core", .string(blasCore)),
            ("blas_core_source", .string(coreSource)),
        ]))
    }
}
