import Basics
import Checkpoint
import Collectives
import DataParallel
import LionEngine
import Training

/// Every error the library throws: what is wrong and how to fix it, in one line.
///
/// ```swift
/// do { try optimizer.step() } catch let error as LionDistError { print(error) }
/// ```
public struct LionDistError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is, to tell failures apart without matching text.
    public enum Kind: Sendable {
        /// A bad argument: a hyperparameter, a tensor, a group, a state dict that does not fit.
        case invalidArgument
        /// MPI failed, or another rank failed and every rank stopped together.
        case communication
        /// A checkpoint could not be written, or was refused when read.
        case checkpoint
        /// Training went wrong (for example the loss diverged).
        case training
    }

    /// What kind of failure this is.
    public let kind: Kind
    /// The one-line message.
    public let message: String

    /// An error of `kind` with a one-line `message`.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The message.
    public var description: String { message }

    /// Any error of the implementation modules, as a `LionDistError` of the right kind.
    static func wrapping(_ error: Error) -> LionDistError {
        switch error {
        case let e as LionDistError: return e
        case let e as OptimizerConfigError: return LionDistError(.invalidArgument, e.message())
        case let e as CheckpointError: return LionDistError(.checkpoint, e.message)
        case let e as TrainingError: return LionDistError(.training, e.message)
        case let e as StepError: return LionDistError(e.badArgument ? .invalidArgument : .training, e.message)
        case let e as MPIError: return LionDistError(.communication, e.description)
        case let e as MPIShortfall: return LionDistError(.communication, e.description)
        case let e as CollectiveFailure: return LionDistError(.communication, "rank \(e.failingRank): \(e.message)")
        default: return LionDistError(.training, String(describing: error))
        }
    }

    /// Runs `body`, rethrowing any error as a `LionDistError`.
    static func wrap<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch { throw wrapping(error) }
    }
}
