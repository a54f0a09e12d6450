import CohortCore
import NIOCore

/// Replies are encoded straight into NIO's outbound buffer.
extension ByteBuffer: RESPByteSink {
    @inlinable
    public mutating func writeRESPBytes(_ bytes: UnsafeRawBufferPointer) {
        writeBytes(bytes)
    }

    @inlinable
    public mutating func writeRESPByte(_ byte: UInt8) {
        writeInteger(byte)
    }

    @inlinable
    public mutating func reserveRESPCapacity(_ byteCount: Int) {
        reserveCapacity(minimumWritableBytes: byteCount)
    }
}
