#!/usr/bin/env bash
# Resident memory per key, Cohort next to redis-server in the same run: right after loading
# string keys and after a restart.
#
#   bench/key-memory.sh                    # 10^6 keys
#   COUNTS="1000000 10000000" bench/key-memory.sh
#
# For each count in COUNTS and each of redis-server (appendonly yes, appendfsync everysec) and
# `cohort server --fsync everysec` (default value cache, or VALUE_CACHE_BYTES when set), on free
# loopback ports:
#   1. loads COUNT keys `key:<10 digits>` with 100-byte values through `redis-cli --pipe`;
#   2. reports resident memory (VmRSS) after the load, checks DBSIZE;
#   3. stops the server with SIGTERM, starts it again on the same data, waits for PONG and
#      reports VmRSS after the restart (Redis replays its AOF; Cohort reads its index
#      checkpoint), checks DBSIZE and one value.
# Prints MB and bytes per key, and Cohort/Redis for each.
#
# Environment: COUNTS="1000000" VALUE_CACHE_BYTES= BIN=path KEEP=1
# Needs redis-server, redis-cli (installed from Debian's packages when missing) and python3.
# Everything started here is stopped by PID on exit.
set -euo pipefail

COUNTS=${COUNTS:-1000000}
VALUE_CACHE_BYTES=${VALUE_CACHE_BYTES:-}
KEEP=${KEEP:-0}
READY_TIMEOUT_SECONDS=${READY_TIMEOUT_SECONDS:-600}
STOP_TIMEOUT_SECONDS=${STOP_TIMEOUT_SECONDS:-300}

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cohort-key-memory.XXXXXX")
started_pids=()

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

ensure_redis
build_cohort

declare -A port pid
start_server() { # kind count
    local kind=$1 count=$2
    port[$kind]=$(free_ports 1)
    if [[ $kind == redis ]]; then
        mkdir -p "$work/$count/redis"
        redis-server --port "${port[$kind]}" --bind 127.0.0.1 --dir "$work/$count/redis" \
            --save '' --appendonly yes --appendfsync everysec --daemonize no \
            --protected-mode no --logfile "$work/$count/redis/redis.log" >/dev/null 2>&1 &
    else
        local cache=()
        if [[ -n $VALUE_CACHE_BYTES ]]; then cache=(--value-cache-bytes-max "$VALUE_CACHE_BYTES"); fi
        "$BIN" server --port "${port[$kind]}" --data-dir "$work/$count/cohort" \
            --fsync everysec "${cache[@]}" >>"$work/$count/cohort.log" 2>&1 &
    fi
    pid[$kind]=$!
    started_pids+=("${pid[$kind]}")
    wait_ready "${port[$kind]}" "${pid[$kind]}" || die "$kind did not start"
}

mb() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

declare -A loaded restarted
for count in $COUNTS; do
    mkdir -p "$work/$count"
    log "writing the commands for $count keys"
    python3 - "$work/$count/load.resp" "$count" <<'PY'
import sys
path, count = sys.argv[1], int(sys.argv[2])
value = b"v" * 100
with open(path, "wb", buffering=1 << 22) as out:
    for i in range(count):
        key = b"key:%010d" % i
        out.write(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$100\r\n%s\r\n" % (len(key), key, value))
PY
    for kind in redis cohort; do
        start_server "$kind" "$count"
        start=$(now_ms)
        redis-cli -h 127.0.0.1 -p "${port[$kind]}" --pipe <"$work/$count/load.resp" \
            >"$work/$count/$kind-load.txt"
        elapsed=$(($(now_ms) - start))
        [[ "$(redis-cli -p "${port[$kind]}" DBSIZE)" == "$count" ]] || die "$kind: DBSIZE is wrong"
        loaded[$kind|$count]=$(rss_bytes "${pid[$kind]}")
        log "$kind: $count keys loaded in $elapsed ms, RSS $(mb "${loaded[$kind|$count]}") MB"
        stop_process "${pid[$kind]}" TERM
        start=$(now_ms)
        start_server "$kind" "$count"
        elapsed=$(($(now_ms) - start))
        [[ "$(redis-cli -p "${port[$kind]}" DBSIZE)" == "$count" ]] \
            || die "$kind: DBSIZE is wrong after the restart"
        [[ "$(redis-cli -p "${port[$kind]}" GET key:0000000007)" == "$(printf 'v%.0s' {1..100})" ]] \
            || die "$kind: a value is wrong after the restart"
        restarted[$kind|$count]=$(rss_bytes "${pid[$kind]}")
        log "$kind: restarted in $elapsed ms, RSS $(mb "${restarted[$kind|$count]}") MB"
        stop_process "${pid[$kind]}" TERM
        rm -rf "$work/$count/$kind" "$work/$count/redis"
    done
    rm -f "$work/$count/load.resp"
done

echo
echo "Resident memory (VmRSS) with string keys of 100-byte values"
printf '%-10s %-7s %12s %10s %14s %10s\n' keys system "loaded MB" "B/key" "restarted MB" "B/key"
for count in $COUNTS; do
    for kind in redis cohort; do
        printf '%-10s %-7s %12s %10s %14s %10s\n' "$count" "$kind" \
            "$(mb "${loaded[$kind|$count]}")" "$((loaded[$kind|$count] / count))" \
            "$(mb "${restarted[$kind|$count]}")" "$((restarted[$kind|$count] / count))"
    done
    echo "$count keys, cohort/redis: loaded $(ratio "${loaded[cohort|$count]}" "${loaded[redis|$count]}")," \
        "restarted $(ratio "${restarted[cohort|$count]}" "${restarted[redis|$count]}")"
done
