import Foundation

/// Loss per epoch of each optimizer's best run at every batch size: one small panel per
/// batch, train loss solid, test loss dashed, one shared y scale.
enum LossChart {
    static func svg(_ study: Study) -> String {
        let batches = study.batches
        let panels = max(batches.count, 1)
        let panelWidth = max(170, min(260, 860 / Double(panels)))
        let width = max(900, 80 + panelWidth * Double(panels) + 20), height = 360.0
        var series: [(batch: Int, optimizer: String, run: SweepRecord)] = []
        for b in batches {
            for o in study.optimizers { if let r = study.best(o, batch: b), !r.perEpoch.isEmpty { series.append((b, o, r)) } }
        }
        let losses = series.flatMap { $0.run.perEpoch.flatMap { [$0.trainLoss, $0.testLoss] } }.filter(\.isFinite)
        guard !losses.isEmpty else {
            return SVG.chart(name: "loss-curves", width: width, height: height, title: "Loss per epoch",
                             body: [SVG.empty("no per-epoch records", x: width / 2, y: height / 2)])
        }
        let (ylo, yhi) = Axis.niceRange(losses + [0], pad: 0.05)
        let maxEpoch = series.flatMap { $0.run.perEpoch.map(\.epoch) }.max() ?? 1
        var body: [String] = []
        for (k, b) in batches.enumerated() {
            let frame = Frame(left: 80 + Double(k) * panelWidth, top: 70, width: panelWidth - 30, height: 210)
            let x = Axis(kind: .linear, lo: 1, hi: Double(max(maxEpoch, 2)), pixelLo: frame.left, pixelHi: frame.right)
            let y = Axis(kind: .linear, lo: max(ylo, 0), hi: yhi, pixelLo: frame.bottom, pixelHi: frame.top)
            let xTicks = Axis.niceTicks(lo: 1, hi: Double(maxEpoch), count: 3).filter { $0 >= 1 && $0 == $0.rounded() }
            var axes = Axes.draw(frame: frame, x: x, xTicks: xTicks.map { ($0, "\(Int($0))") }, xTitle: "epoch",
                                 y: y, yTicks: Axis.niceTicks(lo: max(ylo, 0), hi: yhi, count: 4).map { ($0, String(format: "%g", $0)) },
                                 yTitle: k == 0 ? "cross-entropy loss (nats)" : "")
            if k > 0 { axes.removeLast() }
            body += axes
            body.append(SVG.text("batch \(Label.batch(b))", x: frame.left + frame.width / 2, y: frame.top - 8, size: 13, weight: "bold"))
            for s in series where s.batch == b {
                let color = Palette.color(s.optimizer)
                let train = s.run.perEpoch.filter { $0.trainLoss.isFinite }.map { (x.map(Double($0.epoch)), y.map($0.trainLoss)) }
                let test = s.run.perEpoch.filter { $0.testLoss.isFinite }.map { (x.map(Double($0.epoch)), y.map($0.testLoss)) }
                if train.count == 1 { body.append(SVG.circle(x: train[0].0, y: train[0].1, r: 3, fill: color)) }
                if !train.isEmpty { body.append(SVG.polyline(train, stroke: color, width: 2)) }
                if !test.isEmpty { body.append(SVG.polyline(test, stroke: color, width: 2, dash: "5 3")) }
            }
        }
        var legend: [(label: String, color: String, dash: String?)] = []
        for o in study.optimizers {
            legend.append(("\(Palette.name(o)) train", Palette.color(o), nil))
            legend.append(("\(Palette.name(o)) test", Palette.color(o), "5 3"))
        }
        body += Axes.legend(legend, x: 80, y: 46)
        body.append(SVG.text("each panel: the best lr x wd run of each optimizer at that batch (train loss: mean over the epoch's steps)",
                             x: 80, y: height - 12, anchor: "start", size: 11, fill: "#555"))
        return SVG.chart(name: "loss-curves", width: width, height: height, title: "Loss per epoch, best run per optimizer and batch", body: body)
    }
}
