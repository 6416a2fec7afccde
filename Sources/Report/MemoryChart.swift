import Basics
import Foundation

/// Memory per rank, by optimizer: the optimizer state each rank holds (accounted bytes, each
/// rank's shard), then the measured peak Pss beside the peak RSS (VmHWM), medians over the
/// optimizer's runs; the footnote says, from the runs' `held_bytes`, what else a rank holds.
enum MemoryChart {
    static func svg(_ study: Study) -> String {
        let width = 900.0, height = 400.0
        let optimizers = study.optimizers
        let worldSize = study.records.map(\.worldSize).max() ?? 0
        guard worldSize > 0, !optimizers.isEmpty else {
            return SVG.chart(name: "memory-per-rank", width: width, height: height, title: "Memory per rank",
                             body: [SVG.empty("no runs with per-rank memory", x: width / 2, y: height / 2)])
        }
        // value[optimizer][rank]; a 0 (a row before the key) is not a measurement.
        func perRank(_ field: @escaping (SweepRecord.Rank) -> Int) -> [String: [Double]] {
            Dictionary(uniqueKeysWithValues: optimizers.map { o in
                (o, (0..<worldSize).map { rank in
                    median(study.records.filter { $0.optimizer == o }.compactMap { r in
                        r.ranks.first { $0.rank == rank }.map(field).flatMap { $0 > 0 ? Double($0) : nil }
                    })
                })
            })
        }
        let state = perRank(\.optimizerStateBytes), pss = perRank(\.peakPssBytes), rss = perRank(\.peakRSSBytes)
        let stateMax = state.values.flatMap { $0 }.filter(\.isFinite).max() ?? 0
        let useKiB = stateMax < 1_048_576
        let measuredMax = (pss.values.flatMap { $0 } + rss.values.flatMap { $0 }).filter(\.isFinite).max() ?? 0
        var body: [String] = []
        body += panel(title: "optimizer state", unit: useKiB ? "KiB" : "MiB", scale: useKiB ? 1024 : 1_048_576,
                      values: state, optimizers: optimizers, worldSize: worldSize, top: nil,
                      frame: Frame(left: 70, top: 80, width: 230, height: 240))
        body += panel(title: "peak Pss", unit: "MiB", scale: 1_048_576, values: pss, optimizers: optimizers,
                      worldSize: worldSize, top: measuredMax / 1_048_576, frame: Frame(left: 370, top: 80, width: 230, height: 240),
                      missing: "(these runs predate peak_pss_bytes)")
        body += panel(title: "peak RSS", unit: "MiB", scale: 1_048_576, values: rss, optimizers: optimizers,
                      worldSize: worldSize, top: measuredMax / 1_048_576, frame: Frame(left: 660, top: 80, width: 230, height: 240))
        let names = optimizers.map { (o: $0, first: state[$0]?.first ?? .nan) }.filter { $0.first.isFinite && $0.first > 0 }
        if names.count >= 2 {
            let (a, b) = (names.max { $0.first < $1.first }!, names.min { $0.first < $1.first }!)
            body.append(SVG.text(String(format: "\(Palette.name(a.o)) / \(Palette.name(b.o)) optimizer state per rank: %.2fx", a.first / b.first),
                                 x: 300, y: 46, anchor: "start", size: 12, weight: "bold", fill: "#333"))
        }
        for (i, line) in footnote(study).enumerated() {
            body.append(SVG.text(line, x: 70, y: height - 28 + Double(i) * 16, anchor: "start", size: 11, fill: "#555"))
        }
        body += Axes.legend(optimizers.map { (Palette.name($0), Palette.color($0), nil) }, x: 70, y: 46)
        return SVG.chart(name: "memory-per-rank", width: width, height: height,
                         title: "Memory per rank: " + optimizers.map(Palette.name).joined(separator: " vs "), body: body)
    }

    /// What rank 0 holds besides its optimizer state, from the runs' `held_bytes` (median over
    /// them): its share of the parameters (the node's ranks share one buffer), its gradient
    /// staging, its bytes of the data set (a share where the node's ranks share it), its
    /// activations; rows before `held_bytes` give the full buffers they mapped.
    static func footnote(_ study: Study) -> [String] {
        guard let first = study.records.first, let rank0 = first.ranks.first(where: { $0.rank == 0 }) else { return [] }
        let perNode = first.ranks.filter { $0.host == rank0.host }.count
        let shape = "\(Label.count(first.params)) parameters, \(first.worldSize) ranks, \(perNode) per node"
        let held = study.records.compactMap { r in r.ranks.first { $0.rank == 0 }?.heldBytes }.filter { !$0.isEmpty }
        guard !held.isEmpty else {
            return ["each rank maps the full parameter buffer \(Label.mib(Double(rank0.paramBytes))) MiB and gradients \(Label.mib(Double(rank0.gradBytes))) MiB (\(shape));",
                    "these runs predate held_bytes, so the data set and the staging are not broken out; the peak RSS includes them"]
        }
        func bytes(_ key: String) -> Double { median(held.compactMap { $0[key].map(Double.init) }) }
        func mib(_ key: String) -> String { Label.mib(bytes(key)) }
        // The node's ranks share one parameter buffer when each holds a fraction of it.
        let parts = Double(rank0.paramBytes) / bytes("parameters")
        let share = parts.isFinite && parts >= 1.5 ? " (1/\(Int(parts.rounded())) of the \(Label.mib(Double(rank0.paramBytes))) MiB buffer)" : ""
        return ["rank 0 holds (median over the runs): parameters \(mib("parameters")) MiB\(share), gradient staging \(mib("gradients")) MiB,",
                "data set \(mib("dataset")) MiB, activations \(mib("activations")) MiB, the rest of its Pss \(mib("runtime")) MiB (\(shape))"]
    }

    /// Bars per rank and optimizer; `top` (in `unit`) shares one scale between panels; a panel
    /// without values says `missing`.
    static func panel(title: String, unit: String, scale: Double, values: [String: [Double]], optimizers: [String],
                      worldSize: Int, top: Double?, frame: Frame, missing: String = "no values") -> [String] {
        let all = values.values.flatMap { $0 }.filter(\.isFinite).map { $0 / scale }
        let highest = max(top ?? 0, all.max() ?? 1, 1e-9)
        let yTop = max(Axis.niceTicks(lo: 0, hi: highest * 1.15, count: 4).last ?? 1, highest * 1.15)
        let y = Axis(kind: .linear, lo: 0, hi: yTop, pixelLo: frame.bottom, pixelHi: frame.top)
        let x = Axis(kind: .linear, lo: 0, hi: Double(worldSize), pixelLo: frame.left, pixelHi: frame.right)
        var out = Axes.draw(frame: frame, x: x, xTicks: (0..<worldSize).map { (Double($0) + 0.5, "rank \($0)") }, xTitle: "",
                            y: y, yTicks: Axis.niceTicks(lo: 0, hi: yTop, count: 4).map { ($0, String(format: "%g", $0)) },
                            yTitle: "\(unit)")
        out.append(SVG.text(title + " per rank (\(unit))", x: frame.left + frame.width / 2, y: frame.top - 8, size: 13, weight: "bold"))
        if all.isEmpty {
            out.append(SVG.empty("not recorded", x: frame.left + frame.width / 2, y: frame.top + frame.height / 2))
            out.append(SVG.text(missing, x: frame.left + frame.width / 2, y: frame.top + frame.height / 2 + 18, size: 11, fill: "#555"))
            return out
        }
        let slot = frame.width / Double(worldSize)
        let barW = min(50, slot * 0.8 / Double(optimizers.count))
        for rank in 0..<worldSize {
            let groupLeft = frame.left + Double(rank) * slot + (slot - barW * Double(optimizers.count)) / 2
            for (k, o) in optimizers.enumerated() {
                guard let v = values[o]?[rank], v.isFinite else { continue }
                let h = frame.bottom - y.map(v / scale)
                let bx = groupLeft + Double(k) * barW
                out.append(SVG.rect(x: bx, y: frame.bottom - h, w: barW - 3, h: h, fill: Palette.color(o), cls: "mark",
                                    tip: "\(Palette.name(o)) rank \(rank) \(title): \(String(format: "%.1f", v / scale)) \(unit)"))
                out.append(SVG.text(String(format: v / scale >= 100 ? "%.0f" : "%.1f", v / scale), x: bx + (barW - 3) / 2,
                                    y: frame.bottom - h - 4, size: 10, fill: "#222"))
            }
        }
        return out
    }
}
