import Report

/// For each of `samples` ([count, D] row-major), the training example of `training`
/// ([N, D] row-major) nearest in Euclidean distance, found by exhaustive search in Double:
/// the report shows them side by side, so a reader can see that samples are not copies.
///
/// Cost: count · N · D subtractions (8 samples of Fashion-MNIST: 3.8 × 10⁸, well under a second).
func nearestTrainingExamples(of samples: [Float], training: [Float], dimension: Int) -> [NearestNeighbour] {
    guard dimension > 0, training.count >= dimension else { return [] }
    let trainCount = training.count / dimension
    return stride(from: 0, to: samples.count - dimension + 1, by: dimension).map { start in
        let sample = Array(samples[start..<(start + dimension)])
        var best = (row: 0, squared: Double.infinity)
        training.withUnsafeBufferPointer { rows in
            for row in 0..<trainCount {
                let base = row * dimension
                var squared = 0.0
                for d in 0..<dimension {
                    let difference = Double(sample[d]) - Double(rows[base + d])
                    squared += difference * difference
                }
                if squared < best.squared { best = (row, squared) }
            }
        }
        let neighbour = Array(training[(best.row * dimension)..<((best.row + 1) * dimension)])
        return NearestNeighbour(sample: sample, neighbour: neighbour, distance: best.squared.squareRoot(), trainingRow: best.row)
    }
}
