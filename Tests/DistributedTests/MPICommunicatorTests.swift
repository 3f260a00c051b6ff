import Distributed
import XCTest

/// What can be checked without starting MPI: a missing library is one clear error, not a crash.
/// (The collectives themselves run under mpirun: `compare-fixtures communicator-self-test`,
/// from `scripts/mpi-test.sh`.)
final class MPICommunicatorTests: XCTestCase {
    func testMissingLibrary_throwsOneLineNamingItAndTheRemedy() {
        let path = "/nonexistent/libmpi.so.40"
        XCTAssertThrowsError(try MPICommunicator(library: path)) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.hasPrefix("Open MPI's \(path) could not be loaded: "), text)
            #if os(Linux)
            XCTAssertTrue(text.contains("No such file or directory"), text)  // glibc's dlerror
            #endif
            XCTAssertTrue(text.hasSuffix("install openmpi-bin and libopenmpi-dev, or run without mpirun"), text)
            XCTAssertFalse(text.contains("\n"), text)
        }
    }

    #if os(Linux)
    /// A library that exists but is not Open MPI is refused by name of the missing symbol.
    func testLibraryWithoutMPI_namesTheMissingSymbol() {
        XCTAssertThrowsError(try MPICommunicator(library: "libm.so.6")) { error in
            let text = String(describing: error)
            XCTAssertTrue(text.contains("libm.so.6 has no symbol MPI_Init_thread"), text)
        }
    }
    #endif

    func testErrorDescriptions_areOneLineNamingTheOperation() {
        let failure = MPIError.failed(operation: "MPI_Allgatherv", code: 8, text: "MPI_ERR_ROOT: invalid root")
        XCTAssertEqual(failure.description, "MPI_Allgatherv failed: MPI_ERR_ROOT: invalid root")
    }
}
