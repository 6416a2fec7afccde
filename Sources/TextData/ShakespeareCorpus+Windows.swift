import DeterministicRandom

/// Training and validation windows: `blockSize + 1` consecutive tokens each (inputs are the
/// first `blockSize`, targets the last `blockSize`), written row-major, one window per row.
///
/// Training windows are random, and window `row` of global step `step` depends only on
/// (seed, step, row): rank r of W, holding global rows [r*B/W, (r+1)*B/W), fills exactly the
/// rows that one rank holding all B would, so W never changes what the global batch holds.
/// Validation windows are fixed: `count` starts spread evenly over the validation split.
extension ShakespeareCorpus {
    /// The largest block size both splits can hold a window of.
    public var maxBlockSize: Int { min(train.count, validation.count) - 1 }

    /// Start (in `train`) of training window `row` of global step `step`: uniform over the
    /// `train.count - blockSize` possible starts, a pure function of (seed, step, row).
    public func trainWindowStart(step: Int, row: Int, blockSize: Int, seed: UInt64) -> Int {
        precondition(blockSize >= 1 && blockSize <= maxBlockSize, "blockSize \(blockSize) not in 1...\(maxBlockSize)")
        var rng = SplitMix64(seed: Self.windowSeed(seed: seed, step: step, row: row))
        return rng.next(below: train.count - blockSize)
    }

    /// Writes training windows `firstRow ..< firstRow + rows` of global step `step` into `into`,
    /// row-major (rows, blockSize + 1).
    public func fillTrainBatch(step: Int, firstRow: Int, rows: Int, blockSize: Int, seed: UInt64,
                               into: UnsafeMutablePointer<UInt16>) {
        precondition(firstRow >= 0 && rows >= 0, "rows \(firstRow)..<\(firstRow + rows) out of range")
        let width = blockSize + 1
        for i in 0..<rows {
            let start = trainWindowStart(step: step, row: firstRow + i, blockSize: blockSize, seed: seed)
            Self.copy(train, from: start, count: width, to: into + i * width)
        }
    }

    /// Start (in `validation`) of validation window `i` of `count`: the starts run evenly from
    /// the first to the last possible one (window 0 starts the split, window count-1 ends it).
    public func validationWindowStart(_ i: Int, count: Int, blockSize: Int) -> Int {
        precondition(count >= 1 && i >= 0 && i < count, "window \(i) not in 0..<\(count)")
        precondition(blockSize >= 1 && blockSize <= maxBlockSize, "blockSize \(blockSize) not in 1...\(maxBlockSize)")
        let lastStart = validation.count - (blockSize + 1)
        return count == 1 ? 0 : i * lastStart / (count - 1)
    }

    /// Writes validation windows `lo ..< hi` of the fixed set of `count` into `into`,
    /// row-major (hi - lo, blockSize + 1), so ranks can split the set by index ranges.
    public func fillValidationWindows(lo: Int, hi: Int, count: Int, blockSize: Int,
                                      into: UnsafeMutablePointer<UInt16>) {
        precondition(lo >= 0 && lo <= hi && hi <= count, "windows \(lo)..<\(hi) not within 0..<\(count)")
        let width = blockSize + 1
        for i in lo..<hi {
            let start = validationWindowStart(i, count: count, blockSize: blockSize)
            Self.copy(validation, from: start, count: width, to: into + (i - lo) * width)
        }
    }

    /// `fillTrainBatch` into a new array (tests, small callers).
    public func trainBatch(step: Int, firstRow: Int, rows: Int, blockSize: Int, seed: UInt64) -> [UInt16] {
        if rows == 0 { return [] }
        return [UInt16](unsafeUninitializedCapacity: rows * (blockSize + 1)) { buffer, initialized in
            fillTrainBatch(step: step, firstRow: firstRow, rows: rows, blockSize: blockSize, seed: seed,
                           into: buffer.baseAddress!)
            initialized = buffer.count
        }
    }

    /// `fillValidationWindows` into a new array (tests, small callers).
    public func validationWindows(lo: Int, hi: Int, count: Int, blockSize: Int) -> [UInt16] {
        if lo == hi { return [] }
        return [UInt16](unsafeUninitializedCapacity: (hi - lo) * (blockSize + 1)) { buffer, initialized in
            fillValidationWindows(lo: lo, hi: hi, count: count, blockSize: blockSize, into: buffer.baseAddress!)
            initialized = buffer.count
        }
    }

    /// Seed of one window's generator: SplitMix64's mixer applied to seed, then step, then row,
    /// so nearby (step, row) pairs get unrelated streams.
    static func windowSeed(seed: UInt64, step: Int, row: Int) -> UInt64 {
        let h = mix(mix(seed) ^ UInt64(truncatingIfNeeded: step))
        return mix(h ^ UInt64(truncatingIfNeeded: row))
    }

    private static func mix(_ x: UInt64) -> UInt64 {
        var g = SplitMix64(seed: x)
        return g.next()
    }

    private static func copy(_ tokens: Tokens, from start: Int, count: Int, to out: UnsafeMutablePointer<UInt16>) {
        tokens.copy(from: start, count: count, to: out)
    }
}
