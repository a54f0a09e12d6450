#!/usr/bin/env bash
# Writes per second on a 3-node Cohort cluster under a steady load, second by second, to see
# what background work (Raft snapshots, storage compaction) does to throughput while it runs.
#
#   bench/cluster-timeline.sh
#
# Starts `cohort up --nodes 3` on free loopback ports, finds the leader, drives it with
# bench/kvload.py (the generator of bench/cluster-compare.sh: SET of 100-byte values over
# KEYSPACE keys from CLIENTS connections) for DURATION seconds, and samples the leader's
# total_commands_processed once a second. Prints one line per second (commands in that second;
# the sampling itself adds one), then the snapshots the nodes logged, then kvload's summary.
# The median and the low seconds matter more than the mean: a dip that lines up with a
# snapshot or a compaction is work that a 10-second benchmark window may or may not catch.
#
# Environment:
#   CLIENTS=64  DURATION=100  KEYSPACE=100000
#   BIN=path    a built cohort binary; otherwise one is built (release)
#   KEEP=1      keep the temporary directory (logs, data); it is always kept on failure
#
# Needs redis-cli (Debian's redis-tools) and python3. Everything started here is stopped by
# PID on exit.
set -euo pipefail

CLIENTS=${CLIENTS:-64}
DURATION=${DURATION:-100}
KEYSPACE=${KEYSPACE:-100000}
KEEP=${KEEP:-0}
READY_TIMEOUT_SECONDS=${READY_TIMEOUT_SECONDS:-120}
STOP_TIMEOUT_SECONDS=${STOP_TIMEOUT_SECONDS:-60}

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cohort-cluster-timeline.XXXXXX")
started_pids=()

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

command -v redis-cli >/dev/null || die "redis-cli is needed (Debian's redis-tools)"
build_cohort

base=$(free_base_port 3 10000 20000)
"$BIN" up --nodes 3 --base-port "$base" --data-dir "$work/up" >"$work/up.out" 2>"$work/up.log" &
up_pid=$!
started_pids+=("$up_pid")
wait_until "cohort up" "$up_pid" grep -qx ready "$work/up.out" || die "cohort up did not start"

is_leader() { # port
    redis-cli -h 127.0.0.1 -p "$1" INFO replication 2>/dev/null | tr -d '\r' | grep -qx 'role:leader'
}
find_leader() {
    local i
    for i in 0 1 2; do
        if is_leader $((base + i)); then echo $((base + i)); return 0; fi
    done
    return 1
}
wait_until "leader" "$up_pid" find_leader || die "no node says role:leader"
leader=$(find_leader)
log "leader serves 127.0.0.1:$leader; $CLIENTS clients for ${DURATION}s"

python3 "$root/bench/kvload.py" bench --system resp --endpoints "127.0.0.1:$leader" \
    --clients "$CLIENTS" --procs 2 --duration "$DURATION" --warmup 0 --keyspace "$KEYSPACE" \
    >"$work/kvload.json" &
load_pid=$!
started_pids+=("$load_pid")

commands() {
    redis-cli -h 127.0.0.1 -p "$leader" INFO stats | tr -d '\r' \
        | sed -n 's/^total_commands_processed://p'
}
previous=$(commands)
printf 'time      writes/s\n'
while is_running "$load_pid"; do
    sleep 1
    current=$(commands) || break
    printf '%s %8d\n' "$(date +%H:%M:%S)" $((current - previous))
    previous=$current
done
wait "$load_pid"

printf '\nSnapshots (each node logs its own):\n'
grep -h 'snapshot taken' "$work"/up/n*.log 2>/dev/null | sed 's/^\(....-..-..T\)\(........\).*index=\([^ ]*\).*millis=\([0-9]*\).*/\2 index \3, \4 ms/' \
    || true
printf '\nkvload: %s\n' "$(cat "$work/kvload.json")"
stop_process "$up_pid" TERM
