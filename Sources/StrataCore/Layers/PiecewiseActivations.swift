/// The mobile networks' piecewise-linear activations, as PyTorch's `ReLU6` and `Hardswish`:
/// `relu6(x) = min(max(x, 0), 6)`, `hardswish(x) = x · relu6(x + 3) / 6`.
/// Backward reads the input: relu6′ = [0 < x < 6]; hardswish′ = 0 for x < −3, 1 for x > 3,
/// x/3 + ½ between (PyTorch's choice at the kinks: the lower piece at −3, the middle at 3).
public final class PiecewiseActivation: Layer {
    public enum Function: String, Sendable { case relu6, hardswish }
    public let function: Function
    public var kind: String { function.rawValue }

    public init(_ function: Function) { self.function = function }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] { inputShape }

    public func forward(input: Tensor, output: Tensor, training: Bool) throws {
        let x = input.data, y = output.data
        switch function {
        case .relu6:
            for i in 0..<input.count { y[i] = x[i].isNaN ? x[i] : min(max(x[i], 0), 6) }
        case .hardswish:
            for i in 0..<input.count { y[i] = x[i] * min(max(x[i] + 3, 0), 6) / 6 }
        }
    }

    public func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        guard let gradInput else { return }
        let x = input.data, dy = gradOutput.data, dx = gradInput.data
        switch function {
        case .relu6:
            for i in 0..<input.count { dx[i] = x[i] > 0 && x[i] < 6 ? dy[i] : 0 }
        case .hardswish:
            for i in 0..<input.count {
                let v = x[i]
                dx[i] = v < -3 ? 0 : (v <= 3 ? dy[i] * (v / 3 + 0.5) : dy[i])
            }
        }
    }
}
