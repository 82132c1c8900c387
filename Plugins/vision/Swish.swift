import StrataKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Swish, y = x * sigmoid(beta * x) (SiLU when beta is 1), elementwise on any shape.
/// Option `beta`: a number in (0, 100], default 1. Has no parameters.
final class Swish: KitLayer {
    let beta: Float

    init(config: KitConfig) throws {
        let beta = try config.double("beta", default: 1)
        guard beta > 0, beta <= 100 else { throw KitError.invalidArgument("beta must be greater than 0 and at most 100, got \(beta)") }
        self.beta = Float(beta)
    }

    func outputShape(for inputShape: [Int]) throws -> [Int] {
        guard !inputShape.isEmpty else { throw KitError.shapeMismatch("expects an input with a batch dimension, got a scalar") }
        return inputShape
    }

    func forward(input: KitTensor, output: KitTensor, training: Bool) throws {
        guard input.count == output.count else { throw KitError.shapeMismatch("input has \(input.count) elements, output \(output.count)") }
        let x = input.buffer, y = output.buffer, b = beta
        for i in 0..<x.count {
            let s = 1 / (1 + expf(-b * x[i]))
            y[i] = x[i] * s
        }
    }

    func backward(input: KitTensor, output: KitTensor, gradOutput: KitTensor, gradInput: KitTensor?) throws {
        guard let gradInput else { return }
        guard input.count == gradOutput.count, input.count == gradInput.count else {
            throw KitError.shapeMismatch("input has \(input.count) elements, its gradients \(gradOutput.count) and \(gradInput.count)")
        }
        let x = input.buffer, dy = gradOutput.buffer, dx = gradInput.buffer, b = beta
        for i in 0..<x.count {
            let s = 1 / (1 + expf(-b * x[i]))
            dx[i] = dy[i] * (s + b * x[i] * s * (1 - s))
        }
    }
}
