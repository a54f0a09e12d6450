/// Why a hint file was rejected. Any of these makes recovery fall back to scanning the segment.
enum HintDecodeError: Error, Hashable, Sendable {
    /// Shorter than its header and trailer, or than the entries it declares.
    case truncated
    /// Wrong magic or version.
    case badHeader
    /// The whole-file checksum does not match.
    case badChecksum
    /// An entry with unknown flags or type, a length above the limits, or trailing bytes.
    case badEntry
}
