import Checkpoint
import FashionData
import Foundation
import Model

/// The MLP on Fashion-MNIST: images shuffled per epoch (a pure function of seed and epoch),
/// each global batch split evenly over the ranks; one period is one epoch, evaluated on the
/// 10,000 test images split across the ranks.
public final class MLPWorkload: Workload {
    let data: FashionMNIST
    let model: MLP
    let sampler: DistributedSampler
    let workspace: MLPWorkspace
    let epochs: Int
    let evalRange: Range<Int>
    private let batchX: FlatBuffer
    private var batchLabels: [UInt8]
    private var order: (epoch: Int, permutation: [Int32])?

    /// `globalBatch` must already be a multiple of `worldSize` no larger than the training set.
    public init(data: FashionMNIST, hidden: [Int], globalBatch: Int, epochs: Int, seed: UInt64, rank: Int, worldSize: Int) {
        self.data = data
        self.epochs = epochs
        model = MLP(inputs: data.train.rows * data.train.cols, hidden: hidden, classes: FashionMNIST.classes)
        sampler = DistributedSampler(datasetSize: data.train.count, globalBatch: globalBatch,
                                     rank: rank, worldSize: worldSize, seed: seed)
        let n = data.test.count
        evalRange = (rank * n / worldSize)..<((rank + 1) * n / worldSize)
        workspace = MLPWorkspace(model: model, maxBatch: max(sampler.localBatch, min(evalRange.count, 1000)))
        batchX = FlatBuffer(count: sampler.localBatch * model.inputs)
        batchLabels = [UInt8](repeating: 0, count: sampler.localBatch)
    }

    public var name: String { "mlp" }
    public var description: String { "MLP \(model.shapeDescription)" }
    public var parameterCount: Int { model.parameterCount }
    public var signature: ModelSignature { .mlp(inputs: model.inputs, hidden: model.hidden, classes: model.classes) }
    public var tensors: [ParameterTensor] { model.tensors }
    public var segments: [Range<Int>] { model.layers.map { $0.weightOffset..<($0.biasOffset + $0.outputs) } }
    public var stepsPerPeriod: Int { sampler.stepsPerEpoch }
    public var periods: Int { epochs }
    public var totalSteps: Int { sampler.stepsPerEpoch * epochs }
    public var periodName: String { "epoch" }
    public var itemsPerSample: Int { 1 }
    public var throughputUnit: String { "samples" }
    public var trainingFLOPsPerSample: Double? { 6 * Double(model.layers.reduce(0) { $0 + $1.weightCount }) }

    public func initialize(_ params: UnsafeMutablePointer<Float>, seed: UInt64) {
        model.initialize(params, seed: seed)
    }

    public func forwardBackward(step: Int, params: UnsafePointer<Float>, grads: UnsafeMutablePointer<Float>,
                                segmentDone: (Int) throws -> Void) throws -> LossSums {
        let epoch = step / sampler.stepsPerEpoch
        if order?.epoch != epoch { order = (epoch, sampler.permutation(epoch: epoch)) }
        let indices = sampler.localIndices(order!.permutation, step: step % sampler.stepsPerEpoch)
        // Gather this rank's samples into one contiguous batch: x is (B/W, 784).
        let x = batchX.buffer, width = model.inputs
        data.train.pixels.withUnsafeBufferPointer { pixels in
            for (row, index) in indices.enumerated() {
                let src = Int(index) * width
                _ = UnsafeMutableBufferPointer(rebasing: x[(row * width)..<((row + 1) * width)])
                    .update(fromContentsOf: pixels[src..<(src + width)])
                batchLabels[row] = data.train.labels[Int(index)]
            }
        }
        let (lossSum, _) = try batchLabels.withUnsafeBufferPointer { labels in
            try model.forwardBackward(params: params, grads: grads, x: batchX.pointer, labels: labels.baseAddress!,
                                      batch: indices.count, workspace: workspace) { l, _ in try segmentDone(l) }
        }
        return LossSums(lossSum: lossSum, count: Double(indices.count))
    }

    public func evaluate(params: UnsafePointer<Float>) -> LossSums {
        let width = model.inputs, lo = evalRange.lowerBound
        let (lossSum, correct) = data.test.pixels.withUnsafeBufferPointer { pixels in
            data.test.labels.withUnsafeBufferPointer { labels in
                model.evaluate(params: params, x: pixels.baseAddress! + lo * width, labels: labels.baseAddress! + lo,
                               count: evalRange.count, workspace: workspace)
            }
        }
        return LossSums(lossSum: lossSum, count: Double(evalRange.count), correct: Double(correct))
    }

    public func progressPosition(step: Int, totalSteps: Int) -> String {
        let perEpoch = sampler.stepsPerEpoch
        return "epoch \((step - 1) / perEpoch + 1)/\(epochs)  step \((step - 1) % perEpoch + 1)/\(perEpoch)"
    }

    public func periodLine(_ r: PeriodRecord, of run: RunShape) -> String {
        String(format: "epoch %d/%d  train loss %.4f  test loss %.4f  test accuracy %.2f%%  (%@)",
               r.period, run.periods, r.trainLoss, r.evalLoss, (r.evaluation.accuracy ?? .nan) * 100, Format.duration(r.seconds))
    }

    public func periodEvent(_ r: PeriodRecord) -> (event: String, fields: [(String, JSON)]) {
        ("epoch", [("epoch", .int(r.period)), ("train_loss", .number(r.trainLoss)), ("test_loss", .number(r.evalLoss)),
                   ("test_accuracy", .number(r.evaluation.accuracy ?? .nan)), ("seconds", .number(r.seconds))])
    }

    public func summaryText(_ final: LossSums) -> String {
        String(format: "test accuracy %.2f%%", (final.accuracy ?? .nan) * 100)
    }

    public func summaryFields(_ final: LossSums, samplesPerSecond: Double) -> [(String, JSON)] {
        [("test_accuracy", .number(final.accuracy ?? .nan)), ("test_loss", .number(final.loss))]
    }
}
