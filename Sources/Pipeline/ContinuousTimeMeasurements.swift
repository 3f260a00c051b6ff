import Core
import DDPMModel
import Evaluation
import Report
import Tensor

/// What lesson 4's continuous-time part measures on a trained continuous-time DDPM
/// (``Report/ContinuousTimeLesson``): ELBO_T at each T of a grid and ELBO_∞ on the same
/// examples, and ELBO_∞ of the same network under fixed schedules with the learned one's end
/// points, with the variance of the one-draw diffusion term.
enum ContinuousTimeMeasurements {
    /// `data` [n, D] on the dataset's scale; `draws` ELBO draws per example; every reading from
    /// the stream (seed, index) of its own, so readings do not depend on each other.
    static func measure(_ model: ContinuousTimeDDPM, run: RunSummary, data: Tensor, grid: [Int], draws: Int, batchSize: Int, seed: UInt64,
                        progress: (String) -> Void) throws -> ContinuousTimeLesson {
        let storedTimesteps = model.timestepCount
        defer { model.timestepCount = storedTimesteps }
        let n = data.shape[0]
        func inBatches(_ body: (Tensor) -> [Double]) -> [Double] {
            var values: [Double] = []
            var first = 0
            while first < n {
                let last = Swift.min(n, first + batchSize)
                values += body(data.rows(first..<last))
                first = last
            }
            return values
        }
        var readings: [ContinuousTimeLesson.Reading] = []
        for (index, steps) in grid.sorted().enumerated() {
            progress("continuous-time DDPM read at T = \(steps)")
            model.timestepCount = steps
            var generator = RandomGenerator(seed: seed, stream: [UInt64(index)])
            let elbo = GradientMode.withoutRecording {
                inBatches { batch in
                    var total = [Double](repeating: 0, count: batch.shape[0])
                    for _ in 0..<draws {
                        let terms = model.elbo(batch, using: &generator).elbo
                        for i in total.indices { total[i] += terms[i] / Double(draws) }
                    }
                    return total
                }
            }
            readings.append(ContinuousTimeLesson.Reading(timesteps: steps, elbo: elbo))
        }
        progress("continuous-time DDPM in the limit, under the learned and two fixed schedules")
        let (start, end) = model.schedule.endPoints
        var schedules: [ContinuousTimeLesson.ScheduleReading] = []
        var limit: [Double] = []
        // The model's own schedule first (the lesson trains a learned one), then the fixed ones.
        let kinds = [model.schedule.kind] + [LogSNRScheduleKind.linear, .cosine].filter { $0 != model.schedule.kind }
        for (index, kind) in kinds.enumerated() {
            let reading: ContinuousTimeDDPM
            if kind == model.schedule.kind {
                reading = model
            } else {
                var settings = model.settings
                settings.schedule = kind
                settings.startNegativeLogSNR = start
                settings.endNegativeLogSNR = end
                var unused = RandomGenerator(seed: 0)
                // The configuration (and with it the network's noise-level scale) stays the trained one's.
                reading = try ContinuousTimeDDPM(configuration: model.configuration, denoiser: model.denoiser,
                                                 schedule: LogSNRSchedule(settings: settings, using: &unused))
            }
            var generator = RandomGenerator(seed: seed, stream: [0x5C, UInt64(index)])
            var single: [Double] = []
            let elbo = GradientMode.withoutRecording {
                inBatches { batch in
                    var total = [Double](repeating: 0, count: batch.shape[0])
                    for _ in 0..<draws {
                        let terms = reading.continuousELBO(batch, using: &generator)
                        single += terms.layerKL[0]
                        let values = terms.elbo
                        for i in total.indices { total[i] += values[i] / Double(draws) }
                    }
                    return total
                }
            }
            let spread = MeanEstimate(single)
            schedules.append(ContinuousTimeLesson.ScheduleReading(
                schedule: kind.rawValue, elbo: elbo, diffusionVariance: spread.standardError * spread.standardError * Double(single.count), draws: draws))
            if kind == model.schedule.kind { limit = elbo }
        }
        readings.append(ContinuousTimeLesson.Reading(timesteps: nil, elbo: limit))
        return ContinuousTimeLesson(run: run, readings: readings, schedules: schedules, endPoints: (start, end))
    }
}
