import Foundation

/// How this process was started, and the communicator that goes with it.
///
/// The transport is chosen at run time, from the environment, rather than at build time: a
/// process that `mpirun` started (it sets `OMPI_COMM_WORLD_SIZE` and `OMPI_COMM_WORLD_RANK`;
/// PMIx launchers such as `srun --mpi=pmix` set `PMIX_RANK`) gets an ``MPICommunicator``, which
/// loads Open MPI with `dlopen`; any other process gets a ``SingleProcessCommunicator`` and never
/// touches MPI. So one binary serves both, and a machine without Open MPI (CI, a laptop) builds
/// and runs everything; only a job actually launched by `mpirun` needs the library, and if it is
/// missing there, the error says so in one line instead of the binary failing to start.
public enum JobEnvironment {
    /// The variables whose presence means an MPI launcher started this process.
    public static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"]

    /// Whether this process was started by `mpirun` (or another PMIx launcher).
    public static var isUnderMPI: Bool { isUnderMPI(environment: ProcessInfo.processInfo.environment) }

    /// Whether `environment` is that of a process started by an MPI launcher.
    public static func isUnderMPI(environment: [String: String]) -> Bool {
        launcherVariables.contains { environment[$0] != nil }
    }

    /// This process's rank as the launcher gave it (`OMPI_COMM_WORLD_RANK`, else `PMIX_RANK`), read
    /// from the environment without loading MPI: for what happens before the communicator exists
    /// (a command line that does not parse). `nil` when no launcher started the process.
    public static func launchedRank(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int? {
        (environment["OMPI_COMM_WORLD_RANK"] ?? environment["PMIX_RANK"] ?? environment["PMI_RANK"]).flatMap { Int($0) }
    }

    /// The number of processes the launcher started (`OMPI_COMM_WORLD_SIZE`, else PMI's
    /// `PMI_SIZE`), read from the environment without loading MPI; 1 when no launcher started the
    /// process or it does not say. (Not Slurm's `SLURM_NTASKS`: a batch script's own commands see
    /// it too, without being one of the tasks.)
    public static func launchedSize(environment: [String: String] = ProcessInfo.processInfo.environment) -> Int {
        (environment["OMPI_COMM_WORLD_SIZE"] ?? environment["PMI_SIZE"]).flatMap { Int($0) } ?? 1
    }

    /// An ``MPICommunicator`` under an MPI launcher (throwing ``MPIError`` when Open MPI cannot
    /// be loaded or initialized), else a ``SingleProcessCommunicator``.
    public static func communicator(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> any Communicator {
        isUnderMPI(environment: environment) ? try MPICommunicator() : SingleProcessCommunicator()
    }

    /// Ends the job's MPI, if it uses MPI (see ``MPICommunicator/finalize()``); nothing for a
    /// single process. Call before a normal exit.
    public static func finish(_ communicator: any Communicator) throws {
        if let mpi = communicator as? MPICommunicator { try mpi.finalize() }
    }
}
