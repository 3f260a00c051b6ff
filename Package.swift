// swift-tools-version:5.9
import PackageDescription

// Dependencies point one way. Every import is declared as a direct dependency: CI builds with
// `--explicit-target-dependency-import-check error` and runs `scripts/check_imports.py`, which also
// refuses an import that is reachable only through another dependency.
//
//   compare (parsing and printing only)
//     → Pipeline (requests: train, evaluate, sample, report, datasets, demo, lessons) · Benchmarks
//       → Training · Report · Store · DatasetMakers
//         (Training shares a step's shards over a Distributed communicator: one process, or MPI)
//         → VAEModel · HVAEModel · DDPMModel · Evaluation (pure Double estimators)
//           → NN → Tensor → _TensorKernels, _CBLAS
//             → Core (ModelKind, Likelihood: the words every layer shares)
//
// Test support (fixtures that must not ship in `compare`): CompareTestSupport, compare-fixtures.
let package = Package(
    name: "compare",
    platforms: [.macOS("15.0")],  // Synchronization.Atomic
    products: [
        .executable(name: "compare", targets: ["compare"]),
        .executable(name: "compare-fixtures", targets: ["CompareFixtures"]),
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "NN", targets: ["NN"]),
        .library(name: "Pipeline", targets: ["Pipeline"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "_CBLAS"),
        .systemLibrary(name: "_CHDF5"),
        .systemLibrary(name: "_CPNG"),
        .target(name: "_TensorKernels"),
        .target(name: "Core"),
        .target(name: "_CMPI", linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]),
        .target(name: "Distributed", dependencies: ["_CMPI"]),
        .target(name: "Tensor", dependencies: ["Core", "_CBLAS", "_TensorKernels"]),
        .target(name: "NN", dependencies: ["Core", "Tensor"]),
        .target(name: "VAEModel", dependencies: ["Core", "NN", "Tensor"]),
        .target(name: "HVAEModel", dependencies: ["Core", "NN", "Tensor"]),
        .target(name: "DDPMModel", dependencies: ["Core", "NN", "Tensor"]),
        .target(name: "Evaluation", dependencies: ["Core"]),
        .target(name: "DatasetMakers", dependencies: ["Core"]),
        .target(name: "Store", dependencies: ["Core", "_CHDF5"]),
        .target(name: "Training", dependencies: ["Core", "Distributed", "NN", "Tensor", "VAEModel", "HVAEModel", "DDPMModel", "Evaluation",
                                                 "Store"]),
        .target(name: "Report", dependencies: ["Core", "Evaluation", "_CPNG"]),
        .target(
            name: "Pipeline",
            dependencies: ["Core", "Distributed", "Tensor", "NN", "VAEModel", "HVAEModel", "DDPMModel", "Evaluation", "DatasetMakers",
                           "Store", "Training", "Report"]),
        .target(name: "Benchmarks", dependencies: ["Core", "Tensor", "NN", "VAEModel", "DDPMModel", "Evaluation"]),
        .executableTarget(
            name: "compare",
            dependencies: [
                "Core", "Distributed", "NN", "DDPMModel", "HVAEModel", "DatasetMakers", "Training", "Pipeline", "Benchmarks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .target(name: "CompareTestSupport", dependencies: ["Core", "Distributed", "Store"]),
        .executableTarget(
            name: "CompareFixtures",
            dependencies: ["Core", "Store", "Training", "Pipeline", "CompareTestSupport", "Distributed",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]),
        .testTarget(name: "TensorTests", dependencies: ["Core", "Tensor"]),
        .testTarget(name: "NNTests", dependencies: ["Core", "NN", "Tensor"]),
        .testTarget(name: "StoreTests", dependencies: ["Core", "Store", "DatasetMakers", "Tensor", "CompareTestSupport"]),
        .testTarget(name: "ModelTests", dependencies: ["Core", "NN", "Tensor", "VAEModel", "HVAEModel", "DDPMModel", "Evaluation",
                                                       "Pipeline", "DatasetMakers"],
                    exclude: ["Golden"]),
        .testTarget(name: "TrainingTests", dependencies: ["CompareTestSupport", "Core", "Distributed", "Training", "Store", "DatasetMakers", "NN", "Tensor", "DDPMModel",
                                                          "VAEModel", "HVAEModel", "Evaluation"]),
        .testTarget(name: "PipelineTests", dependencies: ["CompareTestSupport", "Core", "DDPMModel", "Distributed", "DatasetMakers", "HVAEModel", "NN", "Pipeline",
                                                          "Training", "Store", "Evaluation", "Tensor"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Core", "Evaluation"]),
        .testTarget(name: "ReportTests", dependencies: ["Core", "Report", "Evaluation", "_CPNG"], exclude: ["Golden"]),
        .testTarget(name: "DistributedTests", dependencies: ["Distributed"]),
        .testTarget(name: "CLITests", dependencies: [], exclude: ["Golden"]),
    ]
)
