import CohortCore

/// Bytes of ``LeaderlessMessage``: a tag byte (0x41 and up), then the case's fields (integers little-endian,
/// byte strings with a u32 length). Decoding never traps: bytes that do not form a message
/// give nil, and the receiver drops them as it drops a corrupt frame.
public enum LeaderlessMessageCodec {
    /// Keys and values a message may carry, each (the RESP limits are far lower).
    public static let bytesMax = 1 << 29
    /// Added to every message's tag: leaderless frames share the forwarding channel with
    /// proxied commands (tags 1 to 4), and must never read as one.
    static let tagBase: UInt8 = 0x40

    /// Entries a digest or exchange message may carry.
    public static let entriesMax = 1 << 20

    public static func encode(_ message: LeaderlessMessage) -> [UInt8] {
        var out: [UInt8] = []
        switch message {
        case .replicate(let request, let key, let state):
            out.append(tagBase + 1)
            ByteCoding.append(request.rawValue, to: &out)
            ByteCoding.appendBytes(key, to: &out)
            state.encode(into: &out)
        case .replicated(let request):
            out.append(tagBase + 2)
            ByteCoding.append(request.rawValue, to: &out)
        case .replicateHint(let request, let key, let state, let home):
            out.append(tagBase + 13)
            ByteCoding.append(request.rawValue, to: &out)
            ByteCoding.appendBytes(key, to: &out)
            state.encode(into: &out)
            ByteCoding.append(home.rawValue, to: &out)
        case .handoff(let key, let state):
            out.append(tagBase + 14)
            ByteCoding.appendBytes(key, to: &out)
            state.encode(into: &out)
        case .handedOff(let key, let digest):
            out.append(tagBase + 15)
            ByteCoding.appendBytes(key, to: &out)
            ByteCoding.append(digest, to: &out)
        case .read(let request, let key):
            out.append(tagBase + 3)
            ByteCoding.append(request.rawValue, to: &out)
            ByteCoding.appendBytes(key, to: &out)
        case .readReply(let request, let state):
            out.append(tagBase + 4)
            ByteCoding.append(request.rawValue, to: &out)
            state.encode(into: &out)
        case .repair(let key, let state):
            out.append(tagBase + 5)
            ByteCoding.appendBytes(key, to: &out)
            state.encode(into: &out)
        case .forwardWrite(let request, let key, let value, let context, let quorum):
            out.append(tagBase + 6)
            ByteCoding.append(request.rawValue, to: &out)
            ByteCoding.appendBytes(key, to: &out)
            if let value {
                out.append(1)
                ByteCoding.appendBytes(value, to: &out)
            } else {
                out.append(0)
            }
            context.encode(into: &out)
            out.append(quorum)
        case .forwardedWriteDone(let request, let result):
            out.append(tagBase + 7)
            ByteCoding.append(request.rawValue, to: &out)
            switch result {
            case .written(let dot, let context):
                out.append(1)
                ByteCoding.append(dot.replica.rawValue, to: &out)
                ByteCoding.append(dot.counter, to: &out)
                context.encode(into: &out)
            case .failed(let reason):
                out.append(0)
                ByteCoding.appendBytes(Array(reason.utf8), to: &out)
            }
        case .tombstoneQuery(let entries):
            out.append(tagBase + 16)
            appendDigests(entries, to: &out)
        case .tombstonesHeld(let entries):
            out.append(tagBase + 17)
            appendDigests(entries, to: &out)
        case .treeRoots(let partitions, let roots):
            out.append(tagBase + 12)
            ByteCoding.append(UInt32(partitions.count), to: &out)
            for partition in partitions { ByteCoding.append(partition, to: &out) }
            appendHashes(roots, to: &out)
        case .treeDiffering(let partitions):
            out.append(tagBase + 18)
            ByteCoding.append(UInt32(partitions.count), to: &out)
            for partition in partitions { ByteCoding.append(partition, to: &out) }
        case .treeInterior(let partition, let hashes):
            out.append(tagBase + 10)
            ByteCoding.append(partition, to: &out)
            appendHashes(hashes, to: &out)
        case .treeLeaves(let partition, let interior, let hashes):
            out.append(tagBase + 11)
            ByteCoding.append(partition, to: &out)
            appendIndexes(interior, to: &out)
            appendHashes(hashes, to: &out)
        case .digests(let partition, let leaves, let entries):
            out.append(tagBase + 8)
            ByteCoding.append(partition, to: &out)
            appendIndexes(leaves, to: &out)
            appendDigests(entries, to: &out)
        case .exchange(let partition, let states, let wanted):
            out.append(tagBase + 9)
            ByteCoding.append(partition, to: &out)
            ByteCoding.append(UInt32(states.count), to: &out)
            for entry in states {
                ByteCoding.appendBytes(entry.key, to: &out)
                entry.state.encode(into: &out)
            }
            ByteCoding.append(UInt32(wanted.count), to: &out)
            for key in wanted { ByteCoding.appendBytes(key, to: &out) }
        }
        return out
    }

    /// The message `bytes` hold whole, or nil.
    public static func decode(_ bytes: [UInt8]) -> LeaderlessMessage? {
        var reader = ByteCoding.Reader(bytes)
        guard let byte = reader.byte(), byte > tagBase, byte < tagBase + 0x40 else { return nil }
        let tag = byte - tagBase
        let message: LeaderlessMessage?
        switch tag {
        case 1:
            guard let request = reader.uint64(), let key = bytesField(&reader),
                let state = SiblingSet.decode(from: &reader)
            else { return nil }
            message = .replicate(request: RequestID(request), key: key, state: state)
        case 2:
            message = reader.uint64().map { .replicated(request: RequestID($0)) }
        case 13:
            guard let request = reader.uint64(), let key = bytesField(&reader),
                let state = SiblingSet.decode(from: &reader), let home = reader.uint64()
            else { return nil }
            message = .replicateHint(
                request: RequestID(request), key: key, state: state, home: NodeID(home))
        case 14:
            guard let key = bytesField(&reader), let state = SiblingSet.decode(from: &reader)
            else { return nil }
            message = .handoff(key: key, state: state)
        case 15:
            guard let key = bytesField(&reader), let digest = reader.uint64() else { return nil }
            message = .handedOff(key: key, digest: digest)
        case 3:
            guard let request = reader.uint64(), let key = bytesField(&reader) else { return nil }
            message = .read(request: RequestID(request), key: key)
        case 4:
            guard let request = reader.uint64(), let state = SiblingSet.decode(from: &reader)
            else { return nil }
            message = .readReply(request: RequestID(request), state: state)
        case 5:
            guard let key = bytesField(&reader), let state = SiblingSet.decode(from: &reader)
            else { return nil }
            message = .repair(key: key, state: state)
        case 6:
            guard let request = reader.uint64(), let key = bytesField(&reader),
                let presence = reader.byte(), presence <= 1
            else { return nil }
            var value: [UInt8]?
            if presence == 1 {
                guard let bytes = bytesField(&reader) else { return nil }
                value = bytes
            }
            guard let context = VersionVector.decode(from: &reader), let quorum = reader.byte()
            else { return nil }
            message = .forwardWrite(
                request: RequestID(request), key: key, value: value, context: context,
                quorum: quorum)
        case 7:
            guard let request = reader.uint64(), let kind = reader.byte() else { return nil }
            switch kind {
            case 1:
                guard let replica = reader.uint64(), let counter = reader.uint64(), counter > 0,
                    let context = VersionVector.decode(from: &reader)
                else { return nil }
                let dot = Dot(replica: NodeID(replica), counter: counter)
                message = .forwardedWriteDone(
                    request: RequestID(request), result: .written(dot: dot, context: context))
            case 0:
                guard let reason = bytesField(&reader) else { return nil }
                message = .forwardedWriteDone(
                    request: RequestID(request),
                    result: .failed(String(decoding: reason, as: UTF8.self)))
            default:
                return nil
            }
        case 16, 17:
            guard let entries = digestEntries(&reader) else { return nil }
            message =
                tag == 16 ? .tombstoneQuery(entries: entries) : .tombstonesHeld(entries: entries)
        case 12:
            guard let partitions = partitions(&reader),
                let roots = hashes(&reader, countMax: partitions.count),
                roots.count == partitions.count
            else { return nil }
            message = .treeRoots(partitions: partitions, roots: roots)
        case 18:
            guard let partitions = partitions(&reader) else { return nil }
            message = .treeDiffering(partitions: partitions)
        case 10:
            guard let partition = reader.uint32(), let hashes = hashes(&reader) else {
                return nil
            }
            message = .treeInterior(partition: partition, hashes: hashes)
        case 11:
            guard let partition = reader.uint32(), let interior = indexes(&reader),
                let hashes = hashes(&reader)
            else { return nil }
            message = .treeLeaves(partition: partition, interior: interior, hashes: hashes)
        case 8:
            guard let partition = reader.uint32(), let leaves = indexes(&reader),
                let entries = digestEntries(&reader)
            else { return nil }
            message = .digests(partition: partition, leaves: leaves, entries: entries)
        case 9:
            // A state is at least a key length, a clock count and a sibling count.
            guard let partition = reader.uint32(),
                let states = list(
                    &reader, countMax: entriesMax, bytesMin: 12,
                    { reader -> KeyState? in
                        guard let key = bytesField(&reader),
                            let state = SiblingSet.decode(from: &reader)
                        else { return nil }
                        return KeyState(key: key, state: state)
                    }),
                let wanted = list(
                    &reader, countMax: entriesMax, bytesMin: 4,
                    { reader -> [UInt8]? in
                        bytesField(&reader)
                    })
            else { return nil }
            message = .exchange(partition: partition, states: states, wanted: wanted)
        default:
            return nil
        }
        return reader.remaining == 0 ? message : nil
    }

    private static func appendDigests(_ entries: [KeyDigest], to out: inout [UInt8]) {
        ByteCoding.append(UInt32(entries.count), to: &out)
        for entry in entries {
            ByteCoding.appendBytes(entry.key, to: &out)
            ByteCoding.append(entry.digest, to: &out)
            entry.clock.encode(into: &out)
        }
    }

    /// Key digests: each at least a key length, a digest and a clock count (16 bytes).
    private static func digestEntries(_ reader: inout ByteCoding.Reader) -> [KeyDigest]? {
        list(&reader, countMax: entriesMax, bytesMin: 16) { reader in
            guard let key = bytesField(&reader), let digest = reader.uint64(),
                let clock = VersionVector.decode(from: &reader)
            else { return nil }
            return KeyDigest(key: key, digest: digest, clock: clock)
        }
    }

    private static func appendHashes(_ hashes: [UInt64], to out: inout [UInt8]) {
        ByteCoding.append(UInt32(hashes.count), to: &out)
        for hash in hashes { ByteCoding.append(hash, to: &out) }
    }

    private static func appendIndexes(_ indexes: [UInt16], to out: inout [UInt8]) {
        ByteCoding.append(UInt32(indexes.count), to: &out)
        for index in indexes {
            out.append(UInt8(truncatingIfNeeded: index))
            out.append(UInt8(truncatingIfNeeded: index >> 8))
        }
    }

    /// A u32 count, then that many elements; nil when the count is over `countMax` or more
    /// than the remaining bytes could hold (each element takes at least `bytesMin`), or an
    /// element does not read. Checked before anything is reserved for it.
    private static func list<Element>(
        _ reader: inout ByteCoding.Reader, countMax: Int, bytesMin: Int,
        _ element: (inout ByteCoding.Reader) -> Element?
    ) -> [Element]? {
        guard let count = reader.uint32(), Int(count) <= countMax,
            Int(count) * bytesMin <= reader.remaining
        else { return nil }
        var elements: [Element] = []
        elements.reserveCapacity(Int(count))
        for _ in 0..<count {
            guard let next = element(&reader) else { return nil }
            elements.append(next)
        }
        return elements
    }

    private static func hashes(
        _ reader: inout ByteCoding.Reader, countMax: Int = MerkleTree.leafCount
    ) -> [UInt64]? {
        list(&reader, countMax: countMax, bytesMin: 8) { $0.uint64() }
    }

    private static func partitions(_ reader: inout ByteCoding.Reader) -> [UInt32]? {
        list(&reader, countMax: entriesMax, bytesMin: 4) { $0.uint32() }
    }

    private static func indexes(_ reader: inout ByteCoding.Reader) -> [UInt16]? {
        list(&reader, countMax: MerkleTree.leafCount, bytesMin: 2) { reader in
            guard let low = reader.byte(), let high = reader.byte() else { return nil }
            return UInt16(low) | UInt16(high) << 8
        }
    }

    private static func bytesField(_ reader: inout ByteCoding.Reader) -> [UInt8]? {
        guard let bytes = reader.lengthPrefixed(), bytes.count <= bytesMax else { return nil }
        return bytes
    }
}
