#!/usr/bin/env bash
# Seeds a new replica from a snapshot larger than the old in-memory ceiling (1 GiB), and
# reports how long it took and how much memory each node needed: snapshots stream from disk to
# disk, so neither node's peak resident memory should come near the dataset's size.
#
#   bench/snapshot-seed.sh
#
# Starts n1 as a one-node cluster on free loopback ports, loads DATA_MB of values through it
# (SET of VALUE_KB values, pipelined), starts n2 with --join and adds it with COHORT NODE ADD:
# n1 streams its engine into a snapshot file, sends the file in 1 MiB chunks, and n2 writes
# them to disk and restores its engine from the file. Prints the load and seed times, the
# snapshot's size, and each node's peak resident memory (VmHWM) against the dataset's size.
#
# Environment:
#   DATA_MB=1536  VALUE_KB=256
#   BIN=path      a built cohort binary; otherwise one is built (release)
#   KEEP=1        keep the temporary directory (logs, data); it is always kept on failure
#
# Needs redis-cli (Debian's redis-tools), python3, and about 5 x DATA_MB of free disk.
# Everything started here is stopped by PID on exit.
set -euo pipefail

DATA_MB=${DATA_MB:-1536}
VALUE_KB=${VALUE_KB:-256}
KEEP=${KEEP:-0}
READY_TIMEOUT_SECONDS=${READY_TIMEOUT_SECONDS:-120}
STOP_TIMEOUT_SECONDS=${STOP_TIMEOUT_SECONDS:-120}
SEED_TIMEOUT_SECONDS=${SEED_TIMEOUT_SECONDS:-900}

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cohort-snapshot-seed.XXXXXX")
started_pids=()

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

command -v redis-cli >/dev/null || die "redis-cli is needed (Debian's redis-tools)"
build_cohort

read -r port1 peer1 port2 peer2 <<<"$(free_ports 4)"
peers="n1=127.0.0.1:$peer1,n2=127.0.0.1:$peer2"
"$BIN" server --id n1 --port "$port1" --peer-port "$peer1" --peers "n1=127.0.0.1:$peer1" \
    --data-dir "$work/n1" >"$work/n1.log" 2>&1 &
n1=$!
started_pids+=("$n1")
wait_ready "$port1" "$n1" || die "n1 did not start"
role() { redis-cli -h 127.0.0.1 -p "$1" INFO replication 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"; }
leads() { [[ "$(role "$port1" role)" == leader ]]; }
wait_until "n1 leads" "$n1" leads || die "n1 never led"

keys=$((DATA_MB * 1024 / VALUE_KB))
log "loading $keys values of ${VALUE_KB} KiB (${DATA_MB} MiB) through n1"
load_started=$(now_ms)
python3 - "$port1" "$keys" "$VALUE_KB" <<'PY'
import os, socket, sys
port, keys, value_kb = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
value = os.urandom(value_kb * 1024)
sock = socket.create_connection(("127.0.0.1", port))
reader = sock.makefile("rb")
depth = 16
def send(index):
    key = b"key:%08d" % index
    sock.sendall(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n" % (len(key), key, len(value)) + value + b"\r\n")
def receive():
    line = reader.readline()
    if line != b"+OK\r\n":
        sys.exit("unexpected reply %r" % line)
sent = 0
for index in range(min(depth, keys)):
    send(index)
    sent += 1
for _ in range(keys):
    receive()
    if sent < keys:
        send(sent)
        sent += 1
PY
load_ms=$(($(now_ms) - load_started))
[[ "$(redis-cli -h 127.0.0.1 -p "$port1" DBSIZE)" == "$keys" ]] || die "n1 does not hold $keys keys"

"$BIN" server --id n2 --port "$port2" --peer-port "$peer2" --peers "$peers" --join \
    --data-dir "$work/n2" >"$work/n2.log" 2>&1 &
n2=$!
started_pids+=("$n2")
wait_ready "$port2" "$n2" || die "n2 did not start"
commit=$(role "$port1" cohort_commit_index)
resident_mb() { awk '/VmRSS/ { printf "%d", $2 / 1024 }' "/proc/$1/status"; }
n1_before=$(resident_mb "$n1")
log "adding n2 (n1 committed through $commit)"
seed_started=$(now_ms)
redis-cli -h 127.0.0.1 -p "$port1" COHORT NODE ADD n2 "127.0.0.1:$peer2" >/dev/null
seeded() { (($(role "$port2" cohort_applied_index || echo 0) >= commit)); }
READY_TIMEOUT_SECONDS=$SEED_TIMEOUT_SECONDS wait_until "n2 seeded" "$n1 $n2" seeded \
    || die "n2 did not catch up within ${SEED_TIMEOUT_SECONDS}s"
seed_ms=$(($(now_ms) - seed_started))
grep -q "installed snapshot" "$work/n2.log" || die "n2 was not seeded from a snapshot"
held=$(printf 'COHORT CONSISTENCY any\nDBSIZE\n' | redis-cli -h 127.0.0.1 -p "$port2" | tail -1)
[[ "$held" == "$keys" ]] || die "n2 holds $held keys, not $keys"

peak_mb() { awk '/VmHWM/ { printf "%d", $2 / 1024 }' "/proc/$1/status"; }
snapshot_mb=$(($(stat -c %s "$work/n1/raft/snapshot") / 1048576))
printf 'dataset            %6d MiB (%d keys of %d KiB)\n' "$DATA_MB" "$keys" "$VALUE_KB"
printf 'snapshot file      %6d MiB\n' "$snapshot_mb"
printf 'load               %6.1f s\n' "$(echo "$load_ms / 1000" | bc -l)"
printf 'seed (ADD -> caught up) %6.1f s\n' "$(echo "$seed_ms / 1000" | bc -l)"
printf 'n1 resident before ADD %6d MiB (after the load)\n' "$n1_before"
printf 'n1 peak resident   %6d MiB (%.2f x dataset)\n' "$(peak_mb "$n1")" "$(echo "$(peak_mb "$n1") / $DATA_MB" | bc -l)"
printf 'n2 peak resident   %6d MiB (%.2f x dataset)\n' "$(peak_mb "$n2")" "$(echo "$(peak_mb "$n2") / $DATA_MB" | bc -l)"
