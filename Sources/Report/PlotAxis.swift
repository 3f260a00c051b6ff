import Foundation

/// One axis of a plot: a data interval mapped linearly (or logarithmically) onto a pixel interval,
/// with "nice" tick values (1, 2 or 5 × 10^k steps; powers of ten on a log axis).
public struct PlotAxis {
    public enum Scale: Equatable { case linear, logarithmic }

    public let scale: Scale
    /// The data interval shown (positive on a log axis), lower < upper.
    public let lower: Double
    public let upper: Double

    /// An axis covering `values` (non-finite values, and non-positive ones on a log axis, ignored),
    /// widened by `padding` of the span on each side (not below or above an extreme of exactly 0,
    /// so bars keep their base on the frame), then extended to nice tick values. An empty or
    /// degenerate range gets a unit-wide interval.
    public init(covering values: [Double], scale: Scale = .linear, includeZero: Bool = false, padding: Double = 0.03) {
        self.scale = scale
        var usable = values.filter { $0.isFinite && (scale == .linear || $0 > 0) }
        if includeZero && scale == .linear { usable.append(0) }
        guard var low = usable.min(), var high = usable.max() else {
            (lower, upper) = scale == .linear ? (0, 1) : (1, 10)
            return
        }
        switch scale {
        case .linear:
            if high - low <= 1e-12 * max(1, abs(high)) {
                let pad = max(abs(high) * 0.1, 0.5)
                low -= pad; high += pad
            }
            let pad = (high - low) * max(0, padding)
            if low != 0 { low -= pad }
            if high != 0 { high += pad }
            // Widen to multiples of the tick step until the step of the widened interval is the same.
            var step = niceStep(span: high - low, targetTicks: 5)
            for _ in 0..<4 {
                low = (low / step).rounded(.down) * step
                high = (high / step).rounded(.up) * step
                let next = niceStep(span: high - low, targetTicks: 5)
                if next == step { break }
                step = next
            }
            (lower, upper) = (low, high)
        case .logarithmic:
            lower = pow(10, floor(log10(low)))
            let top = pow(10, ceil(log10(high)))
            upper = top > lower ? top : lower * 10
        }
    }

    /// An axis on exactly [lower, upper].
    public init(lower: Double, upper: Double, scale: Scale = .linear) {
        precondition(lower < upper && lower.isFinite && upper.isFinite, "an axis needs lower < upper")
        precondition(scale == .linear || lower > 0, "a log axis needs positive bounds")
        self.scale = scale
        self.lower = lower
        self.upper = upper
    }

    /// Whether `values` call for a log axis: all positive and spanning more than `decades` decades.
    public static func spansDecades(_ values: [Double], decades: Double = 2) -> Bool {
        let finite = values.filter(\.isFinite)
        guard let low = finite.min(), let high = finite.max(), low > 0 else { return false }
        return log10(high / low) > decades
    }

    /// The position of `value` in [0, 1] along the axis (outside for values outside the interval;
    /// -inf for non-positive values on a log axis).
    public func fraction(_ value: Double) -> Double {
        switch scale {
        case .linear: return (value - lower) / (upper - lower)
        case .logarithmic: return value > 0 ? log10(value / lower) / log10(upper / lower) : -.infinity
        }
    }

    /// The pixel position of `value` between `start` (at `lower`) and `end` (at `upper`).
    public func pixel(_ value: Double, from start: Double, to end: Double) -> Double {
        start + fraction(value) * (end - start)
    }

    /// Tick values inside the interval.
    public var ticks: [Double] {
        switch scale {
        case .linear:
            let step = tickStep
            let first = (lower / step).rounded(.up)
            let last = (upper / step).rounded(.down)
            guard first <= last else { return [lower, upper] }
            return stride(from: first, through: last, by: 1).map { i in
                let value = i * step
                return abs(value) < step * 1e-9 ? 0 : value
            }
        case .logarithmic:
            let low = Int(floor(log10(lower) + 1e-9)), high = Int(ceil(log10(upper) - 1e-9))
            let every = max(1, (high - low + 7) / 8)  // at most about 8 labelled decades
            var values = stride(from: low, through: max(low, high), by: every).map { pow(10.0, Double($0)) }
            if high - low <= 1 {  // less than a decade: add 2× and 5×
                values = values.flatMap { [$0, 2 * $0, 5 * $0] }
            }
            let slack = 1e-9 * upper
            return values.filter { $0 >= lower * (1 - 1e-9) && $0 <= upper + slack }
        }
    }

    /// The distance between linear ticks.
    public var tickStep: Double { niceStep(span: upper - lower, targetTicks: 5) }

    /// A label for each tick.
    public func tickLabel(_ value: Double) -> String {
        switch scale {
        case .linear: return formatTick(value, step: tickStep)
        case .logarithmic: return formatTick(value, step: value)
        }
    }
}

/// The 1, 2 or 5 × 10^k step that divides `span` into about `targetTicks` intervals.
func niceStep(span: Double, targetTicks: Int) -> Double {
    guard span > 0, span.isFinite else { return 1 }
    let raw = span / Double(max(1, targetTicks))
    let magnitude = pow(10, floor(log10(raw)))
    let residual = raw / magnitude
    let nice: Double = residual < 1.5 ? 1 : (residual < 3 ? 2 : (residual < 7 ? 5 : 10))
    return nice * magnitude
}
