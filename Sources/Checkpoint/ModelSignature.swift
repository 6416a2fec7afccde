/// Which model a checkpoint holds, by its shape: enough to tell a run of another model apart
/// and to know its parameter count without the model code.
public enum ModelSignature: Sendable, Equatable {
    /// A multilayer perceptron inputs-hidden...-classes (weights and biases).
    case mlp(inputs: Int, hidden: [Int], classes: Int)
    /// A GPT-2 layout decoder without biases, tied output layer.
    case gpt(vocab: Int, blockSize: Int, layers: Int, heads: Int, width: Int)

    /// The code stored in the header, and the dimensions that follow it.
    var code: UInt32 {
        switch self {
        case .mlp: return 0
        case .gpt: return 1
        }
    }

    var dims: [Int] {
        switch self {
        case let .mlp(inputs, hidden, classes): return [inputs] + hidden + [classes]
        case let .gpt(vocab, blockSize, layers, heads, width): return [vocab, blockSize, layers, heads, width]
        }
    }

    /// The signature from a header's code and dimensions, nil when they do not fit together.
    static func decode(code: UInt32, dims: [Int]) -> ModelSignature? {
        switch code {
        case 0 where dims.count >= 2:
            return .mlp(inputs: dims[0], hidden: Array(dims[1..<dims.count - 1]), classes: dims[dims.count - 1])
        case 1 where dims.count == 5 && dims[4] % dims[3] == 0:
            return .gpt(vocab: dims[0], blockSize: dims[1], layers: dims[2], heads: dims[3], width: dims[4])
        default:
            return nil
        }
    }

    /// "MLP 784-1024-512-10", "GPT 4 layers, 4 heads, 128 wide, context 64, vocab 84".
    public var description: String {
        switch self {
        case .mlp: return "MLP " + dims.map(String.init).joined(separator: "-")
        case let .gpt(vocab, blockSize, layers, heads, width):
            return "GPT \(layers) layers, \(heads) heads, \(width) wide, context \(blockSize), vocab \(vocab)"
        }
    }

    /// The flags that set the shape, for mismatch messages.
    var flags: String {
        switch self {
        case .mlp: return "--hidden"
        case .gpt: return "--n-layer, --n-head, --n-embd and --block-size"
        }
    }

    /// Parameters of this shape, nil on overflow.
    public var parameterCount: Int? {
        func sum(_ terms: [(Int, Int)]) -> Int? {
            var total = 0
            for (a, b) in terms {
                let (p, o1) = a.multipliedReportingOverflow(by: b)
                let (s, o2) = total.addingReportingOverflow(p)
                if o1 || o2 { return nil }
                total = s
            }
            return total
        }
        switch self {
        case let .mlp(inputs, hidden, classes):
            let sizes: [Int] = [inputs] + hidden + [classes]
            var terms: [(Int, Int)] = []
            for l in 0..<sizes.count - 1 {
                terms.append((sizes[l], sizes[l + 1]))   // weights
                terms.append((1, sizes[l + 1]))          // biases
            }
            return sum(terms)
        case let .gpt(vocab, blockSize, layers, _, width):
            // wte (V, C) + wpe (T, C) + per block 12 C^2 + 2 C (ln_1, c_attn, c_proj, ln_2, c_fc, c_proj) + ln_f (C)
            let (twelveC, o) = width.multipliedReportingOverflow(by: 12)
            guard !o, let block = sum([(twelveC, width), (2, width)]) else { return nil }
            let terms: [(Int, Int)] = [(vocab, width), (blockSize, width), (layers, block), (1, width)]
            return sum(terms)
        }
    }
}
