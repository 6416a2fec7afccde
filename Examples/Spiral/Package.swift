// swift-tools-version:6.0
import PackageDescription

// A 2-64-3 ReLU classifier of a 3-class spiral on the public layers and sampler:
//   swift build -c release --package-path Examples/Spiral
//   mpirun -n 2 Examples/Spiral/.build/release/Spiral
let package = Package(
    name: "Spiral",
    dependencies: [.package(name: "lion-dist", path: "../..")],
    targets: [
        .executableTarget(name: "Spiral", dependencies: [.product(name: "LionDist", package: "lion-dist")]),
    ]
)
