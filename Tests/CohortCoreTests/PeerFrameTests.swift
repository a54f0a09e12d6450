import CohortCore
import Testing

@Suite struct PeerFrameTests {
    private static func decode(
        _ bytes: [UInt8], limits: PeerFrameLimits = .default
    ) -> PeerFrameDecoder.Outcome {
        bytes.withUnsafeBytes { PeerFrameDecoder(limits: limits).decode($0) }
    }

    private static func randomBytes(_ count: Int, _ random: inout SplitMix64) -> [UInt8] {
        (0..<count).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }

    @Test func formatIsPinned() {
        // A change to this layout is a wire-format change and needs a new format version.
        let frame = PeerFrame.encode(kind: .ping, payload: [0xAB])
        let checksum = CRC32C.checksum([0xC0, 0x4F, 1, 6, 1, 0, 0, 0] as [UInt8])
        let expected: [UInt8] =
            [0xC0, 0x4F, 1, 6, 1, 0, 0, 0]
            + withUnsafeBytes(of: CRC32C.checksum([0xAB] as [UInt8], seed: checksum).littleEndian) {
                Array($0)
            } + [0xAB]
        #expect(frame == expected)
    }

    @Test func framesOfEveryKindRoundTrip() {
        var random = SplitMix64(seed: 1)
        for kind in PeerFrameKind.allCases {
            for size in [0, 1, 7, 8, 300] {
                let payload = Self.randomBytes(size, &random)
                let bytes = PeerFrame.encode(kind: kind, payload: payload)
                #expect(bytes.count == PeerFrame.headerBytes + size)
                guard case .frame(let decodedKind, let range, let consumed) = Self.decode(bytes)
                else {
                    Issue.record("no frame for \(kind) size \(size)")
                    continue
                }
                #expect(decodedKind == kind)
                #expect(consumed == bytes.count)
                #expect(Array(bytes[range]) == payload)
            }
        }
    }

    @Test func beginAndFinishBuildFramesInPlace() {
        var buffer: [UInt8] = [9, 9, 9]
        let start = PeerFrame.beginFrame(kind: .raft, into: &buffer)
        buffer.append(contentsOf: [1, 2, 3, 4])
        PeerFrame.finishFrame(startingAt: start, in: &buffer)
        #expect(Array(buffer[start...]) == PeerFrame.encode(kind: .raft, payload: [1, 2, 3, 4]))
        #expect(Array(buffer[..<start]) == [9, 9, 9])
    }

    @Test func streamOfFramesFedByteByByte() {
        var random = SplitMix64(seed: 2)
        var stream: [UInt8] = []
        var sent: [(PeerFrameKind, [UInt8])] = []
        for index in 0..<40 {
            let kind = PeerFrameKind.allCases[index % PeerFrameKind.allCases.count]
            let payload = Self.randomBytes(random.value(in: 0...50), &random)
            PeerFrame.encode(kind: kind, payload: payload, into: &stream)
            sent.append((kind, payload))
        }
        // Feed one byte at a time into a growing buffer, as a socket might deliver them.
        var buffered: [UInt8] = []
        var received: [(PeerFrameKind, [UInt8])] = []
        var needMoreCount = 0
        for byte in stream {
            buffered.append(byte)
            while true {
                let outcome = Self.decode(buffered)
                if case .frame(let kind, let range, let consumed) = outcome {
                    received.append((kind, Array(buffered[range])))
                    buffered.removeFirst(consumed)
                } else {
                    #expect(outcome == .needMoreData)
                    needMoreCount += 1
                    break
                }
            }
        }
        #expect(buffered.isEmpty)
        #expect(received.count == sent.count)
        for (got, want) in zip(received, sent) {
            #expect(got.0 == want.0 && got.1 == want.1)
        }
        #expect(needMoreCount > stream.count - sent.count - 1)
    }

    @Test func everyPrefixOfAFrameNeedsMoreData() {
        let bytes = PeerFrame.encode(kind: .raft, payload: Array(0..<64))
        for length in 0..<bytes.count {
            #expect(Self.decode(Array(bytes[..<length])) == .needMoreData, "prefix \(length)")
        }
    }

    @Test func corruptionOfEveryByteIsDetected() {
        var random = SplitMix64(seed: 3)
        let payload = Self.randomBytes(100, &random)
        let frame = PeerFrame.encode(kind: .raft, payload: payload)
        // Filler after the frame lets a corrupted (larger) length reach the checksum, and a
        // small limit turns any length the filler cannot cover into an oversized error.
        let filler = [UInt8](repeating: 0, count: 2_048)
        let limits = PeerFrameLimits(payloadBytesMax: 1_024)
        var detected = 0
        for position in frame.indices {
            for mask in [1, 2, 4, 8, 16, 32, 64, 128, 0xFF] as [UInt8] {
                var corrupted = frame
                corrupted[position] ^= mask
                let outcome = Self.decode(corrupted + filler, limits: limits)
                guard case .error = outcome else {
                    Issue.record("byte \(position) mask \(mask) not detected: \(outcome)")
                    continue
                }
                detected += 1
            }
        }
        #expect(detected == frame.count * 9)
    }

    @Test func headerErrorsAreReportedEarly() {
        #expect(Self.decode([0x00]) == .error(.badMagic))
        #expect(Self.decode([0xC0, 0x00]) == .error(.badMagic))
        #expect(Self.decode([0xC0, 0x4F, 9]) == .error(.unsupportedVersion(9)))
        #expect(Self.decode([0xC0, 0x4F, 1, 0]) == .error(.unknownKind(0)))
        #expect(Self.decode([0xC0, 0x4F, 1, 200]) == .error(.unknownKind(200)))
        #expect(Self.decode([0xC0, 0x4F, 1, 5]) == .needMoreData)
        // A length over the limit is refused from the header alone, before any payload.
        let oversized: [UInt8] = [0xC0, 0x4F, 1, 5, 0x01, 0x00, 0x00, 0x04]
        #expect(Self.decode(oversized) == .error(.oversized(payloadBytes: 0x0400_0001)))
        let atLimit: [UInt8] = [0xC0, 0x4F, 1, 5, 0x00, 0x00, 0x00, 0x04]
        #expect(Self.decode(atLimit) == .needMoreData)
        #expect(
            Self.decode([0xC0, 0x4F, 1, 5, 0xFF, 0xFF, 0xFF, 0xFF])
                == .error(.oversized(payloadBytes: Int(UInt32.max))))
    }

    @Test func randomBytesNeverTrapAndRarelyPass() {
        var random = SplitMix64(seed: 4)
        var frames = 0
        for _ in 0..<20_000 {
            var bytes = Self.randomBytes(random.value(in: 0...40), &random)
            // Give most inputs a valid prefix so the later checks are exercised too.
            let prefix: [UInt8] = [0xC0, 0x4F, 1, UInt8(random.value(in: 1...7)), 0, 0, 0, 0]
            let keep = random.value(in: 0...prefix.count)
            for index in 0..<min(keep, bytes.count) where index != 4 {
                bytes[index] = prefix[index]
            }
            if bytes.count > 4 && keep > 4 { bytes[4] = UInt8(random.value(in: 0...28)) }
            if case .frame = Self.decode(bytes) { frames += 1 }
        }
        // A random checksum matches with probability 2^-32.
        #expect(frames == 0)
    }
}
