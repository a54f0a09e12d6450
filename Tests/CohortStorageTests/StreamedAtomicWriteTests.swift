import Foundation
import Testing

@testable import CohortStorage

/// `RaftLogFileSystem.writeAtomically` with a producer (how the index checkpoint is written):
/// the new file appears whole, with every chunk in order, or not at all.
@Suite struct StreamedAtomicWriteTests {
    func contents(_ path: String) -> [UInt8]? {
        FileManager.default.contents(atPath: path).map { Array($0) }
    }

    @Test(arguments: [nil, 4] as [Int?])
    func chunksArriveInOrderAndReplaceTheOldFile(syncEvery: Int?) throws {
        let directory = TemporaryDirectory()
        try RaftLogFileSystem.writeAtomically(
            bytes("old"), name: "f", directory: directory.path, device: POSIXStorageDevice.shared)
        try RaftLogFileSystem.writeAtomically(
            name: "f", directory: directory.path, syncEvery: syncEvery,
            device: POSIXStorageDevice.shared
        ) { (write) throws(StorageError) in
            for chunk in ["abc", "defgh", "", "ij"] {
                let result = bytes(chunk).withUnsafeBytes { raw in
                    Result { () throws(StorageError) in try write(raw) }
                }
                try result.get()
            }
        }
        #expect(contents(directory.file("f")) == bytes("abcdefghij"))
        #expect(directory.files == ["f"], "no temporary file is left")
    }

    @Test func aFailingProducerLeavesTheOldFileAndNoTemporary() throws {
        let directory = TemporaryDirectory()
        try RaftLogFileSystem.writeAtomically(
            bytes("old"), name: "f", directory: directory.path, device: POSIXStorageDevice.shared)
        #expect(throws: StorageError.diskFull) {
            try RaftLogFileSystem.writeAtomically(
                name: "f", directory: directory.path, syncEvery: nil,
                device: POSIXStorageDevice.shared
            ) { (write) throws(StorageError) in
                let result = bytes("partial").withUnsafeBytes { raw in
                    Result { () throws(StorageError) in try write(raw) }
                }
                try result.get()
                throw .diskFull
            }
        }
        #expect(contents(directory.file("f")) == bytes("old"))
        #expect(directory.files == ["f"], "the partial temporary file is removed")
    }
}
