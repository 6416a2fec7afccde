import Foundation

/// The sweep's records grouped the way the charts read them. Runs are compared by their
/// metric (test accuracy; validation loss for the GPT) at the end of the schedule, never by
/// the best epoch, so no optimizer gets to pick its epoch on the evaluation set.
struct Study {
    let records: [SweepRecord]
    /// What the runs train (one model shape on one data set: `parts` splits a mixed file).
    let subject: Subject
    let metric: Metric

    /// The seed most runs share (the grid's; the smallest on a tie), and its runs: the grid and
    /// heatmap cells, one run each, from which the best cells are picked. Runs with other seeds
    /// are reruns of a best cell: its seed spread.
    let gridSeed: Int
    let gridRecords: [SweepRecord]

    init(_ records: [SweepRecord]) {
        self.records = records
        subject = Subject(records.first)
        metric = subject.metric
        let counts = Dictionary(grouping: records, by: \.seed).mapValues(\.count)
        let seed = counts.max { ($0.value, -$0.key) < ($1.value, -$1.key) }?.key ?? 0
        gridSeed = seed
        gridRecords = records.filter { $0.seed == seed }
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

    /// The grid's runs of one optimizer at one batch (the grid seed's).
    func runs(_ optimizer: String, batch: Int) -> [SweepRecord] {
        gridRecords.filter { $0.optimizer == optimizer && $0.globalBatch == batch }
    }

    /// The grid run with the best final metric (NaN counts as worst).
    func best(_ optimizer: String, batch: Int) -> SweepRecord? {
        runs(optimizer, batch: batch).max { score($0) < score($1) }
    }

    /// The reruns of `cell` (same optimizer, batch, lr and wd) with seeds other than the grid's.
    func reruns(of cell: SweepRecord) -> [SweepRecord] {
        records.filter {
            $0.seed != gridSeed && $0.optimizer == cell.optimizer && $0.globalBatch == cell.globalBatch
                && $0.lr == cell.lr && $0.weightDecay == cell.weightDecay
        }
    }

    /// The metric over the best cell's reruns (mean, sample sd, min, max); nil without reruns.
    /// The grid run that picked the cell is left out, so the mean carries no selection bias.
    func seedSpread(_ optimizer: String, batch: Int) -> SeedSpread? {
        guard let cell = best(optimizer, batch: batch) else { return nil }
        let values = reruns(of: cell).map(metric.value).filter(\.isFinite)
        return values.isEmpty ? nil : SeedSpread(values)
    }

    /// What the batch chart plots: the reruns' mean where there are reruns, else the grid run's value.
    func plotted(_ optimizer: String, batch: Int) -> Double? {
        seedSpread(optimizer, batch: batch)?.mean ?? best(optimizer, batch: batch).map(metric.value)
    }

    func score(_ r: SweepRecord) -> Double { metric.score(r) }

    /// The heatmap's batch: the given one where these runs have it, else the batch with the most
    /// runs (the middle one on a tie).
    func heatmapBatch(preferred: Int?) -> Int? {
        if let preferred, batches.contains(preferred) { return preferred }
        let counts = Dictionary(grouping: gridRecords, by: \.globalBatch).mapValues(\.count)
        guard let most = counts.values.max() else { return nil }
        let tied = counts.filter { $0.value == most }.keys.sorted()
        return tied[(tied.count - 1) / 2]
    }
}

/// A metric over seeds: mean, sample standard deviation (0 for one value), range.
struct SeedSpread {
    let values: [Double]
    init(_ values: [Double]) { self.values = values }
    var count: Int { values.count }
    var mean: Double { values.reduce(0, +) / Double(values.count) }
    var sd: Double {
        guard values.count > 1 else { return 0 }
        let m = mean
        return (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count - 1)).squareRoot()
    }
    var min: Double { values.min() ?? .nan }
    var max: Double { values.max() ?? .nan }
}
