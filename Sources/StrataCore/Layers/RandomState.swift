/// A layer whose forward pass in training draws random numbers (dropout's mask stream), with the
/// position of its stream exposed so a procedure that trains tentatively (the LR finder) can put
/// it back exactly where it was.
public protocol RandomStateful: AnyObject {
    /// The stream's position: restoring it makes the following draws repeat.
    var randomState: UInt64 { get set }
}

extension Layer {
    /// This layer and its descendants, depth first.
    public var descendantsAndSelf: [any Layer] {
        [self] + children.flatMap { $0.layer.descendantsAndSelf }
    }
}
