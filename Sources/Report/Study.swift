import Foundation

/// The sweep's records grouped the way the charts read them. Runs are compared by their
/// metric (test accuracy; validation loss for the GPT) at the end of the schedule, never by
/// the best epoch, so no optimizer gets to pick its epoch on the evaluation set.
struct Study {
    let records: [SweepRecord]
    /// What the runs train (one model shape on one data set: `parts` splits a mixed file).
    let subject: Subject
    let metric: Metric

    init(_ records: [SweepRecord]) {
        self.records = records
        subject = Subject(records.first)
        metric = subject.metric
    }

    /// One study per model shape and data set, in the order their first runs appear.
    static func parts(_ records: [SweepRecord]) -> [Study] {
        var order: [String] = []
        var groups: [String: [SweepRecord]] = [:]
        for r in records {
            let key = Subject(r).key
            if groups[key] == nil { order.append(key) }
            groups[key, default: []].append(r)
        }
        return order.map { Study(groups[$0]!) }
    }

    var optimizers: [String] { Palette.order(Set(records.map(\.optimizer))) }
    var batches: [Int] { Set(records.map(\.globalBatch)).sorted() }

    func runs(_ optimizer: String, batch: Int) -> [SweepRecord] {
        records.filter { $0.optimizer == optimizer && $0.globalBatch == batch }
    }

    /// The run with the best final metric (NaN counts as worst).
    func best(_ optimizer: String, batch: Int) -> SweepRecord? {
        runs(optimizer, batch: batch).max { score($0) < score($1) }
    }

    func score(_ r: SweepRecord) -> Double { metric.score(r) }

    /// The heatmap's batch: the given one where these runs have it, else the batch with the most
    /// runs (the middle one on a tie).
    func heatmapBatch(preferred: Int?) -> Int? {
        if let preferred, batches.contains(preferred) { return preferred }
        let counts = Dictionary(grouping: records, by: \.globalBatch).mapValues(\.count)
        guard let most = counts.values.max() else { return nil }
        let tied = counts.filter { $0.value == most }.keys.sorted()
        return tied[(tied.count - 1) / 2]
    }
}
