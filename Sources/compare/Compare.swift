import ArgumentParser

/// `compare`: train a VAE, a hierarchical VAE and a DDPM side by side and report how tight their bounds are.
@main
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Train a VAE, a hierarchical VAE and a DDPM on the same data and compare ELBO, log p̂(x0) and the bound gap.",
        subcommands: [
            DatasetsCommand.self,
            TrainCommand.self,
        ])
}
