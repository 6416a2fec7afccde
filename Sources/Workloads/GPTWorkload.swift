import Basics
import Checkpoint
import Collectives
import Foundation
import MemoryPlanning
import Model
import RunSchema
import Safetensors
import TextData
import Training

/// The character-level GPT on Shakespeare: each step's global batch is `globalBatch` random
/// windows of blockSize + 1 characters, a pure function of (seed, step, row), so W never changes
/// what the batch holds; one period is `evalInterval` steps, closed by the mean loss over a fixed
/// set of validation windows split across the ranks.
public final class GPTWorkload: Workload {
    let corpus: ShakespeareCorpus
    let model: GPT
    let workspace: GPTWorkspace
    let seed: UInt64
    let localBatch: Int
    let firstRow: Int
    let steps: Int
    let evalInterval: Int
    /// Validation windows in all, and this rank's share [lo, hi).
    let evalWindows: Int
    let evalShare: Range<Int>
    private var tokens: [UInt16]
    /// Ranks that read one copy of the corpus (its node's ranks when shared).
    let ranksSharingData: Int
    /// bf16: the copy of the parameters the products read, once per node (`node` given).
    let bf16Weights: NodeSharedBF16Weights?

    /// Collective over `node` in bf16 (the node-shared copy of the parameters; nil: a private
    /// one). `bf16Dump`: a test hook, see `NodeSharedBF16Weights`.
    public init(corpus: ShakespeareCorpus, config: GPTConfig, globalBatch: Int, steps: Int, evalInterval: Int,
                evalBatches: Int, seed: UInt64, rank: Int, worldSize: Int, ranksSharingData: Int = 1,
                computeDType: ComputeDType = .fp32, node: Communicator? = nil, bf16Dump: String? = nil) throws {
        self.ranksSharingData = ranksSharingData
        self.corpus = corpus
        model = GPT(config: config)
        self.seed = seed
        self.steps = steps
        self.evalInterval = min(evalInterval, steps)
        localBatch = globalBatch / worldSize
        firstRow = rank * localBatch
        evalWindows = evalBatches * globalBatch
        evalShare = (rank * evalWindows / worldSize)..<((rank + 1) * evalWindows / worldSize)
        // Evaluation runs in chunks of the training slice, so it needs no larger workspace.
        bf16Weights = computeDType == .bf16
            ? try NodeSharedBF16Weights(count: model.parameterCount, node: node, dump: bf16Dump.map { ($0, "rank\(rank)") })
            : nil
        workspace = GPTWorkspace(model: model, maxBatch: localBatch, dtype: computeDType, bf16Weights: bf16Weights?.weights)
        tokens = [UInt16](repeating: 0, count: localBatch * (config.blockSize + 1))
    }

    var blockSize: Int { model.config.blockSize }

    public var name: String { "gpt" }
    public var description: String {
        model.shapeDescription + (workspace.bf16Implementation.map { ", bf16 products (oneDNN \($0))" }
                                    ?? ", fp32 products (OpenBLAS \(OpenBLASCore.description))")
    }
    public var parameterCount: Int { model.parameterCount }
    public var signature: ModelSignature {
        let c = model.config
        return BuiltinModel.gpt(vocab: c.vocabSize, blockSize: c.blockSize, layers: c.nLayer, heads: c.nHead, width: c.nEmbd).signature
    }
    public var tensors: [ParameterTensor] { model.tensors }
    public var segments: [Range<Int>] { model.segments }
    public var stepsPerPeriod: Int { evalInterval }
    public var periods: Int { (steps + evalInterval - 1) / evalInterval }
    public var totalSteps: Int { steps }
    public var periodName: String { "eval interval" }
    public var itemsPerSample: Int { blockSize }
    public var throughputUnit: String { "tokens" }
    public var trainingFLOPsPerSample: Double? { model.flopsPerToken * Double(blockSize) }
    public func matmulRate() -> MatmulRate { .measure(workspace.dtype) }

    public var heldBytes: WorkloadBytes {
        WorkloadBytes(activations: workspace.bytes + tokens.count * 2,
                      dataset: 2 * (corpus.train.count + corpus.validation.count) / ranksSharingData,
                      computeParameters: bf16Weights?.heldBytes ?? 0)
    }

    /// What rank 0 of `worldSize` would hold, without loading or allocating anything (the
    /// prepared corpus: `ShakespeareCorpus.expectedBytes` tokens of `vocabSize` characters).
    public static func planned(config: GPTConfig, globalBatch: Int, worldSize: Int, ranksPerNode: Int,
                               computeDType: ComputeDType) -> PlannedModel {
        let model = GPT(config: config)
        let local = globalBatch / worldSize
        let activations = GPTWorkspace.bytes(model: model, maxBatch: local, dtype: computeDType, privateWeights: false)
            + 2 * local * (config.blockSize + 1)
        return PlannedModel(parameters: model.parameterCount, segments: model.segments,
                            held: WorkloadBytes(activations: activations, dataset: 2 * ShakespeareCorpus.expectedBytes / ranksPerNode,
                                                computeParameters: computeDType == .bf16 ? 2 * model.parameterCount / ranksPerNode : 0))
    }

    /// Checked against the model's shape and the corpus's vocabulary.
    public func initialWeights(fromSafetensors path: String) throws -> [Float] {
        try PyTorchStateDict.initialWeights(path, signature: signature, vocabulary: corpus.characters.symbols)
    }

    public func initialize(_ params: ParameterValues, seed: UInt64) {
        model.initialize(params.base, seed: seed)
    }

    public func forwardBackward(step: Int, params: ParameterValues, grads: GradientSink,
                                segmentDone: (Int) throws -> Void) throws -> LossSums {
        try bf16Weights?.refresh(from: params.base)
        let lossSum = try tokens.withUnsafeMutableBufferPointer { t in
            corpus.fillTrainBatch(step: step, firstRow: firstRow, rows: localBatch, blockSize: blockSize, seed: seed,
                                  into: t.baseAddress!)
            return try model.forwardBackward(params: params.base, gradients: grads, tokens: t.baseAddress!, batch: localBatch,
                                             workspace: workspace, segmentDone: segmentDone)
        }
        return LossSums(lossSum: lossSum, count: Double(localBatch * blockSize))
    }

    public func evaluate(params: ParameterValues) throws -> LossSums {
        try bf16Weights?.refresh(from: params.base)
        var lossSum = 0.0
        var lo = evalShare.lowerBound
        tokens.withUnsafeMutableBufferPointer { t in
            while lo < evalShare.upperBound {
                let hi = min(evalShare.upperBound, lo + workspace.maxBatch)
                corpus.fillValidationWindows(lo: lo, hi: hi, count: evalWindows, blockSize: blockSize, into: t.baseAddress!)
                lossSum += model.loss(params: params.base, tokens: t.baseAddress!, batch: hi - lo, workspace: workspace)
                lo = hi
            }
        }
        return LossSums(lossSum: lossSum, count: Double(evalShare.count * blockSize))
    }

    public func progressPosition(step: Int, totalSteps: Int) -> String { "step \(step)/\(totalSteps)" }

    public func periodLine(_ r: PeriodRecord, of run: RunShape) -> String {
        String(format: "step %d/%d  train loss %.4f  val loss %.4f (%.3f bits/char)  (%@)",
               r.step, run.totalSteps, r.trainLoss, r.evalLoss, r.evalLoss / log(2), Format.duration(r.seconds))
    }

    public func periodEvent(_ r: PeriodRecord) -> (event: String, fields: [(String, JSON)]) {
        ("eval", [Summary.Period.step(r.step), Summary.Period.trainLoss(r.trainLoss), Summary.Period.valLoss(r.evalLoss),
                  Summary.Period.bitsPerChar(r.evalLoss / log(2)), Summary.Period.seconds(r.seconds)])
    }

    public func summaryText(_ final: LossSums) -> String {
        String(format: "val loss %.4f nats/char (%.3f bits/char)", final.loss, final.loss / log(2))
    }

    public func summaryFields(_ final: LossSums, samplesPerSecond: Double) -> [(String, JSON)] {
        [Summary.valLoss(final.loss), Summary.bitsPerChar(final.loss / log(2)),
         Summary.tokensPerSecond(samplesPerSecond * Double(blockSize))]
            + datasetFields("Shakespeare", train: corpus.train.count, eval: corpus.validation.count, unit: "characters",
                            split: "validation")
    }
}
