// swift-tools-version:5.9
import PackageDescription

// Dependencies point one way:
// compare → Report / Training / Store → models (VAE, HVAE, DDPM) + Evaluation → NN → Tensor → _CBLAS, _TensorKernels.
let package = Package(
    name: "compare",
    platforms: [.macOS("15.0")],  // Synchronization.Atomic
    products: [
        .executable(name: "compare", targets: ["compare"]),
        .library(name: "Tensor", targets: ["Tensor"]),
        .library(name: "NN", targets: ["NN"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(name: "_CBLAS"),
        .systemLibrary(name: "_CHDF5"),
        .systemLibrary(name: "_CPNG"),
        .target(name: "_TensorKernels"),
        .target(name: "Tensor", dependencies: ["_CBLAS", "_TensorKernels"]),
        .target(name: "NN", dependencies: ["Tensor", "_TensorKernels"]),
        .target(name: "VAEModel", dependencies: ["NN"]),
        .target(name: "HVAEModel", dependencies: ["NN"]),
        .target(name: "DDPMModel", dependencies: ["NN"]),
        .target(name: "Evaluation"),
        .target(name: "Pipeline", dependencies: ["NN", "Tensor", "Evaluation"]),
        .target(name: "DatasetMakers", dependencies: ["Tensor"]),
        .target(name: "Store", dependencies: ["_CHDF5", "Tensor"]),
        .target(name: "Training", dependencies: ["NN", "VAEModel", "HVAEModel", "DDPMModel", "Store"]),
        .target(name: "Report", dependencies: ["Evaluation", "_CPNG"]),
        .executableTarget(
            name: "compare",
            dependencies: [
                "Tensor", "NN", "VAEModel", "HVAEModel", "DDPMModel", "Evaluation", "Pipeline",
                "DatasetMakers", "Store", "Training", "Report",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "NNTests", dependencies: ["NN"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "DatasetMakers"]),
        .testTarget(name: "ModelTests", dependencies: ["NN", "VAEModel", "HVAEModel", "DDPMModel", "Evaluation", "Pipeline", "DatasetMakers"],
                    exclude: ["Golden"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Store", "DatasetMakers", "NN", "Tensor", "DDPMModel", "VAEModel", "HVAEModel"]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation"]),
        .testTarget(name: "ReportTests", dependencies: ["Report", "Evaluation"], exclude: ["Golden"]),
        .testTarget(name: "CLITests", dependencies: []),
    ]
)
