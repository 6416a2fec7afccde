import Basics
/// The optimizer over one contiguous range of parameters on this process, no MPI: its state
/// and the threaded update. `ShardedOptimizer` (Sharding) runs one over each rank's shard;
/// used alone it is a plain multi-threaded Lion/AdamW over a flat buffer.
///
/// State (Lion: m; AdamW: m, v) is allocated once at init, 64-byte aligned and zeroed, in
/// `config.stateDType`. `update` splits [0, count) into `Chunking.chunkElements` chunks over
/// the pool and runs the SIMD kernel on each; it allocates nothing.
///
/// ```swift
/// let pool = ThreadPool(threads: CPUAffinity.coresAvailable())
/// let opt = LocalOptimizer(config: .defaults(for: .lion), count: n, pool: pool)
/// opt.update(params: p, grads: g, lr: schedule.lr(atStep: opt.step), gradScale: clip)
/// ```
public final class LocalOptimizer {
    public let config: OptimizerConfig
    public let count: Int
    public let pool: ThreadPool
    /// Updates applied so far; AdamW's bias correction uses step+1 for the next update.
    /// Settable for resume from a checkpoint.
    public var step: Int = 0
    /// Tiles [0, count): each group's weight decay, lr multiplier and betas (nil: the config's).
    /// Default: one group with `config.weightDecay`.
    public let groups: [ParameterGroup]

    /// Cautious Lion (`config.isCautious`): the tensors of [0, count), whose scale means the
    /// update needs (default: one tensor, the whole range). Nil for plain Lion and AdamW.
    public let tensors: TensorPieces?

    /// Raw state buffers (`stateBuffers` of them), each `count * bytesPerElement` bytes.
    private let buffers: [UnsafeMutableRawPointer]
    /// Where group or tensor changes: the kernels' pieces within each chunk.
    private let spans: [OptimizerSpan]
    /// Cautious Lion's bits between its two passes, and one aligned count per (chunk, span)
    /// piece (piece index chunk + span: unique, as each next piece advances one or both).
    private let cautiousBits: CautiousBits?
    private let pieceCounts: UnsafeMutableBufferPointer<Int>
    private let pieceTensors: UnsafeMutableBufferPointer<Int>

    public init(config: OptimizerConfig, count: Int, pool: ThreadPool, groups: [ParameterGroup]? = nil,
                tensors: TensorPieces? = nil) {
        precondition(count >= 0, "count must be >= 0")
        self.config = config
        self.count = count
        self.pool = pool
        self.groups = ParameterGroup.normalized(groups ?? [ParameterGroup(range: 0..<count, weightDecay: config.weightDecay)],
                                                count: count)
        self.tensors = config.isCautious ? (tensors ?? .whole(count)) : nil
        spans = OptimizerSpan.spans(groups: self.groups, tensors: self.tensors, count: count)
        cautiousBits = config.isCautious ? CautiousBits(count: count) : nil
        let pieces = config.isCautious ? Chunking.chunkCount(count) + spans.count : 0
        pieceCounts = .allocate(capacity: pieces)
        pieceTensors = .allocate(capacity: pieces)
        let bytes = max(64, count * config.stateDType.bytesPerElement)
        var buffers: [UnsafeMutableRawPointer] = []
        for _ in 0..<config.stateBuffers {
            let b = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
            b.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
            buffers.append(b)
        }
        self.buffers = buffers
    }

    deinit {
        for b in buffers { b.deallocate() }
        pieceCounts.deallocate()
        pieceTensors.deallocate()
    }

    /// Exactly `count * stateDType.bytesPerElement * stateBuffers`.
    public var stateBytes: Int {
        count * config.stateDType.bytesPerElement * config.stateBuffers
    }

    /// Cautious Lion's bit planes between its passes (3 bits per element), 0 otherwise.
    public var scratchBytes: Int { cautiousBits?.bytes ?? 0 }

    /// One update of params[0..<count] with effective gradient grads[i]*gradScale and this
    /// step's (scheduled) learning rate `lr` (times each group's `lrScale`, with the group's
    /// weight decay). Increments `step`.
    /// Cautious Lion here runs both passes with this optimizer's own counts (one process holds
    /// every tensor whole); sharded, `ShardedOptimizer` sums the counts over the ranks between them.
    public func update(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, lr: Float, gradScale: Float) {
        if config.isCautious {
            let aligned = cautiousSign(grads: grads, gradScale: gradScale)
            cautiousApply(params: params, lr: lr, aligned: aligned)
            return
        }
        switch (config.kind, config.stateDType) {
        case (.lion, .fp32):
            let k = lionConstants(lr: lr, gradScale: gradScale)
            let m = buffers[0].assumingMemoryBound(to: Float.self)
            forEachSpanChunk { g, _, lo, n in
                LionKernel.updateFP32(params: params + lo, grads: grads + lo, m: m + lo, count: n, k[g])
            }
        case (.lion, .bf16):
            let k = lionConstants(lr: lr, gradScale: gradScale)
            let m = buffers[0].assumingMemoryBound(to: UInt16.self)
            forEachSpanChunk { g, _, lo, n in
                LionKernel.updateBF16(params: params + lo, grads: grads + lo, m: m + lo, count: n, k[g])
            }
        case (.adamw, .fp32):
            let k = adamWConstants(lr: lr, gradScale: gradScale)
            let m = buffers[0].assumingMemoryBound(to: Float.self)
            let v = buffers[1].assumingMemoryBound(to: Float.self)
            forEachSpanChunk { g, _, lo, n in
                AdamWKernel.updateFP32(params: params + lo, grads: grads + lo, m: m + lo, v: v + lo, count: n, k[g])
            }
        case (.adamw, .bf16):
            let k = adamWConstants(lr: lr, gradScale: gradScale)
            let m = buffers[0].assumingMemoryBound(to: UInt16.self)
            let v = buffers[1].assumingMemoryBound(to: UInt16.self)
            forEachSpanChunk { g, _, lo, n in
                AdamWKernel.updateBF16(params: params + lo, grads: grads + lo, m: m + lo, v: v + lo, count: n, k[g])
            }
        }
        step += 1
    }

    /// Each group's Lion constants for this step: the scheduled lr times its `lrScale`, its own
    /// weight decay, its betas where it sets them.
    private func lionConstants(lr: Float, gradScale: Float) -> [LionStepConstants] {
        groups.map { LionStepConstants(lr: lr * $0.lrScale, beta1: $0.beta1 ?? config.beta1, beta2: $0.beta2 ?? config.beta2,
                                       weightDecay: $0.weightDecay, gradScale: gradScale) }
    }

    /// The same for AdamW, with the bias correction of the next step.
    private func adamWConstants(lr: Float, gradScale: Float) -> [AdamWStepConstants] {
        groups.map { AdamWStepConstants(lr: lr * $0.lrScale, beta1: $0.beta1 ?? config.beta1, beta2: $0.beta2 ?? config.beta2,
                                        eps: config.eps, weightDecay: $0.weightDecay, step: step + 1, gradScale: gradScale) }
    }

    /// Cautious Lion's sign pass (the first of two; see `CautiousLionKernel`): updates m and
    /// returns each tensor's aligned count in this range (`tensors.sizes.count` of them).
    public func cautiousSign(grads: UnsafePointer<Float>, gradScale: Float) -> [Int] {
        guard let bits = cautiousBits, let tensors else { preconditionFailure("cautiousSign needs cautiousFactor < 1 (Lion)") }
        let k = lionConstants(lr: 0, gradScale: gradScale)
        let counts = pieceCounts, owners = pieceTensors
        counts.update(repeating: 0)
        owners.update(repeating: -1)
        let m = buffers[0], dtype = config.stateDType
        let spans = self.spans
        forEachSpanChunk { g, span, lo, n in
            let piece = span + lo / Chunking.chunkElements
            let aligned = switch dtype {
            case .fp32: CautiousLionKernel.signFP32(grads: grads + lo, m: m.assumingMemoryBound(to: Float.self) + lo,
                                                    bits: bits, first: lo, count: n, k[g])
            case .bf16: CautiousLionKernel.signBF16(grads: grads + lo, m: m.assumingMemoryBound(to: UInt16.self) + lo,
                                                    bits: bits, first: lo, count: n, k[g])
            }
            counts[piece] = aligned
            owners[piece] = spans[span].tensor
        }
        var perTensor = [Int](repeating: 0, count: tensors.sizes.count)
        for i in 0..<counts.count where owners[i] >= 0 { perTensor[owners[i]] += counts[i] }
        return perTensor
    }

    /// Cautious Lion's apply pass, once `aligned` holds each tensor's aligned count over ALL its
    /// elements (summed over the ranks): p = p*(1 - lr*wd) - lr*u*scale. Increments `step`.
    public func cautiousApply(params: UnsafeMutablePointer<Float>, lr: Float, aligned: [Int]) {
        guard let bits = cautiousBits, let tensors else { preconditionFailure("cautiousApply needs cautiousFactor < 1 (Lion)") }
        precondition(aligned.count == tensors.sizes.count, "\(aligned.count) counts for \(tensors.sizes.count) tensors")
        let lion = lionConstants(lr: lr, gradScale: 1), factor = config.cautiousFactor
        // Per span: its tensor's scales (padding, in no tensor, never moves: its c is 0).
        let k = spans.map { s in
            let g = lion[s.group]
            return s.tensor < 0
                ? CautiousLionKernel.ApplyConstants(lr: g.lr, decay: g.decay, factor: 1, aligned: 1, count: 1)
                : CautiousLionKernel.ApplyConstants(lr: g.lr, decay: g.decay, factor: factor,
                                                    aligned: aligned[s.tensor], count: tensors.sizes[s.tensor])
        }
        forEachSpanChunk { _, span, lo, n in
            CautiousLionKernel.apply(params: params + lo, bits: bits, first: lo, count: n, k[span])
        }
        step += 1
    }

    /// Runs `body(group, span, lo, n)` over [0, count) in the engine's fixed chunks on the pool,
    /// each chunk cut further where the span (group, tensor) changes (chunk boundaries stay
    /// independent of the spans). Span index + chunk index is unique per piece.
    private func forEachSpanChunk(_ body: (_ group: Int, _ span: Int, _ lo: Int, _ n: Int) -> Void) {
        let spans = self.spans
        Chunking.forEachChunk(count, pool: pool) { lo, n in
            let hi = lo + n
            // The first span that ends after lo (binary search).
            var a = 0, b = spans.count - 1
            while a < b {
                let mid = (a + b) / 2
                if spans[mid].range.upperBound <= lo { a = mid + 1 } else { b = mid }
            }
            var s = a, at = lo
            while at < hi {
                let end = min(hi, spans[s].range.upperBound)
                body(spans[s].group, s, at, end - at)
                at = end
                s += 1
            }
        }
    }

    /// Canonical fp32 copy of state buffer `index` (0 = m, 1 = v): `count` values.
    public func exportState(_ index: Int) -> [Float] {
        precondition(index >= 0 && index < config.stateBuffers, "state index \(index) out of range")
        guard count > 0 else { return [] }
        return [Float](unsafeUninitializedCapacity: count) { dst, initialized in
            switch config.stateDType {
            case .fp32: dst.baseAddress!.initialize(from: buffers[index].assumingMemoryBound(to: Float.self), count: count)
            case .bf16: BFloat16.load(buffers[index].assumingMemoryBound(to: UInt16.self), to: dst.baseAddress!, count: count)
            }
            initialized = count
        }
    }

    /// Replaces state buffer `index` with `count` fp32 values (rounded to nearest even for bf16).
    public func importState(_ index: Int, from values: [Float]) {
        precondition(index >= 0 && index < config.stateBuffers, "state index \(index) out of range")
        precondition(values.count == count, "\(values.count) state values for a shard of \(count)")
        guard count > 0 else { return }
        values.withUnsafeBufferPointer { src in
            switch config.stateDType {
            case .fp32: buffers[index].assumingMemoryBound(to: Float.self).update(from: src.baseAddress!, count: count)
            case .bf16: BFloat16.store(src.baseAddress!, to: buffers[index].assumingMemoryBound(to: UInt16.self), count: count)
            }
        }
    }

    /// Raw view of state buffer `index` (fp32 or bf16 bits per `config.stateDType`), for tests
    /// and benchmarks.
    public func rawState(_ index: Int) -> UnsafeMutableRawPointer {
        buffers[index]
    }
}
