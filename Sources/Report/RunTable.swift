import Foundation

/// Every run as a table row: the cell, its seed, the final metric, the throughput, and rank 0's
/// optimizer state and peak Pss (each rank holds its shard, so rank 0 stands for every rank).
enum RunTable {
    static func html(_ study: Study) -> String {
        let m = study.metric, s = study.subject
        let order = Dictionary(uniqueKeysWithValues: study.optimizers.enumerated().map { ($1, $0) })
        let rows = study.records.sorted {
            ($0.globalBatch, order[$0.optimizer] ?? 0, $0.lr, $0.weightDecay, $0.seed)
                < ($1.globalBatch, order[$1.optimizer] ?? 0, $1.lr, $1.weightDecay, $1.seed)
        }
        var out = ["<table>", "<tr><th>global batch</th><th>steps</th><th>optimizer</th><th>lr</th><th>wd</th><th>seed</th>"
                   + "<th>\(SVG.escape(m.title.lowercased()))</th><th>\(SVG.escape(s.throughputUnit))</th>"
                   + "<th>optimizer state per rank (MiB)</th><th>peak Pss per rank (MiB)</th><th>seconds</th></tr>"]
        for r in rows {
            let rank0 = r.ranks.first { $0.rank == 0 }
            let state = rank0.map { Label.mib(Double($0.optimizerStateBytes)) } ?? "-"
            let pss = rank0.flatMap { $0.peakPssBytes > 0 ? Label.mib(Double($0.peakPssBytes)) : nil } ?? "-"
            let v = m.value(r)
            out.append("<tr><td>\(r.globalBatch)</td><td>\(r.steps)</td><td class=\"l \(r.optimizer)\">\(Palette.name(r.optimizer))</td>"
                       + "<td>\(Label.sci(r.lr))</td><td>\(Label.sci(r.weightDecay))</td><td>\(r.seed)\(r.seed == study.gridSeed ? "" : " (rerun)")</td>"
                       + "<td>\(v.isFinite ? String(format: "%.4f", v) : "-")</td><td>\(String(format: "%.0f", s.throughput(r)))</td>"
                       + "<td>\(state)</td><td>\(pss)</td><td>\(String(format: "%.0f", r.seconds))</td></tr>")
        }
        out.append("</table>")
        return out.joined(separator: "\n")
    }
}
