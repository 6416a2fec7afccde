import Foundation

/// Rate-limited progress lines for rank 0: epoch, step/total, loss, samples/s, ETA.
struct Progress {
    let totalSteps: Int
    let globalBatch: Int
    let interval: Double
    /// Steps already done when this process started (a resumed run): rates count from here.
    var firstStep = 0
    private var lastPrint = -Double.infinity
    private var startedAt: Double? = nil

    init(totalSteps: Int, globalBatch: Int, interval: Double) {
        self.totalSteps = totalSteps
        self.globalBatch = globalBatch
        self.interval = interval
    }

    struct Line {
        let text: String
        let samplesPerSecond: Double
    }

    /// A line when `interval` seconds have passed since the last one (and on the first and last step).
    mutating func tick(epoch: Int, epochs: Int, stepInEpoch: Int, stepsPerEpoch: Int, done: Int,
                       loss: Double, elapsed: Double) -> Line? {
        guard elapsed - lastPrint >= interval || done == totalSteps || done == firstStep + 1 else { return nil }
        lastPrint = elapsed
        let rate = Double((done - firstStep) * globalBatch) / max(elapsed, 1e-9)
        let eta = Double(totalSteps - done) * elapsed / Double(max(done - firstStep, 1))
        let text = String(format: "epoch %d/%d  step %d/%d  loss %.4f  %@ samples/s  ETA %@",
                          epoch + 1, epochs, stepInEpoch, stepsPerEpoch, loss, Format.rate(rate), Format.duration(eta))
        return Line(text: text, samplesPerSecond: rate)
    }
}
