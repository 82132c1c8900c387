import CStrataKernels
import Foundation
import Testing
@testable import StrataCore

/// The OpenBLAS core chosen from cpuid feature bits, and the core actually running here.
@Suite("BLAS core selection")
struct BLASCoreTests {
    static let sse = UInt32(SK_CPU_SSE3 | SK_CPU_SSSE3 | SK_CPU_SSE4_2)
    static let avx2 = sse | UInt32(SK_CPU_AVX | SK_CPU_AVX2 | SK_CPU_FMA)
    static let avx512 = avx2 | UInt32(SK_CPU_AVX512F | SK_CPU_AVX512BW | SK_CPU_AVX512DQ | SK_CPU_AVX512VL)
    static let amd = UInt32(SK_CPU_VENDOR_AMD)

    /// Real CPUs by their feature bits (cpuid leaves 1, 7.0 and 7.1 with OS support).
    @Test(arguments: [
        ("Pentium 4 Prescott", UInt32(SK_CPU_SSE3), "Prescott"),
        ("Core 2 Merom", UInt32(SK_CPU_SSE3 | SK_CPU_SSSE3), "Core2"),
        ("Core i7 Nehalem", sse, "Nehalem"),
        ("Xeon E5 Sandy Bridge", sse | UInt32(SK_CPU_AVX), "Sandybridge"),
        ("Xeon E5 v3 Haswell", avx2, "Haswell"),
        ("EPYC 7001 Zen 1", amd | avx2, "Zen"),
        ("EPYC 7003 Zen 3", amd | avx2, "Zen"),
        ("Xeon Scalable Skylake-SP", avx512, "SkylakeX"),
        ("Xeon Cascade Lake", avx512, "SkylakeX"),
        ("Xeon Cooper Lake", avx512 | UInt32(SK_CPU_AVX512_BF16), "Cooperlake"),
        ("Xeon Sapphire Rapids (model 143)", avx512 | UInt32(SK_CPU_AVX512_BF16), "Cooperlake"),
        ("Xeon Emerald/Granite Rapids (model 207, 173)", avx512 | UInt32(SK_CPU_AVX512_BF16), "Cooperlake"),
        ("EPYC 9004 Zen 4", amd | avx512 | UInt32(SK_CPU_AVX512_BF16), "Cooperlake"),
        // AVX-512F without BW/DQ/VL (Xeon Phi Knights Landing): SkylakeX kernels would fault.
        ("Xeon Phi KNL", avx2 | UInt32(SK_CPU_AVX512F), "Haswell"),
        // AVX2 without FMA does not occur in shipped CPUs, but must not select FMA kernels.
        ("AVX2 without FMA", sse | UInt32(SK_CPU_AVX | SK_CPU_AVX2), "Sandybridge"),
        // A hypervisor that hides the YMM state: cpuid reports no AVX at all.
        ("VM without XSAVE", sse, "Nehalem"),
    ])
    func coreFromFeatures(cpu: String, features: UInt32, core: String) {
        #expect(String(cString: sk_blas_core_for_features(features)) == core, "\(cpu)")
    }

    @Test func genericCoresAreRecognised() {
        for core in ["Prescott", "Core2", "Nehalem", "Penryn", "Atom", "Unknown", "prescott"] {
            #expect(sk_blas_core_is_generic(core) == 1, "\(core)")
        }
        for core in ["Haswell", "Zen", "SkylakeX", "Cooperlake", "Sandybridge"] {
            #expect(sk_blas_core_is_generic(core) == 0, "\(core)")
        }
    }

    /// On this machine: the BLAS is open and, when the CPU has AVX2, runs a non-generic core —
    /// the one cpuid allows unless OPENBLAS_CORETYPE was set by hand.
    @Test func loadedCoreUsesTheCPU() throws {
        let machine = try MachineInfo.current()
        #expect(!machine.blasCore.isEmpty)
        #expect(machine.blasConfig.hasPrefix("OpenBLAS"), "\(machine.blasConfig)")
        if machine.cpuFeatures.contains("AVX2") && machine.coreSource != "user" {
            #expect(!machine.coreIsGeneric, "core \(machine.blasCore) on \(machine.cpuModel)")
        }
        if machine.coreSource == "cpuid" {
            #expect(machine.blasCore.lowercased() == machine.cpuidCore.lowercased())
        }
        // Restored after loading: child processes see the user's environment.
        if machine.coreSource == "cpuid" {
            #expect(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil)
        }
        #expect(machine.lines.count == 2)
        #expect(machine.lines[1].contains("core \(machine.blasCore)"))
    }
}
