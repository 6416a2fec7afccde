import ArgumentParser
import Collectives
#if canImport(Glibc)
import Glibc
#endif

/// `lion-dist`: data-parallel training with sharded Lion over MPI, and its benchmarks.
/// Every rank parses the same argv before MPI starts, so a bad flag stops all ranks alike;
/// only the launcher's rank 0 prints the message.
@main
struct LionDist: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lion-dist",
        abstract: "Train data-parallel over MPI on CPUs with the sharded Lion optimizer (or AdamW): an MLP on Fashion-MNIST or a character-level GPT on Shakespeare.",
        discussion: """
        Two workloads (--model):
          mlp  an MLP 784-1024-512-10 classifying Fashion-MNIST images (the default)
          gpt  a character-level GPT (4 layers, 4 heads, 128 wide) on Shakespeare

        Run under mpirun for several ranks; run alone it is one rank:
          mpirun -n 4 lion-dist --optimizer lion --batch-size 4096
          mpirun -n 2 lion-dist --model gpt
        --batch-size is the global batch, split evenly over the ranks. Each rank keeps \
        optimizer state for its 1/W shard of the parameters only.

        `train` is the default subcommand: `lion-dist --lr 3e-4` is `lion-dist train --lr 3e-4`. \
        Its flags: `lion-dist train --help`.
        """,
        version: "0.1.0",
        subcommands: [TrainCommand.self, PlanCommand.self, SampleCommand.self, ExportCommand.self, SweepCommand.self, ReportCommand.self, BenchCommand.self, InspectCommand.self],
        defaultSubcommand: TrainCommand.self
    )

    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            Glibc.exit(report(error))
        }
    }

    /// Prints an error once (rank 0 of the launcher) and returns the exit code every rank uses.
    static func report(_ error: Error) -> Int32 {
        let code = exitCode(for: error)
        let text = message(for: error)
        // A bare ExitCode carries no message: the command already said what went wrong.
        if ProcessEnv.launcherRank == 0 && !(error is ExitCode && text.isEmpty) {
            if code == .success {
                print(fullMessage(for: error))   // --help, --version
            } else {
                StandardError.write("error: \(text) (see 'lion-dist --help')")
            }
        } else if code != .success {
            // Under mpirun the first rank to exit non-zero gets the others killed: give rank 0,
            // which prints the line, time to print it first (an early exit here lost it 2 in 5 times).
            usleep(1_000_000)
        }
        return code.rawValue
    }
}

/// `lion-dist bench ...`: benchmarks that print figures (medians, ratios in one run).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the optimizer kernels, the gradient communication and the GPT's step.",
        subcommands: [BenchOptimizerCommand.self, BenchCommCommand.self, BenchGPTCommand.self]
    )
}

/// Error lines to stderr, one per call (a newline is added when missing).
enum StandardError {
    static func write(_ text: String) {
        fputs(text.hasSuffix("\n") ? text : text + "\n", stderr)
    }
}
