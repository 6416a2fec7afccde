import Basics

/// Sharded gradients (ZeRO-2, `--shard gradients-and-params`): a rank's local gradient lives in
/// a few staging slots, each as large as the largest bucket, instead of a full-size buffer.
/// Backward writes a tensor's gradient into the slot of the bucket that holds it (a slot is
/// taken when backward first asks for a tensor of that bucket); once every rank has finished
/// the bucket, its shard owners sum their part of it out of every rank's slot, and the slot is
/// reused after the next node barrier. Staging memory is bounded by `slotCount` buckets,
/// not by the model.
///
/// Every rank takes slots in the same order (the same backward on every rank), so a bucket is
/// in the same slot on every rank and its owners find it in their peers' segments by index.
///
/// Three slots: the bucket being written, the one before it (still being read by its owners
/// until the next barrier), and one bucket written early (the GPT's tied embedding: the head's
/// gradient goes into it first, the embedding's last).
public final class GradientSlots: GradientStorage {
    public static let slotsPerRank = 3

    public let buckets: BucketPlan
    /// Real parameters; the rest of the flat space is padding, zeroed when its bucket is taken.
    public let count: Int
    /// Floats per slot: the largest bucket.
    public let slotElements: Int
    private let base: UnsafeMutablePointer<Float>
    private var slotOfBucket: [Int?]
    private var free: [Int]
    /// Slots whose bucket has been reduced; free once the next node barrier has passed.
    private var retiring: [Int] = []

    /// True when the slots and the reduced shard (1/W of the buffer) hold less than a
    /// full-size gradient; otherwise (few, large buckets; one rank) the combiner keeps a
    /// full-size gradient instead.
    public static func worthIt(buckets: BucketPlan, worldSize: Int) -> Bool {
        let full = buckets.ranges.map(\.upperBound).max() ?? 0
        return elements(buckets: buckets) + full / worldSize < full
    }

    /// Whether a combiner stages its gradient in slots: `--shard gradients-and-params`, its
    /// parameters shared (not on nodes of unequal size), and `worthIt`. The combiner and the
    /// planner both ask here.
    public static func apply(scope: ShardScope, sharedParams: Bool, buckets: BucketPlan, worldSize: Int) -> Bool {
        sharedParams && scope == .gradientsAndParams && worthIt(buckets: buckets, worldSize: worldSize)
    }

    /// Bytes a rank holds for sharded gradients: its slots and its reduced shard.
    public static func bytes(buckets: BucketPlan, shardCount: Int) -> Int {
        (elements(buckets: buckets) + shardCount) * 4
    }

    public static func elements(buckets: BucketPlan) -> Int {
        slotsPerRank * (buckets.ranges.map(\.count).max() ?? 0)
    }

    /// `base` holds `elements(buckets:)` floats (this rank's slots, in its node-shared segment).
    public init(buckets: BucketPlan, count: Int, base: UnsafeMutablePointer<Float>) {
        self.buckets = buckets
        self.count = count
        slotElements = buckets.ranges.map(\.count).max() ?? 0
        self.base = base
        slotOfBucket = Array(repeating: nil, count: buckets.ranges.count)
        free = Array((0..<Self.slotsPerRank).reversed())
    }

    public func at(_ offset: Int) -> UnsafeMutablePointer<Float> {
        guard let b = buckets.ranges.firstIndex(where: { $0.contains(offset) }) else {
            preconditionFailure("gradient offset \(offset) is outside every bucket")
        }
        return slot(of: b) + (offset - buckets.ranges[b].lowerBound)
    }

    /// The start of bucket `b`'s slot on this rank (taken now if backward has not yet asked for it).
    func slot(of b: Int) -> UnsafeMutablePointer<Float> {
        base + slotIndex(of: b) * slotElements
    }

    /// Bucket `b`'s slot index, the same on every rank.
    func slotIndex(of b: Int) -> Int {
        if let s = slotOfBucket[b] { return s }
        guard let s = free.popLast() else {
            preconditionFailure("sharded gradients: backward asked for a \(Self.slotsPerRank + 1)th bucket before handing off the earlier ones; a workload must call segmentDone as soon as each segment's gradient is final (or run with --shard params)")
        }
        slotOfBucket[b] = s
        // The padding after the last parameter is never written by backward: zero, as in a full buffer.
        let r = buckets.ranges[b]
        if r.upperBound > count {
            let lo = max(r.lowerBound, count)
            (base + s * slotElements + (lo - r.lowerBound)).update(repeating: 0, count: r.upperBound - lo)
        }
        return s
    }

    /// Bucket `b` has been reduced by this rank; its slot is reused after the next node barrier
    /// (when every owner has read it).
    func retire(_ b: Int) {
        guard let s = slotOfBucket[b] else { return }
        slotOfBucket[b] = nil
        retiring.append(s)
    }

    /// A node barrier has passed since the retired buckets were read.
    func barrierPassed() {
        free.append(contentsOf: retiring)
        retiring = []
    }

    /// The step's reduction is complete on every rank (the caller guarantees a collective has
    /// passed since); every slot is free again.
    func reset() {
        for b in slotOfBucket.indices { slotOfBucket[b] = nil }
        retiring = []
        free = Array((0..<Self.slotsPerRank).reversed())
    }
}
