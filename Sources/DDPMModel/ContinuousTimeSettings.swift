import NN

#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif

/// How γ(t) = −log SNR(t) runs from γ(0) to γ(1) in a continuous-time DDPM
/// (docs/math.md#continuous-time-elbo). The continuous-time ELBO depends on the schedule only
/// through its end points; the shape between them changes the variance of its estimate.
public enum LogSNRScheduleKind: String, Codable, Sendable, CaseIterable {
    /// γ(t) = γ(0) + (γ(1) − γ(0)) t: VDM's fixed schedule.
    case linear
    /// The cosine schedule's continuous form between the same end points: α_t = cos θ(t),
    /// σ_t = sin θ(t) with θ linear in t, so γ(t) = 2 log tan θ(t).
    case cosine
    /// A monotone network with learned end points (VDM §3.5, ``LogSNRSchedule``).
    case learned
}

/// What makes a DDPM continuous in time (`--timesteps continuous`): its log-SNR schedule.
/// Stored in the configuration JSON under `continuousTime`; absent for discrete-time DDPMs.
public struct ContinuousTimeSettings: Codable, Equatable, Sendable {
    public var schedule: LogSNRScheduleKind = .learned
    /// γ(0), −log SNR at t = 0 (the least noise): fixed, or the learned schedule's start value.
    /// VDM's −13.3: σ_0/α_0 = e^{γ(0)/2} ≈ 0.0013, a sixth of a bin of 8-bit data on [−1, 1]
    /// (``init(schedule:levels:)`` keeps that rule for other levels).
    public var startNegativeLogSNR: Double = -13.3
    /// γ(1) at t = 1 (the most noise): fixed, or the learned schedule's start value. VDM's 5:
    /// α_1² = sigmoid(−5) ≈ 0.0067.
    public var endNegativeLogSNR: Double = 5
    /// Features of the learned schedule's hidden layer (VDM's 1024).
    public var learnedScheduleFeatures: Int = 1024

    public init(schedule: LogSNRScheduleKind = .learned) { self.schedule = schedule }

    /// The settings for data on `levels` levels of [−1, 1] (nil: continuous data): γ(0) puts
    /// σ_0/α_0 = e^{γ(0)/2} at a sixth of a bin, Δ/6 with Δ = 2/(levels − 1), rounded to a tenth —
    /// VDM's −13.3 for 256 levels, −7.7 for 17, −2.2 for binary data. With less noise than that
    /// the decoder gains nothing (its error is already ~0) while the diffusion term must still
    /// integrate the denoiser's error over every γ below it; continuous data keep −13.3.
    public init(schedule: LogSNRScheduleKind, levels: Int?) {
        self.init(schedule: schedule)
        if let levels, levels >= 2 {
            let bin = 2 / Double(levels - 1)
            startNegativeLogSNR = (2 * log(bin / 6) * 10).rounded() / 10
        }
    }

    /// The largest |γ| allowed: sigmoid(±30) is still a normal Float32 (≈ 9e−14), so α, σ and
    /// their logarithms stay finite on the training path.
    public static let maximumMagnitude = 30.0

    /// Refuses end points that cannot make a schedule, with one line.
    public func validate() throws {
        for (name, value) in [("start", startNegativeLogSNR), ("end", endNegativeLogSNR)] {
            guard value.isFinite, abs(value) <= Self.maximumMagnitude else {
                throw ModelError.invalidConfiguration("DDPM: the log-SNR schedule's \(name) γ = \(value) must be finite and within ±\(Self.maximumMagnitude)")
            }
        }
        guard startNegativeLogSNR < endNegativeLogSNR else {
            throw ModelError.invalidConfiguration("DDPM: the log-SNR schedule must add noise: γ(0) = \(startNegativeLogSNR) must be below γ(1) = \(endNegativeLogSNR)")
        }
        guard learnedScheduleFeatures >= 1 else {
            throw ModelError.invalidConfiguration("DDPM: the learned schedule needs at least one feature, got \(learnedScheduleFeatures)")
        }
    }
}
