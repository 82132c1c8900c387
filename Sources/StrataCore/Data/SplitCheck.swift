extension ImageDataset {
    /// Throws unless this split can feed a model built for `exampleShape` (`[C, H, W]`): it must
    /// hold at least one example, and its images must have exactly that shape.
    ///
    /// The shape is compared, not only the byte count: 14×56 images hold as many pixels as 28×28
    /// ones, and would train on mis-strided rows.
    ///
    /// - Parameters:
    ///   - exampleShape: The shape of one example the model was built for.
    ///   - split: Which split this is, for the message.
    /// - Throws: ``DataError/invalidValue(path:offset:reason:)`` naming the images file and the
    ///   offset of the field at fault (4: the example count, 8: the height), or
    ///   ``CoreError/badInput(_:)`` when `data.classes` keeps none of the file's examples.
    public func checkFeeds(exampleShape: [Int], split: Split) throws {
        let path = imagesPath ?? "the \(split.rawValue) split"
        let name = split == .train ? "training" : "test"
        guard count > 0 else {
            if fileCount > 0 {
                throw CoreError.badInput(.jsonPath("$.data.classes"), "$.data.classes: keeps none of the \(fileCount) examples of \(path); "
                    + "the \(name) split needs at least one")
            }
            throw DataError.invalidValue(path: path, offset: 4, reason: "the file holds no examples; the \(name) split needs at least one")
        }
        guard self.exampleShape == exampleShape else {
            throw DataError.invalidValue(
                path: path, offset: 8,
                reason: "the \(name) images are \(channels)×\(height)×\(width) (channels × height × width); "
                    + "the model is built for \(exampleShape.map(String.init).joined(separator: "×"))")
        }
    }
}
