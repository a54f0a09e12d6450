/// Scans the bytes of a segment into records, applying groups all-or-nothing and resynchronizing
/// after corruption at the next offset where a whole record decodes with a valid checksum.
/// Pure (no I/O) so that it can be fuzzed and unit-tested on byte arrays.
enum SegmentScanner {
    /// Scans `bytes`. Never traps on arbitrary input.
    static func scan(
        _ bytes: UnsafeRawBufferPointer, keyBytesMax: Int, valueBytesMax: Int
    ) -> SegmentScan {
        var scan = SegmentScan()
        var pending: [HintEntry] = []
        var pendingStart = 0
        var pendingExpected: UInt32 = 0
        var position = 0
        let count = bytes.count
        while position < count {
            let remaining = UnsafeRawBufferPointer(rebasing: bytes[position..<count])
            do throws(RecordDecodeError) {
                let record = try RecordCodec.decode(
                    remaining, keyBytesMax: keyBytesMax, valueBytesMax: valueBytesMax)
                if let first = pending.first,
                    first.metadata.sequence != record.metadata.sequence
                        || pendingExpected != record.groupRecords
                {
                    scan.corruptions.append(
                        .init(offset: pendingStart, reason: "incomplete transaction group"))
                    pending.removeAll(keepingCapacity: true)
                }
                if pending.isEmpty {
                    pendingStart = position
                    pendingExpected = record.groupRecords
                }
                let keyStart = position + record.keyRange.lowerBound
                let key = [UInt8](
                    UnsafeRawBufferPointer(
                        rebasing: bytes[keyStart..<(keyStart + record.keyRange.count)]))
                let entry = HintEntry(
                    key: key, metadata: record.metadata, isClear: record.isClear,
                    offset: UInt64(position), recordLength: UInt32(record.recordLength))
                position += record.recordLength
                if pendingExpected == 1 {
                    // A group of one (most writes) is whole at once: no detour through `pending`,
                    // which copied every entry twice (a tenth of a compaction's scan).
                    scan.records.append(entry)
                    scan.validEnd = position
                    continue
                }
                pending.append(entry)
                if pending.count == Int(pendingExpected) {
                    scan.records.append(contentsOf: pending)
                    pending.removeAll(keepingCapacity: true)
                    scan.validEnd = position
                }
            } catch {
                if pending.isEmpty && bytes[position...].allSatisfy({ $0 == 0 }) {
                    scan.zeroesFrom = position
                    return scan
                }
                let damageStart = pending.isEmpty ? position : pendingStart
                pending.removeAll(keepingCapacity: true)
                guard
                    let next = nextRecordStart(
                        bytes, after: position, keyBytesMax: keyBytesMax,
                        valueBytesMax: valueBytesMax)
                else {
                    scan.tail = .init(offset: damageStart, reason: error.description)
                    return scan
                }
                scan.corruptions.append(.init(offset: damageStart, reason: error.description))
                position = next
            }
        }
        if !pending.isEmpty {
            scan.tail = .init(offset: pendingStart, reason: "incomplete transaction group")
        }
        return scan
    }

    /// The first offset after `position` where a whole valid record starts, if any.
    static func nextRecordStart(
        _ bytes: UnsafeRawBufferPointer, after position: Int, keyBytesMax: Int, valueBytesMax: Int
    ) -> Int? {
        var candidate = position + 1
        while candidate < bytes.count {
            if bytes[candidate] == RecordCodec.magic {
                let rest = UnsafeRawBufferPointer(rebasing: bytes[candidate..<bytes.count])
                if (try? RecordCodec.decode(
                    rest, keyBytesMax: keyBytesMax, valueBytesMax: valueBytesMax)) != nil
                {
                    return candidate
                }
            }
            candidate += 1
        }
        return nil
    }
}
