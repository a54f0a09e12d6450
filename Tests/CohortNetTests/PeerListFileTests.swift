import CohortStorage
import Foundation
import Testing

@testable import CohortNet

/// The peer list: a durable round trip, damage reported by line, failures thrown.
struct PeerListFileTests {
    static let peers = [
        "n4": PeerAddress(host: "127.0.0.1", port: 17_382),
        "n5": PeerAddress(host: "db5.example.com", port: 7_000),
    ]

    @Test func roundTripsInNameOrderAndAbsentIsEmpty() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        #expect(try PeerListFile.load(directory: directory.path) == [:])
        try PeerListFile.save(Self.peers, directory: directory.path)
        #expect(try PeerListFile.load(directory: directory.path) == Self.peers)
        let text = try String(contentsOfFile: directory.path + "/peers", encoding: .utf8)
        #expect(text == "n4 127.0.0.1 17382\nn5 db5.example.com 7000\n")
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/peers.tmp"))
        try PeerListFile.save([:], directory: directory.path)
        #expect(try PeerListFile.load(directory: directory.path) == [:])
    }

    @Test func aDamagedLineIsReportedWithItsNumber() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let text = "n4 127.0.0.1 17382\nn5 host\nn6 h 99999\nn4 other 1\n\nn7 h 7\n"
        try text.write(toFile: directory.path + "/peers", atomically: true, encoding: .utf8)
        #expect(throws: PeerListFile.Failure.damagedLine(number: 2, text: "n5 host")) {
            try PeerListFile.load(directory: directory.path)
        }
        let readable = try PeerListFile.loadReadable(directory: directory.path)
        #expect(
            readable.peers == [
                "n4": PeerAddress(host: "127.0.0.1", port: 17_382),
                "n7": PeerAddress(host: "h", port: 7),
            ])
        #expect(
            readable.damaged == [
                .damagedLine(number: 2, text: "n5 host"),
                .damagedLine(number: 3, text: "n6 h 99999"),
                .damagedLine(number: 4, text: "n4 other 1"),
                .damagedLine(number: 5, text: ""),
            ])
        #expect(PeerListFile.loadReporting(directory: directory.path) == readable.peers)
    }

    @Test func failuresToWriteOrReadAreThrown() throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        // A directory in the way of the final name: the rename fails, and says so.
        try FileManager.default.createDirectory(
            atPath: directory.path + "/peers/occupied", withIntermediateDirectories: true)
        #expect {
            try PeerListFile.save(Self.peers, directory: directory.path)
        } throws: { error in
            guard case .storage(.io(_, let operation)) = error as? PeerListFile.Failure else {
                return false
            }
            return operation.hasPrefix("rename")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/peers.tmp"))
        #expect(throws: PeerListFile.Failure.self) {
            try PeerListFile.load(directory: directory.path)
        }
        // A data directory that is a file.
        let file = directory.path + "/file"
        try "x".write(toFile: file, atomically: true, encoding: .utf8)
        #expect(throws: PeerListFile.Failure.self) {
            try PeerListFile.save(Self.peers, directory: file)
        }
        // A name the line format cannot hold is refused before anything is written.
        let spaced = ["a b": PeerAddress(host: "h", port: 1)]
        #expect(throws: PeerListFile.Failure.unwritable(name: "a b", address: spaced["a b"]!)) {
            try PeerListFile.save(spaced, directory: directory.path + "/peers/occupied")
        }
    }
}
