import CStrataKernels

/// Batch normalisation, PyTorch semantics: batch statistics in training (biased variance to
/// normalise, unbiased in the running estimate), running statistics in evaluation,
/// `running = (1 − momentum)·running + momentum·batch`.
///
/// `batchnorm2d`: input `[N, C, H, W]`; `batchnorm1d`: input `[N, C]`.
/// Parameters: `weight [C]` (ones), `bias [C]` (zeros); buffers `running_mean [C]` (zeros),
/// `running_var [C]` (ones).
public final class BatchNorm: Layer {
    public let spatial: Bool
    public let eps: Float
    public let momentum: Float
    public let affine: Bool
    public var kind: String { spatial ? "batchnorm2d" : "batchnorm1d" }
    public private(set) var channels = 0
    public private(set) var weight: Parameter?
    public private(set) var bias: Parameter?
    public private(set) var runningMean: Parameter!
    public private(set) var runningVar: Parameter!
    private var saveMean: Tensor!
    private var saveInvstd: Tensor!
    /// Whether the last forward used batch statistics, so backward differentiates the right function.
    private var lastTraining = true

    public init(spatial: Bool, eps: Float = 1e-5, momentum: Float = 0.1, affine: Bool = true) {
        self.spatial = spatial
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
    }

    public var parameters: [Parameter] {
        [weight, bias, runningMean, runningVar].compactMap { $0 }
    }

    public func build(inputShape: [Int], context: inout BuildContext) throws -> [Int] {
        if spatial {
            guard inputShape.count == 4 else { throw ShapeError("expects [N, C, H, W] input, got \(describe(inputShape))") }
        } else {
            guard inputShape.count == 2 else { throw ShapeError("expects [N, C] input, got \(describe(inputShape))") }
        }
        let c = inputShape[1]
        if runningMean != nil {
            guard c == channels else { throw ShapeError("built for \(channels) channels, got \(c)") }
            return inputShape
        }
        channels = c
        if affine {
            let w = Parameter(name: "weight", role: .weight, shape: [c])
            InitScheme.ones.fill(w.value, fanIn: 0, fanOut: 0, random: &context.random)
            weight = w
            bias = Parameter(name: "bias", role: .bias, shape: [c])
        }
        runningMean = Parameter(name: "running_mean", role: .buffer, shape: [c])
        runningVar = Parameter(name: "running_var", role: .buffer, shape: [c])
        InitScheme.ones.fill(runningVar.value, fanIn: 0, fanOut: 0, random: &context.random)
        saveMean = Tensor(shape: [c])
        saveInvstd = Tensor(shape: [c])
        return inputShape
    }

    private func plane(_ t: Tensor) -> Int64 { spatial ? Int64(t.shape[2] * t.shape[3]) : 1 }

    public func forward(input: Tensor, output: Tensor, training: Bool) throws {
        let n = Int64(input.shape[0]), c = Int64(channels), p = plane(input)
        lastTraining = training
        if training {
            guard n * p > 1 else {
                throw CoreError.badInput("\(kind): expected more than 1 value per channel when training, got input \(describe(input.shape))")
            }
            sk_batchnorm_forward_train(output.data, saveMean.data, saveInvstd.data, runningMean.value.data,
                                       runningVar.value.data, input.data, weight?.value.data, bias?.value.data,
                                       n, c, p, eps, momentum)
        } else {
            sk_batchnorm_forward_eval(output.data, input.data, weight?.value.data, bias?.value.data,
                                      runningMean.value.data, runningVar.value.data, n, c, p, eps)
        }
    }

    public func backward(input: Tensor, output: Tensor, gradOutput: Tensor, gradInput: Tensor?) throws {
        let n = Int64(input.shape[0]), c = Int64(channels), p = plane(input)
        if lastTraining {
            sk_batchnorm_backward_train(gradInput?.data, weight?.grad!.data, bias?.grad!.data, gradOutput.data,
                                        input.data, weight?.value.data, saveMean.data, saveInvstd.data, n, c, p)
        } else {
            sk_batchnorm_backward_eval(gradInput?.data, weight?.grad!.data, bias?.grad!.data, gradOutput.data,
                                       input.data, weight?.value.data, runningMean.value.data,
                                       runningVar.value.data, n, c, p, eps)
        }
    }
}
