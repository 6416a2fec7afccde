import Basics
import Foundation

/// Memory per rank, Lion vs AdamW: the optimizer state each rank holds (accounted bytes:
/// Lion one buffer, AdamW two, each over the rank's 1/W shard) and the measured peak RSS
/// (VmHWM, median over the optimizer's runs).
enum MemoryChart {
    static func svg(_ study: Study) -> String {
        let width = 900.0, height = 400.0
        let optimizers = study.optimizers
        let worldSize = study.records.map(\.worldSize).max() ?? 0
        guard worldSize > 0, !optimizers.isEmpty else {
            return SVG.chart(name: "memory-per-rank", width: width, height: height, title: "Memory per rank",
                             body: [SVG.empty("no runs with per-rank memory", x: width / 2, y: height / 2)])
        }
        // value[optimizer][rank]
        func perRank(_ o: String, _ field: (SweepRecord.Rank) -> Int) -> [Double] {
            (0..<worldSize).map { rank in
                median(study.records.filter { $0.optimizer == o }.compactMap { r in r.ranks.first { $0.rank == rank }.map { Double(field($0)) } })
            }
        }
        let state = Dictionary(uniqueKeysWithValues: optimizers.map { ($0, perRank($0) { $0.optimizerStateBytes }) })
        let rss = Dictionary(uniqueKeysWithValues: optimizers.map { ($0, perRank($0) { $0.peakRSSBytes }) })
        var body: [String] = []
        let stateMax = state.values.flatMap { $0 }.filter(\.isFinite).max() ?? 0
        let useKiB = stateMax < 1_048_576
        body += panel(title: "optimizer state per rank", unit: useKiB ? "KiB" : "MiB", scale: useKiB ? 1024 : 1_048_576,
                      values: state, optimizers: optimizers, worldSize: worldSize,
                      frame: Frame(left: 80, top: 80, width: 340, height: 240))
        body += panel(title: "peak RSS per rank (median over runs)", unit: "MiB", scale: 1_048_576,
                      values: rss, optimizers: optimizers, worldSize: worldSize,
                      frame: Frame(left: 530, top: 80, width: 340, height: 240))
        if let lion = state["lion"]?.first, let adam = state["adamw"]?.first, lion > 0, adam.isFinite {
            body.append(SVG.text(String(format: "AdamW / Lion optimizer state per rank: %.2fx", adam / lion), x: 300, y: 46,
                                 anchor: "start", size: 12, weight: "bold", fill: "#333"))
        }
        if let any = study.records.first, let r = any.ranks.first {
            body.append(SVG.text("every rank also holds params \(Label.mib(Double(r.paramBytes))) MiB + grads \(Label.mib(Double(r.gradBytes))) MiB (\(any.params) parameters, \(any.worldSize) ranks); peak RSS includes the dataset (~220 MiB as floats)",
                                 x: 80, y: height - 12, anchor: "start", size: 11, fill: "#555"))
        }
        body += Axes.legend(optimizers.map { (Palette.name($0), Palette.color($0), nil) }, x: 80, y: 46)
        return SVG.chart(name: "memory-per-rank", width: width, height: height, title: "Memory per rank: Lion vs AdamW", body: body)
    }

    static func panel(title: String, unit: String, scale: Double, values: [String: [Double]], optimizers: [String],
                      worldSize: Int, frame: Frame) -> [String] {
        let all = values.values.flatMap { $0 }.filter(\.isFinite).map { $0 / scale }
        let top = (Axis.niceTicks(lo: 0, hi: max(all.max() ?? 1, 1e-9) * 1.15, count: 4).last ?? 1)
        let yTop = max(top, (all.max() ?? 1) * 1.15)
        let y = Axis(kind: .linear, lo: 0, hi: yTop, pixelLo: frame.bottom, pixelHi: frame.top)
        let x = Axis(kind: .linear, lo: 0, hi: Double(worldSize), pixelLo: frame.left, pixelHi: frame.right)
        var out = Axes.draw(frame: frame, x: x, xTicks: (0..<worldSize).map { (Double($0) + 0.5, "rank \($0)") }, xTitle: "",
                            y: y, yTicks: Axis.niceTicks(lo: 0, hi: yTop, count: 4).map { ($0, String(format: "%g", $0)) },
                            yTitle: "\(unit)")
        out.append(SVG.text(title + " (\(unit))", x: frame.left + frame.width / 2, y: frame.top - 8, size: 13, weight: "bold"))
        let slot = frame.width / Double(worldSize)
        let barW = min(50, slot * 0.8 / Double(optimizers.count))
        for rank in 0..<worldSize {
            let groupLeft = frame.left + Double(rank) * slot + (slot - barW * Double(optimizers.count)) / 2
            for (k, o) in optimizers.enumerated() {
                guard let v = values[o]?[rank], v.isFinite else { continue }
                let h = frame.bottom - y.map(v / scale)
                let bx = groupLeft + Double(k) * barW
                out.append(SVG.rect(x: bx, y: frame.bottom - h, w: barW - 3, h: h, fill: Palette.color(o), cls: "mark",
                                    tip: "\(Palette.name(o)) rank \(rank): \(String(format: "%.1f", v / scale)) \(unit)"))
                out.append(SVG.text(String(format: v / scale >= 100 ? "%.0f" : "%.1f", v / scale), x: bx + (barW - 3) / 2,
                                    y: frame.bottom - h - 4, size: 10, fill: "#222"))
            }
        }
        return out
    }
}
