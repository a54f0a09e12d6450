import CohortCore
import CohortNode
import Testing

@Suite struct ScanCursorTests {
    @Test func aCursorNamesItsIssuerAndSerial() {
        let tag = ScanCursor.tag(ofNode: "n2")
        let cursor = ScanCursor(tag: tag, serial: 12_345)
        #expect(cursor.tag == tag)
        #expect(cursor.serial == 12_345)
        // Clients that read cursors as signed 64-bit integers read every cursor.
        #expect(cursor.rawValue < UInt64(Int64.max))
        let largest = ScanCursor(
            tag: UInt32((1 << ScanCursor.tagBits) - 1), serial: ScanCursor.serialMax)
        #expect(largest.rawValue <= UInt64(Int64.max))
    }

    @Test func nodesOfACommonClusterHaveDistinctTags() {
        let names = (1...64).map { "n\($0)" } + ["a", "b", "c", "witness", "dc1-n1", "dc2-n1"]
        let tags = Set(names.map(ScanCursor.tag(ofNode:)))
        #expect(tags.count == names.count)
        #expect(!tags.contains(0))
    }

    @Test func continuingReadsOnlyANonzeroScanCursor() {
        func arguments(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }
        #expect(ScanCursor.continuing(arguments("SCAN", "0")) == nil)
        #expect(ScanCursor.continuing(arguments("GET", "5")) == nil)
        #expect(ScanCursor.continuing(arguments("scan", "abc")) == nil)
        #expect(ScanCursor.continuing(arguments("scan", "77", "COUNT", "5"))?.rawValue == 77)
    }

    @Test func aTableResolvesOnlyItsOwnCursors() {
        let first = ScanCursorTable(nodeName: "n1", startedAtMillis: 1_700_000_000_000)
        let cursor = first.open(after: Array("key:9".utf8))
        #expect(ScanCursor(rawValue: cursor).tag == ScanCursor.tag(ofNode: "n1"))
        #expect(first.position(of: cursor) == Array("key:9".utf8))
        // Another node's table, even when its serials line up, does not know the cursor.
        let other = ScanCursorTable(nodeName: "n2", startedAtMillis: 1_700_000_000_000)
        _ = other.open(after: Array("zzz".utf8))
        #expect(other.position(of: cursor) == nil)
    }

    @Test func aRestartedNodeDoesNotResolveItsEarlierLifesCursors() {
        // Before the restart: many cursors issued within one second.
        let before = ScanCursorTable(nodeName: "n1", startedAtMillis: 1_700_000_000_000)
        var issued: [UInt64] = []
        for index in 0..<5_000 { issued.append(before.open(after: Array("k\(index)".utf8))) }
        // The restarted process, one second later, issues cursors of its own.
        let after = ScanCursorTable(nodeName: "n1", startedAtMillis: 1_700_000_001_000)
        for index in 0..<5_000 { _ = after.open(after: Array("other\(index)".utf8)) }
        #expect(issued.allSatisfy { after.position(of: $0) == nil })
    }
}
