// libFuzzer target for the storage record, segment-scan and hint decoders. Built by
// fuzz/run-record.sh together with CohortCore's sources and the codec files of CohortStorage.

/// Limits small enough that random lengths often fit, so the checksum path is reached.
private let keyBytesMax = 256
private let valueBytesMax = 4096

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    if let record = try? RecordCodec.decode(
        bytes, keyBytesMax: keyBytesMax, valueBytesMax: valueBytesMax)
    {
        // Decoding is exact: re-encoding what was decoded gives back the same bytes.
        var encoded: [UInt8] = []
        RecordCodec.encode(
            key: UnsafeRawBufferPointer(rebasing: bytes[record.keyRange]),
            value: UnsafeRawBufferPointer(rebasing: bytes[record.valueRange]),
            metadata: record.metadata, isClear: record.isClear,
            groupRecords: record.groupRecords, into: &encoded)
        precondition(
            encoded.elementsEqual(bytes[0..<record.recordLength]), "record re-encoding differs")
    }
    let scan = SegmentScanner.scan(bytes, keyBytesMax: keyBytesMax, valueBytesMax: valueBytesMax)
    precondition(scan.validEnd <= size, "scan ended past the input")
    for entry in scan.records {
        precondition(
            Int(entry.offset) + Int(entry.recordLength) <= scan.validEnd
                || !scan.corruptions.isEmpty,
            "scanned record outside the valid prefix")
    }
    if let hint = try? HintCodec.decode(bytes, keyBytesMax: keyBytesMax) {
        let encoded = HintCodec.encode(segmentID: hint.segmentID, entries: hint.entries)
        precondition(encoded.elementsEqual(bytes), "hint re-encoding differs")
    }
    return 0
}
