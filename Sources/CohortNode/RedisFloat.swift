/// Floating-point arguments and replies as Redis writes them (HINCRBYFLOAT, INCRBYFLOAT):
/// plain decimal notation, never an exponent, no trailing zeros.
///
/// Redis computes in `long double` and prints 17 significant digits; Cohort computes in
/// `Double` and prints the shortest text that reads back as the same `Double`, which gives the
/// same text for the values people use (`10.5 + 0.1` is `10.6` in both).
enum RedisFloat {
    /// The number `bytes` spell, as Redis's `string2ld` accepts it: no spaces, not empty, not
    /// NaN. Nil otherwise.
    static func parse(_ bytes: [UInt8]) -> Double? {
        guard !bytes.isEmpty, bytes.count <= 5_000,
            bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { return nil }
        guard let value = Double(String(decoding: bytes, as: UTF8.self)), !value.isNaN else {
            return nil
        }
        return value
    }

    /// `value` in plain decimal notation.
    static func format(_ value: Double) -> [UInt8] {
        if value == value.rounded(), abs(value) < 9.0e15 {
            return Array(String(Int64(value)).utf8)
        }
        let text = value.description
        guard let exponentAt = text.firstIndex(where: { $0 == "e" || $0 == "E" }) else {
            return Array(text.utf8)
        }
        // d.ddd e±x: move the point x places.
        var mantissa = String(text[..<exponentAt])
        let exponent = Int(text[text.index(after: exponentAt)...]) ?? 0
        var negative = false
        if mantissa.hasPrefix("-") {
            negative = true
            mantissa.removeFirst()
        }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let integerDigits = String(parts[0])
        let fractionDigits = parts.count > 1 ? String(parts[1]) : ""
        var digits = integerDigits + fractionDigits
        var point = integerDigits.count + exponent
        if point <= 0 {
            digits = String(repeating: "0", count: 1 - point) + digits
            point = 1
        } else if point > digits.count {
            digits += String(repeating: "0", count: point - digits.count)
        }
        var whole = String(digits.prefix(point))
        var fraction = String(digits.dropFirst(point))
        while fraction.hasSuffix("0") { fraction.removeLast() }
        while whole.count > 1 && whole.hasPrefix("0") { whole.removeFirst() }
        let sign = negative ? "-" : ""
        return Array((fraction.isEmpty ? sign + whole : sign + whole + "." + fraction).utf8)
    }
}
