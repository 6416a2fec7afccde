import Basics
import Collectives
import FashionData
import TextData
import Training
import Workloads

/// Builds the workload a `RunConfig` names, with its data, on every rank.
public enum WorkloadFactory {
    /// Sets up a run of the workload `config.model` names: checks its sizes, its resume batch
    /// and its memory plan, loads its data (every rank agrees on failure), then the trainer.
    /// Collective: every rank calls it.
    public static func trainer(config: RunConfig, topology: Topology) throws -> Trainer {
        let comm = topology.world
        try comm.agree { try config.checkSizes(worldSize: comm.size, ranksPerNode: comm.size) }
        try comm.agree { try config.train.checkResumeBatch(worldSize: comm.size) }
        try MemoryCheck.check(config: config, topology: topology)
        return try Trainer(config: config.train, topology: topology, workload: try make(config: config, topology: topology))
    }

    /// Checks the batch against the world size and the data, loads the data (every rank agrees
    /// on failure) and builds the workload. Collective over `topology.world`.
    public static func make(config: RunConfig, topology: Topology) throws -> Workload {
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
            let corpus = try loaded.sharedPerNode(topology.node)
            #if canImport(Glibc)
            _ = mallocTrim(0)       // return the dropped private copy to the system
            #endif
            return try gpt(config: config, corpus: corpus, comm: comm, node: topology.node, ranksSharingData: topology.node.size)
        }
    }

    /// The GPT on the Shakespeare corpus already loaded; `ranksSharingData` ranks read one copy
    /// of it; in bf16 the ranks of `node` read one copy of the parameters in bf16.
    public static func gpt(config: RunConfig, corpus: ShakespeareCorpus, comm: Communicator, node: Communicator,
                           ranksSharingData: Int = 1) throws -> Workload {
        try comm.agree {
            try TrainConfig.checkBatch(config.globalBatch, worldSize: comm.size)
            guard config.gpt.blockSize <= corpus.maxBlockSize else {
                throw TrainingError("--block-size \(config.gpt.blockSize) is longer than the corpus allows (\(corpus.maxBlockSize)); use a smaller one")
            }
        }
        return try GPTWorkload(corpus: corpus, config: config.gpt.config(vocabSize: corpus.vocabularySize),
                           globalBatch: config.globalBatch, steps: config.steps,
                           evalInterval: config.evalInterval, evalBatches: config.evalBatches, seed: config.seed,
                           rank: comm.rank, worldSize: comm.size, ranksSharingData: ranksSharingData,
                           computeDType: config.computeDType, node: node, bf16Dump: config.train.bf16DumpDirectory)
    }

    /// The MLP on Fashion-MNIST data already loaded (a sweep loads it once for many runs).
    public static func mlp(config: RunConfig, data: FashionMNIST, comm: Communicator) throws -> Workload {
        try comm.agree { try TrainConfig.checkBatch(config.globalBatch, worldSize: comm.size, datasetSize: data.train.count) }
        return MLPWorkload(data: data, hidden: config.hidden, globalBatch: config.globalBatch, epochs: config.epochs,
                           seed: config.seed, rank: comm.rank, worldSize: comm.size)
    }
}
