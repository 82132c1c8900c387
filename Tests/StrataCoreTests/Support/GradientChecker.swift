import Testing
@testable import StrataCore

/// Finite-difference gradient checks for a layer: the scalar is `L = Σ y ⊙ r` for a fixed random
/// `r`, so dL/dy = r. Central differences (step `h`) in float32 are compared with the layer's
/// analytic gradients of the input and of every trainable parameter.
struct GradientChecker {
    var h: Float = 1e-2
    var rtol: Float = 2e-2
    var atol: Float = 2e-3
    /// At most this many coordinates per tensor are probed (spread over the tensor).
    var probes = 40

    func check(_ layer: any Layer, inputShape: [Int], training: Bool = true, seed: UInt64 = 1,
               inputScale: Double = 1, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var context = BuildContext(seed: seed)
        let outShape = try layer.build(inputShape: inputShape, context: &context)
        var random = RandomStream(seed: seed &+ 99)
        let x = Tensor(shape: inputShape)
        for i in 0..<x.count { x[i] = Float(random.normal() * inputScale) }
        let r = Tensor(shape: outShape)
        for i in 0..<r.count { r[i] = Float(random.normal()) }
        let y = Tensor(shape: outShape)

        func objective() throws -> Double {
            try layer.forward(input: x, output: y, training: training)
            var s = 0.0
            for i in 0..<y.count { s += Double(y[i]) * Double(r[i]) }
            return s
        }

        // Analytic gradients.
        let params = layer.namedParameters().filter { $0.parameter.isTrainable }
        for (_, p) in params { p.grad!.zero() }
        _ = try objective()
        let dx = Tensor(shape: inputShape)
        try layer.backward(input: x, output: y, gradOutput: r, gradInput: dx)
        // Buffers such as running statistics move on every training forward; keep a copy to restore.
        let buffers = layer.namedParameters().filter { !$0.parameter.isTrainable }.map { ($0.parameter, $0.parameter.value.copy()) }

        func compare(_ target: Tensor, _ analytic: Tensor, _ what: String) throws {
            let step = max(1, target.count / probes)
            for i in stride(from: 0, to: target.count, by: step) {
                let saved = target[i]
                target[i] = saved + h
                let plus = try objective()
                target[i] = saved - h
                let minus = try objective()
                target[i] = saved
                for (b, copy) in buffers { b.value.copy(from: copy) }
                let numeric = Float((plus - minus) / Double(2 * h))
                let a = analytic[i]
                let ok = abs(a - numeric) <= atol + rtol * max(abs(a), abs(numeric))
                #expect(ok, "\(layer.kind) d\(what)[\(i)]: analytic \(a) vs numeric \(numeric)", sourceLocation: sourceLocation)
                if !ok { return }
            }
        }
        try compare(x, dx, "input")
        for (name, p) in params { try compare(p.value, p.grad!, name) }
    }
}
