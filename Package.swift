// swift-tools-version:6.0
import PackageDescription

// Layering (arrows point down):
//   lion-dist (CLI) -> RunSetup (the built-in workloads' flags and tuned defaults, the workload
//                      factory, the plan from flags, the memory and size checks, the sweep)
//   RunSetup -> Workloads (the MLP and the GPT as `Workload`s, their node-shared data, PyTorch
//               names, text sampling) -> Model, FashionData, TextData, Safetensors
//            -> Report (sweep results + HTML report; no MPI) -> RunSchema, Basics
//   Workloads -> Training (the model-agnostic loop) -> DataParallel (the step's one owner: layout,
//                buckets, groups, pool, exchange) -> SignVote, Sharding
//             -> MemoryPlanning (memory by category: planned, held, measured) -> SignVote, Sharding
//   SignVote -> Sharding -> LionEngine -> CKernels, Basics
//                                                     -> Collectives -> CMPI
//                                       -> RankProcess (threads, /proc memory, signals, stall watchdog)
//                                       -> Model -> COpenBLAS, CDNNL, CKernels, DeterministicRandom, Basics
//                                       -> Checkpoint -> Collectives, LionEngine
//                                       -> TensorBoard (event files of scalars; no dependencies)
//                                       -> RunSchema (JSON and the summary's keys; no dependencies)
//   FashionData -> CZlib, DeterministicRandom;  TextData -> DeterministicRandom
//   LionDist (the library users import) -> Training, Sharding, Layers, ... (a facade + documented typealiases)
//   Layers -> Model, FashionData (its sampler), DeterministicRandom, Basics
// No module below RunSetup names a built-in model.
let package = Package(
    name: "lion-dist",
    products: [
        .executable(name: "lion-dist", targets: ["lion-dist"]),
        .library(name: "LionEngine", targets: ["LionEngine"]),
        // The distributed optimizer and the trainer for your own model: `import LionDist`.
        .library(name: "LionDist", targets: ["LionDist"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // `swift package generate-documentation --target LionDist` (DocC).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // C system libraries: module maps plus a shim header of static inline getters.
        .systemLibrary(name: "CMPI", pkgConfig: "ompi", providers: [.apt(["libopenmpi-dev"])]),
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // oneDNN (bf16 matmul). Debian ships no dnnl.pc: the module map links dnnl and libgomp.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),

        // AVX2 and AVX-512 optimizer kernels in C, chosen at run time by LionEngine (KernelPath).
        .target(name: "CKernels"),
        // Optimizer kernels, state, thread pool, schedules. No MPI: a plain library.
        .target(name: "LionEngine", dependencies: ["CKernels", "Basics"]),
        // A thin typed Swift face of MPI.
        .target(name: "Collectives", dependencies: ["CMPI"]),
        // Shard layout, the sharded optimizer (combine -> update -> gather), memory accounting.
        .target(name: "Sharding", dependencies: ["LionEngine", "Collectives", "Basics"]),
        // Sign-vote Lion (`--comm sign-vote`): 1-bit votes instead of a gradient combine.
        .target(name: "SignVote", dependencies: ["Sharding", "LionEngine", "Collectives", "Basics"]),
        // The data-parallel step's one owner: layout, bucket plan, parameter groups, pool, and
        // the exchange (a combiner under the sharded optimizer, or sign-vote) behind one step.
        .target(name: "DataParallel", dependencies: ["Sharding", "SignVote", "Model", "LionEngine", "Collectives", "Basics"]),
        // The MLP: tensor views of a flat parameter buffer (owned by Sharding's combiners),
        // forward/backward, loss. bf16 products through oneDNN (CDNNL), bf16 narrowing in CKernels.
        .target(name: "Model", dependencies: ["COpenBLAS", "CDNNL", "CKernels", "DeterministicRandom", "Basics"]),
        // Fashion-MNIST IDX (gzip) reader and the distributed sampler.
        .target(name: "FashionData", dependencies: ["CZlib", "DeterministicRandom"]),
        // The Shakespeare corpus (prepared by launch/setup): characters, splits, window sampler.
        .target(name: "TextData", dependencies: ["DeterministicRandom"]),
        // Small pieces every layer shares: the 64-byte aligned buffer, the median. No dependencies.
        .target(name: "Basics"),
        // SplitMix64: the same random numbers on every rank and platform.
        .target(name: "DeterministicRandom"),
        // The safetensors format (read and write F32/BF16 tensors with a metadata map). No MPI.
        .target(name: "Safetensors", dependencies: ["LionEngine"]),
        // TensorBoard event files of scalars (TFRecord framing, hand-encoded Event protos). No dependencies.
        .target(name: "TensorBoard"),
        // Checkpoints: one file per save, written collectively with MPI-IO, readable at any W.
        .target(name: "Checkpoint", dependencies: ["Collectives", "LionEngine", "CZlib"]),
        // JSON with ordered keys and the run summary's schema, shared by its writers and readers.
        .target(name: "RunSchema"),
        // What a rank's process gives a run and how it is watched: the thread budget (affinity
        // masks), memory as /proc measures it, stop signals, the stall watchdog, output-path
        // probes, the fault-injection test hooks.
        .target(name: "RankProcess", dependencies: ["Collectives", "LionEngine", "Basics"]),
        // A rank's memory by category: predicted from a run's settings (the planner, with the
        // combiners' own formulas), held and measured at the end of a run, and their tables.
        .target(name: "MemoryPlanning", dependencies: ["Sharding", "SignVote", "LionEngine", "Collectives", "RankProcess", "RunSchema", "Basics"]),
        // The model-agnostic training loop: trainer, workload protocol, metrics, progress, memory report.
        .target(name: "Training", dependencies: ["Basics", "DataParallel", "SignVote", "Sharding", "Model", "LionEngine", "Collectives", "Checkpoint",
                                                 "RunSchema", "RankProcess", "MemoryPlanning", "TensorBoard"]),
        // The built-in workloads: the MLP on Fashion-MNIST and the GPT on Shakespeare, their
        // node-shared data, their PyTorch names (safetensors) and text sampling.
        .target(name: "Workloads", dependencies: ["Training", "Model", "FashionData", "TextData", "Checkpoint", "Collectives",
                                                  "Safetensors", "RunSchema", "MemoryPlanning", "Basics", "DeterministicRandom"]),
        // What the command line sets up: the built-in workloads' flags and tuned defaults, the
        // workload factory, the memory plan and check, size checks, the sweep.
        .target(name: "RunSetup", dependencies: ["Training", "Workloads", "Model", "FashionData", "TextData", "Collectives",
                                                 "Checkpoint", "Sharding", "LionEngine", "Report", "RunSchema", "MemoryPlanning", "Basics"]),
        // The public library: one `import LionDist` for the sharded optimizer step, state dicts,
        // checkpoints, memory accounting and the trainer with a user's own `Workload`.
        .target(name: "LionDist", dependencies: ["Training", "DataParallel", "Sharding", "LionEngine", "Collectives", "Checkpoint", "Model", "Basics", "RunSchema", "RankProcess", "MemoryPlanning",
                                                 "Layers", "DeterministicRandom"]),
        // Layers users compose (Linear, Embedding, LayerNorm, ReLU, GELU, causal self-attention,
        // softmax cross-entropy) over the models' kernels, the Sequential container, the batch sampler.
        .target(name: "Layers", dependencies: ["Model", "Basics", "DeterministicRandom", "FashionData"]),
        // The sweep's results format and its HTML report (inline SVG). No MPI: `report` runs anywhere.
        .target(name: "Report", dependencies: ["Basics", "RunSchema"]),
        .executableTarget(name: "lion-dist", dependencies: [
            "RunSetup",
            "RankProcess",
            "Workloads",
            "RunSchema",
            "MemoryPlanning",
            "Basics",
            "Training",
            "DataParallel",
            "SignVote",
            "Model",
            "TextData",
            "Sharding",
            "LionEngine",
            "Collectives",
            "FashionData",
            "Checkpoint",
            "Report",
            "Safetensors",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "LionEngineTests", dependencies: ["LionEngine", "DeterministicRandom"]),
        .testTarget(name: "ModelTests", dependencies: ["Model", "DeterministicRandom", "LionEngine", "CDNNL", "CKernels", "Basics"]),
        .testTarget(name: "FashionDataTests", dependencies: ["FashionData", "CZlib"]),
        .testTarget(name: "TextDataTests", dependencies: ["TextData"]),
        .testTarget(name: "ShardingTests", dependencies: ["Sharding"]),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "LionEngine", "DeterministicRandom"]),
        // Runs the release binary (`swift build -c release` first); Launcher refuses one older than Sources/.
        .testTarget(name: "MultiRankTests", dependencies: []),
        .testTarget(name: "ReportTests", dependencies: ["Report"]),
        .testTarget(name: "LionDistTests", dependencies: ["LionDist", "LionEngine", "Training", "RankProcess"]),
        .testTarget(name: "BasicsTests", dependencies: ["Basics"]),
        .testTarget(name: "LayersTests", dependencies: ["Layers", "Model", "Basics", "DeterministicRandom"]),
        // The typed collectives in one process (MPI as a singleton, W = 1).
        .testTarget(name: "CollectivesTests", dependencies: ["Collectives"]),
        // Training without MPI: the summary's schema read back through the sweep's row.
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Workloads", "RunSetup", "Report", "RunSchema", "Sharding",
                                                          "RankProcess", "MemoryPlanning",
                                                          "FashionData", "TextData", "DataParallel", "SignVote", "Collectives",
                                                          "Model", "LionEngine", "Basics"]),
        // The command line's parse and validate() in this process: flag errors without a launch.
        .testTarget(name: "CLITests", dependencies: ["lion-dist", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
    ],
    swiftLanguageModes: [.v5]
)
