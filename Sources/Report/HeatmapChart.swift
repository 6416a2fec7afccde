import Foundation

/// The final metric (test accuracy; validation loss) over the lr x wd grid at one batch size, one panel per optimizer, on
/// one shared colour scale: a flatter map (a smaller spread) is a more forgiving optimizer.
enum HeatmapChart {
    static func svg(_ study: Study, batch: Int?) -> String {
        let optimizers = study.optimizers, m = study.metric
        let panelWidth = 400.0
        let width = max(900, panelWidth * Double(optimizers.count) + 100)
        let rowsMax = Double(max(1, optimizers.map { o in Set(study.gridRecords.filter { $0.optimizer == o && $0.globalBatch == batch }.map(\.weightDecay)).count }.max() ?? 1))
        let height = 80 + rowsMax * min(60, 240 / rowsMax) + 100
        guard let batch else {
            return SVG.chart(name: "lr-wd-heatmap", width: width, height: height, title: "\(m.title) over lr x wd",
                             body: [SVG.empty("no finished runs", x: width / 2, y: height / 2)])
        }
        let runs = study.gridRecords.filter { $0.globalBatch == batch }
        // Scores: the value, negated where lower is better, so "higher is better" below.
        let sign = m.higherIsBetter ? 1.0 : -1.0
        let scores = runs.map { sign * m.value($0) }.filter(\.isFinite)
        // The scale spans at most `m.span` below the best cell, so one diverged run does not
        // wash out the differences that matter; cells below the floor get its colour.
        let hi = scores.max() ?? 1, lo = max(scores.min() ?? 0, hi - m.span), clipped = (scores.min() ?? 0) < lo
        var body: [String] = []
        for (k, o) in optimizers.enumerated() {
            let mine = runs.filter { $0.optimizer == o }
            let lrs = Set(mine.map(\.lr)).sorted(), wds = Set(mine.map(\.weightDecay)).sorted(by: >)
            let left = 90 + Double(k) * panelWidth, top = 80.0
            let cellW = min(80, 300 / Double(max(lrs.count, 1))), cellH = min(60, 240 / Double(max(wds.count, 1)))
            let finite = mine.map { sign * m.value($0) }.filter(\.isFinite)
            let spread = (finite.max() ?? .nan) - (finite.min() ?? .nan)
            let best = finite.max() ?? .nan
            let near = finite.filter { $0 >= best - m.near }.count
            body.append(SVG.text("\(Palette.name(o))", x: left + cellW * Double(lrs.count) / 2, y: top - 30,
                                 size: 14, weight: "bold", fill: Palette.color(o)))
            body.append(SVG.text(String(format: "spread %g %@; %d of %d cells within %g of the best", (spread * 1000).rounded() / 1000,
                                        m.unit, near, finite.count, m.near),
                                 x: left + cellW * Double(lrs.count) / 2, y: top - 12, size: 11, fill: "#444"))
            for (i, lr) in lrs.enumerated() {
                for (j, wd) in wds.enumerated() {
                    let x = left + Double(i) * cellW, y = top + Double(j) * cellH
                    guard let run = mine.first(where: { $0.lr == lr && $0.weightDecay == wd }) else {
                        body.append(SVG.rect(x: x, y: y, w: cellW - 2, h: cellH - 2, fill: "#f4f4f4"))
                        continue
                    }
                    let v = m.value(run), score = sign * v
                    let t = hi > lo ? max(0, (score - lo) / (hi - lo)) : 1
                    let fill = v.isFinite ? Palette.ramp(t) : "#cccccc"
                    body.append(SVG.rect(x: x, y: y, w: cellW - 2, h: cellH - 2, fill: fill, cls: "mark",
                                         tip: "\(Palette.name(o)) lr \(Label.sci(lr)) wd \(Label.sci(wd)): \(m.text(run))"))
                    body.append(SVG.text(v.isFinite ? String(format: m.format, v) : "NaN", x: x + cellW / 2 - 1, y: y + cellH / 2 + 4,
                                         size: 12, weight: score == best ? "bold" : "normal", fill: t > 0.6 ? "#111" : "#fff"))
                }
            }
            for (i, lr) in lrs.enumerated() {
                body.append(SVG.text(Label.sci(lr), x: left + (Double(i) + 0.5) * cellW, y: top + Double(wds.count) * cellH + 14, size: 11))
            }
            for (j, wd) in wds.enumerated() {
                body.append(SVG.text(Label.sci(wd), x: left - 6, y: top + (Double(j) + 0.5) * cellH + 4, anchor: "end", size: 11))
            }
            body.append(SVG.text("peak learning rate", x: left + cellW * Double(lrs.count) / 2, y: top + Double(wds.count) * cellH + 34, size: 12))
            body.append(SVG.text("weight decay", x: left - 50, y: top + cellH * Double(wds.count) / 2, size: 12, rotate: true))
        }
        // Colour scale.
        let barLeft = 90.0, barTop = height - 40, barWidth = 300.0
        for i in 0..<30 {
            body.append(SVG.rect(x: barLeft + Double(i) * barWidth / 30, y: barTop, w: barWidth / 30 + 0.5, h: 12,
                                 fill: Palette.ramp(Double(i) / 29)))
        }
        let worse = m.higherIsBetter ? "≤ " : "≥ "
        body.append(SVG.text((clipped ? worse : "") + String(format: m.format, sign * lo), x: barLeft, y: barTop + 26, anchor: "start", size: 11))
        body.append(SVG.text(String(format: m.format, sign * hi), x: barLeft + barWidth, y: barTop + 26, anchor: "end", size: 11))
        body.append(SVG.text("\(m.axis) (one scale for both panels)", x: barLeft + barWidth + 12, y: barTop + 10,
                             anchor: "start", size: 11, fill: "#444"))
        return SVG.chart(name: "lr-wd-heatmap", width: width, height: height,
                         title: "\(m.title) over learning rate x weight decay at global batch \(batch)", body: body)
    }
}
