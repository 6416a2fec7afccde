import Layers
import Model
import Training

extension LossSums {
    /// A ``Sequential``'s batch loss as a ``Workload`` returns it: summed loss, rows, correct rows.
    public init(_ loss: BatchLoss) {
        self.init(lossSum: loss.lossSum, count: Double(loss.count), correct: Double(loss.correct))
    }
}
