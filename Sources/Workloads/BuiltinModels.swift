import Checkpoint
import Model
import RunSchema
import Training

/// The two built-in models as their checkpoints name them: the family codes every lion-dist
/// checkpoint has stored (0 the MLP, 1 the GPT), their shapes, their words.
public enum BuiltinModel: Sendable, Equatable {
    /// A multilayer perceptron inputs-hidden...-classes (weights and biases).
    case mlp(inputs: Int, hidden: [Int], classes: Int)
    /// A GPT-2 layout decoder without biases, tied output layer.
    case gpt(vocab: Int, blockSize: Int, layers: Int, heads: Int, width: Int)

    public var signature: ModelSignature {
        switch self {
        case let .mlp(inputs, hidden, classes):
            let sizes = [inputs] + hidden + [classes]
            let count = Self.sum(zip(sizes, sizes.dropFirst()).flatMap { [($0, $1), (1, $1)] })   // weights, biases
            return ModelSignature(code: 0, shape: sizes, parameterCount: count ?? .max, words: "MLP {-}", flags: "--hidden")
        case let .gpt(vocab, blockSize, layers, heads, width):
            // wte (V, C) + wpe (T, C) + per block 12 C^2 + 2 C (ln_1, c_attn, c_proj, ln_2, c_fc, c_proj) + ln_f (C)
            let (twelveC, o) = width.multipliedReportingOverflow(by: 12)
            let block = o ? nil : Self.sum([(twelveC, width), (2, width)])
            let count = block.flatMap { Self.sum([(vocab, width), (blockSize, width), (layers, $0), (1, width)]) }
            return ModelSignature(code: 1, shape: [vocab, blockSize, layers, heads, width], parameterCount: count ?? .max,
                                  words: "GPT {2} layers, {3} heads, {4} wide, context {1}, vocab {0}",
                                  flags: "--n-layer, --n-head, --n-embd and --block-size")
        }
    }

    /// The built-in model a signature names (a checkpoint's, read without the model's words), nil
    /// for any other.
    public init?(_ s: ModelSignature) {
        switch s.code {
        case 0 where s.shape.count >= 2:
            self = .mlp(inputs: s.shape[0], hidden: Array(s.shape[1..<s.shape.count - 1]), classes: s.shape[s.shape.count - 1])
        case 1 where s.shape.count == 5 && s.shape[4] % s.shape[3] == 0:
            self = .gpt(vocab: s.shape[0], blockSize: s.shape[1], layers: s.shape[2], heads: s.shape[3], width: s.shape[4])
        default:
            return nil
        }
    }

    /// Sum of products, nil on overflow.
    static func sum(_ terms: [(Int, Int)]) -> Int? {
        var total = 0
        for (a, b) in terms {
            let (p, o1) = a.multipliedReportingOverflow(by: b)
            let (s, o2) = total.addingReportingOverflow(p)
            if o1 || o2 { return nil }
            total = s
        }
        return total
    }
}

extension ModelSignature {
    /// This signature in its built-in model's words when it names one ("MLP 784-1024-512-10").
    public var named: ModelSignature { BuiltinModel(self).map { described(like: $0.signature) } ?? self }
}

extension Workload {
    /// The summary's keys that say what the run trained and on what (`model_shape`, `dataset`,
    /// `train_size`, `eval_size`, `size_unit`, `eval_split`, `eval_interval`), for the report.
    func datasetFields(_ dataset: String, train: Int, eval: Int, unit: String, split: String) -> [(String, JSON)] {
        [Summary.modelShape(description), Summary.dataset(dataset), Summary.trainSize(train), Summary.evalSize(eval),
         Summary.sizeUnit(unit), Summary.evalSplit(split), Summary.evalInterval(stepsPerPeriod)]
    }
}
