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

    /// Raw state buffers (`stateBuffers` of them), each `count * bytesPerElement` bytes.
    private let buffers: [UnsafeMutableRawPointer]

    public init(config: OptimizerConfig, count: Int, pool: ThreadPool, groups: [ParameterGroup]? = nil) {
        precondition(count >= 0, "count must be >= 0")
        self.config = config
        self.count = count
        self.pool = pool
        self.groups = ParameterGroup.normalized(groups ?? [ParameterGroup(range: 0..<count, weightDecay: config.weightDecay)],
                                                count: count)
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
    }

    /// Exactly `count * stateDType.bytesPerElement * stateBuffers`.
    public var stateBytes: Int {
        count * config.stateDType.bytesPerElement * config.stateBuffers
    }

    /// One update of params[0..<count] with effective gradient grads[i]*gradScale and this
    /// step's (scheduled) learning rate `lr` (times each group's `lrScale`, with the group's
    /// weight decay). Increments `step`.
    public func update(params: UnsafeMutablePointer<Float>, grads: UnsafePointer<Float>, lr: Float, gradScale: Float) {
        switch (config.kind, config.stateDType) {
        case (.lion, .fp32):
            let k = lionConstants(lr: lr, gradScale: gradScale)
            let m = buffers[0].assumingMemoryBound(to: Float.self)
            forEachGroupChunk { g, lo, n in
                LionKernel.updateFP32(params: params + lo, grads: grads + lo, m: m + lo, count: n, k[g])
            }
        case (.lion, .bf16):
            let k = lionConstants(lr: lr, gradScale: gradScale)
            let m = buffers[0].assumingMemoryBound(to: UInt16.self)
            forEachGroupChunk { g, lo, n in
                LionKernel.updateBF16(params: params + lo, grads: grads + lo, m: m + lo, count: n, k[g])
            }
        case (.adamw, .fp32):
            let k = adamWConstants(lr: lr, gradScale: gradScale)
            let m = buffers[0].assumingMemoryBound(to: Float.self)
            let v = buffers[1].assumingMemoryBound(to: Float.self)
            forEachGroupChunk { g, lo, n in
                AdamWKernel.updateFP32(params: params + lo, grads: grads + lo, m: m + lo, v: v + lo, count: n, k[g])
            }
        case (.adamw, .bf16):
            let k = adamWConstants(lr: lr, gradScale: gradScale)
            let m = buffers[0].assumingMemoryBound(to: UInt16.self)
            let v = buffers[1].assumingMemoryBound(to: UInt16.self)
            forEachGroupChunk { g, lo, n in
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

    /// Runs `body(group, lo, n)` over [0, count) in the engine's fixed chunks on the pool, each
    /// chunk cut further at group boundaries (chunk boundaries stay independent of the groups).
    private func forEachGroupChunk(_ body: (_ group: Int, _ lo: Int, _ n: Int) -> Void) {
        let groups = self.groups
        Chunking.forEachChunk(count, pool: pool) { lo, n in
            let hi = lo + n
            // The first group that ends after lo (groups are few and sorted: binary search).
            var a = 0, b = groups.count - 1
            while a < b {
                let mid = (a + b) / 2
                if groups[mid].range.upperBound <= lo { a = mid + 1 } else { b = mid }
            }
            var g = a, at = lo
            while at < hi {
                let end = min(hi, groups[g].range.upperBound)
                body(g, at, end - at)
                at = end
                g += 1
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
