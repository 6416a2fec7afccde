import Basics
import Foundation

/// Rate-limited progress lines for rank 0: where the run stands, loss, throughput, ETA.
struct Progress {
    let totalSteps: Int
    let globalBatch: Int
    let interval: Double
    /// Items per sample (1 image; `blockSize` tokens) and their name, for the throughput.
    let itemsPerSample: Int
    let unit: String
    /// Steps already done when this process started (a resumed run): rates count from here.
    var firstStep = 0
    private var lastPrint = -Double.infinity

    init(totalSteps: Int, globalBatch: Int, interval: Double, itemsPerSample: Int = 1, unit: String = "samples") {
        self.totalSteps = totalSteps
        self.globalBatch = globalBatch
        self.interval = interval
        self.itemsPerSample = itemsPerSample
        self.unit = unit
    }

    struct Line {
        let text: String
        let samplesPerSecond: Double
        var itemsPerSecond: Double
    }

    /// A line when `interval` seconds have passed since the last one (and on the first and last
    /// step). `position` says where the run stands ("epoch 1/10  step 5/234").
    mutating func tick(position: String, done: Int, loss: Double, elapsed: Double) -> Line? {
        guard elapsed - lastPrint >= interval || done == totalSteps || done == firstStep + 1 else { return nil }
        lastPrint = elapsed
        let rate = Double((done - firstStep) * globalBatch) / max(elapsed, 1e-9)
        let items = rate * Double(itemsPerSample)
        let eta = Double(totalSteps - done) * elapsed / Double(max(done - firstStep, 1))
        let text = String(format: "%@  loss %.4f  %@ %@/s  ETA %@",
                          position, loss, Format.rate(items), unit, Format.duration(eta))
        return Line(text: text, samplesPerSecond: rate, itemsPerSecond: items)
    }
}
