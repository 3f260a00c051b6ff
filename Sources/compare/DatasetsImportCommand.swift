import ArgumentParser
import Pipeline

/// `compare datasets import NAME`: convert Fashion-MNIST or sklearn's digits to a dataset file.
struct DatasetsImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import a real dataset: fashion-mnist, digits.")

    @Argument(help: "Which dataset.")
    var name: DatasetImporter

    @Flag(help: "Binarize (fashion-mnist): pixel >= 128 -> 1, else 0.")
    var binarize = false

    @Option(help: "Source folder (fashion-mnist) or file (digits); defaults to the Debian package's path.")
    var source: String?

    @Option(help: "Output file (default Datasets/fashion-mnist.h5, Datasets/fashion-mnist-binary.h5 or Datasets/digits.h5).")
    var out: String?

    @Flag(help: "Replace an existing dataset file at --out (never a checkpoint or a sample file).")
    var overwrite = false

    var request: DatasetImportRequest {
        DatasetImportRequest(importer: name, binarize: binarize, source: source, out: out, overwrite: overwrite)
    }

    func validate() throws {
        do { try request.validate() } catch { throw ValidationError(error) }
    }

    func run() throws {
        try failOnError { print(try request.run()) }
    }
}
