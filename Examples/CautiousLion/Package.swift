// swift-tools-version:6.0
import PackageDescription

// Cautious Lion (`OptimizerOptions.lion(cautiousFactor:)`) in your own loop, under mpirun:
//   swift build -c release --package-path Examples/CautiousLion
//   mpirun -n 3 Examples/CautiousLion/.build/release/CautiousLion --cautious-factor 0
let package = Package(
    name: "CautiousLion",
    dependencies: [.package(name: "lion-dist", path: "../..")],
    targets: [
        .executableTarget(name: "CautiousLion", dependencies: [.product(name: "LionDist", package: "lion-dist")]),
    ]
)
