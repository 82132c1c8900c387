/// A trainable tensor with its gradient, or a non-trained buffer (BatchNorm running stats).
public final class Parameter {
    /// What the parameter is for; drives initialisation and weight decay.
    public enum Role: Sendable { case weight, bias, buffer }

    /// Local name within its layer (`weight`, `bias`, `running_mean`).
    public let name: String
    public let role: Role
    public let value: Tensor
    /// Gradient of the loss, same shape as `value`; accumulated by backward, zeroed by the trainer.
    /// Buffers have none.
    public let grad: Tensor?
    /// A frozen parameter keeps its value: the optimizer skips it (fast.ai's freeze).
    public var frozen = false

    public init(name: String, role: Role, shape: [Int]) {
        self.name = name
        self.role = role
        self.value = Tensor(shape: shape)
        self.grad = role == .buffer ? nil : Tensor(shape: shape)
    }

    public var isTrainable: Bool { role != .buffer }
}
