import CohortCore
import CohortRaft
import Foundation
import Testing

@testable import CohortStorage

@Suite("RaftLogStore recovery")
struct RaftLogStoreRecoveryTests {
    static let segment = "seg-000001.log"

    /// Persists entries 1...count one ready each (hard state in the first only), and returns
    /// the segment's bytes and the offset of each entry's record.
    func writeFixture(_ directory: TemporaryDirectory, count: UInt64) throws -> (
        bytes: [UInt8], offsets: [Int]
    ) {
        let store = try RaftLogStore.open(directory: directory.path)
        try store.persist(RaftReady(hardState: raftHardState(1, vote: 1, commit: 0)))
        for index in 1...count {
            try store.persist(RaftReady(entriesToAppend: [raftEntry(index, 1, "entry-\(index)")]))
        }
        let bytes = try #require(
            try RaftLogFileSystem.read(
                directory.file(Self.segment), device: POSIXStorageDevice.shared))
        let scan = bytes.withUnsafeBytes {
            RaftLogStore.scan($0, payloadBytesMax: RaftLogStoreOptions().entryBytesMax)
        }
        #expect(scan.damage == nil)
        let offsets = scan.records.compactMap { item -> Int? in
            if case .entry = item.record { return item.offset }
            return nil
        }
        #expect(offsets.count == Int(count))
        return (bytes, offsets)
    }

    /// Replaces the segment's contents.
    func overwrite(_ directory: TemporaryDirectory, with bytes: some Collection<UInt8>) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: directory.file(Self.segment)))
    }

    @Test("a torn tail at every byte offset of the last record is cut and reported")
    func tornTailAtEveryOffset() throws {
        let directory = TemporaryDirectory()
        let (bytes, offsets) = try writeFixture(directory, count: 4)
        let lastStart = offsets[3]
        for length in lastStart..<bytes.count {
            try overwrite(directory, with: bytes.prefix(length))
            let store = try RaftLogStore.open(directory: directory.path)
            #expect(store.entries.map(\.index.rawValue) == [1, 2, 3])
            #expect(store.entries.last == raftEntry(3, 1, "entry-3"))
            #expect(store.hardState == raftHardState(1, vote: 1, commit: 0))
            #expect(store.recovery.corruptions.isEmpty)
            if length == lastStart {
                #expect(store.recovery.tornTail == nil)
            } else {
                let tail = try #require(store.recovery.tornTail)
                #expect(tail.file == Self.segment)
                #expect(tail.offset == lastStart)
                #expect(tail.bytesDropped == length - lastStart)
            }
            // The cut is durable and the log takes new writes where it ends.
            try store.persist(RaftReady(entriesToAppend: [raftEntry(4, 2, "rewritten")]))
            let reopened = try RaftLogStore.open(directory: directory.path)
            #expect(reopened.recovery.tornTail == nil)
            #expect(reopened.entries.last == raftEntry(4, 2, "rewritten"))
        }
    }

    @Test("zeroes after the last record (a file extended but never written) are a torn tail")
    func zeroFilledTail() throws {
        let directory = TemporaryDirectory()
        let (bytes, _) = try writeFixture(directory, count: 3)
        try overwrite(directory, with: bytes + [UInt8](repeating: 0, count: 4096))
        let store = try RaftLogStore.open(directory: directory.path)
        #expect(store.entries.count == 3)
        #expect(store.recovery.tornTail?.offset == bytes.count)
        #expect(store.recovery.tornTail?.bytesDropped == 4096)
    }

    @Test("a flipped byte before the tail fails the open, naming file and offset")
    func flippedByteIsReported() throws {
        for region in ["header", "payload"] {
            let directory = TemporaryDirectory("flip\(region)")
            var (bytes, offsets) = try writeFixture(directory, count: 5)
            let target = offsets[2] + (region == "header" ? 10 : RaftLogRecordCodec.headerBytes + 2)
            bytes[target] ^= 0x40
            try overwrite(directory, with: bytes)
            #expect(throws: StorageError.self) {
                try RaftLogStore.open(directory: directory.path)
            }
            do {
                _ = try RaftLogStore.open(directory: directory.path)
            } catch {
                guard case .corrupt(let file, let offset, _) = error else {
                    Issue.record("unexpected error \(error)")
                    continue
                }
                #expect(file == Self.segment)
                #expect(offset == offsets[2])
            }
            // Nothing was cut by the refused open.
            #expect(
                try RaftLogFileSystem.read(
                    directory.file(Self.segment), device: POSIXStorageDevice.shared) == bytes)
        }
    }

    @Test("under the truncate policy the log is cut at the first bad record and reported")
    func truncatePolicyCutsAtCorruption() throws {
        let directory = TemporaryDirectory()
        do {
            let store = try RaftLogStore.open(directory: directory.path)
            try store.persist(
                RaftReady(
                    hardState: raftHardState(1, commit: 1),
                    entriesToAppend: (1...5).map { raftEntry($0, 1, "entry-\($0)") }))
            try store.persist(RaftReady(hardState: raftHardState(1, commit: 5)))
        }
        var bytes = try #require(
            try RaftLogFileSystem.read(
                directory.file(Self.segment), device: POSIXStorageDevice.shared))
        let scan = bytes.withUnsafeBytes { RaftLogStore.scan($0, payloadBytesMax: 1 << 20) }
        let third = try #require(
            scan.records.first { $0.record == .entry(raftEntry(3, 1, "entry-3")) })
        bytes[third.offset + RaftLogRecordCodec.headerBytes] ^= 1
        try overwrite(directory, with: bytes)
        var options = RaftLogStoreOptions()
        options.corruptionPolicy = .truncate
        let store = try RaftLogStore.open(directory: directory.path, options: options)
        #expect(store.entries.map(\.index.rawValue) == [1, 2])
        #expect(
            store.recovery.corruptions.map(\.offset) == [third.offset]
                && store.recovery.corruptions.map(\.file) == [Self.segment])
        // The records after the cut are gone, the later hard states with them; the hard state
        // written before the entries never points past what was written before it.
        #expect(store.recovery.commitIndexLoweredFrom == nil)
        #expect(store.hardState == raftHardState(1, commit: 0))
        #expect(store.recovery.tornTail == nil)
        let reopened = try RaftLogStore.open(directory: directory.path)
        #expect(reopened.entries.map(\.index.rawValue) == [1, 2])
        #expect(reopened.recovery.corruptions.isEmpty)
    }

    @Test("a missing middle segment or a corrupt snapshot file fails the open")
    func missingSegmentAndCorruptSnapshot() throws {
        let directory = TemporaryDirectory()
        var options = RaftLogStoreOptions()
        options.segmentBytesMax = 4096
        do {
            let store = try RaftLogStore.open(directory: directory.path, options: options)
            for index in 1...60 {
                try store.persist(
                    RaftReady(
                        entriesToAppend: [
                            raftEntry(UInt64(index), 1, String(repeating: "z", count: 150))
                        ]))
            }
            #expect(store.segmentFileNames.count >= 3)
            try store.saveSnapshot(raftSnapshot(10, 1))
        }
        try FileManager.default.removeItem(atPath: directory.file("seg-000002.log"))
        #expect(throws: StorageError.self) {
            try RaftLogStore.open(directory: directory.path, options: options)
        }
        let snapshotDirectory = TemporaryDirectory("snapshot")
        do {
            let store = try RaftLogStore.open(directory: snapshotDirectory.path)
            try store.persist(RaftReady(entriesToAppend: [raftEntry(1, 1)]))
            try store.saveSnapshot(raftSnapshot(1, 1, data: "payload"))
        }
        let path = snapshotDirectory.file(RaftLogStore.snapshotFileName)
        var bytes = try #require(
            try RaftLogFileSystem.read(path, device: POSIXStorageDevice.shared))
        bytes[bytes.count - 6] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(
            throws: StorageError.corrupt(file: "snapshot", offset: 0, reason: "bad record checksum")
        ) {
            try RaftLogStore.open(directory: snapshotDirectory.path)
        }
    }

    @Test("an interrupted segment start and leftover temporary files are repaired on open")
    func emptyLastSegmentAndTemporaryFiles() throws {
        let directory = TemporaryDirectory()
        do {
            let store = try RaftLogStore.open(directory: directory.path)
            try store.persist(
                RaftReady(
                    hardState: raftHardState(4, commit: 1), entriesToAppend: [raftEntry(1, 4)]))
        }
        // A crash right after creating the next segment, and one while writing a snapshot.
        #expect(
            FileManager.default.createFile(atPath: directory.file("seg-000002.log"), contents: nil))
        #expect(
            FileManager.default.createFile(
                atPath: directory.file("snapshot.tmp"), contents: Data([1, 2, 3])))
        let store = try RaftLogStore.open(directory: directory.path)
        #expect(store.recovery.temporaryFilesRemoved == ["snapshot.tmp"])
        #expect(store.segmentFileNames == ["seg-000001.log", "seg-000002.log"])
        try store.persist(RaftReady(entriesToAppend: [raftEntry(2, 4)]))
        let reopened = try RaftLogStore.open(directory: directory.path)
        #expect(reopened.entries == [raftEntry(1, 4), raftEntry(2, 4)])
        #expect(reopened.hardState == raftHardState(4, commit: 1))
    }

    @Test("records and snapshots decode to what was encoded; damage never traps")
    func codecRoundTripAndFuzz() throws {
        let membership = RaftMembership(voters: [NodeID(2), NodeID(5)], learners: [NodeID(9)])
        let records: [RaftLogRecord] = [
            .segmentStart(segmentID: 7, previousIndex: LogIndex(40), previousTerm: Term(3)),
            .entry(raftEntry(41, 3, "data")),
            .entry(RaftEntry(index: LogIndex(42), term: Term(3), kind: .membership(membership))),
            .truncation(index: LogIndex(42), previousTerm: Term(3)),
            .hardState(raftHardState(3, vote: 5, commit: 41)),
            .hardState(raftHardState(3, vote: nil, commit: 41)),
            .logReset(index: LogIndex(90), term: Term(4)),
        ]
        var random = SeededGenerator(seed: 4)
        for record in records {
            var bytes: [UInt8] = []
            RaftLogRecordCodec.encode(record, into: &bytes)
            #expect(bytes.count == RaftLogRecordCodec.encodedBytes(record))
            let decoded = try RaftLogRecordCodec.decode(bytes, payloadBytesMax: 1 << 20)
            #expect(decoded.record == record && decoded.length == bytes.count)
            for _ in 0..<200 {
                var damaged = bytes
                damaged[Int.random(in: 0..<damaged.count, using: &random)] ^= UInt8.random(
                    in: 1...255, using: &random)
                #expect(throws: RecordDecodeError.self) {
                    try RaftLogRecordCodec.decode(damaged, payloadBytesMax: 1 << 20)
                }
            }
            #expect(throws: RecordDecodeError.self) {
                try RaftLogRecordCodec.decode(Array(bytes.dropLast()), payloadBytesMax: 1 << 20)
            }
        }
        // Snapshot files: written as a stream, read back; any truncation or flipped byte
        // fails the open.
        let files = TemporaryDirectory("snapshot-files")
        let fixture = raftSnapshot(12, 2, data: "snapshot data")
        let writer = RaftSnapshotFileWriter(
            directory: files.path, snapshotBytesMax: 1 << 20, device: POSIXStorageDevice.shared)
        _ = try writer.prepare(fixture)
        let path = files.file(RaftSnapshotFileWriter.temporaryName)
        let encoded = try #require(
            try RaftLogFileSystem.read(path, device: POSIXStorageDevice.shared))
        func open(_ bytes: [UInt8]) throws -> RaftSnapshotFile {
            try Data(bytes).write(to: URL(fileURLWithPath: files.file("probe")))
            return try RaftSnapshotFile.open(
                path: files.file("probe"), device: POSIXStorageDevice.shared,
                dataBytesMax: 1 << 20)
        }
        let opened = try open(encoded)
        #expect(opened.snapshot == fixture.snapshot)
        #expect(try opened.readData(offset: 0, count: 100) == fixture.data)
        #expect(try opened.readData(offset: 9, count: 2) == Array("da".utf8))
        for length in 0..<encoded.count {
            #expect(throws: StorageError.self) { try open(Array(encoded.prefix(length))) }
        }
        for position in encoded.indices {
            var damaged = encoded
            damaged[position] ^= 0x40
            #expect(throws: StorageError.self, "byte \(position)") { try open(damaged) }
        }
        for _ in 0..<2000 {
            let noise = random.bytes(count: Int.random(in: 0..<96, using: &random))
            _ = try? RaftLogRecordCodec.decode(noise, payloadBytesMax: 64)
            _ = try? open(noise)
        }
    }
}
