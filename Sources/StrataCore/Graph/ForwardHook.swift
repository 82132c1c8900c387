import Synchronization

/// A hook on one layer's output: after each forward pass of the layer it holds a copy of the
/// output (batch first), and calls `onOutput` with it when one is given. The copy is taken the
/// moment the layer returns, so a later layer that changes its input in place does not change
/// what the hook saw. Made by `Model.hook(layer:)`; active until `remove()`.
///
/// Its copy is written by the thread running the model's forward pass and read by the owner
/// between passes (as the model's own output is), hence `@unchecked Sendable`.
public final class ForwardHook: @unchecked Sendable {
    /// The layer's dotted path, e.g. `layer1.0.conv1`.
    public let layer: String
    /// Forward passes captured so far.
    public private(set) var captures = 0
    private let onOutput: ((Tensor) throws -> Void)?
    /// Grows to the largest output seen; `output` views its front.
    private var storage: TensorStorage?
    private var shape: [Int] = []
    let target: any Layer

    init(layer: String, target: any Layer, onOutput: ((Tensor) throws -> Void)?) {
        self.layer = layer
        self.target = target
        self.onOutput = onOutput
    }

    /// The copy of the layer's output of the last forward pass; nil before the first. Valid
    /// until the next forward pass overwrites it (copy it to keep it).
    public var output: Tensor? { storage.map { Tensor(storage: $0, shape: shape) } }

    /// Stops capturing; `output` keeps the last copy.
    public func remove() { ForwardHooks.remove(self) }

    /// Copies `y` (the layer's output view) and calls `onOutput`.
    func capture(_ y: Tensor) throws {
        if storage == nil || storage!.capacity < y.count { storage = TensorStorage(capacity: y.count) }
        storage!.pointer.update(from: y.data, count: y.count)
        shape = y.shape
        captures += 1
        ForwardHooks.copies.add(1, ordering: .relaxed)
        if let onOutput, let output { try onOutput(output) }
    }
}

/// The hooks of every model, by layer object: the containers run each child through
/// `runForward`, which looks here only when some hook is active, so a forward pass with
/// nothing hooked reads one atomic counter per layer and copies nothing.
enum ForwardHooks {
    /// Hooks currently installed, over every model.
    static let active = Atomic<Int>(0)
    /// Outputs copied since the process began (for tests of "no copy when nothing is hooked").
    static let copies = Atomic<Int>(0)
    private static let table = Mutex<[ObjectIdentifier: [ForwardHook]]>([:])

    static func add(_ hook: ForwardHook) {
        table.withLock { $0[ObjectIdentifier(hook.target), default: []].append(hook) }
        active.add(1, ordering: .relaxed)
    }

    static func remove(_ hook: ForwardHook) {
        let removed = table.withLock { t -> Bool in
            let id = ObjectIdentifier(hook.target)
            guard let list = t[id], list.contains(where: { $0 === hook }) else { return false }
            let rest = list.filter { $0 !== hook }
            t[id] = rest.isEmpty ? nil : rest
            return true
        }
        if removed { active.subtract(1, ordering: .relaxed) }
    }

    /// Whether some hook is installed on `layer`.
    static func isHooked(_ layer: any Layer) -> Bool {
        guard active.load(ordering: .relaxed) > 0 else { return false }
        return table.withLock { $0[ObjectIdentifier(layer)] != nil }
    }

    /// Hands `output` to the hooks on `layer`, if any. (A hook keeps its layer alive, so the
    /// layer's identifier is not reused while the hook is installed.)
    static func fire(_ layer: any Layer, _ output: Tensor) throws {
        let hooks = table.withLock { $0[ObjectIdentifier(layer)] ?? [] }
        for hook in hooks { try hook.capture(output) }
    }
}

extension Layer {
    /// How a container (and the model) runs a layer: its `forward`, then the forward hooks on
    /// it, if any (`ForwardHook`).
    @inline(__always)
    public func runForward(input: Tensor, output: Tensor, training: Bool) throws {
        try forward(input: input, output: output, training: training)
        if ForwardHooks.active.load(ordering: .relaxed) > 0 { try ForwardHooks.fire(self, output) }
    }
}

extension Model {
    /// Hooks the layer at dotted path `layer` (`""` is the whole model): after each forward pass
    /// the hook holds a copy of that layer's output, and calls `onOutput` with it if given.
    /// Throws bad input naming the path when the model has no such layer.
    public func hook(layer: String, onOutput: ((Tensor) throws -> Void)? = nil) throws -> ForwardHook {
        let layers = root.namedLayers()
        guard let target = layers.first(where: { $0.name == layer })?.layer else {
            let names = layers.map(\.name).filter { !$0.isEmpty }
            let shown = names.prefix(24).joined(separator: ", ") + (names.count > 24 ? ", …" : "")
            throw CoreError.badInput(.layer(layer), "forward hook: the model has no layer named \"\(layer)\"; its layers are \(shown)")
        }
        let hook = ForwardHook(layer: layer, target: target, onOutput: onOutput)
        ForwardHooks.add(hook)
        return hook
    }
}
