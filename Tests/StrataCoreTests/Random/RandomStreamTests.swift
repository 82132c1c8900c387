import Testing
@testable import StrataCore

/// Pins the first values of every use of the random stream for fixed seeds: weight
/// initialisation (`init(seed:)`) and the batch loader's per-epoch shuffles and augmentation
/// draws (`init(seed:stream:)`). The figures were recorded from the generators as they were before
/// the two were merged into one type; a change here changes every shipped recipe's numbers.
@Suite("Random stream")
struct RandomStreamTests {
    @Test func initialisationStreamIsPinned() {
        var random = RandomStream(seed: 42)
        #expect((0..<4).map { _ in random.nextUInt64() }
            == [1_546_998_764_402_558_742, 6_990_951_692_964_543_102, 12_544_586_762_248_559_009, 17_057_574_109_182_124_193])
        #expect(random.nextDouble() == 0.9918039142821028)
        #expect(random.uniform(-1, 1) == 0.5394789)
        #expect(random.normal() == 0.4772168184355814)
        #expect((0..<6).map { _ in random.below(10) } == [8, 5, 9, 3, 0, 2])
    }

    @Test func weightInitialisationIsPinned() {
        var random = RandomStream(seed: 3)
        let weight = Tensor(shape: [4])
        InitScheme.pytorchDefault.fill(weight, fanIn: 9, fanOut: 4, random: &random)
        #expect((0..<4).map { weight[$0] } == [0.1270922, 0.093720675, -0.18782508, 0.022641085])
        InitScheme.kaimingNormal.fill(weight, fanIn: 9, fanOut: 4, random: &random)
        #expect((0..<4).map { weight[$0] } == [-0.49805975, -0.1786966, 0.054961607, -0.08028485])
    }

    @Test func loaderStreamIsPinned() {
        var generator = RandomStream(seed: 7, stream: 3)
        #expect((0..<4).map { _ in generator.next() }
            == [14_583_945_365_414_495_069, 15_712_731_865_170_771_198, 4_618_857_215_598_699_400, 16_175_356_834_740_812_085])
        #expect((0..<6).map { _ in generator.next(below: 10) } == [9, 5, 7, 3, 6, 1])
    }

    @Test func loaderShuffleIsPinned() throws {
        let count = 20
        let dataset = ImageDataset(pixels: [UInt8](repeating: 0, count: count), labels: (0..<count).map(Int32.init),
                                   channels: 1, height: 1, width: 1, classCount: count)
        let loader = try BatchLoader(dataset: dataset, batchSize: 4, mode: .training(seed: 7))
        loader.startEpoch(0)
        #expect(loader.order == [17, 4, 9, 3, 16, 14, 5, 6, 2, 12, 15, 0, 8, 13, 10, 19, 18, 11, 7, 1])
        loader.startEpoch(1)
        #expect(loader.order == [0, 16, 18, 11, 12, 7, 10, 6, 8, 13, 14, 2, 4, 15, 9, 5, 3, 17, 19, 1])
    }
}
