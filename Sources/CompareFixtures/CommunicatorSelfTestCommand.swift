import ArgumentParser
import Distributed
import Foundation

/// `compare-fixtures communicator-self-test [--fail-rank R] [--kill-rank R] [--hang-rank R]`:
/// runs every collective of the job's communicator (``JobEnvironment``) with data that depends
/// on the rank, and checks each result against what it must be; `scripts/mpi-test.sh` runs it
/// under `mpirun` with 1, 2 and 4 processes. A wrong result ends the whole job through
/// `abort`, as a real command would, so a disagreement can never turn into a hang.
///
/// The failure options prove the other half of the contract: a rank that stops, or dies, while
/// the others wait in a collective ends the job with a non-zero status instead of hanging it.
struct CommunicatorSelfTestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "communicator-self-test",
        abstract: "Check every collective of the job's communicator (for tests; run it under mpirun).")

    @Option(help: "This rank aborts with 'bad input' before the first collective, which the others enter.")
    var failRank: Int?

    @Option(help: "This rank kills itself (SIGKILL) while the others wait in a collective.")
    var killRank: Int?

    @Option(help: "This rank sleeps forever while the others wait in a collective (the job's timeout must end it).")
    var hangRank: Int?

    func run() throws {
        let communicator = try failOnError { try JobEnvironment.communicator() }
        let rank = communicator.rank, size = communicator.size
        for (option, value) in [("--fail-rank", failRank), ("--kill-rank", killRank), ("--hang-rank", hangRank)] {
            if let value, !(0..<size).contains(value) {
                communicator.abort("\(option) \(value) is not a rank of \(size) processes", status: 2)
            }
        }
        if rank == failRank {
            communicator.abort("bad input: rank \(rank) was told to fail (--fail-rank)", status: 1)
        }
        if rank == killRank {
            raise(SIGKILL)
        }
        if rank == hangRank {
            while true { sleep(3600) }
        }
        do {
            try checkCollectives(communicator)
            try JobEnvironment.finish(communicator)
        } catch {
            communicator.abort("communicator self-test: \(error)", status: 1)
        }
        if communicator.isRoot {
            print("communicator self-test: \(size) process\(size == 1 ? "" : "es"), all collectives agree")
        }
    }

    /// Each collective, with rank-dependent arguments, against the result every rank can compute
    /// by itself; the first disagreement aborts the job with one line naming it.
    private func checkCollectives(_ communicator: any Communicator) throws {
        let rank = communicator.rank, size = communicator.size
        func expect<T: Equatable>(_ name: String, _ actual: T, _ expected: T) {
            if actual != expected {
                communicator.abort("communicator self-test: \(name) disagrees: got \(actual), expected \(expected)", status: 1)
            }
        }

        func floats(_ rank: Int) -> [Float] { (0..<3).map { Float(rank * 10 + $0) + 0.25 } }
        expect("allGather", try communicator.allGather(floats(rank)), (0..<size).flatMap(floats))
        expect("allGather of nothing", try communicator.allGather([]), [Float]())

        // Rank r contributes r values, so rank 0 contributes none.
        func doubles(_ rank: Int) -> [Double] { (0..<rank).map { Double(rank) + Double($0) / 8 } }
        expect("allGatherVariable", try communicator.allGatherVariable(doubles(rank)), (0..<size).flatMap(doubles))
        expect("allGatherVariable of nothing", try communicator.allGatherVariable([]), [Double]())
        // Only the last rank contributes (as when an evaluation's shards leave the others empty).
        let onlyLast: [Double] = rank == size - 1 ? [1.5, -2.5] : []
        expect("allGatherVariable from the last rank only", try communicator.allGatherVariable(onlyLast), [1.5, -2.5])

        expect("maximum", try communicator.maximum(Double(rank) * 1.5 - 7), Double(size - 1) * 1.5 - 7)
        expect("maximum of negatives", try communicator.maximum(-Double(rank) - 1), -1)

        // The other ranks pass arguments of other lengths, which must be ignored.
        let fromFirst = Array("broadcast from rank 0".utf8)
        expect("broadcast from rank 0",
               try communicator.broadcast(rank == 0 ? fromFirst : [UInt8](repeating: UInt8(rank), count: rank), root: 0),
               fromFirst)
        let last = size - 1
        let fromLast = (0..<(100_000 + size)).map { UInt8(truncatingIfNeeded: $0 * 7 + last) }
        expect("broadcast from the last rank",
               try communicator.broadcast(rank == last ? fromLast : Array("not me".utf8), root: last), fromLast)
        expect("broadcast of nothing", try communicator.broadcast(rank == 0 ? [] : [1, 2, 3], root: 0), [UInt8]())

        // The tree sum over the ranks, when their number is a power of two, against the grouping the
        // protocol promises, on values where grouping shows: 1e8 + 1 rounds to 1e8 in Float.
        if size & (size - 1) == 0 {
            func summands(_ rank: Int) -> [Float] {
                [rank % 2 == 0 ? 1e8 * Float(1 - 2 * ((rank / 2) % 2)) : 1, Float(rank) + 0.5, 1 / Float(rank + 3)]
            }
            let gathered = (0..<size).flatMap(summands)
            expect("treeSum", try communicator.treeSum(summands(rank)),
                   SingleProcessCommunicator.treeSumOfGathered(gathered, rankCount: size))
        }

        try communicator.barrier()
    }
}
