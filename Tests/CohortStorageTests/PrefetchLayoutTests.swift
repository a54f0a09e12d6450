import CohortCore
import Testing

@testable import CohortStorage

/// `PointTable.prefetch` reads references as raw addresses and assumes where an array keeps
/// its count and bytes and where a slot keeps its hot fields. A wrong assumption would not
/// break a lookup (a prefetch is only a hint) but would silently waste the hints; these
/// checks fail instead.
@Suite struct PrefetchLayoutTests {
    static func entry(_ sequence: UInt64) -> IndexEntry {
        IndexEntry(
            segmentID: 1, offset: sequence, recordLength: 60,
            metadata: VersionMetadata(
                sequence: sequence, timestamp: .zero, origin: NodeID(1), isTombstone: false,
                type: .string, expiresAtMillis: 0))
    }

    @Test func anArraysCountAndBytesLieWherePrefetchLooks() {
        let bytes: [UInt8] = Array("key:000000012345".utf8)
        let storage = unsafeBitCast(bytes, to: UnsafeRawPointer.self)
        #expect(
            storage.load(fromByteOffset: PointTable.arrayCountOffset, as: Int.self) == bytes.count)
        bytes.withUnsafeBufferPointer { buffer in
            #expect(
                UnsafeRawPointer(buffer.baseAddress!) == storage + PointTable.arrayElementsOffset)
        }
    }

    @Test func aSlotsCachedValueAndHotFieldsLieWherePrefetchLooks() {
        let key: [UInt8] = Array("key:000000012345".utf8)
        let slot = IndexSlot.make(key: key, entry: Self.entry(4), generation: 0)
        let value: [UInt8] = [1, 2, 3]
        slot.cachedValue = value
        let object = UnsafeRawPointer(Unmanaged.passUnretained(slot).toOpaque())
        #expect(
            object.load(fromByteOffset: IndexSlot.cachedValueOffset, as: UnsafeRawPointer.self)
                == unsafeBitCast(value, to: UnsafeRawPointer.self))
        // Every field a cached read touches ends within `hotBytes`.
        let fields = slot.withUnsafeMutablePointerToHeader { UnsafeRawPointer($0) - object }
        #expect(fields == IndexSlot.fieldsOffset)
        #expect(
            object.load(fromByteOffset: IndexSlot.fieldsOffset + 8, as: UInt64.self)
                == slot.entry.offset)
        #expect(IndexSlot.hotBytes <= 16 + MemoryLayout<IndexSlot.Fields>.size)
        // The key's bytes follow the fields.
        let keyStart = slot.withUnsafeMutablePointerToElements { UnsafeRawPointer($0) - object }
        #expect(keyStart == IndexSlot.keyOffset)
        #expect(slot.key == key)
        // The sizes the README's memory per key counts on.
        #expect(MemoryLayout<IndexEntry>.size == 54)
        #expect(MemoryLayout<IndexSlot.Fields>.size == 88)
        withExtendedLifetime(slot) {}
    }

    @Test func prefetchingChangesNoLookup() {
        var table = PointTable()
        var slots: [[UInt8]: IndexSlot] = [:]
        for index in 0..<1_000 {
            let key = Array("key:\(index)".utf8)
            let slot = IndexSlot.make(key: key, entry: Self.entry(UInt64(index)), generation: 0)
            if index % 3 == 0 { slot.cachedValue = key }
            table.set(slot)
            slots[key] = slot
        }
        let asked = (0..<1_200).map { Array("key:\($0 * 7 % 1_300)".utf8) } + [[]]
        table.prefetch(asked)
        for key in asked {
            #expect(table.slot(key) === slots[key])
        }
    }
}
