import Basics
import Foundation

/// The whole report: one self-contained HTML page (inline SVG and CSS; no network, no script).
public struct HTMLReport {
    public let records: [SweepRecord]
    public let title: String
    public let heatmapBatch: Int?

    /// The `data-chart` names of the page's charts, in order.
    public static let chartNames = ["accuracy-vs-batch", "best-lr-vs-batch", "lr-wd-heatmap", "loss-curves", "memory-per-rank", "step-time"]

    public init(records: [SweepRecord], title: String, heatmapBatch: Int? = nil) {
        self.records = records
        self.title = title
        self.heatmapBatch = heatmapBatch
    }

    /// The page: one part per model shape and data set in the file (a results file of one
    /// model, the usual case, is one part), each with its own header and charts.
    public func html() -> String {
        let parts = Study.parts(records)
        var body: [String] = []
        if parts.count > 1 {
            body.append("<p class=\"caption\">These \(records.count) runs train \(parts.count) different models; each has its own part below: "
                        + parts.map { SVG.escape($0.subject.title) }.joined(separator: "; ") + ".</p>")
        }
        body += parts.isEmpty ? ["<p>No runs.</p>"] : parts.map { part($0, named: parts.count > 1) }
        return """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8">
        <title>\(SVG.escape(title))</title>
        <style>
        body { font-family: Helvetica, Arial, sans-serif; color: #222; margin: 24px auto; max-width: 960px; line-height: 1.4; }
        h1 { font-size: 24px; margin-bottom: 4px; } h2 { font-size: 18px; margin: 28px 0 4px; border-bottom: 1px solid #ddd; }
        h2.model { font-size: 21px; margin-top: 40px; border-bottom: 2px solid #888; } h3 { font-size: 17px; margin: 24px 0 4px; border-bottom: 1px solid #ddd; }
        p.caption { color: #555; font-size: 13px; margin: 4px 0 8px; }
        table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
        th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: right; } th { background: #f6f6f6; }
        td.l { text-align: left; } .lion { color: #e4572e; } .adamw { color: #2e86ab; } .win { font-weight: bold; }
        code { font-size: 12px; background: #f4f4f4; padding: 1px 3px; word-break: break-all; }
        svg { display: block; margin: 4px 0; }
        </style></head><body>
        <h1>\(SVG.escape(title))</h1>
        \(body.joined(separator: "\n"))
        </body></html>
        """
    }

    /// One model's header and charts; `named` puts its model and data set above it.
    func part(_ study: Study, named: Bool) -> String {
        let m = study.metric, s = study.subject, level = named ? "h3" : "h2"
        func section(_ heading: String, _ caption: String, _ content: String) -> String {
            "<section>\n<\(level)>\(SVG.escape(heading))</\(level)>\n<p class=\"caption\">\(SVG.escape(caption))</p>\n\(content)\n</section>"
        }
        let optimizers = study.optimizers.map(Palette.name).joined(separator: ", ")
        var out = named ? ["<h2 class=\"model\">\(SVG.escape(s.title))</h2>"] : []
        out.append(header(study))
        out.append(section("Best \(m.title.lowercased()) vs global batch",
            "Each marker is the best run of that optimizer's lr x wd grid at that global batch, by \(m.axis). Every run has the same budget (\(s.budget(study.records))), \(s.budgetEffect).",
            AccuracyChart.svg(study) + bestTable(study)))
        out.append(section("Best learning rate vs global batch",
            "The peak learning rate of the best grid cell of each optimizer at each batch (dots), and every lr its grid tried there (ticks): a best lr at the end of its ticks is at the edge of the grid.",
            BestLRChart.svg(study)))
        out.append(section("Learning rate x weight decay",
            "\(m.title) at the end of each run for every grid cell at one global batch. The panels share one colour scale; the spread (best minus worst cell, in \(m.unit)) measures how forgiving the optimizer is to its hyperparameters on this grid.",
            HeatmapChart.svg(study, batch: study.heatmapBatch(preferred: heatmapBatch))))
        out.append(section("Loss curves",
            "Train loss (\(s.trainLossMeaning)) and \(s.evalSplit) loss, in \(s.lossUnit), evaluated on \(s.evaluation(study.records)).",
            LossChart.svg(study)))
        out.append(section("Memory per rank",
            "Optimizer state as the engine accounts it (each rank holds its shard; the optimizers here: \(optimizers)), and the measured peak Pss (pages a node's ranks share count 1/k per rank) beside the peak RSS (VmHWM: shared pages in full), per rank, median over each optimizer's runs.",
            MemoryChart.svg(study)))
        out.append(section("Step time", "Mean seconds per step in each phase, as shares of the step; throughput in \(s.throughputUnit).",
            StepTimeChart.svg(study)))
        out.append(section("Every run",
            "Each run's final \(m.title.lowercased()), throughput, and rank 0's optimizer state and peak Pss; reruns are the best cells' other seeds.",
            RunTable.html(study)))
        return out.joined(separator: "\n")
    }

    func header(_ study: Study) -> String {
        let records = study.records, s = study.subject
        guard let first = records.first else { return "<p>No runs.</p>" }
        let hosts = Set(records.flatMap { $0.ranks.map(\.host) }).sorted().joined(separator: ", ")
        let worlds = Set(records.map(\.worldSize)).sorted().map(String.init).joined(separator: ", ")
        let schedules = Set(records.map(\.schedule)).sorted().joined(separator: ", ")
        let seeds = Set(records.map(\.seed)).sorted().map(String.init).joined(separator: ", ")
        let commands = Set(records.map(\.command)).sorted()
        let hours = records.map(\.seconds).filter(\.isFinite).reduce(0, +) / 3600
        let cpus = CPUInfo.distinct(records.flatMap { $0.cpu.components(separatedBy: " | ") }.filter { !$0.isEmpty })
        return """
        <p class="caption">\(records.count) runs: \(SVG.escape(s.shape)) (\(Label.count(first.params)) parameters) on \(SVG.escape(s.data)), \
        \(s.budget(records)) each, evaluated on \(SVG.escape(s.evaluation(records))); \(SVG.escape(schedules)) schedule, seed \(seeds); \
        \(worlds) MPI rank(s) on \(SVG.escape(hosts)) (\(first.cpus) CPUs\(cpus.isEmpty ? "" : ": " + SVG.escape(cpus)), \(first.threadsPerRank) thread(s) per rank); \
        \(String(format: "%.2f", hours)) hours of training in all. Global batches \(study.batches.map(Label.batch).joined(separator: ", ")).</p>
        <p class="caption">\(commandsLine(commands))</p>
        """
    }

    /// The runs' commands: each in full when there are a few, else how many and the first
    /// (a study's cells differ only in their grid values; each run's is in its record).
    func commandsLine(_ commands: [String]) -> String {
        guard commands.count > 3, let first = commands.first else {
            return "Command: " + commands.map { "<code>\(SVG.escape($0))</code>" }.joined(separator: " ")
        }
        return "Commands: \(commands.count), one per cell (each run's is the <code>command</code> field of its results.jsonl row), e.g. <code>\(SVG.escape(first))</code>"
    }

    /// Batch | per optimizer: best metric (lr, wd) | difference of the first two optimizers, in the metric's unit.
    func bestTable(_ study: Study) -> String {
        let opts = study.optimizers
        let m = study.metric
        var head = "<tr><th>global batch</th><th>steps</th>"
        for o in opts { head += "<th class=\"\(o)\">\(Palette.name(o)) best \(m.title.lowercased())</th><th class=\"\(o)\">lr, wd</th>" }
        if opts.count >= 2 { head += "<th>\(Palette.name(opts[0])) - \(Palette.name(opts[1])) (\(m.unit), + is better)</th>" }
        let seeded = study.batches.contains { b in opts.contains { study.seedSpread($0, batch: b) != nil } }
        if seeded { for o in opts { head += "<th class=\"\(o)\">\(Palette.name(o)) reruns: mean ± sd (n)</th>" } }
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
            if seeded {
                for o in opts {
                    row += study.seedSpread(o, batch: b).map { String(format: "<td class=\"\(o)\">\(m.format) ± %.4f (%d)</td>", $0.mean, $0.sd, $0.count) } ?? "<td>-</td>"
                }
            }
            rows.append(row + "</tr>")
        }
        return "<table>\n\(head)</tr>\n\(rows.joined(separator: "\n"))\n</table>"
    }
}
