#!/usr/bin/env bash
# Builds and runs a libFuzzer target: fuzz/run.sh <target-name> [seconds]
#
# The target fuzz/<target-name>.swift is compiled together with Sources/CohortCore/*.swift as
# one module, with AddressSanitizer. The corpus, crash artifacts and binary live under
# fuzz/out/<target-name>/ (gitignored), so repeated runs build on earlier ones.
# Extra libFuzzer flags can be passed in FUZZ_FLAGS, e.g. FUZZ_FLAGS="-jobs=2".
set -euo pipefail

target=${1:?usage: fuzz/run.sh <target-name> [seconds]}
seconds=${2:-30}
root=$(cd "$(dirname "$0")/.." && pwd)
source_file="$root/fuzz/$target.swift"
[[ -f "$source_file" ]] || { echo "no such target: $source_file" >&2; exit 2; }
out="$root/fuzz/out/$target"
mkdir -p "$out/corpus" "$out/artifacts"

echo "building $target ..."
# shellcheck source=scripts/c-modules.sh
source "$root/scripts/c-modules.sh"
compile_c_modules "$out/c" -fsanitize=address
swiftc -O -g -sanitize=fuzzer,address -parse-as-library -module-name CohortFuzz \
    "$root"/Sources/CohortCore/*.swift "$source_file" "${C_MODULE_FLAGS[@]}" -o "$out/$target"

# Seed an empty corpus with a few well-formed inputs.
if [[ -z "$(ls -A "$out/corpus")" ]]; then
    printf '*3\r\n$3\r\nSET\r\n$1\r\na\r\n$5\r\nhello\r\n' >"$out/corpus/multibulk"
    printf 'SET a "b \\x41\\n" '"'"'c\\'"'"'d'"'"'\r\nPING\r\n\r\n' >"$out/corpus/inline"
    printf '%%2\r\n+k\r\n~1\r\n,1.5\r\n$-1\r\n>1\r\n=7\r\ntxt:abc\r\n' >"$out/corpus/resp3"
    printf '*2\r\n:1\r\n*-1\r\n#t\r\n(12345678901234567890\r\n!3\r\nERR\r\n|1\r\n+a\r\n_\r\n-ERR x\r\n' \
        >"$out/corpus/mixed"
fi

dict_flag=()
[[ -f "$root/fuzz/$target.dict" ]] && dict_flag=("-dict=$root/fuzz/$target.dict")

echo "running $target for ${seconds}s ..."
# shellcheck disable=SC2086
"$out/$target" "$out/corpus" "${dict_flag[@]}" \
    -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$out/artifacts/" -print_final_stats=1 ${FUZZ_FLAGS:-}
