/// Weight initialisation schemes, with PyTorch's formulas (`torch.nn.init`).
///
/// `fanIn` and `fanOut` follow PyTorch: for a conv weight `[OC, C/groups, KH, KW]`,
/// fan_in = C/groups·KH·KW and fan_out = OC·KH·KW.
public enum InitScheme: String, CaseIterable, Sendable {
    /// PyTorch's default for Conv2d/Linear: kaiming_uniform(a=√5), i.e. U(±1/√fan_in).
    case pytorchDefault = "default"
    case xavierUniform = "xavier_uniform"
    case xavierNormal = "xavier_normal"
    /// He init for ReLU (gain √2), fan_in mode.
    case kaimingUniform = "kaiming_uniform"
    case kaimingNormal = "kaiming_normal"
    case zeros
    case ones

    /// Fills `tensor` in place.
    public func fill(_ tensor: Tensor, fanIn: Int, fanOut: Int, random: inout RandomStream) {
        let n = tensor.count
        let p = tensor.data
        let fi = Double(max(fanIn, 1)), fo = Double(max(fanOut, 1))
        switch self {
        case .pytorchDefault:
            let bound = 1 / fi.squareRoot()
            for i in 0..<n { p[i] = random.uniform(-bound, bound) }
        case .xavierUniform:
            let bound = (6 / (fi + fo)).squareRoot()
            for i in 0..<n { p[i] = random.uniform(-bound, bound) }
        case .xavierNormal:
            let std = (2 / (fi + fo)).squareRoot()
            for i in 0..<n { p[i] = Float(std * random.normal()) }
        case .kaimingUniform:
            let bound = (6 / fi).squareRoot()
            for i in 0..<n { p[i] = random.uniform(-bound, bound) }
        case .kaimingNormal:
            let std = (2 / fi).squareRoot()
            for i in 0..<n { p[i] = Float(std * random.normal()) }
        case .zeros:
            tensor.zero()
        case .ones:
            for i in 0..<n { p[i] = 1 }
        }
    }

    /// PyTorch's default bias init for Conv2d/Linear: U(±1/√fan_in).
    public static func fillBias(_ tensor: Tensor, fanIn: Int, random: inout RandomStream) {
        InitScheme.pytorchDefault.fill(tensor, fanIn: fanIn, fanOut: 0, random: &random)
    }
}
