import Collectives

/// The order in which backward reports finished gradient buckets (a workload's `segmentDone`):
/// each bucket once, last layer first. A workload that breaks it gets an error, not a trap.
enum BucketOrder {
    static func outOfOrder(_ index: Int, expected: Int, rank: Int) -> CollectiveFailure {
        CollectiveFailure(failingRank: rank, message: "gradient bucket \(index) reported ready, expected bucket \(expected): call segmentDone once per segment, last segment first (or never)")
    }

    /// Sharded gradients need every bucket handed off during backward.
    static func missing(_ handed: Int, of count: Int, rank: Int) -> CollectiveFailure {
        CollectiveFailure(failingRank: rank, message: "sharded gradients: backward handed off \(handed) of \(count) gradient buckets; a workload must call segmentDone for every segment, last first (or run with --shard params)")
    }
}
