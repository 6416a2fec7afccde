import MemoryPlanning
import TextData
import Training
import Workloads

extension MemoryPlan {
    /// The plan of a built-in workload's run, from its flags alone: nothing is loaded or
    /// allocated (`vocabSize`: the prepared corpus's characters).
    public init(config: RunConfig, worldSize: Int, ranksPerNode: Int, vocabSize: Int = ShakespeareCorpus.expectedCharacters) {
        let k = min(max(ranksPerNode, 1), worldSize)
        let model: PlannedModel
        switch config.model {
        case .mlp:
            model = MLPWorkload.planned(hidden: config.hidden, globalBatch: config.globalBatch, worldSize: worldSize, ranksPerNode: k)
        case .gpt:
            model = GPTWorkload.planned(config: config.gpt.config(vocabSize: vocabSize), globalBatch: config.globalBatch,
                                        worldSize: worldSize, ranksPerNode: k, computeDType: config.computeDType)
        }
        self.init(config: config.train, model: model, worldSize: worldSize, ranksPerNode: ranksPerNode)
    }
}
