/// Activations one block keeps for its backward, at (maxBatch, blockSize) rows of the residual
/// width C. The LayerNorm outputs and the GELU output are not kept: backward recomputes them
/// (from the block input / mid and the kept mean and rstd; from the GELU input) into the
/// workspace's shared scratch, as llm.c does for GELU: the same values, 6 C floats less per
/// row and block.
final class GPTBlockActivations {
    let ln1Mean: FlatBuffer    // (B, T)
    let ln1Rstd: FlatBuffer    // (B, T)
    let qkv: FlatBuffer        // (B, T, 3C)  c_attn output
    let lse: FlatBuffer        // (B, NH, T)  attention row statistics: logsumexp of each query row's scores
    let atty: FlatBuffer       // (B, T, C)   attention output before c_proj
    let residualMid: FlatBuffer // (B, T, C)  x + attn(ln_1(x))
    let ln2Mean: FlatBuffer    // (B, T)
    let ln2Rstd: FlatBuffer    // (B, T)
    let fc: FlatBuffer         // (B, T, 4C)  c_fc output (GELU input); the backward replaces it by gelu'(fc)

    init(rows: Int, C: Int, NH: Int, B: Int, T: Int) {
        ln1Mean = FlatBuffer(count: rows)
        ln1Rstd = FlatBuffer(count: rows)
        qkv = FlatBuffer(count: rows * 3 * C)
        lse = FlatBuffer(count: B * NH * T)
        atty = FlatBuffer(count: rows * C)
        residualMid = FlatBuffer(count: rows * C)
        ln2Mean = FlatBuffer(count: rows)
        ln2Rstd = FlatBuffer(count: rows)
        fc = FlatBuffer(count: rows * 4 * C)
    }

    var buffers: [FlatBuffer] { [ln1Mean, ln1Rstd, qkv, lse, atty, residualMid, ln2Mean, ln2Rstd, fc] }
}

/// Activation and gradient scratch for one GPT at batches up to `maxBatch` sequences of
/// `blockSize` tokens, allocated once.
///
/// Memory: 4 bytes x (B T (L (10 C + 4 + NH) + 16 C + V + 2) + threads T (2 min(t, T) + 2)),
/// B = maxBatch, t = attentionTile (64): O(T) in the attention, whose (T, T) probabilities are
/// never stored (the baby GPT at batch 12 and 2 threads: 22.4 MB, 26.3 MB with the
/// probabilities). At T = 1024, 6 layers, 6 heads, 384 wide, the attention keeps 6 x 24 KiB of
/// row statistics per sequence and 520 KiB of tiles per thread, where the probabilities and
/// their gradient scratch took 7 x 24 MiB per sequence: 2.7 MiB against 2016 MiB at batch 12
/// and 2 threads.
public final class GPTWorkspace {
    public let model: GPT
    public let maxBatch: Int
    public let dtype: ComputeDType
    /// The linear layers' products in `dtype` (bf16: with its own bf16 buffers).
    let linear: any LinearProducts
    /// residual[0] is the embedding output, residual[l + 1] block l's output; each (B, T, C).
    let residual: [FlatBuffer]
    let blocks: [GPTBlockActivations]
    let lnf: FlatBuffer        // (B, T, C)
    let lnfMean: FlatBuffer    // (B, T)
    let lnfRstd: FlatBuffer    // (B, T)
    let logits: FlatBuffer     // (B, T, V), replaced by dlogits in the backward
    // Shared by the blocks, forward and (recomputed) backward.
    let ln: FlatBuffer         // (B, T, C) a LayerNorm output (ln_1 or ln_2 of the block at hand)
    let gelu: FlatBuffer       // (B, T, 4C) the GELU output of the block at hand
    // Backward scratch.
    let dresidual: FlatBuffer  // (B, T, C) gradient of the residual stream
    let dC: FlatBuffer         // (B, T, C) gradient of a LayerNorm output or of atty
    let dqkv: FlatBuffer       // (B, T, 3C)
    let d4C: FlatBuffer        // (B, T, 4C) gradient of the GELU output, then of its input
    /// Per-thread attention tiles (attentionScratchFloats each), for `attentionSlots` threads;
    /// grown when a pass runs on more threads than that.
    private(set) var attentionScratch: FlatBuffer
    private(set) var attentionSlots: Int
    /// Per-layer wall time of the passes over this workspace, when set (`GPTTimer`).
    public var timer: GPTTimer?

    /// `threads`: how many threads' attention tiles to allocate up front (more are added when
    /// a pass runs on more).
    public init(model: GPT, maxBatch: Int, dtype: ComputeDType = .fp32, threads: Int = ComputeThreads.count) {
        precondition(maxBatch >= 1, "maxBatch must be >= 1")
        self.model = model
        self.maxBatch = maxBatch
        self.dtype = dtype
        let cfg = model.config
        let (T, C) = (cfg.blockSize, cfg.nEmbd)
        let rows = maxBatch * T
        switch dtype {
        case .fp32: linear = FP32Products()
        case .bf16:
            let (inputs, outputs) = Self.bf16Operands(model: model, rows: rows)
            linear = BF16Products(parameters: model.parameterCount, inputs: inputs, outputs: outputs)
        }
        residual = (0...cfg.nLayer).map { _ in FlatBuffer(count: rows * C) }
        blocks = (0..<cfg.nLayer).map { _ in GPTBlockActivations(rows: rows, C: C, NH: cfg.nHead, B: maxBatch, T: T) }
        lnf = FlatBuffer(count: rows * C)
        lnfMean = FlatBuffer(count: rows)
        lnfRstd = FlatBuffer(count: rows)
        logits = FlatBuffer(count: rows * cfg.vocabSize)
        ln = FlatBuffer(count: rows * C)
        gelu = FlatBuffer(count: rows * 4 * C)
        dresidual = FlatBuffer(count: rows * C)
        dC = FlatBuffer(count: rows * C)
        dqkv = FlatBuffer(count: rows * 3 * C)
        d4C = FlatBuffer(count: rows * 4 * C)
        attentionSlots = max(1, threads)
        attentionScratch = FlatBuffer(count: attentionSlots * attentionScratchFloats(T: model.config.blockSize))
    }

    /// The attention tiles for a pass on ComputeThreads.count threads: (pointer, slots).
    func attentionTiles() -> (UnsafeMutablePointer<Float>, Int) {
        if ComputeThreads.count > attentionSlots {
            attentionSlots = ComputeThreads.count
            attentionScratch = FlatBuffer(count: attentionSlots * attentionScratchFloats(T: model.config.blockSize))
        }
        return (attentionScratch.pointer, attentionSlots)
    }

    /// The `bytes` a workspace for `model` at `maxBatch` would hold, without allocating it
    /// (`lion-dist plan`) with tiles for `threads`: the formula above, and in bf16 its own buffers.
    public static func bytes(model: GPT, maxBatch: Int, dtype: ComputeDType = .fp32, threads: Int = ComputeThreads.count) -> Int {
        let c = model.config
        let (B, T, C, L) = (maxBatch, c.blockSize, c.nEmbd, c.nLayer)
        let fp32 = 4 * (B * T * (L * (10 * C + 4 + c.nHead) + 16 * C + c.vocabSize + 2) + max(1, threads) * attentionScratchFloats(T: T))
        guard dtype == .bf16 else { return fp32 }
        let (inputs, outputs) = bf16Operands(model: model, rows: B * T)
        return fp32 + 2 * (model.parameterCount + inputs + outputs)
    }

    /// bf16 operand buffers: a layer's input (widest: 4C) and output gradient (widest: 4C or V).
    static func bf16Operands(model: GPT, rows: Int) -> (inputs: Int, outputs: Int) {
        let c = model.config
        return (rows * 4 * c.nEmbd, rows * max(4 * c.nEmbd, c.vocabSize))
    }

    /// oneDNN's kernel for the bf16 products ("brg:avx512_core_bf16"), nil in fp32.
    public var bf16Implementation: String? {
        (linear as? BF16Products)?.implementation(N: maxBatch * model.config.blockSize, I: model.config.nEmbd,
                                                  O: 4 * model.config.nEmbd)
    }

    /// Bytes of scratch held.
    public var bytes: Int {
        let own = [lnf, lnfMean, lnfRstd, logits, ln, gelu, dresidual, dC, dqkv, d4C, attentionScratch] + residual
        return own.reduce(0) { $0 + $1.bytes } + blocks.reduce(0) { $0 + $1.buffers.reduce(0) { $0 + $1.bytes } } + linear.bytes
    }
}
