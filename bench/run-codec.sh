#!/usr/bin/env bash
# Builds and runs the RESP codec micro-benchmark: bench/run-codec.sh
# Compiles Sources/CohortCore/*.swift with bench/RESPCodecBench.swift (-O) into bench/out/.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$root/bench/out"
# shellcheck source=scripts/c-modules.sh
source "$root/scripts/c-modules.sh"
compile_c_modules "$root/bench/out/c"
swiftc -O -parse-as-library -module-name CohortCodecBench \
    "$root"/Sources/CohortCore/*.swift "$root/bench/RESPCodecBench.swift" \
    "${C_MODULE_FLAGS[@]}" -lm -o "$root/bench/out/resp-codec-bench"
"$root/bench/out/resp-codec-bench"
