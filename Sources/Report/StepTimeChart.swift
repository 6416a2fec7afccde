import Basics
import Foundation

/// Where a step's time goes, per batch size and optimizer: compute (forward/backward),
/// combine (gradient allreduce), update (the optimizer kernel on the shard), gather (parameter
/// allgather). Bars are shares of the step (100% stacked); the label gives ms per step and
/// the throughput (images/s, characters/s: the runs' own unit). Medians over the grid's runs.
enum StepTimeChart {
    static let phases: [(name: String, color: String, value: (SweepRecord.StepSeconds) -> Double)] = [
        ("compute", "#8d99ae", { $0.compute }), ("combine", "#7b68ee", { $0.combine }),
        ("update", "#f2c14e", { $0.update }), ("gather", "#5fad56", { $0.gather }),
    ]

    static func svg(_ study: Study) -> String {
        var rows: [(label: String, optimizer: String, parts: [Double], throughput: Double)] = []
        for b in study.batches {
            for o in study.optimizers {
                let runs = study.runs(o, batch: b).filter { $0.stepSeconds != nil }
                guard !runs.isEmpty else { continue }
                let parts = phases.map { phase in median(runs.map { phase.value($0.stepSeconds!) }) }
                rows.append(("batch \(Label.batch(b))  \(Palette.name(o))", o, parts, median(runs.map(study.subject.throughput))))
            }
        }
        let width = 900.0, rowH = 24.0
        let height = max(200, 110 + rowH * Double(rows.count) + 40)
        guard !rows.isEmpty else {
            return SVG.chart(name: "step-time", width: width, height: height, title: "Step time breakdown",
                             body: [SVG.empty("the runs recorded no step_seconds", x: width / 2, y: height / 2)])
        }
        let frame = Frame(left: 170, top: 70, width: 460, height: rowH * Double(rows.count))
        let x = Axis(kind: .linear, lo: 0, hi: 100, pixelLo: frame.left, pixelHi: frame.right)
        let y = Axis(kind: .linear, lo: 0, hi: 1, pixelLo: frame.bottom, pixelHi: frame.top)
        var body = Axes.draw(frame: frame, x: x, xTicks: stride(from: 0.0, through: 100, by: 25).map { ($0, "\(Int($0))") },
                             xTitle: "share of the step (%)", y: y, yTicks: [], yTitle: "")
        body.removeLast()
        for (i, row) in rows.enumerated() {
            let top = frame.top + Double(i) * rowH + 3
            let total = row.parts.filter(\.isFinite).reduce(0, +)
            body.append(SVG.text(row.label, x: frame.left - 8, y: top + 13, anchor: "end", size: 11, fill: Palette.color(row.optimizer)))
            var left = 0.0
            for (k, part) in row.parts.enumerated() where part.isFinite && total > 0 {
                let share = part / total * 100
                body.append(SVG.rect(x: x.map(left), y: top, w: x.map(left + share) - x.map(left), h: rowH - 6,
                                     fill: phases[k].color, cls: "mark",
                                     tip: "\(row.label) \(phases[k].name): \(String(format: "%.3f", part * 1e3)) ms (\(String(format: "%.0f", share))%)"))
                left += share
            }
            body.append(SVG.text(String(format: "%.2f ms/step, %.0f ", total * 1e3, row.throughput) + study.subject.throughputUnit,
                                 x: frame.right + 10, y: top + 13, anchor: "start", size: 11))
        }
        body += Axes.legend(phases.map { ($0.name, $0.color, nil) }, x: frame.left, y: 50)
        return SVG.chart(name: "step-time", width: width, height: height,
                         title: "Step time breakdown (median over each grid; rank 0's clock)", body: body)
    }
}
