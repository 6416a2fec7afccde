import Collectives
import FashionData
import TextData

/// Builds the workload a `TrainConfig` names, with its data, on every rank.
public enum WorkloadFactory {
    /// Checks the batch against the world size and the data, loads the data (every rank agrees
    /// on failure) and builds the workload. Collective over `topology.world`.
    public static func make(config: TrainConfig, topology: Topology) throws -> Workload {
        let comm = topology.world
        switch config.model {
        case .mlp:
            try comm.agree { try TrainConfig.checkBatch(config.globalBatch, worldSize: comm.size) }
            // The images once per node, as bytes (normalized as batches are gathered).
            let images = try SharedImages(directory: config.dataDirectory, world: comm, node: topology.node)
            try comm.agree {
                try TrainConfig.checkBatch(config.globalBatch, worldSize: comm.size, datasetSize: images.counts.train)
            }
            return MLPWorkload(images: images, hidden: config.hidden, globalBatch: config.globalBatch, epochs: config.epochs,
                               seed: config.seed, rank: comm.rank, worldSize: comm.size)
        case .gpt:
            // Every rank loads and checks the file; then the tokens live once per node.
            // The batch is checked once, in `gpt` (against the corpus too).
            let loaded = try comm.agree { try ShakespeareCorpus.load(directory: config.dataDirectory) }
            let node = topology.node
            let corpus = try SharedTokens.share(loaded, node: node)
            #if canImport(Glibc)
            _ = mallocTrim(0)       // return the dropped private copy to the system
            #endif
            return try gpt(config: config, corpus: corpus, comm: comm, ranksSharingData: node.size)
        }
    }

    /// The GPT on the Shakespeare corpus already loaded; `ranksSharingData` ranks read one copy of it.
    public static func gpt(config: TrainConfig, corpus: ShakespeareCorpus, comm: Communicator,
                           ranksSharingData: Int = 1) throws -> Workload {
        try comm.agree {
            try TrainConfig.checkBatch(config.globalBatch, worldSize: comm.size)
            guard config.gpt.blockSize <= corpus.maxBlockSize else {
                throw TrainingError("--block-size \(config.gpt.blockSize) is longer than the corpus allows (\(corpus.maxBlockSize)); use a smaller one")
            }
        }
        return GPTWorkload(corpus: corpus, config: config.gpt.config(vocabSize: corpus.vocabularySize),
                           globalBatch: config.globalBatch, steps: config.steps,
                           evalInterval: config.evalInterval, evalBatches: config.evalBatches, seed: config.seed,
                           rank: comm.rank, worldSize: comm.size, ranksSharingData: ranksSharingData,
                           computeDType: config.computeDType)
    }

    /// The MLP on Fashion-MNIST data already loaded (a sweep loads it once for many runs).
    public static func mlp(config: TrainConfig, data: FashionMNIST, comm: Communicator) throws -> Workload {
        try comm.agree { try TrainConfig.checkBatch(config.globalBatch, worldSize: comm.size, datasetSize: data.train.count) }
        return MLPWorkload(data: data, hidden: config.hidden, globalBatch: config.globalBatch, epochs: config.epochs,
                           seed: config.seed, rank: comm.rank, worldSize: comm.size)
    }
}
