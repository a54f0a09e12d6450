import Testing

@testable import CohortSim

/// A disk image that is just the list of values written, for testing the disk alone.
struct NumberImage: DurableImage {
    var numbers: [Int] = []

    mutating func apply(_ record: [Int]) {
        numbers += record
    }

    static func torn(_ record: [Int], random: inout SimRandom) -> [Int]? {
        let kept = random.integer(in: 0...record.count)
        return kept == 0 ? nil : Array(record.prefix(kept))
    }
}

@Suite struct SimDiskTests {
    @Test func crashLosesWritesNotCoveredByACompletedFsync() {
        var random = SimRandom(seed: 9)
        var disk = SimDisk(image: NumberImage())
        disk.write([1])
        disk.write([2])
        let token = disk.startSync()
        disk.write([3])
        disk.completeSync(token)
        #expect(disk.durable.numbers == [1, 2])
        #expect(disk.pending.count == 1)
        let recovered = disk.crash(random: &random, keepsUnsyncedPrefix: false)
        #expect(recovered.numbers == [1, 2])
        #expect(disk.writesLost == 1)
        #expect(disk.pending.isEmpty)
    }

    @Test func fsyncStartedBeforeACrashCoversNothingAfterIt() {
        var random = SimRandom(seed: 9)
        var disk = SimDisk(image: NumberImage())
        disk.write([1])
        let stale = disk.startSync()
        disk.crash(random: &random, keepsUnsyncedPrefix: false)
        disk.write([2])
        disk.completeSync(stale)
        #expect(disk.durable.numbers == [])
        disk.completeSync(disk.startSync())
        #expect(disk.durable.numbers == [2])
    }

    @Test func crashMayKeepAnOrderedPrefixWithATornTail() {
        // Whatever survives is a prefix of the write order, and only the last kept write may
        // be shortened.
        for seed in 0..<200 as Range<UInt64> {
            var random = SimRandom(seed: seed)
            var disk = SimDisk(image: NumberImage())
            disk.write([1, 2])
            disk.write([3, 4, 5])
            disk.write([6])
            let recovered = disk.crash(random: &random, keepsUnsyncedPrefix: true)
            let all = [1, 2, 3, 4, 5, 6]
            #expect(Array(all.prefix(recovered.numbers.count)) == recovered.numbers)
        }
    }
}
