import CStrataKernels

/// A residual connection: `y = body(x) + shortcut(x)`, where the shortcut is the identity
/// (`nil`) or a projection layer (typically a 1×1 conv and BatchNorm when shapes change).
///
/// Children are named `body` and `shortcut` unless the recipe names them (`body_name`,
/// `shortcut_name`; torchvision's blocks use "" and "downsample", so that the body's layers read
/// `layer1.0.conv1` and the projection `layer1.0.downsample.0`). The body's and the shortcut's output shapes must match.
public final class Residual: Layer {
    public let kind = "residual"
    public let body: any Layer
    public let shortcut: (any Layer)?
    private var bodyOutput: Tensor!
    private var shortcutOutput: Tensor?
    private var gradientScratch: Tensor?
    /// Whether the last forward ran fused (the body's output was not kept).
    private var lastForwardFused = false

    public let bodyName: String
    public let shortcutName: String

    public init(body: any Layer, shortcut: (any Layer)? = nil, bodyName: String = "body", shortcutName: String = "shortcut") {
        self.body = body
        self.shortcut = shortcut
        self.bodyName = bodyName
        self.shortcutName = shortcutName
    }

    public var children: [(name: String, layer: any Layer)] {
        [(bodyName, body)] + (shortcut.map { [(shortcutName, $0)] } ?? [])
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        let bodyShape = try buildChild(body, name: bodyName, inputShape: inputShape, context: &context)
        var shortcutShape = inputShape
        if let shortcut {
            shortcutShape = try buildChild(shortcut, name: shortcutName, inputShape: inputShape, context: &context)
        }
        guard bodyShape == shortcutShape else {
            throw ShapeError("body output \(describe(bodyShape)) does not match shortcut output \(describe(shortcutShape))"
                + (shortcut == nil ? "; give the residual a projection shortcut" : ""))
        }
        try context.reserve(bodyShape, for: "the body output")
        if shortcut != nil { try context.reserve(bodyShape, for: "the shortcut output") }
        bodyOutput = Tensor(shape: bodyShape)
        shortcutOutput = shortcut == nil ? nil : Tensor(shape: bodyShape)
        gradientScratch = shortcut == nil ? nil : Tensor(shape: inputShape)
        return bodyShape
    }

    public func forward(input: Tensor, output: Tensor, training: Bool) throws {
        let n = input.shape[0]
        lastForwardFused = false
        // Evaluation: a body ending in a fused convolution group adds the shortcut in its kernel
        // (InferenceFusion.swift), writing straight into the output.
        if InferenceFusion.applies(training: training), let seq = body as? Sequential {
            if shortcut == nil {
                lastForwardFused = try seq.forward(input: input, output: output, training: training, residual: input)
            } else if let shortcut, let s = shortcutOutput?.batchPrefix(n) {
                try shortcut.runForward(input: input, output: s, training: training)
                lastForwardFused = try seq.forward(input: input, output: output, training: training, residual: s)
                if !lastForwardFused {
                    let b = bodyOutput.batchPrefix(n)
                    try body.runForward(input: input, output: b, training: training)
                    sk_add(output.data, b.data, s.data, Int64(output.count))
                }
                return
            }
            if lastForwardFused { return }
        }
        let b = bodyOutput.batchPrefix(n)
        try body.runForward(input: input, output: b, training: training)
        if let shortcut, let s = shortcutOutput?.batchPrefix(n) {
            try shortcut.runForward(input: input, output: s, training: training)
            sk_add(output.data, b.data, s.data, Int64(output.count))
        } else {
            sk_add(output.data, b.data, input.data, Int64(output.count))
        }
    }

    public func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        let n = input.shape[0]
        if lastForwardFused {
            // The fused forward did not keep the body's own output, which backward reads.
            if let seq = body as? Sequential {
                try seq.forward(input: input, output: bodyOutput.batchPrefix(n), training: false, residual: nil, fuse: false)
            } else {
                try body.forward(input: input, output: bodyOutput.batchPrefix(n), training: false)
            }
            lastForwardFused = false
        }
        try body.backward(input: input, output: bodyOutput.batchPrefix(n), gradOutput: gradOutput, gradInput: gradInput)
        if let shortcut, let s = shortcutOutput?.batchPrefix(n) {
            let scratch = gradInput == nil ? nil : gradientScratch!.batchPrefix(n)
            try shortcut.backward(input: input, output: s, gradOutput: gradOutput, gradInput: scratch)
            if let gradInput, let scratch { sk_add_inplace(gradInput.data, scratch.data, Int64(gradInput.count)) }
        } else if let gradInput {
            sk_add_inplace(gradInput.data, gradOutput.data, Int64(gradInput.count))
        }
    }
}
