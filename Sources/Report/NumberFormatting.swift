import Evaluation
import Foundation

// Number formatting for reports, locale-independent (C printf rounding).
//
// Convention: the minus sign is ASCII '-' (U+002D) everywhere, so that numbers copied from a
// report paste cleanly into papers, spreadsheets and code. Estimates are written
// "mean ± s.e." with the standard error rounded to two significant digits and the mean
// rounded to the same decimal place: -2.34512 ± 0.01234 → "-2.345 ± 0.012".

/// `value` with `decimals` digits after the point ("%.*f"), without a negative zero.
/// A negative `decimals` rounds to tens, hundreds, … and prints an integer.
public func formatFixed(_ value: Double, decimals: Int) -> String {
    guard value.isFinite else { return formatNonFinite(value) }
    var text: String
    if decimals >= 0 {
        text = String(format: "%.*f", decimals, value)
    } else {
        let unit = pow(10.0, Double(-decimals))
        text = String(format: "%.0f", (value / unit).rounded() * unit)
    }
    if text.hasPrefix("-"), text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) { text.removeFirst() }
    return text
}

/// `nan`, `inf` or `-inf`.
func formatNonFinite(_ value: Double) -> String {
    value.isNaN ? "nan" : (value > 0 ? "inf" : "-inf")
}

/// The number of decimals that shows `standardError` with two significant digits
/// (negative: the estimate is rounded to tens, hundreds, …). Nil when the s.e. is 0 or not finite.
public func decimalsForStandardError(_ standardError: Double) -> Int? {
    let se = abs(standardError)
    guard se.isFinite, se > 0 else { return nil }
    var decimals = 1 - Int(floor(log10(se)))
    // Rounding can carry into a new digit (0.0996 → 0.100): show 0.10, not 0.100.
    let unit = pow(10.0, Double(-decimals))
    if (se / unit).rounded() >= 100 { decimals -= 1 }
    return decimals
}

/// The decimals used for a value without a usable standard error: four significant digits,
/// at most six decimals.
func decimalsForBareValue(_ value: Double) -> Int {
    guard value.isFinite, value != 0 else { return 3 }
    return max(0, min(6, 3 - Int(floor(log10(abs(value))))))
}

/// "mean ± s.e.": the s.e. with two significant digits, the mean rounded to the same place.
/// A zero s.e. (or one below 1e-10 of the mean: floating-point noise) prints as "± 0" and an
/// undefined one (a single example) as "± n/a", with the mean to four significant digits.
public func formatEstimate(_ estimate: MeanEstimate) -> String {
    formatEstimate(mean: estimate.mean, standardError: estimate.standardError)
}

/// See ``formatEstimate(_:)``.
public func formatEstimate(mean: Double, standardError: Double) -> String {
    guard mean.isFinite else { return formatNonFinite(mean) }
    // A standard error at rounding-noise level (a constant paired difference) counts as zero.
    let negligible = abs(standardError) <= 1e-10 * max(1, abs(mean))
    // A standard error of 10⁵ or more (a diverged estimate, a few astronomically bad weights):
    // scientific notation, where rounding to the s.e.'s place would print a row of zeros.
    if !negligible, standardError.isFinite, abs(standardError) >= 1e5 {
        func scientific(_ value: Double, _ digits: Int) -> String {
            String(format: "%.\(digits)e", value).replacingOccurrences(of: "e+0", with: "e").replacingOccurrences(of: "e+", with: "e")
        }
        return "\(scientific(mean, 2)) ± \(scientific(abs(standardError), 1))"
    }
    if !negligible, let decimals = decimalsForStandardError(standardError) {
        return "\(formatFixed(mean, decimals: decimals)) ± \(formatFixed(abs(standardError), decimals: decimals))"
    }
    let text = formatFixed(mean, decimals: decimalsForBareValue(mean))
    return negligible ? "\(text) ± 0" : "\(text) ± n/a"
}

/// An integer with commas between groups of three digits: 1234567 → "1,234,567".
public func formatCount(_ value: Int) -> String {
    let digits = String(value.magnitude)
    var groups: [Substring] = []
    var end = digits.endIndex
    while end > digits.startIndex {
        let start = digits.index(end, offsetBy: -3, limitedBy: digits.startIndex) ?? digits.startIndex
        groups.insert(digits[start..<end], at: 0)
        end = start
    }
    return (value < 0 ? "-" : "") + groups.joined(separator: ",")
}

/// A duration for humans: "0.42 s", "12.3 s", "4 min 05 s", "2 h 03 min"; "n/a" for NaN, a
/// negative value or one beyond 10¹⁵ s (whose whole seconds would not fit the integer below).
public func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0, seconds < 1e15 else { return "n/a" }
    if seconds < 10 { return "\(formatFixed(seconds, decimals: 2)) s" }
    if seconds < 60 { return "\(formatFixed(seconds, decimals: 1)) s" }
    let whole = Int(seconds.rounded())
    if whole < 3600 { return "\(whole / 60) min \(twoDigits(whole % 60)) s" }
    let minutes = (whole + 30) / 60
    return "\(minutes / 60) h \(twoDigits(minutes % 60)) min"
}

private func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

/// A short label for an axis tick: as few decimals as `step` needs, exponent form for very
/// large or small magnitudes.
func formatTick(_ value: Double, step: Double) -> String {
    guard value.isFinite else { return formatNonFinite(value) }
    if value == 0 { return "0" }
    let magnitude = abs(value)
    if magnitude >= 1e5 || magnitude < 1e-3 {
        let exponent = Int(floor(log10(magnitude)))
        let mantissa = value / pow(10.0, Double(exponent))
        let mantissaText = abs(mantissa - mantissa.rounded()) < 1e-9
            ? formatFixed(mantissa.rounded(), decimals: 0) : formatFixed(mantissa, decimals: 1)
        return "\(mantissaText)e\(exponent)"
    }
    let decimals = step > 0 && step.isFinite ? max(0, min(6, -Int(floor(log10(step) + 1e-9)))) : 2
    return formatFixed(value, decimals: decimals)
}

/// A count of floating-point operations with an SI prefix and 3 significant digits:
/// 1.23e14 → "123 TFLOP"; "n/a" when not finite or negative.
public func formatFLOPs(_ value: Double) -> String {
    guard value.isFinite, value >= 0 else { return "n/a" }
    let prefixes: [(String, Double)] = [("E", 1e18), ("P", 1e15), ("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)]
    guard let (prefix, scale) = prefixes.first(where: { value >= $0.1 }) else { return "\(formatFixed(value, decimals: 0)) FLOP" }
    let scaled = value / scale
    let decimals = scaled >= 100 ? 0 : (scaled >= 10 ? 1 : 2)
    return "\(formatFixed(scaled, decimals: decimals)) \(prefix)FLOP"
}
