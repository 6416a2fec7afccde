import Collectives
import FashionData

/// Builds the workload a `TrainConfig` names, with its data, on every rank.
public enum WorkloadFactory {
    /// Checks the batch against the world size and the data, loads the data (every rank agrees
    /// on failure) and builds the workload. Collective.
    public static func make(config: TrainConfig, comm: Communicator) throws -> Workload {
        try comm.agree { try TrainConfig.checkBatch(config.globalBatch, worldSize: comm.size) }
        let data = try comm.agree { try FashionMNIST.load(directory: config.dataDirectory) }
        return try mlp(config: config, data: data, comm: comm)
    }

    /// The MLP on Fashion-MNIST data already loaded (a sweep loads it once for many runs).
    public static func mlp(config: TrainConfig, data: FashionMNIST, comm: Communicator) throws -> Workload {
        try comm.agree { try TrainConfig.checkBatch(config.globalBatch, worldSize: comm.size, datasetSize: data.train.count) }
        return MLPWorkload(data: data, hidden: config.hidden, globalBatch: config.globalBatch, epochs: config.epochs,
                           seed: config.seed, rank: comm.rank, worldSize: comm.size)
    }
}
