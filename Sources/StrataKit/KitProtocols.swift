import CStrata

/// A layer written in Swift, driven by the host through the ABI's `StrataLayerOps`.
///
/// The kit creates one instance per recipe use (`init(config:)`), asks it for its output shape
/// and its parameters, binds the host-allocated parameters, and calls `forward` and `backward`
/// with views of host tensors. Conventions are the ABI's: shapes have the batch first, forward
/// caches what backward needs, backward OVERWRITES `gradInput` and ADDS into parameter
/// gradients. Every method may throw; a `KitError` becomes its status and message, anything
/// else `STRATA_ERR_INTERNAL`. Nothing is thrown across the C boundary.
public protocol KitLayer: AnyObject {
    /// Creates the layer from its recipe options (validate every option here and throw
    /// `KitError.invalidArgument` naming it).
    init(config: KitConfig) throws
    /// The output shape for `inputShape` (both batch first). Called again when only the batch
    /// size changes.
    func outputShape(for inputShape: [Int]) throws -> [Int]
    /// The parameters the host allocates, initialises and binds (after the first
    /// `outputShape`). The default is none.
    var parameters: [KitParameter] { get }
    /// Receives the parameters in `parameters` order and their gradients (nil for buffers).
    /// The views stay valid until the layer is released. The default ignores them.
    func bind(values: [KitTensor], gradients: [KitTensor?]) throws
    /// Computes `output` (every element) from `input`.
    func forward(input: KitTensor, output: KitTensor, training: Bool) throws
    /// Propagates `gradOutput` through the latest training forward: overwrites `gradInput`
    /// (nil when the input needs no gradient) and adds into the bound parameter gradients.
    func backward(input: KitTensor, output: KitTensor, gradOutput: KitTensor, gradInput: KitTensor?) throws
}

extension KitLayer {
    /// No parameters.
    public var parameters: [KitParameter] { [] }
    /// Nothing to keep.
    public func bind(values: [KitTensor], gradients: [KitTensor?]) throws {}
}

/// A model builder written in Swift, driven through the ABI's `StrataModelOps`: recipe options
/// in, a model graph out, in the format of a recipe's `"model"` object (containers such as
/// `sequential` and `residual`, layers by kind with their options). A pure function of its
/// options: it may run on any thread, concurrently.
public protocol KitModelBuilder {
    /// The graph for `config`, as JSON text (`KitJSON.serialized()` writes it).
    /// - Throws: `KitError.invalidArgument` naming a bad option.
    static func graph(config: KitConfig) throws -> String
}

/// One component a Swift plugin provides, for `StrataPlugin.register`.
public struct KitComponent {
    /// `STRATA_COMPONENT_LAYER`, `_MODEL`, `_LOSS`, `_OPTIMIZER` or `_CALLBACK`.
    let kind: Int32
    /// The name recipes use.
    let name: String
    /// One sentence for `strata plugins`.
    let description: String
    /// What the descriptor's context points at: how to make an instance.
    let factory: KitFactory

    /// A layer kind named `name`, made by `L.init(config:)`.
    public static func layer<L: KitLayer>(_ type: L.Type, name: String, description: String) -> KitComponent {
        KitComponent(kind: STRATA_COMPONENT_LAYER, name: name, description: description, factory: KitFactory(layer: { try L(config: $0) }))
    }

    /// A model builder named `name`, answered by `M.graph(config:)`.
    public static func model<M: KitModelBuilder>(_ type: M.Type, name: String, description: String) -> KitComponent {
        KitComponent(kind: STRATA_COMPONENT_MODEL, name: name, description: description, factory: KitFactory(model: { try M.graph(config: $0) }))
    }

    /// A loss kind named `name`, made by `L.init(config:)`.
    public static func loss<L: KitLoss>(_ type: L.Type, name: String, description: String) -> KitComponent {
        KitComponent(kind: STRATA_COMPONENT_LOSS, name: name, description: description, factory: KitFactory(loss: { try L(config: $0) }))
    }

    /// An optimizer kind named `name`, made by `O.init(config:)`.
    public static func optimizer<O: KitOptimizer>(_ type: O.Type, name: String, description: String) -> KitComponent {
        KitComponent(kind: STRATA_COMPONENT_OPTIMIZER, name: name, description: description, factory: KitFactory(optimizer: { try O(config: $0) }))
    }

    /// A callback kind named `name`, made by `C.init(config:)`.
    public static func callback<C: KitCallback>(_ type: C.Type, name: String, description: String) -> KitComponent {
        KitComponent(kind: STRATA_COMPONENT_CALLBACK, name: name, description: description, factory: KitFactory(callback: { try C(config: $0) }))
    }
}

/// A JSON value for writing model graphs without a JSON library. Object keys keep their order.
public indirect enum KitJSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByFloatLiteral {
    /// null
    case null
    /// true or false
    case bool(Bool)
    /// A number (integral values are written without a fraction).
    case number(Double)
    /// A string.
    case string(String)
    /// An array.
    case array([KitJSON])
    /// An object, keys in order.
    case object([(String, KitJSON)])

    /// A string literal.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An integer literal.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    /// A boolean literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// A float literal.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// An array literal.
    public init(arrayLiteral elements: KitJSON...) { self = .array(elements) }

    /// An integer.
    public static func int(_ value: Int) -> KitJSON { .number(Double(value)) }

    /// Compact JSON text.
    public func serialized() -> String {
        var out = ""
        write(into: &out)
        return out
    }

    private func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case let .bool(b): out += b ? "true" : "false"
        case let .number(x):
            if x.isFinite, x.rounded() == x, abs(x) < 1e15 { out += String(Int64(x)) } else if x.isFinite { out += "\(x)" } else { out += "null" }
        case let .string(s): Self.quote(s, into: &out)
        case let .array(items):
            out += "["
            for (i, item) in items.enumerated() {
                if i > 0 { out += "," }
                item.write(into: &out)
            }
            out += "]"
        case let .object(members):
            out += "{"
            for (i, (key, value)) in members.enumerated() {
                if i > 0 { out += "," }
                Self.quote(key, into: &out)
                out += ":"
                value.write(into: &out)
            }
            out += "}"
        }
    }

    private static func quote(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        out += "\""
    }
}
