import ArgumentParser

/// `compare datasets …`: list, inspect, make and import dataset files (`Datasets/NAME.h5`).
struct DatasetsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "datasets",
        abstract: "List, inspect, make and import dataset files.",
        discussion: """
            Dataset files are HDF5 (readable with h5py): /train and /test [N, D] (float32, or \
            uint8 for images), root attributes name, likelihood, levels, shape, source, license, \
            and for known densities /train_log_density, /test_log_density (nats) with the \
            parameters under /density. See Datasets/README.md.
            """,
        subcommands: [
            DatasetsListCommand.self,
            DatasetsInfoCommand.self,
            DatasetsMakeCommand.self,
            DatasetsImportCommand.self,
        ])
}
