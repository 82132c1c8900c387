import CStrata
import CStrataKernels
import Foundation

/// A typed constructor of a plugin component (`"ffi_constructor"` in the manifest), looked up and
/// prepared once when the plugin is loaded: one non-variadic libffi call interface
/// `void *symbol(arguments..., StrataError *err)`. Lives as long as the process, like the library.
final class PreparedConstructor: @unchecked Sendable {
    /// What the manifest declares.
    let declaration: PluginManifest.Constructor
    /// The prepared call (`sk_ffi_constructor *`).
    private let call: OpaquePointer

    /// Looks `declaration.symbol` up in `handle` and prepares its call.
    /// - Returns: the prepared constructor, or why it cannot be used.
    static func prepare(_ declaration: PluginManifest.Constructor, handle: UnsafeMutableRawPointer) -> Result<PreparedConstructor, ConstructorProblem> {
        guard let symbol = dlsym(handle, declaration.symbol) else {
            return .failure(ConstructorProblem(reason: "exports no typed constructor \(declaration.symbol) (is it marked STRATA_EXPORT?)"))
        }
        var types = declaration.arguments.map { code($0.type) }
        var status: Int32 = 0
        let prepared = types.withUnsafeMutableBufferPointer { sk_ffi_prepare(symbol, Int32($0.count), $0.baseAddress, &status) }
        guard let prepared else { return .failure(ConstructorProblem(reason: "cannot prepare the call of \(declaration.symbol) (ffi_prep_cif status \(status))")) }
        return .success(PreparedConstructor(declaration: declaration, call: prepared))
    }

    private init(declaration: PluginManifest.Constructor, call: OpaquePointer) {
        self.declaration = declaration
        self.call = call
    }

    static func code(_ type: PluginManifest.Constructor.ArgumentType) -> Int32 {
        switch type {
        case .int32: return SK_FFI_INT32
        case .int64: return SK_FFI_INT64
        case .float32: return SK_FFI_FLOAT32
        case .float64: return SK_FFI_FLOAT64
        case .bool: return SK_FFI_BOOL
        case .string: return SK_FFI_STRING
        }
    }

    /// The argument values for a recipe's options: each declared argument takes the option of
    /// its name, or the manifest's default. Problems are recorded at the option's JSON path
    /// (a wrong type or range) or at the component's path (a value neither set nor defaulted);
    /// nil after any problem.
    static func arguments(_ declaration: PluginManifest.Constructor, component: PluginManifest.Component,
                          options: JSONObject, reader: inout ConfigReader) -> [JSONValue]? {
        var values: [JSONValue] = []
        var ok = true
        for argument in declaration.arguments {
            let given = options[argument.name].flatMap { $0 == .null ? nil : $0 }
            let fallback = component.parameters.first { $0.name == argument.name }?.defaultValue
            guard let value = given ?? fallback else {
                reader.diagnostics.error(at: reader.path, "\(component.kind) \"\(component.name)\" needs \"\(argument.name)\": its typed constructor takes it and the manifest gives no default")
                ok = false
                continue
            }
            if let problem = PluginManifest.Constructor.problem(value, argument.type) {
                reader.diagnostics.error(at: given != nil ? reader.childPath(argument.name) : reader.path,
                                         given != nil ? problem : "the manifest's default for \"\(argument.name)\": \(problem)")
                ok = false
                continue
            }
            values.append(value)
        }
        return ok ? values : nil
    }

    /// Calls the constructor with `values` (as checked by `arguments`); returns the instance, or
    /// nil with the plugin's message in `err`.
    func construct(_ values: [JSONValue], err: inout StrataError) -> UnsafeMutableRawPointer? {
        var owned: [UnsafeMutablePointer<CChar>] = []
        defer { owned.forEach { free($0) } }
        var args: [sk_ffi_value] = []
        for (argument, value) in zip(declaration.arguments, values) {
            var v = sk_ffi_value()
            switch (argument.type, value) {
            case (.int32, .number(let d)): v.i32 = Int32(d)
            case (.int64, .number(let d)): v.i64 = Int64(d)
            case (.float32, .number(let d)): v.f32 = Float(d)
            case (.float64, .number(let d)): v.f64 = d
            case (.bool, .bool(let b)): v.i32 = b ? 1 : 0
            case (.string, .string(let s)):
                guard let copy = strdup(s) else { return nil }
                owned.append(copy)
                v.str = UnsafePointer(copy)
            default: return nil  // `arguments` admits no other combination
            }
            args.append(v)
        }
        guard args.count == declaration.arguments.count else { return nil }
        return args.withUnsafeBufferPointer { buffer in
            withUnsafeMutablePointer(to: &err) { sk_ffi_call(call, buffer.baseAddress, UnsafeMutableRawPointer($0)) }
        }
    }
}

/// Why a typed constructor cannot be used, as a sentence.
struct ConstructorProblem: Error, Sendable {
    let reason: String
}
