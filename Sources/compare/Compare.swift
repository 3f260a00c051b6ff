import ArgumentParser
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `compare`: train a VAE, a hierarchical VAE and a DDPM side by side and report how tight their bounds are.
@main
struct Compare: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Train a VAE, a hierarchical VAE and a DDPM on the same data and compare ELBO, log p̂(x0) and the bound gap.",
        subcommands: [
            DemoCommand.self,
            DatasetsCommand.self,
            TrainCommand.self,
            EvalCommand.self,
            BaselineCommand.self,
            SampleCommand.self,
            ReportCommand.self,
            LessonCommand.self,
            BenchCommand.self,
        ])

    static func main() {
        #if canImport(Glibc)
        // Keep freed tensors in the heap instead of returning them to the kernel: training
        // allocates the same large buffers every step, and fresh pages cost a fault each.
        _ = mallopt(-3 /* M_MMAP_THRESHOLD */, 512 << 20)
        _ = mallopt(-1 /* M_TRIM_THRESHOLD */, 1 << 30)
        // A write past `ulimit -f` then fails with EFBIG, which the writers report in one line
        // (removing their temporary file), instead of killing the process.
        signal(SIGXFSZ, SIG_IGN)
        #endif
        mainWithOneLineErrors()
    }
}

#if canImport(Glibc)
/// glibc's `mallopt` (declared in <malloc.h>, which Swift's Glibc module does not export).
@_silgen_name("mallopt")
func mallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
