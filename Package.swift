// swift-tools-version:6.0
import PackageDescription

// Layering (arrows point down):
//   lion-dist (CLI) -> Training -> DataParallel -> SignVote -> Sharding -> LionEngine -> CKernels, Basics
//                                                                    -> Collectives -> CMPI
//                               DataParallel -> Model (the step's one owner: layout, buckets, groups, pool)
//                               -> Model -> COpenBLAS, CDNNL, CKernels, DeterministicRandom, Basics
//                               -> FashionData -> CZlib
//                               -> TextData -> DeterministicRandom
//                               -> Checkpoint -> Collectives, LionEngine, CZlib
//                               -> Safetensors -> LionEngine (the exchange format; no MPI)
//                               -> TensorBoard (event files of scalars; no dependencies)
//                               -> Report -> Basics (sweep results + HTML report; no MPI)
//   LionDist (the library users import) -> Training, DataParallel, Sharding, ... (a facade + documented typealiases)
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
        // The training loop, metrics, progress, reports.
        .target(name: "Training", dependencies: ["Basics", "DataParallel", "SignVote", "Sharding", "DeterministicRandom", "Model", "FashionData", "TextData", "LionEngine", "Collectives", "Checkpoint", "Report", "Safetensors", "TensorBoard"]),
        // The public library: one `import LionDist` for the sharded optimizer step, state dicts,
        // checkpoints, memory accounting and the trainer with a user's own `Workload`.
        .target(name: "LionDist", dependencies: ["Training", "DataParallel", "Sharding", "LionEngine", "Collectives", "Checkpoint", "Model", "Basics"]),
        // The sweep's results format and its HTML report (inline SVG). No MPI: `report` runs anywhere.
        .target(name: "Report", dependencies: ["Basics"]),
        .executableTarget(name: "lion-dist", dependencies: [
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
        .testTarget(name: "ModelTests", dependencies: ["Model", "DeterministicRandom", "LionEngine"]),
        .testTarget(name: "FashionDataTests", dependencies: ["FashionData", "CZlib"]),
        .testTarget(name: "TextDataTests", dependencies: ["TextData"]),
        .testTarget(name: "ShardingTests", dependencies: ["Sharding"]),
        .testTarget(name: "CheckpointTests", dependencies: ["Checkpoint", "LionEngine", "DeterministicRandom"]),
        // Runs the release binary (`swift build -c release` first); Launcher refuses one older than Sources/.
        .testTarget(name: "MultiRankTests", dependencies: []),
        .testTarget(name: "ReportTests", dependencies: ["Report"]),
        .testTarget(name: "LionDistTests", dependencies: ["LionDist", "LionEngine"]),
        .testTarget(name: "BasicsTests", dependencies: ["Basics"]),
        // The typed collectives in one process (MPI as a singleton, W = 1).
        .testTarget(name: "CollectivesTests", dependencies: ["Collectives"]),
        // Training without MPI: the summary's schema read back through the sweep's row. With MPI as
        // a singleton (W = 1): the scalar collectives of a step, counted.
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Report", "Sharding", "FashionData", "TextData",
                                                          "DataParallel", "SignVote", "Collectives", "Model", "LionEngine", "Basics"]),
    ],
    swiftLanguageModes: [.v5]
)
