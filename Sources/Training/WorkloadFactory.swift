import Collectives
import FashionData
import TextData

/// Builds the workload a `TrainConfig` names, with its data, on every rank.
public enum WorkloadFactory {
    /// Checks the batch against the world size and the data, loads the data (every rank agrees
    /// on failure) and builds the workload. Collective.
    public static func make(config: TrainConfig, comm: Communicator) throws -> Workload {
        try comm.agree { try TrainConfig.checkBatch(config.globalBatch, worldSize: comm.size) }
        switch config.model {
        case .mlp:
            let data = try comm.agree { try FashionMNIST.load(directory: config.dataDirectory) }
            return try mlp(config: config, data: data, comm: comm)
        case .gpt:
            let corpus = try comm.agree { try ShakespeareCorpus.load(directory: config.dataDirectory) }
            return try gpt(config: config, corpus: corpus, comm: comm)
        }
    }

    /// The GPT on the Shakespeare corpus already loaded.
    public static func gpt(config: TrainConfig, corpus: ShakespeareCorpus, comm: Communicator) throws -> Workload {
        try comm.agree {
            try TrainConfig.checkBatch(config.globalBatch, worldSize: comm.size)
            guard config.gpt.blockSize <= corpus.maxBlockSize else {
                throw TrainingError("--block-size \(config.gpt.blockSize) is longer than the corpus allows (\(corpus.maxBlockSize)); use a smaller one")
            }
        }
        return GPTWorkload(corpus: corpus, config: config.gpt.config(vocabSize: corpus.vocabularySize),
                           globalBatch: config.globalBatch, steps: config.steps,
                           evalInterval: config.evalInterval, evalBatches: config.evalBatches, seed: config.seed,
                           rank: comm.rank, worldSize: comm.size)
    }

    /// The MLP on Fashion-MNIST data already loaded (a sweep loads it once for many runs).
    public static func mlp(config: TrainConfig, data: FashionMNIST, comm: Communicator) throws -> Workload {
        try comm.agree { try TrainConfig.checkBatch(config.globalBatch, worldSize: comm.size, datasetSize: data.train.count) }
        return MLPWorkload(data: data, hidden: config.hidden, globalBatch: config.globalBatch, epochs: config.epochs,
                           seed: config.seed, rank: comm.rank, worldSize: comm.size)
    }
}
