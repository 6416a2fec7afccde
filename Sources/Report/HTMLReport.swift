import Foundation

/// The whole report: one self-contained HTML page (inline SVG and CSS; no network, no script).
public struct HTMLReport {
    public let records: [SweepRecord]
    public let title: String
    public let heatmapBatch: Int?

    /// The `data-chart` names of the page's charts, in order.
    public static let chartNames = ["accuracy-vs-batch", "lr-wd-heatmap", "loss-curves", "memory-per-rank", "step-time"]

    public init(records: [SweepRecord], title: String, heatmapBatch: Int? = nil) {
        self.records = records
        self.title = title
        self.heatmapBatch = heatmapBatch
    }

    public func html() -> String {
        let study = Study(records)
        let heatBatch = study.heatmapBatch(preferred: heatmapBatch)
        var sections: [String] = []
        let m = study.metric
        sections.append(section("Best \(m.title.lowercased()) vs global batch",
            "Each point is the best run of that optimizer's lr x wd grid at that global batch, by \(m.axis) (every run has the same budget, so a larger batch takes fewer steps with the MLP).",
            AccuracyChart.svg(study) + bestTable(study)))
        sections.append(section("Learning rate x weight decay",
            "\(m.title) at the end of each run for every grid cell at one global batch. Both panels share one colour scale; the spread (best minus worst cell) measures how forgiving the optimizer is to its hyperparameters on this grid.",
            HeatmapChart.svg(study, batch: heatBatch)))
        sections.append(section("Loss curves", "Train loss (mean over each epoch's steps) and test loss after each epoch.",
            LossChart.svg(study)))
        sections.append(section("Memory per rank",
            "Optimizer state as accounted by the engine (Lion keeps momentum only; AdamW keeps m and v; each rank holds its 1/W shard) and the measured peak resident set size (VmHWM, reset before each run).",
            MemoryChart.svg(study)))
        sections.append(section("Step time", "Mean seconds per step in each phase, as shares of the step.",
            StepTimeChart.svg(study)))
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <title>\(SVG.escape(title))</title>
        <style>
        body { font-family: Helvetica, Arial, sans-serif; color: #222; margin: 24px auto; max-width: 960px; line-height: 1.4; }
        h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 18px; margin: 28px 0 4px; border-bottom: 1px solid #ddd; }
        p.caption { color: #555; font-size: 13px; margin: 4px 0 8px; }
        table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
        th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; } th { background: #f6f6f6; }
        td.l { text-align: left; } .lion { color: #e4572e; } .adamw { color: #2e86ab; } .win { font-weight: bold; }
        code { font-size: 12px; background: #f4f4f4; padding: 1px 3px; word-break: break-all; }
        svg { display: block; margin: 4px 0; }
        </style></head><body>
        <h1>\(SVG.escape(title))</h1>
        \(header(study))
        \(sections.joined(separator: "\n"))
        </body></html>
        """
    }

    func section(_ heading: String, _ caption: String, _ content: String) -> String {
        "<section>\n<h2>\(SVG.escape(heading))</h2>\n<p class=\"caption\">\(SVG.escape(caption))</p>\n\(content)\n</section>"
    }

    func header(_ study: Study) -> String {
        guard let first = records.first else { return "<p>No runs.</p>" }
        let hosts = Set(records.flatMap { $0.ranks.map(\.host) }).sorted().joined(separator: ", ")
        let worlds = Set(records.map(\.worldSize)).sorted().map(String.init).joined(separator: ", ")
        let commands = Set(records.map(\.command)).sorted()
        let hours = records.map(\.seconds).filter(\.isFinite).reduce(0, +) / 3600
        return """
        <p class="caption">\(records.count) runs: MLP 784-\(SVG.escape(first.hidden.replacingOccurrences(of: ",", with: "-")))-10 \
        (\(first.params) parameters) on Fashion-MNIST (60,000 train / 10,000 test images), \(first.epochs) epochs each, \
        \(SVG.escape(first.schedule)) schedule, seed \(first.seed); \(worlds) MPI rank(s) on \(SVG.escape(hosts)) \
        (\(first.cpus) CPUs, \(first.threadsPerRank) thread(s) per rank); \(String(format: "%.2f", hours)) hours of training in all. \
        Global batches \(study.batches.map(Label.batch).joined(separator: ", ")).</p>
        <p class="caption">Command: \(commands.map { "<code>\(SVG.escape($0))</code>" }.joined(separator: " "))</p>
        """
    }

    /// Batch | per optimizer: best accuracy (lr, wd) | difference of the first two optimizers.
    func bestTable(_ study: Study) -> String {
        let opts = study.optimizers
        var head = "<tr><th>global batch</th><th>steps</th>"
        for o in opts { head += "<th class=\"\(o)\">\(Palette.name(o)) best</th><th class=\"\(o)\">lr, wd</th>" }
        if opts.count >= 2 { head += "<th>\(Palette.name(opts[0])) - \(Palette.name(opts[1])) (points)</th>" }
        var rows: [String] = []
        for b in study.batches {
            let bests = opts.map { study.best($0, batch: b) }
            let top = bests.compactMap { $0.map(study.metric.score) }.filter(\.isFinite).max()
            var row = "<tr><td>\(b)</td><td>\(bests.compactMap { $0?.steps }.first ?? 0)</td>"
            for (o, r) in zip(opts, bests) {
                guard let r else { row += "<td>-</td><td>-</td>"; continue }
                let win = study.metric.score(r) == top ? " win" : ""
                row += "<td class=\"\(o)\(win)\">\(study.metric.text(r))</td><td class=\"l\">\(Label.sci(r.lr)), \(Label.sci(r.weightDecay))</td>"
            }
            if opts.count >= 2 {
                if let a = bests[0], let c = bests[1], study.metric.advantage(a, over: c).isFinite {
                    row += String(format: "<td>%+\(study.metric.differenceFormat.dropFirst())</td>", study.metric.advantage(a, over: c))
                } else { row += "<td>-</td>" }
            }
            rows.append(row + "</tr>")
        }
        return "<table>\n\(head)</tr>\n\(rows.joined(separator: "\n"))\n</table>"
    }
}
