/// Where the RESP encoder writes bytes. CohortCore conforms `[UInt8]`; the network shell conforms
/// its buffer type, so replies are encoded straight into the outbound buffer without copies.
public protocol RESPByteSink {
    /// Appends `bytes`.
    mutating func writeRESPBytes(_ bytes: UnsafeRawBufferPointer)
    /// Appends one byte. The default goes through `writeRESPBytes`; sinks may do better.
    mutating func writeRESPByte(_ byte: UInt8)
    /// A hint that about `byteCount` more bytes follow. The default does nothing.
    mutating func reserveRESPCapacity(_ byteCount: Int)
}

extension RESPByteSink {
    /// Appends one byte through `writeRESPBytes`.
    @inlinable
    public mutating func writeRESPByte(_ byte: UInt8) {
        withUnsafeBytes(of: byte) { writeRESPBytes($0) }
    }

    /// Ignores the hint.
    @inlinable
    public mutating func reserveRESPCapacity(_ byteCount: Int) {}
}

extension Array: RESPByteSink where Element == UInt8 {
    /// Appends `bytes` to the array.
    @inlinable
    public mutating func writeRESPBytes(_ bytes: UnsafeRawBufferPointer) {
        append(contentsOf: bytes)
    }

    /// Appends one byte to the array.
    @inlinable
    public mutating func writeRESPByte(_ byte: UInt8) {
        append(byte)
    }

    /// Reserves room for `byteCount` more bytes, growing geometrically so that repeated small
    /// hints do not turn appends quadratic.
    @inlinable
    public mutating func reserveRESPCapacity(_ byteCount: Int) {
        let needed = count + byteCount
        if needed > capacity { reserveCapacity(Swift.max(needed, capacity * 2)) }
    }
}
