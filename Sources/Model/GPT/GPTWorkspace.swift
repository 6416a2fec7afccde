/// Activations one block keeps for its backward, at (maxBatch, blockSize) rows of the residual
/// width C. The LayerNorm outputs and the GELU output are not kept: backward recomputes them
/// (from the block input / mid and the kept mean and rstd; from the GELU input) into the
/// workspace's shared scratch, as llm.c does for GELU: the same values, 6 C floats less per
/// row and block. In bf16 compute qkv, atty and fc (product operands and outputs) are bf16
/// (`ActivationBuffer`), and residualMid is not kept: every block shares one, and backward
/// recomputes it as x + c_proj(atty) (the same product, so the same bits), 20 C bytes less per
/// row and block for one C x C product per block.
final class GPTBlockActivations {
    let ln1Mean: FlatBuffer    // (B, T)
    let ln1Rstd: FlatBuffer    // (B, T)
    let qkv: ActivationBuffer  // (B, T, 3C)  c_attn output
    let lse: FlatBuffer        // (B, NH, T)  attention row statistics: logsumexp of each query row's scores
    let atty: ActivationBuffer // (B, T, C)   attention output before c_proj
    let residualMid: FlatBuffer // (B, T, C)  x + attn(ln_1(x)); bf16: the workspace's, shared by the blocks
    /// False when residualMid is the shared one (bf16), recomputed in backward.
    let keepsMid: Bool
    let ln2Mean: FlatBuffer    // (B, T)
    let ln2Rstd: FlatBuffer    // (B, T)
    let fc: ActivationBuffer   // (B, T, 4C)  c_fc output (GELU input); fp32: the backward replaces it by gelu'(fc)

    init(rows: Int, C: Int, NH: Int, B: Int, T: Int, dtype: ComputeDType, sharedMid: FlatBuffer?) {
        ln1Mean = FlatBuffer(count: rows)
        ln1Rstd = FlatBuffer(count: rows)
        qkv = ActivationBuffer(count: rows * 3 * C, dtype: dtype)
        lse = FlatBuffer(count: B * NH * T)
        atty = ActivationBuffer(count: rows * C, dtype: dtype)
        residualMid = sharedMid ?? FlatBuffer(count: rows * C)
        keepsMid = sharedMid == nil
        ln2Mean = FlatBuffer(count: rows)
        ln2Rstd = FlatBuffer(count: rows)
        fc = ActivationBuffer(count: rows * 4 * C, dtype: dtype)
    }

    var bytes: Int {
        [ln1Mean, ln1Rstd, lse, ln2Mean, ln2Rstd].reduce(0) { $0 + $1.bytes } + qkv.bytes + atty.bytes + fc.bytes
            + (keepsMid ? residualMid.bytes : 0)
    }
}

/// Activation and gradient scratch for one GPT at batches up to `maxBatch` sequences of
/// `blockSize` tokens, allocated once.
///
/// Memory: 4 bytes x (B T (L (10 C + 4 + NH) + 16 C + V + 2) + threads T (2 min(t, T) + 2)),
/// B = maxBatch, t = attentionTile (64); in bf16 the 8 C per block and 6 C of ln, gelu and lnf
/// that are product operands take 2 bytes, the blocks share one residualMid (C per row, not
/// L C), a thread's tiles hold (t / 2 + hs) floats per position in place of the (hs, t) transposed
/// tile (`bf16AttentionScratchFloats`), plus the bf16
/// buffer of an output gradient (B T max(4C, V) x 2 bytes). O(T) in the attention, whose (T, T) probabilities are
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
    /// bf16: the one residualMid of every block (recomputed in backward); nil in fp32.
    private let sharedMid: FlatBuffer?
    let lnf: ActivationBuffer  // (B, T, C)
    let lnfMean: FlatBuffer    // (B, T)
    let lnfRstd: FlatBuffer    // (B, T)
    let logits: FlatBuffer     // (B, T, V), replaced by dlogits in the backward
    // Shared by the blocks, forward and (recomputed) backward.
    let ln: ActivationBuffer   // (B, T, C) a LayerNorm output (ln_1 or ln_2 of the block at hand)
    let gelu: ActivationBuffer // (B, T, 4C) the GELU output of the block at hand
    // Backward scratch.
    let dresidual: FlatBuffer  // (B, T, C) gradient of the residual stream
    let dC: FlatBuffer         // (B, T, C) gradient of a LayerNorm output or of atty
    let dqkv: FlatBuffer       // (B, T, 3C)
    let d4C: FlatBuffer        // (B, T, 4C) gradient of the GELU output, then of its input
    /// Per-thread attention tiles (attentionScratchFloats each), for `attentionSlots` threads;
    /// grown when a pass runs on more threads than that.
    private(set) var attentionScratch: FlatBuffer
    private(set) var attentionSlots: Int
    /// bf16: one engine per attention slot for the attention's products; empty in fp32.
    private var attentionEngines: [BF16GEMM] = []
    /// Per-layer wall time of the passes over this workspace, when set (`GPTTimer`).
    public var timer: GPTTimer?

    /// `threads`: how many threads' attention tiles to allocate up front (more are added when
    /// a pass runs on more). `bf16Weights`: in bf16, the copy of the parameters the products
    /// read, refreshed by its owner (a node-shared copy); nil: a private one, refreshed by
    /// every pass.
    public init(model: GPT, maxBatch: Int, dtype: ComputeDType = .fp32, threads: Int = ComputeThreads.count,
                bf16Weights: BF16Weights? = nil) {
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
            let weights = bf16Weights ?? BF16Weights(count: model.parameterCount)
            precondition(weights.count == model.parameterCount, "bf16 weights of \(weights.count), the model has \(model.parameterCount)")
            linear = BF16Products(weights: weights, inputs: 0, outputs: Self.bf16OutputGradients(model: model, rows: rows))
        }
        residual = (0...cfg.nLayer).map { _ in FlatBuffer(count: rows * C) }
        sharedMid = dtype == .bf16 ? FlatBuffer(count: rows * C) : nil
        blocks = (0..<cfg.nLayer).map { [sharedMid] _ in
            GPTBlockActivations(rows: rows, C: C, NH: cfg.nHead, B: maxBatch, T: T, dtype: dtype, sharedMid: sharedMid)
        }
        lnf = ActivationBuffer(count: rows * C, dtype: dtype)
        lnfMean = FlatBuffer(count: rows)
        lnfRstd = FlatBuffer(count: rows)
        logits = FlatBuffer(count: rows * cfg.vocabSize)
        ln = ActivationBuffer(count: rows * C, dtype: dtype)
        gelu = ActivationBuffer(count: rows * 4 * C, dtype: dtype)
        dresidual = FlatBuffer(count: rows * C)
        dC = FlatBuffer(count: rows * C)
        dqkv = FlatBuffer(count: rows * 3 * C)
        d4C = FlatBuffer(count: rows * 4 * C)
        attentionSlots = max(1, threads)
        attentionScratch = FlatBuffer(count: attentionSlots * Self.attentionSlotFloats(model: model, dtype: dtype))
        growEngines()
    }

    /// One thread's attention tiles in this workspace's dtype.
    var attentionSlotFloats: Int { Self.attentionSlotFloats(model: model, dtype: dtype) }

    /// One thread's attention tiles (bf16: the bf16 kernels' slot).
    static func attentionSlotFloats(model: GPT, dtype: ComputeDType) -> Int {
        let (T, hs) = (model.config.blockSize, model.config.nEmbd / model.config.nHead)
        return dtype == .bf16 ? bf16AttentionScratchFloats(T: T, headSize: hs) : attentionScratchFloats(T: T, headSize: hs)
    }

    /// The attention tiles for a pass on ComputeThreads.count threads: (pointer, slots).
    func attentionTiles() -> (UnsafeMutablePointer<Float>, Int) {
        if ComputeThreads.count > attentionSlots {
            attentionSlots = ComputeThreads.count
            attentionScratch = FlatBuffer(count: attentionSlots * Self.attentionSlotFloats(model: model, dtype: dtype))
            growEngines()
        }
        return (attentionScratch.pointer, attentionSlots)
    }

    /// The attention engines of slots `slot...` (bf16; empty in fp32).
    func attentionEngines(from slot: Int) -> ArraySlice<BF16GEMM> {
        attentionEngines.isEmpty ? [] : attentionEngines[slot...]
    }

    private func growEngines() {
        guard dtype == .bf16 else { return }
        while attentionEngines.count < attentionSlots { attentionEngines.append(BF16GEMM(threads: 1)) }
    }

    /// The `bytes` a workspace for `model` at `maxBatch` would hold, without allocating it
    /// (`lion-dist plan`) with tiles for `threads`: the formula above, and in bf16 its output
    /// gradient buffer and (`privateWeights`) its own copy of the parameters.
    public static func bytes(model: GPT, maxBatch: Int, dtype: ComputeDType = .fp32, threads: Int = ComputeThreads.count,
                             privateWeights: Bool = true) -> Int {
        let c = model.config
        let (B, T, C, L) = (maxBatch, c.blockSize, c.nEmbd, c.nLayer)
        let mid = dtype == .bf16 ? C : L * C   // bf16: one residualMid shared by the blocks
        let fp32 = 4 * (B * T * (L * (C + 4 + c.nHead) + mid + 10 * C + c.vocabSize + 2)
                        + max(1, threads) * attentionSlotFloats(model: model, dtype: dtype))
        let activations = ActivationBuffer.elementBytes(dtype) * B * T * (8 * L * C + 6 * C)   // qkv, atty, fc; ln, gelu, lnf
        guard dtype == .bf16 else { return fp32 + activations }
        return fp32 + activations + 2 * ((privateWeights ? model.parameterCount : 0) + bf16OutputGradients(model: model, rows: B * T))
    }

    /// The bf16 buffer of a product's output gradient (widest: 4C or V), narrowed per product.
    static func bf16OutputGradients(model: GPT, rows: Int) -> Int {
        let c = model.config
        return rows * max(4 * c.nEmbd, c.vocabSize)
    }

    /// oneDNN's kernel for the bf16 products ("brg:avx512_core_bf16"), nil in fp32.
    public var bf16Implementation: String? {
        (linear as? BF16Products)?.implementation(N: maxBatch * model.config.blockSize, I: model.config.nEmbd,
                                                  O: 4 * model.config.nEmbd)
    }

    /// Bytes of scratch held (with a private bf16 copy of the parameters, not with one held elsewhere).
    public var bytes: Int {
        let own = [lnfMean, lnfRstd, logits, dresidual, dC, dqkv, d4C, attentionScratch] + residual
        return own.reduce(0) { $0 + $1.bytes } + (sharedMid?.bytes ?? 0) + lnf.bytes + ln.bytes + gelu.bytes + blocks.reduce(0) { $0 + $1.bytes } + linear.bytes
    }
}
