// swift-tools-version:6.0
import PackageDescription

// Your own model through lion-dist's ready-made trainer (progress, metrics, checkpoints):
//   swift build -c release --package-path Examples/CustomWorkload
//   mpirun -n 2 Examples/CustomWorkload/.build/release/CustomWorkload
let package = Package(
    name: "CustomWorkload",
    dependencies: [.package(name: "lion-dist", path: "../..")],
    targets: [
        .executableTarget(name: "CustomWorkload", dependencies: [.product(name: "LionDist", package: "lion-dist")]),
    ]
)
