import Collectives

/// The order in which backward reports finished gradient buckets (a workload's `segmentDone`):
/// each bucket once, last layer first. A workload that breaks it gets an error, not a trap.
enum BucketOrder {
    static func outOfOrder(_ index: Int, expected: Int, rank: Int) -> CollectiveFailure {
        CollectiveFailure(failingRank: rank, message: "gradient bucket \(index) reported ready, expected bucket \(expected): call segmentDone once per segment, last segment first (or never)")
    }
}
