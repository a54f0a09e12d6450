import CohortCore
import CohortRaft
import Foundation
import Testing

@testable import CohortStorage

@Suite("RaftLogStore preallocation")
struct RaftLogStorePreallocationTests {
    func options() -> RaftLogStoreOptions {
        var options = RaftLogStoreOptions()
        options.segmentBytesMax = 16 << 10
        options.segmentPreallocationBytes = 4 << 10
        return options
    }

    func fileBytes(_ directory: TemporaryDirectory, _ name: String) throws -> [UInt8] {
        try #require(
            try RaftLogFileSystem.read(directory.file(name), device: POSIXStorageDevice.shared))
    }

    @Test("records go over preallocated zeroes; a reopen cuts the zeroes and keeps every record")
    func zeroesAheadOfRecords() throws {
        let directory = TemporaryDirectory()
        let payload = String(repeating: "p", count: 100)
        let store = try RaftLogStore.open(directory: directory.path, options: options())
        for index in UInt64(1)...10 {
            try store.persist(
                RaftReady(
                    hardState: raftHardState(1, vote: 1, commit: index - 1),
                    entriesToAppend: [raftEntry(index, 1, payload)]))
        }
        let name = try #require(store.segmentFileNames.last)
        let bytes = try fileBytes(directory, name)
        #expect(bytes.count == store.activeFileBytes)
        #expect(bytes.count > store.activeBytes && bytes.count <= options().segmentBytesMax)
        #expect(bytes[store.activeBytes...].allSatisfy { $0 == 0 })
        let records = store.activeBytes
        let expected = store.durableState

        // Reopening without closing is what a crash leaves: the zeroes are a torn tail.
        let reopened = try RaftLogStore.open(directory: directory.path, options: options())
        #expect(reopened.durableState == expected)
        #expect(reopened.recovery.corruptions.isEmpty)
        let tail = try #require(reopened.recovery.tornTail)
        #expect(tail.offset == records && tail.bytesDropped == bytes.count - records)
        try reopened.persist(RaftReady(entriesToAppend: [raftEntry(11, 2, "after")]))
        let again = try RaftLogStore.open(directory: directory.path, options: options())
        #expect(again.entries.map(\.index.rawValue) == Array(1...11))
        #expect(again.entries.last == raftEntry(11, 2, "after"))
    }

    @Test("a sealed segment is cut back to its records; every segment reopens cleanly")
    func sealedSegmentsHoldNoZeroes() throws {
        let directory = TemporaryDirectory()
        let payload = String(repeating: "s", count: 500)
        let store = try RaftLogStore.open(directory: directory.path, options: options())
        for index in UInt64(1)...120 {
            try store.persist(
                RaftReady(
                    hardState: raftHardState(1, vote: 1, commit: index - 1),
                    entriesToAppend: [raftEntry(index, 1, payload)]))
        }
        let names = store.segmentFileNames
        #expect(names.count >= 4)
        for name in names.dropLast() {
            let bytes = try fileBytes(directory, name)
            #expect(bytes.count <= options().segmentBytesMax)
            let scan = bytes.withUnsafeBytes {
                RaftLogStore.scan($0, payloadBytesMax: options().entryBytesMax)
            }
            #expect(scan.damage == nil, "\(name) ends in zeroes")
        }
        let expected = store.durableState
        let reopened = try RaftLogStore.open(directory: directory.path, options: options())
        #expect(reopened.durableState == expected)
        #expect(reopened.recovery.corruptions.isEmpty)
        #expect(reopened.segmentFileNames == names)
    }

    @Test("preallocation is off by default and bounded by the segment size")
    func bounds() {
        #expect(RaftLogStoreOptions().segmentPreallocationBytes == 0)
        let options = options()
        #expect(options.segmentPreallocationBytes <= options.segmentBytesMax)
    }
}
