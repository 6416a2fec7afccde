#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import DeterministicRandom

/// The shape of a GPT: vocabulary, context length, depth, heads and width.
public struct GPTConfig: Sendable, Equatable {
    public var vocabSize: Int
    public var blockSize: Int
    public var nLayer: Int
    public var nHead: Int
    public var nEmbd: Int

    public init(vocabSize: Int, blockSize: Int, nLayer: Int, nHead: Int, nEmbd: Int) {
        self.vocabSize = vocabSize
        self.blockSize = blockSize
        self.nLayer = nLayer
        self.nHead = nHead
        self.nEmbd = nEmbd
    }

    /// The first problem with this shape, as one line that names the fix; nil when valid.
    /// The CLI calls it before MPI starts; `GPT.init` preconditions the same.
    public var problem: String? {
        if vocabSize < 1 || vocabSize > 65536 { return "vocabulary size must be in 1...65536 (tokens are UInt16), got \(vocabSize)" }
        if blockSize < 1 { return "--block-size must be >= 1, got \(blockSize)" }
        if nLayer < 1 { return "--n-layer must be >= 1, got \(nLayer)" }
        if nHead < 1 { return "--n-head must be >= 1, got \(nHead)" }
        if nEmbd < 1 || nEmbd % nHead != 0 {
            return "--n-embd \(nEmbd) must be a positive multiple of --n-head \(nHead)"
        }
        return nil
    }
}

/// Where one Transformer block's tensors start in the flat buffer (nanoGPT names).
struct GPTBlockLayout: Sendable, Equatable {
    let ln1: Int      // ln_1.weight          (C)
    let cAttn: Int    // attn.c_attn.weight   (3C, C)
    let cProj: Int    // attn.c_proj.weight   (C, C)
    let ln2: Int      // ln_2.weight          (C)
    let fc: Int       // mlp.c_fc.weight      (4C, C)
    let fcProj: Int   // mlp.c_proj.weight    (C, 4C)
    let end: Int
}

/// A decoder-only Transformer, GPT-2 layout without biases: token + position embeddings,
/// nLayer pre-LayerNorm blocks (causal multi-head attention, 4x GELU MLP, residuals),
/// a final LayerNorm and an output layer tied to the token embedding.
///
/// Like ``MLP``, the struct is only shape and layout; parameters live in a caller-owned
/// flat buffer of `parameterCount` Floats, every tensor a named view (``tensors``).
public struct GPT: Sendable, Equatable {
    public let config: GPTConfig
    /// Exact number of parameters, no padding (the trainer pads for sharding).
    public let parameterCount: Int
    /// Every tensor in buffer order: wte, wpe, h.0.ln_1.weight, ..., ln_f.weight.
    public let tensors: [ParameterTensor]
    /// Contiguous ascending ranges tiling [0, parameterCount): [embeddings (wte, wpe)], then
    /// each block's six tensors one segment each (ln_1, c_attn, c_proj, ln_2, c_fc, mlp c_proj:
    /// `Self.blockSegment(l, j)`), then [ln_f]. Backward calls `segmentDone(i)` for i
    /// DESCENDING, each as soon as that tensor's gradient is final (ln_f first, embeddings last:
    /// the tied wte gradient is final only after the embedding backward), so gradient buckets
    /// can be as small as one tensor.
    public let segments: [Range<Int>]

    let wte: Int      // (V, C)
    let wpe: Int      // (T, C)
    let blocks: [GPTBlockLayout]
    let lnf: Int      // (C)

    public init(config: GPTConfig) {
        if let problem = config.problem { preconditionFailure("GPT: \(problem)") }
        self.config = config
        let (V, T, C) = (config.vocabSize, config.blockSize, config.nEmbd)
        var tensors: [ParameterTensor] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int], decays: Bool) -> Int {
            let t = ParameterTensor(name: name, offset: offset, shape: shape, decays: decays)
            tensors.append(t)
            offset += t.count
            return t.offset
        }
        wte = add("wte", [V, C], decays: true)
        wpe = add("wpe", [T, C], decays: true)
        var segments = [0..<offset]
        var blocks: [GPTBlockLayout] = []
        for l in 0..<config.nLayer {
            let ln1 = add("h.\(l).ln_1.weight", [C], decays: false)
            let cAttn = add("h.\(l).attn.c_attn.weight", [3 * C, C], decays: true)
            let cProj = add("h.\(l).attn.c_proj.weight", [C, C], decays: true)
            let ln2 = add("h.\(l).ln_2.weight", [C], decays: false)
            let fc = add("h.\(l).mlp.c_fc.weight", [4 * C, C], decays: true)
            let fcProj = add("h.\(l).mlp.c_proj.weight", [C, 4 * C], decays: true)
            blocks.append(GPTBlockLayout(ln1: ln1, cAttn: cAttn, cProj: cProj, ln2: ln2, fc: fc, fcProj: fcProj, end: offset))
            segments += tensors.suffix(6).map(\.range)
        }
        let lnfStart = offset
        lnf = add("ln_f.weight", [C], decays: false)
        segments.append(lnfStart..<offset)
        self.blocks = blocks
        self.tensors = tensors
        self.segments = segments
        parameterCount = offset
    }

    /// Segment of block `l`'s tensor `j` (0 ln_1, 1 c_attn, 2 c_proj, 3 ln_2, 4 c_fc, 5 mlp c_proj).
    static func blockSegment(_ l: Int, _ j: Int) -> Int { 1 + 6 * l + j }

    /// e.g. "GPT 4 layers, 4 heads, 128 wide, context 64, vocab 84".
    public var shapeDescription: String {
        "GPT \(config.nLayer) layers, \(config.nHead) heads, \(config.nEmbd) wide, context \(config.blockSize), vocab \(config.vocabSize)"
    }

    /// Training FLOPs per token, forward + backward: 6 N + 12 L C T (nanoGPT's `estimate_mfu`,
    /// after the PaLM paper's appendix B). N counts the parameters that take part in matrix
    /// products: every parameter but the position embeddings (the tied wte counts once, as the
    /// output layer); each costs 2 FLOPs per token forward and 4 backward. The attention term
    /// is Q K^T and att V: 2 x 2 T C per layer forward (the full T x T square, as computed here),
    /// times 3 with the backward.
    public var flopsPerToken: Double {
        let (L, C, T) = (Double(config.nLayer), Double(config.nEmbd), Double(config.blockSize))
        let n = Double(parameterCount - config.blockSize * config.nEmbd)
        return 6 * n + 12 * L * C * T
    }

    /// GPT-2 initialization, deterministic from `seed`: every matrix and embedding N(0, 0.02),
    /// the residual projections (attn.c_proj, mlp.c_proj) N(0, 0.02 / sqrt(2 nLayer)),
    /// LayerNorm gains 1. Normal draws: Box-Muller over SplitMix64, in buffer order.
    public func initialize(_ params: UnsafeMutablePointer<Float>, seed: UInt64) {
        var gauss = BoxMuller(seed: seed)
        let residualStd = 0.02 / (2 * Double(config.nLayer)).squareRoot()
        for t in tensors {
            let p = params + t.offset
            if t.shape.count == 1 {
                p.update(repeating: 1, count: t.count)
                continue
            }
            let std = t.name.hasSuffix("c_proj.weight") ? residualStd : 0.02
            for k in 0..<t.count { p[k] = Float(std * gauss.next()) }
        }
    }
}

/// Standard normal draws from SplitMix64 by the Box-Muller transform (both values of each pair used).
package struct BoxMuller {
    var rng: SplitMix64
    var spare: Double?

    package init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    package mutating func next() -> Double {
        if let s = spare {
            spare = nil
            return s
        }
        let u1 = 1 - rng.nextUnit()          // (0, 1]: log stays finite
        let u2 = rng.nextUnit()
        let r = (-2 * log(u1)).squareRoot()
        spare = r * sin(2 * Double.pi * u2)
        return r * cos(2 * Double.pi * u2)
    }
}
