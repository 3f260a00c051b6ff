import Distributed
import XCTest

/// The transport is chosen from the environment: MPI only when a launcher started the process.
final class JobEnvironmentTests: XCTestCase {
    func testWithoutLauncherVariables_isASingleProcess() throws {
        let environment = ["PATH": "/usr/bin", "HOME": "/root", "OMPI_MCA_btl": "self,vader"]
        XCTAssertFalse(JobEnvironment.isUnderMPI(environment: environment))
        let communicator = try JobEnvironment.communicator(environment: environment)
        XCTAssertTrue(communicator is SingleProcessCommunicator)
        XCTAssertEqual(communicator.size, 1)
        XCTAssertNoThrow(try JobEnvironment.finish(communicator))
    }

    func testEachLauncherVariable_meansMPI() {
        for variable in ["OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMIX_RANK"] {
            XCTAssertTrue(JobEnvironment.isUnderMPI(environment: [variable: "0"]), variable)
        }
    }

    /// The test process itself is not under mpirun (unless someone runs the tests that way).
    func testThisProcess_matchesItsEnvironment() {
        XCTAssertEqual(JobEnvironment.isUnderMPI, JobEnvironment.isUnderMPI(environment: ProcessInfo.processInfo.environment))
    }
}
