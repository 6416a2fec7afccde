import Model
import Training

/// Which workload `train` runs (`--model`).
public enum ModelKind: String, CaseIterable, Sendable {
    /// The MLP on Fashion-MNIST (epochs over 60,000 images).
    case mlp
    /// The character-level GPT on Shakespeare (a budget of steps).
    case gpt
}

/// The GPT's shape without the vocabulary (the corpus decides it).
public struct GPTShape: Sendable, Equatable {
    public var nLayer = 4
    public var nHead = 4
    public var nEmbd = 128
    public var blockSize = 64

    public init() {}

    public func config(vocabSize: Int) -> GPTConfig {
        GPTConfig(vocabSize: vocabSize, blockSize: blockSize, nLayer: nLayer, nHead: nHead, nEmbd: nEmbd)
    }
}

/// A run of a built-in workload as the command line configures it: which model, its shape, its
/// data and its length, and the loop's settings (`train`, whose fields read and write through
/// as if they were this struct's: `config.optimizer.lr`).
@dynamicMemberLookup
public struct RunConfig: Sendable {
    public var train = TrainConfig()
    public var model: ModelKind = .mlp
    /// MLP: hidden widths and passes over the data.
    public var hidden: [Int] = [1024, 512]
    public var epochs: Int = 10
    /// GPT: shape, step budget, and evaluation every `evalInterval` steps over
    /// `evalBatches` x the global batch validation windows.
    public var gpt = GPTShape()
    public var steps: Int = 2000
    public var evalInterval: Int = 250
    public var evalBatches: Int = 20
    /// GPT: the precision of the matrix products (fp32, or bf16 through oneDNN).
    public var computeDType: ComputeDType = .fp32
    public var dataDirectory: String
    /// `--memory-check`: refuse a run whose plan does not fit the memory a node has available.
    public var memoryCheck: Bool = true

    public init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
    }

    public subscript<T>(dynamicMember path: WritableKeyPath<TrainConfig, T>) -> T {
        get { train[keyPath: path] }
        set { train[keyPath: path] = newValue }
    }
}
