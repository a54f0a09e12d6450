#!/usr/bin/env bash
# Where a cohort server's CPU goes under a redis-benchmark load: perf samples of the server
# process, summarised by bench/profile_summary.py (kernel against user space, user space by
# Swift module, the top functions, and the inclusive cost of Cohort's own functions).
#
#   bench/profile.sh
#
# Starts one `cohort server` on a free loopback port, fills KEYSPACE keys with pipelined SETs,
# then samples the server with `perf record -e cpu-clock -g` while redis-benchmark
# runs TEST at PIPELINE, and prints the summary. perf's own overhead slows the server, so use
# it to see shares, and bench/cpu-per-request.sh or bench/redis-compare.sh for figures.
#
# Environment:
#   MODE=everysec     the server's --fsync
#   TEST=set          redis-benchmark -t
#   PIPELINE=1        redis-benchmark -P
#   N=400000          requests sampled
#   CLIENTS=50        redis-benchmark -c
#   KEYSPACE=100000   redis-benchmark -r
#   FREQUENCY=2999    samples per second
#   TOP=25            functions listed
#   BIN=path          a built cohort binary; otherwise `swift build -c release --product cohort`
#   KEEP=1            keep the temporary directory (perf.data, the perf script output, logs)
#
# Needs perf (Debian's linux-perf) and redis-tools, installed when missing. Everything started
# here is stopped by PID on exit; nothing is killed by name.
set -euo pipefail

MODE=${MODE:-everysec}
TEST=${TEST:-set}
PIPELINE=${PIPELINE:-1}
N=${N:-400000}
CLIENTS=${CLIENTS:-50}
KEYSPACE=${KEYSPACE:-100000}
FREQUENCY=${FREQUENCY:-2999}
TOP=${TOP:-25}
KEEP=${KEEP:-0}
READY_TIMEOUT_SECONDS=${READY_TIMEOUT_SECONDS:-300}
STOP_TIMEOUT_SECONDS=${STOP_TIMEOUT_SECONDS:-60}
BENCH_TIMEOUT_SECONDS=${BENCH_TIMEOUT_SECONDS:-300}

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cohort-profile.XXXXXX")
started_pids=()

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

ensure_redis
command -v perf >/dev/null || apt_install linux-perf
build_cohort
BIN=$(readlink -f "$BIN")

port=$(free_ports 1)
"$BIN" server --port "$port" --data-dir "$work/data" --fsync "$MODE" >>"$work/cohort.log" 2>&1 &
pid=$!
started_pids+=("$pid")
wait_ready "$port" "$pid" || die "cohort did not start (see $work/cohort.log)"

# Five times the key space in random SETs reaches all but about 1% of its keys, so that the
# sampled SETs overwrite keys rather than insert them.
log "loading $((5 * KEYSPACE)) random SETs over $KEYSPACE keys"
timeout "$BENCH_TIMEOUT_SECONDS" redis-benchmark -h 127.0.0.1 -p "$port" -t set -c "$CLIENTS" \
    -n $((5 * KEYSPACE)) -r "$KEYSPACE" -P 16 -q >/dev/null

perf record -e cpu-clock -F "$FREQUENCY" -g -p "$pid" -o "$work/perf.data" \
    >"$work/perf-record.log" 2>&1 &
perf_pid=$!
started_pids+=("$perf_pid")
sleep 0.5
log "sampling $TEST -P $PIPELINE, $N requests"
timeout "$BENCH_TIMEOUT_SECONDS" redis-benchmark -h 127.0.0.1 -p "$port" -t "$TEST" \
    -c "$CLIENTS" -n "$N" -r "$KEYSPACE" -P "$PIPELINE" --csv 2>/dev/null \
    | grep -v '^"test"' || true
kill -INT "$perf_pid"
wait "$perf_pid" 2>/dev/null || true
stop_process "$pid" TERM

perf script -i "$work/perf.data" -F comm,ip,sym,dso >"$work/perf.script" 2>/dev/null
echo
echo "=== Profile: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores ==="
echo "MODE=$MODE TEST=$TEST PIPELINE=$PIPELINE N=$N CLIENTS=$CLIENTS KEYSPACE=$KEYSPACE BIN=$BIN"
python3 "$root/bench/profile_summary.py" "$work/perf.script" "$BIN" "$TOP"
