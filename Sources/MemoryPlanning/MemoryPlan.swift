import Basics
import LionEngine
import RunSchema
import Sharding
import SignVote

/// Bytes per rank by category: what `lion-dist plan` predicts and what the end-of-run memory
/// table measures. Parameters and gradients count this rank's share of node-shared pages
/// (as Pss does): the node-shared parameter copy counts 1/k on each of the node's k ranks.
public struct MemoryBreakdown: Sendable, Equatable {
    public var parameters = 0
    /// The bf16 copy of the parameters the products read (`--compute-dtype bf16`), its share
    /// per rank: one copy per node, 1/k on each of its k ranks; 0 in fp32.
    public var computeParameters = 0
    public var gradients = 0
    public var optimizerState = 0
    public var activations = 0
    public var dataset = 0
    /// The process without any of the above: code, the Swift and MPI runtimes, OpenBLAS and
    /// thread-pool buffers, MPI's shared-memory transport.
    public var runtime = 0

    public init() {}

    public var total: Int { values.reduce(0, +) }

    package static let labels = ["parameters (share)", "bf16 parameters (share)", "gradient staging", "optimizer state",
                         "activations + workspace", "dataset", "runtime baseline"]
    package static let keys = ["parameters", "compute_parameters", "gradients", "optimizer_state", "activations", "dataset",
                               "runtime"]
    package var values: [Int] { [parameters, computeParameters, gradients, optimizerState, activations, dataset, runtime] }

    package var json: JSON { .object(zip(Self.keys, values).map { ($0, .int($1)) } + [("total", .int(total))]) }
}

/// What a workload holds per rank besides parameters, gradients and optimizer state.
public struct WorkloadBytes: Sendable, Equatable {
    public var activations: Int
    public var dataset: Int
    /// This rank's share of a compute-dtype copy of the parameters (bf16), 0 without one.
    public var computeParameters: Int

    public init(activations: Int, dataset: Int, computeParameters: Int = 0) {
        self.activations = activations
        self.dataset = dataset
        self.computeParameters = computeParameters
    }
}

/// What the planner needs of a model: its parameter count, its segments (gradient buckets
/// follow them) and what its workload holds besides parameters, gradients and state.
public struct PlannedModel: Sendable {
    public var parameters: Int
    public var segments: [Range<Int>]
    public var held: WorkloadBytes

    public init(parameters: Int, segments: [Range<Int>], held: WorkloadBytes) {
        self.parameters = parameters
        self.segments = segments
        self.held = held
    }
}

/// Predicts a rank's memory for a training configuration without allocating anything: the
/// shard layout, the combiner's buffers, the optimizer state, the workload's workspace and
/// data. The same formulas size the real buffers (the workspaces' `bytes(model:maxBatch:)`,
/// `ShardLayout`), so only the runtime baseline is an estimate.
public struct MemoryPlan: Sendable {
    public let worldSize: Int
    public let ranksPerNode: Int
    public let parameterCount: Int
    public let layout: ShardLayout
    /// Rank 0's bytes (every rank holds the same but for a few bytes of rounding).
    public let perRank: MemoryBreakdown
    /// How P lives: "once per node (shared)" or "private per rank".
    public let parameterPlacement: String
    /// How G lives: "full-size per rank" or "sharded (3 staging slots of ... + the reduced shard)".
    public var gradientPlacement = "full-size per rank"

    /// The Pss of a rank's data beyond its model, data and optimizer buffers (anonymous memory
    /// of the runtimes: Swift, OpenMPI, OpenBLAS, oneDNN; `ProcessMemory.pssBytes` leaves out the
    /// libraries' file-backed pages), measured on the development machine (Debian, OpenMPI 4.1,
    /// OpenBLAS, Swift 6.3; 2 cores) as peak Pss minus the other categories. It grows with the
    /// ranks of a node (OpenMPI's shared-memory transport keeps buffers per peer): 5.7-5.9 MiB
    /// at 1 rank, 5.8-7.4 at 2, 6.0-9.3 at 4 (MLP, baby GPT); with the stall watchdog's thread
    /// and window and oneDNN's static state (libdnnl, libgomp) 7.4-7.8 at 1 rank and 9.7-10.1 at 4
    /// (small GPT, AMD EPYC), modelled as 7.5 MiB + 0.75 MiB per node peer. The planner's only
    /// estimate; `MemoryPlanTests` holds the plan to measured runs.
    public static func runtimeBaseline(ranksPerNode: Int) -> Int { (15 << 19) + (ranksPerNode - 1) * (3 << 18) }

    /// `ranksPerNode` ranks per node (the last node may hold fewer), for `model`'s parameters,
    /// segments and what its workload holds besides (`Workload.plannedBytes`), with the optimizer,
    /// the combine (`--comm`, `--shard`; sign-vote's rule) and the bucket size of the run.
    public init(optimizer opt: OptimizerConfig, comm: CommKind, shard: ShardScope, signVote: VoteRule?, bucketElements: Int,
                model: PlannedModel, worldSize: Int, ranksPerNode: Int) {
        let w = worldSize, k = min(max(ranksPerNode, 1), worldSize)
        self.worldSize = w
        self.ranksPerNode = k
        parameterCount = model.parameters
        layout = ShardLayout(count: model.parameters, worldSize: w)
        let nodes = (w + k - 1) / k, uniform = w % k == 0
        var b = MemoryBreakdown()
        let buckets = BucketPlan(layers: model.segments, paddedCount: layout.paddedCount, bucketElements: bucketElements)
        let held: (parameters: Int, gradients: Int)
        switch comm {
        case .allreduce:
            held = AllreduceCombiner.heldBytes(layout: layout)
            parameterPlacement = "private per rank"
        case .reduceScatter:
            held = SharedMemoryCombiner.heldBytes(layout: layout, buckets: buckets, scope: shard, ranksPerNode: k,
                                                  nodes: nodes, uniform: uniform)
            let shared = shard != .stateOnly && uniform
            if GradientSlots.apply(scope: shard, sharedParams: shared, buckets: buckets, worldSize: w) {
                gradientPlacement = "sharded (\(GradientSlots.slotsPerRank) staging slots of "
                    + Format.bytes(GradientSlots.elements(buckets: buckets) * 4 / GradientSlots.slotsPerRank) + " and the reduced shard)"
            }
            parameterPlacement = shared ? "once per node (shared)" : "private per rank"
        }
        (b.parameters, b.gradients) = held
        b.optimizerState = layout.shardCount * opt.stateBuffers * opt.stateDType.bytesPerElement
            + (opt.isCautious ? CautiousBits.bytes(count: layout.shardCount) : 0)
        // --comm sign-vote: full momentum, P and G per rank.
        if let rule = signVote {
            (b.parameters, b.gradients, b.optimizerState) = SignVoteOptimizer.heldBytes(count: model.parameters, worldSize: w, rule: rule)
        }
        b.computeParameters = model.held.computeParameters
        b.activations = model.held.activations
        b.dataset = model.held.dataset
        b.runtime = Self.runtimeBaseline(ranksPerNode: k)
        perRank = b
    }

    /// Bytes on a full node: `ranksPerNode` ranks.
    public var nodeTotal: Int { perRank.total * ranksPerNode }

    /// The plan as a table: one row per category, rank and node totals.
    public var table: String {
        let rows = zip(MemoryBreakdown.labels, perRank.values).map { [$0, Format.bytes($1)] }
            + [["total per rank", Format.bytes(perRank.total)],
               ["total per node (\(ranksPerNode) ranks)", Format.bytes(nodeTotal)]]
        return Format.table(header: ["category", "bytes per rank"], rows: rows, leftColumns: [0])
    }
}
