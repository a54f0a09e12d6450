#!/usr/bin/env bash
# Builds and runs the storage record/hint decoder fuzzer: fuzz/run-record.sh [seconds]
#
# Compiles fuzz/RecordDecoderFuzz.swift with CohortCore's sources and the codec files of
# CohortStorage (which depend on nothing else) as one module, with AddressSanitizer. Corpus,
# artifacts and binary live under fuzz/out/RecordDecoderFuzz/ (gitignored).
# Extra libFuzzer flags can be passed in FUZZ_FLAGS.
set -euo pipefail

seconds=${1:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
target=RecordDecoderFuzz
storage="$root/Sources/CohortStorage"
out="$root/fuzz/out/$target"
mkdir -p "$out/corpus" "$out/artifacts"

echo "building $target ..."
# shellcheck source=scripts/c-modules.sh
source "$root/scripts/c-modules.sh"
compile_c_modules "$out/c" -fsanitize=address
swiftc -O -g -sanitize=fuzzer,address -parse-as-library -module-name CohortFuzz \
    "$root"/Sources/CohortCore/*.swift \
    "$storage"/{RecordCodec,RecordDecodeError,DecodedRecord,VersionMetadata}.swift \
    "$storage"/{HintCodec,HintEntry,HintDecodeError,SegmentScanner,SegmentScan}.swift \
    "$root/fuzz/$target.swift" "${C_MODULE_FLAGS[@]}" -o "$out/$target"

# Seed an empty corpus with a valid record pair and a valid hint file.
if [[ -z "$(ls -A "$out/corpus")" ]]; then
    python3 - "$out/corpus" <<'PY'
import struct, sys

def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF

def record(key, value, sequence, group):
    header = struct.pack("<BBBBIIIQQIQQ", 0xC5, 1, 0, 0, len(key), len(value), group,
                         sequence, 1000, 0, 1, 0)
    return header + struct.pack("<I", crc32c(header + key + value)) + key + value

group = record(b"a", b"1", 1, 2) + record(b"b", b"22", 1, 2) + record(b"c", b"", 2, 1)
open(sys.argv[1] + "/records", "wb").write(group)
body = b"CHNT" + bytes([1, 0, 0, 0]) + struct.pack("<II", 1, 1)
body += struct.pack("<BBIQQIQQQI", 0, 0, 1, 1, 1000, 0, 1, 0, 0, 58) + b"a"
open(sys.argv[1] + "/hint", "wb").write(body + struct.pack("<I", crc32c(body)))
PY
fi

echo "running $target for ${seconds}s ..."
# shellcheck disable=SC2086
"$out/$target" "$out/corpus" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
    -rss_limit_mb=2048 -artifact_prefix="$out/artifacts/" -print_final_stats=1 ${FUZZ_FLAGS:-}
