// swift-tools-version:6.0
import PackageDescription

// Your own model and loop, calling the sharded optimizer's step directly:
//   swift build -c release --package-path Examples/LinearRegression
//   mpirun -n 2 Examples/LinearRegression/.build/release/LinearRegression
let package = Package(
    name: "LinearRegression",
    dependencies: [.package(name: "lion-dist", path: "../..")],
    targets: [
        .executableTarget(name: "LinearRegression", dependencies: [.product(name: "LionDist", package: "lion-dist")]),
    ]
)
