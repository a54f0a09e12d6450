/// The framing of the peer protocol: every byte between two nodes travels in a frame of this
/// form, all integers little-endian:
///
///     0 magic u8 u8 (0xC0 0x4F) · 2 version u8 · 3 kind u8 · 4 payload length u32
///     8 CRC32C u32 over bytes 0..<8 and then the payload · 12 payload
///
/// The magic catches a client that dialled the wrong port; the version lets a later format be
/// refused cleanly; the checksum covers the header fields too, so a corrupted kind or length is
/// caught, not only a corrupted payload. Encoding appends to a caller-owned buffer so a sender
/// can build a whole batch of frames in one buffer and write it with one system call.
public enum PeerFrame {
    /// The first two bytes of every frame.
    public static let magic: (UInt8, UInt8) = (0xC0, 0x4F)
    /// The frame format version this code writes and reads.
    public static let formatVersion: UInt8 = 1
    /// Bytes before the payload.
    public static let headerBytes = 12
    /// Offset of the payload length field.
    static let lengthOffset = 4
    /// Offset of the checksum field; the checksum covers the bytes before it.
    static let checksumOffset = 8

    /// Appends a frame's header with placeholder length and checksum and returns where the
    /// frame starts. Append the payload, then call ``finishFrame(startingAt:in:)``.
    public static func beginFrame(kind: PeerFrameKind, into buffer: inout [UInt8]) -> Int {
        let start = buffer.count
        buffer.append(magic.0)
        buffer.append(magic.1)
        buffer.append(formatVersion)
        buffer.append(kind.rawValue)
        buffer.append(contentsOf: repeatElement(0, count: 8))
        return start
    }

    /// Fills in the length and checksum of the frame begun at `start`, whose payload is every
    /// byte after its header. Traps when the payload exceeds the u32 length field.
    public static func finishFrame(startingAt start: Int, in buffer: inout [UInt8]) {
        precondition(
            start >= 0 && buffer.count - start >= headerBytes,
            "frame start \(start) leaves no header in a \(buffer.count)-byte buffer")
        let payloadCount = buffer.count - start - headerBytes
        precondition(
            payloadCount <= Int(UInt32.max), "frame payload \(payloadCount) exceeds the u32 field")
        buffer.withUnsafeMutableBytes { raw in
            raw.storeBytes(
                of: UInt32(payloadCount).littleEndian, toByteOffset: start + lengthOffset,
                as: UInt32.self)
            let header = UnsafeRawBufferPointer(
                rebasing: raw[start..<(start + checksumOffset)])
            let payload = UnsafeRawBufferPointer(
                rebasing: raw[(start + headerBytes)..<(start + headerBytes + payloadCount)])
            let checksum = CRC32C.checksum(payload, seed: CRC32C.checksum(header))
            raw.storeBytes(
                of: checksum.littleEndian, toByteOffset: start + checksumOffset, as: UInt32.self)
        }
    }

    /// Appends one complete frame carrying `payload`.
    public static func encode<Payload: Collection<UInt8>>(
        kind: PeerFrameKind, payload: Payload, into buffer: inout [UInt8]
    ) {
        let start = beginFrame(kind: kind, into: &buffer)
        buffer.append(contentsOf: payload)
        finishFrame(startingAt: start, in: &buffer)
    }

    /// One complete frame as a new array.
    public static func encode<Payload: Collection<UInt8>>(
        kind: PeerFrameKind, payload: Payload
    ) -> [UInt8] {
        var buffer: [UInt8] = []
        buffer.reserveCapacity(headerBytes + payload.count)
        encode(kind: kind, payload: payload, into: &buffer)
        return buffer
    }
}
