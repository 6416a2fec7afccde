import Basics
import Checkpoint
import FashionData
import Foundation
import MemoryPlanning
import Model
import RunSchema
import Safetensors
import Training

/// The MLP on Fashion-MNIST: images shuffled per epoch (a pure function of seed and epoch),
/// each global batch split evenly over the ranks; one period is one epoch, evaluated on the
/// 10,000 test images split across the ranks. The images come as bytes held once per node
/// (`SharedImages`) or as floats (`FashionMNIST`, a sweep's); batches are normalized floats
/// either way, the same bits.
public final class MLPWorkload: Workload {
    let train: ImageSource
    let test: ImageSource
    /// This rank's share of the images' bytes.
    let datasetBytes: Int
    let model: MLP
    let sampler: DistributedSampler
    let epochs: Int
    let evalRange: Range<Int>
    /// Rows of the workspace and the batch buffer. Both are allocated on first use, after the
    /// trainer has laid out (and checked) the parameter buffers, so a model too large for the
    /// node fails there with its one line, not in an allocation here.
    let maxBatch: Int
    private(set) lazy var workspace = MLPWorkspace(model: model, maxBatch: maxBatch)
    // Training slices and evaluation chunks are gathered here: (maxBatch, 784).
    private lazy var batchX = FlatBuffer(count: maxBatch * model.inputs)

    /// Row `row` of the batch (`model.inputs` floats).
    private func batchRow(_ row: Int) -> UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(rebasing: batchX.buffer[row * model.inputs..<(row + 1) * model.inputs])
    }
    private lazy var batchLabels = [UInt8](repeating: 0, count: maxBatch)
    private var order: (epoch: Int, permutation: [Int32])?

    /// `globalBatch` must already be a multiple of `worldSize` no larger than the training set.
    public convenience init(data: FashionMNIST, hidden: [Int], globalBatch: Int, epochs: Int, seed: UInt64, rank: Int, worldSize: Int) {
        self.init(train: data.train, test: data.test,
                  datasetBytes: Self.datasetBytes(images: data.train.count + data.test.count, pixels: data.train.features),
                  hidden: hidden, globalBatch: globalBatch, epochs: epochs, seed: seed, rank: rank, worldSize: worldSize)
    }

    /// The same on the node-shared bytes.
    public convenience init(images: SharedImages, hidden: [Int], globalBatch: Int, epochs: Int, seed: UInt64, rank: Int, worldSize: Int) {
        self.init(train: images.train, test: images.test, datasetBytes: images.heldBytes,
                  hidden: hidden, globalBatch: globalBatch, epochs: epochs, seed: seed, rank: rank, worldSize: worldSize)
    }

    init(train: ImageSource, test: ImageSource, datasetBytes: Int, hidden: [Int], globalBatch: Int, epochs: Int,
         seed: UInt64, rank: Int, worldSize: Int) {
        self.train = train
        self.test = test
        self.datasetBytes = datasetBytes
        self.epochs = epochs
        model = MLP(inputs: train.features, hidden: hidden, classes: FashionMNIST.classes)
        sampler = DistributedSampler(datasetSize: train.count, globalBatch: globalBatch,
                                     rank: rank, worldSize: worldSize, seed: seed)
        let n = test.count
        evalRange = (rank * n / worldSize)..<((rank + 1) * n / worldSize)
        maxBatch = Self.workspaceBatch(localBatch: sampler.localBatch, evalCount: evalRange.count)
    }

    public var name: String { "mlp" }
    public var description: String { "MLP \(model.shapeDescription)" }
    public var parameterCount: Int { model.parameterCount }
    public var signature: ModelSignature { BuiltinModel.mlp(inputs: model.inputs, hidden: model.hidden, classes: model.classes).signature }
    public var tensors: [ParameterTensor] { model.tensors }
    public var segments: [Range<Int>] { Self.segments(model) }
    static func segments(_ model: MLP) -> [Range<Int>] { model.layers.map { $0.weightOffset..<($0.biasOffset + $0.outputs) } }
    public var stepsPerPeriod: Int { sampler.stepsPerEpoch }
    public var periods: Int { epochs }
    public var totalSteps: Int { sampler.stepsPerEpoch * epochs }
    public var periodName: String { "epoch" }
    public var itemsPerSample: Int { 1 }
    public var throughputUnit: String { "samples" }
    public var trainingFLOPsPerSample: Double? { 6 * Double(model.layers.reduce(0) { $0 + $1.weightCount }) }

    public var heldBytes: WorkloadBytes {
        WorkloadBytes(activations: MLPWorkspace.bytes(model: model, maxBatch: maxBatch) + maxBatch * model.inputs * 4,
                      dataset: datasetBytes)
    }

    /// The workspace serves training slices and evaluation chunks of at most 1000 images.
    static func workspaceBatch(localBatch: Int, evalCount: Int) -> Int { max(localBatch, min(evalCount, 1000)) }

    /// Both splits as normalized float32 pixels plus a label byte per image.
    static func datasetBytes(images: Int, pixels: Int) -> Int { images * (pixels * 4 + 1) }

    /// What rank 0 of `worldSize` would hold (`ranksPerNode` sharing the images' bytes),
    /// without loading or allocating anything.
    public static func planned(hidden: [Int], globalBatch: Int, worldSize: Int, ranksPerNode: Int) -> PlannedModel {
        let model = MLP(inputs: 28 * 28, hidden: hidden, classes: FashionMNIST.classes)
        let local = globalBatch / worldSize, test = 10_000
        let batch = workspaceBatch(localBatch: local, evalCount: test / worldSize)
        return PlannedModel(parameters: model.parameterCount, segments: Self.segments(model),
                            held: WorkloadBytes(activations: MLPWorkspace.bytes(model: model, maxBatch: batch) + 4 * batch * model.inputs,
                                                dataset: SharedImages.bytes(train: FashionMNIST.trainCount, test: test) / ranksPerNode))
    }

    public func initialWeights(fromSafetensors path: String) throws -> [Float] {
        try PyTorchStateDict.initialWeights(path, signature: signature, vocabulary: nil)
    }

    public func initialize(_ params: ParameterValues, seed: UInt64) {
        model.initialize(params.base, seed: seed)
    }

    public func forwardBackward(step: Int, params: ParameterValues, grads: GradientSink,
                                segmentDone: (Int) throws -> Void) throws -> LossSums {
        let epoch = step / sampler.stepsPerEpoch
        if order?.epoch != epoch { order = (epoch, sampler.permutation(epoch: epoch)) }
        let indices = sampler.localIndices(order!.permutation, step: step % sampler.stepsPerEpoch)
        // Gather this rank's samples into one contiguous batch: x is (B/W, 784).
        for (row, index) in indices.enumerated() {
            batchLabels[row] = train.copy(image: Int(index), into: batchRow(row))
        }
        let (lossSum, _) = try batchLabels.withUnsafeBufferPointer { labels in
            try model.forwardBackward(params: params.base, gradients: grads, x: batchX.pointer, labels: labels.baseAddress!,
                                      batch: indices.count, workspace: workspace) { l, _ in try segmentDone(l) }
        }
        return LossSums(lossSum: lossSum, count: Double(indices.count))
    }

    /// Chunks of `workspace.maxBatch` test images, gathered and normalized into the batch buffer.
    public func evaluate(params: ParameterValues) -> LossSums {
        var lossSum = 0.0, correct = 0
        for lo in stride(from: evalRange.lowerBound, to: evalRange.upperBound, by: workspace.maxBatch) {
            let n = min(workspace.maxBatch, evalRange.upperBound - lo)
            for row in 0..<n { batchLabels[row] = test.copy(image: lo + row, into: batchRow(row)) }
            let r = batchLabels.withUnsafeBufferPointer {
                model.evaluate(params: params.base, x: batchX.pointer, labels: $0.baseAddress!, count: n, workspace: workspace)
            }
            lossSum += r.lossSum
            correct += r.correct
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
        ("epoch", [Summary.Period.epoch(r.period), Summary.Period.trainLoss(r.trainLoss), Summary.Period.testLoss(r.evalLoss),
                   Summary.Period.testAccuracy(r.evaluation.accuracy ?? .nan), Summary.Period.seconds(r.seconds)])
    }

    public func summaryText(_ final: LossSums) -> String {
        String(format: "test accuracy %.2f%%", (final.accuracy ?? .nan) * 100)
    }

    public func summaryFields(_ final: LossSums, samplesPerSecond: Double) -> [(String, JSON)] {
        [Summary.testAccuracy(final.accuracy ?? .nan), Summary.testLoss(final.loss)]
            + datasetFields("Fashion-MNIST", train: train.count, eval: test.count, unit: "images", split: "test")
    }
}
