#!/usr/bin/env bash
# Big collections, Cohort next to redis-server in the same run: memory per element, and whether
# writing to a huge collection costs more than writing to an empty one.
#
#   bench/collection-scale.sh
#
# For each of redis-server and `cohort server` (matching durability: appendfsync everysec /
# --fsync everysec), on free loopback ports:
#   1. loads one hash of ELEMENTS fields (HSET big f:<i> <16-byte value>) and one sorted set of
#      ELEMENTS members (ZADD bigz <i> m:<i>) with `redis-cli --pipe`, and reports resident
#      memory (VmRSS) before and after each, as bytes per element;
#   2. runs redis-benchmark's custom-command mode, ROUNDS times, interleaved:
#        HSET big f:__rand_int__ x     (overwrites into the big hash)
#        HSET small f:__rand_int__ x   (the same into a hash that starts empty)
#        ZADD bigz __rand_int__ m:__rand_int__   and the same into `smallz`
#      with -r ELEMENTS, -c CLIENTS, -n N, -P 1, and prints the median requests/second of each,
#      the big/small ratio per system, and Cohort/Redis per test.
#
# Environment: ELEMENTS=1000000 N=200000 CLIENTS=50 ROUNDS=3 BIN=path KEEP=1
# Needs redis-server, redis-benchmark, redis-cli (installed from Debian's packages when
# missing) and python3. Everything started here is stopped by PID on exit.
set -euo pipefail

ELEMENTS=${ELEMENTS:-1000000}
N=${N:-200000}
CLIENTS=${CLIENTS:-50}
ROUNDS=${ROUNDS:-3}
KEEP=${KEEP:-0}
READY_TIMEOUT_SECONDS=${READY_TIMEOUT_SECONDS:-300}
STOP_TIMEOUT_SECONDS=${STOP_TIMEOUT_SECONDS:-60}

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cohort-collection-scale.XXXXXX")
started_pids=()

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

ensure_redis
build_cohort

# Writes the RESP commands that fill one hash and one sorted set to `file`.
python3 - "$work/load.resp" "$ELEMENTS" <<'PY'
import sys
path, count = sys.argv[1], int(sys.argv[2])
def command(*words):
    return b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(w), w) for w in words)
with open(path, "wb", buffering=1 << 20) as out:
    for i in range(count):
        out.write(command(b"HSET", b"big", b"f:%d" % i, b"value:%010d" % i))
    for i in range(count):
        out.write(command(b"ZADD", b"bigz", b"%d" % i, b"m:%d" % i))
PY

declare -A port pid memory samples
port[redis]=$(free_ports 1)
mkdir -p "$work/redis"
redis-server --port "${port[redis]}" --bind 127.0.0.1 --dir "$work/redis" --save '' \
    --appendonly yes --appendfsync everysec --daemonize no --protected-mode no \
    --logfile "$work/redis/redis.log" >/dev/null 2>&1 &
pid[redis]=$!
started_pids+=("${pid[redis]}")
port[cohort]=$(free_ports 1)
"$BIN" server --port "${port[cohort]}" --data-dir "$work/cohort" --fsync everysec \
    >>"$work/cohort.log" 2>&1 &
pid[cohort]=$!
started_pids+=("${pid[cohort]}")
for kind in redis cohort; do
    wait_ready "${port[$kind]}" "${pid[$kind]}" || die "$kind did not start"
done

for kind in redis cohort; do
    before=$(rss_bytes "${pid[$kind]}")
    start=$(now_ms)
    redis-cli -h 127.0.0.1 -p "${port[$kind]}" --pipe <"$work/load.resp" >"$work/$kind-load.txt"
    elapsed=$(($(now_ms) - start))
    after=$(rss_bytes "${pid[$kind]}")
    memory[$kind]=$(((after - before) / (2 * ELEMENTS)))
    log "$kind: loaded $((2 * ELEMENTS)) elements in $elapsed ms; RSS $before -> $after bytes"
    [[ "$(redis-cli -p "${port[$kind]}" HLEN big)" == "$ELEMENTS" ]] || die "$kind: HLEN big is wrong"
    [[ "$(redis-cli -p "${port[$kind]}" ZCARD bigz)" == "$ELEMENTS" ]] || die "$kind: ZCARD is wrong"
done

run() { # kind test words...
    local kind=$1 test=$2
    shift 2
    local rps
    rps=$(redis-benchmark -h 127.0.0.1 -p "${port[$kind]}" -c "$CLIENTS" -n "$N" -r "$ELEMENTS" \
        --csv "$@" 2>/dev/null | awk -F, 'NR > 1 { gsub(/"/, "", $2); print $2; exit }')
    samples["$kind|$test"]+="$rps "
    log "$kind $test: $rps req/s"
}

for ((round = 1; round <= ROUNDS; round++)); do
    for kind in redis cohort; do
        run "$kind" "HSET big" HSET big f:__rand_int__ x
        run "$kind" "HSET small" HSET small f:__rand_int__ x
        run "$kind" "ZADD big" ZADD bigz __rand_int__ m:__rand_int__
        run "$kind" "ZADD small" ZADD smallz __rand_int__ m:__rand_int__
    done
done

median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) printf "%.0f", v[(NR + 1) / 2]; else printf "%.0f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

echo
echo "Memory after loading $ELEMENTS hash fields and $ELEMENTS sorted-set members (VmRSS growth)"
printf '%-8s %14s\n' system "bytes/element"
for kind in redis cohort; do printf '%-8s %14s\n' "$kind" "${memory[$kind]}"; done
echo "cohort/redis: $(ratio "${memory[cohort]}" "${memory[redis]}")"
echo
echo "Writes into a collection of $ELEMENTS elements against one that starts empty (median of"
echo "$ROUNDS rounds, requests/second; -c $CLIENTS -n $N -P 1)"
printf '%-12s %12s %12s %14s\n' test redis cohort cohort/redis
declare -A median_of
for test in "HSET big" "HSET small" "ZADD big" "ZADD small"; do
    for kind in redis cohort; do
        # shellcheck disable=SC2086
        median_of["$kind|$test"]=$(median ${samples["$kind|$test"]})
    done
    printf '%-12s %12s %12s %14s\n' "$test" "${median_of[redis|$test]}" \
        "${median_of[cohort|$test]}" "$(ratio "${median_of[cohort|$test]}" "${median_of[redis|$test]}")"
done
for kind in redis cohort; do
    echo "$kind: HSET big/small $(ratio "${median_of[$kind|HSET big]}" "${median_of[$kind|HSET small]}")," \
        "ZADD big/small $(ratio "${median_of[$kind|ZADD big]}" "${median_of[$kind|ZADD small]}")"
done
