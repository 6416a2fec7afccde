/// Which model a checkpoint holds, by its shape: enough to tell a run of another model apart
/// and to know its parameter count without the model code.
public enum ModelSignature: Sendable, Equatable {
    /// A multilayer perceptron inputs-hidden...-classes (weights and biases).
    case mlp(inputs: Int, hidden: [Int], classes: Int)
    /// A GPT-2 layout decoder without biases, tied output layer.
    case gpt(vocab: Int, blockSize: Int, layers: Int, heads: Int, width: Int)
    /// A model of a library user's: its parameter count and up to 64 integers of its choosing
    /// (each in 1...2^24) that tell its shapes apart, e.g. `[tensorCount]` or its layer widths.
    case custom(parameterCount: Int, shape: [Int])

    /// The code stored in the header, and the dimensions that follow it.
    var code: UInt32 {
        switch self {
        case .mlp: return 0
        case .gpt: return 1
        case .custom: return 2
        }
    }

    /// 2^24: the custom parameter count is stored as two dimensions, high and low 24 bits (+1).
    static let customSplit = 1 << 24

    var dims: [Int] {
        switch self {
        case let .mlp(inputs, hidden, classes): return [inputs] + hidden + [classes]
        case let .gpt(vocab, blockSize, layers, heads, width): return [vocab, blockSize, layers, heads, width]
        case let .custom(count, shape): return [count / Self.customSplit + 1, count % Self.customSplit + 1] + shape
        }
    }

    /// Throws when a checkpoint header cannot hold this signature (a custom shape with more than
    /// 64 integers, or one outside 1...2^24; a negative parameter count).
    public func validate() throws {
        guard case let .custom(count, shape) = self else { return }
        guard count > 0, count / Self.customSplit < Self.customSplit - 1 else {
            throw CheckpointError(.badHeader, "custom model signature: parameter count \(count) must be in 1..<2^48")
        }
        guard shape.count <= CheckpointHeader.maxModelDims - 2,
              shape.allSatisfy({ (1...CheckpointHeader.maxWidth).contains($0) }) else {
            throw CheckpointError(.badHeader, "custom model signature: shape \(shape) must be at most \(CheckpointHeader.maxModelDims - 2) integers in 1...\(CheckpointHeader.maxWidth)")
        }
    }

    /// The signature from a header's code and dimensions, nil when they do not fit together.
    static func decode(code: UInt32, dims: [Int]) -> ModelSignature? {
        switch code {
        case 0 where dims.count >= 2:
            return .mlp(inputs: dims[0], hidden: Array(dims[1..<dims.count - 1]), classes: dims[dims.count - 1])
        case 1 where dims.count == 5 && dims[4] % dims[3] == 0:
            return .gpt(vocab: dims[0], blockSize: dims[1], layers: dims[2], heads: dims[3], width: dims[4])
        case 2 where dims.count >= 2:
            return .custom(parameterCount: (dims[0] - 1) * customSplit + dims[1] - 1, shape: Array(dims[2...]))
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
        case let .custom(count, shape): return "custom model of \(count) parameters, shape \(shape)"
        }
    }

    /// The flags that set the shape, for mismatch messages.
    var flags: String {
        switch self {
        case .mlp: return "--hidden"
        case .gpt: return "--n-layer, --n-head, --n-embd and --block-size"
        case .custom: return "model (its signature)"
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
        case let .custom(count, _):
            return count
        }
    }
}
