#!/usr/bin/env bash
# A leaderless keyspace next to a single-leader one and redis-server, same machine, same run.
#
#   bench/leaderless-compare.sh
#
# Starts `cohort up --nodes 3` (--fsync batch) with two keyspaces on all three nodes:
#   ll  STRATEGY leaderless N 3 W 2 R 2 CONFLICTS lww   (any node coordinates; lww because
#       kvload's SETs are blind, so keys written twice hold concurrent values)
#   sl  single-leader, ACK majority                (followers forward writes to the leader)
# and one redis-server (appendfsync always, the same durability as --fsync batch). Then:
#
# 1. Throughput: for each of CLIENTS_LIST, SETs then GETs of random keys (KEYSPACE keys,
#    VALUE_BYTES values) with bench/kvload.py (one connection per client, one request in
#    flight each; Cohort's clients spread over the three nodes, each connection sending
#    COHORT USE first), ROUNDS interleaved rounds; medians of ops/s, p50 and p99, and the
#    ratios leaderless / single-leader and leaderless / redis.
# 2. One node paused: PAUSE_CLIENTS clients write through the two other nodes for
#    PAUSE_SECONDS + 4 s while the third node is SIGSTOPped for PAUSE_SECONDS (for `sl` the
#    paused node is its leader, so the run includes a failover): failed requests, and p99
#    against the unpaused p99 of step 1.
# 3. Anti-entropy: node 3 is SIGSTOPped while REPAIR_KEYS distinct keys are written to a fresh
#    leaderless keyspace (ae: SLOPPY off, so no hints) through node 1; then resumed, and the
#    time until it holds them all (INFO leaderless on node 3), and the anti-entropy bytes it
#    received against the bytes of the states anti-entropy repaired there (writes its peers
#    still had queued for it arrive without anti-entropy).
#
# Environment: CLIENTS_LIST="16 64" DURATION=10 WARMUP=2 ROUNDS=3 KEYSPACE=100000
#   VALUE_BYTES=100 PAUSE_CLIENTS=64 PAUSE_SECONDS=10 REPAIR_KEYS=100000 GEN_PROCS=2
#   PARTS="throughput pause repair" (the steps to run)
#   BIN=path (a release cohort binary; otherwise built) KEEP=1 (keep the temporary directory)
# Needs redis-server and redis-cli (installed from Debian's packages when missing) and python3.
# Everything started here is stopped by PID on exit; nothing is killed by name.
set -euo pipefail

CLIENTS_LIST=${CLIENTS_LIST:-"16 64"}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
KEYSPACE=${KEYSPACE:-100000}
VALUE_BYTES=${VALUE_BYTES:-100}
PAUSE_CLIENTS=${PAUSE_CLIENTS:-64}
PAUSE_SECONDS=${PAUSE_SECONDS:-10}
REPAIR_KEYS=${REPAIR_KEYS:-100000}
GEN_PROCS=${GEN_PROCS:-2}
PARTS=${PARTS:-"throughput pause repair"}
part() { [[ " $PARTS " == *" $1 "* ]]; }
KEEP=${KEEP:-0}
READY_TIMEOUT_SECONDS=${READY_TIMEOUT_SECONDS:-120}
STOP_TIMEOUT_SECONDS=${STOP_TIMEOUT_SECONDS:-60}

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cohort-leaderless-compare.XXXXXX")
kvload="$root/bench/kvload.py"
started_pids=()
# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

ensure_redis
build_cohort

# --- Servers -----------------------------------------------------------------------------------

cohort_ports=()
cohort_pids=()
base=$(free_base_port 3 10000 20000)
"$BIN" up --nodes 3 --base-port "$base" --data-dir "$work/up" >"$work/up.out" 2>"$work/up.log" &
up_pid=$!
started_pids+=("$up_pid")
wait_until "cohort up" "$up_pid" grep -qx ready "$work/up.out" || die "cohort up did not start"
while read -r word node _ client _ peer pid_word pid _; do
    [[ "$word" == node && "$pid_word" == pid ]] || continue
    cohort_ports+=("${client##*:}")
    cohort_pids+=("$pid")
    started_pids+=("$pid")
    log "cohort node $node client $client pid $pid"
done <"$work/up.out"
((${#cohort_ports[@]} == 3)) || die "expected 3 nodes"
cli() { redis-cli -h 127.0.0.1 -p "$@"; }
is_leader() { cli "$1" INFO replication | tr -d '\r' | grep -qx 'role:leader'; }
any_leader() { for p in "${cohort_ports[@]}"; do is_leader "$p" && return 0; done; return 1; }
wait_until "cohort leader" "$up_pid" any_leader || die "no leader"
# CONFLICTS lww: kvload's SETs are blind (no GET first), so a key written twice holds two
# concurrent values; lww answers GET with the newest instead of -CONFLICT.
[[ $(cli "${cohort_ports[0]}" COHORT KEYSPACE CREATE ll STRATEGY leaderless N 3 W 2 R 2 CONFLICTS lww) == OK ]] \
    || die "creating ll failed"
[[ $(cli "${cohort_ports[0]}" COHORT KEYSPACE CREATE sl ACK majority) == OK ]] || die "creating sl failed"
[[ $(cli "${cohort_ports[0]}" COHORT KEYSPACE CREATE ae STRATEGY leaderless SLOPPY off) == OK ]] \
    || die "creating ae failed"
uses() { [[ $(printf 'COHORT USE %s\nPING\n' "$2" | cli "$1" | tail -1) == PONG ]]; }
sl_ready() { printf 'COHORT USE sl\nSET probe 1\n' | cli "$1" | tail -1 | grep -qx OK; }
for port in "${cohort_ports[@]}"; do
    wait_until "keyspaces on $port" "$up_pid" uses "$port" ll || die "ll not open on $port"
    wait_until "sl on $port" "$up_pid" sl_ready "$port" || die "sl not serving on $port"
done

redis_port=$(free_ports 1)
mkdir -p "$work/redis"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" --appendonly yes \
    --appendfsync always --save '' >"$work/redis.log" 2>&1 &
redis_pid=$!
started_pids+=("$redis_pid")
wait_ready "$redis_port" "$redis_pid" || die "redis-server did not start"

endpoints() { # ports...
    local out=() port
    for port in "$@"; do out+=("127.0.0.1:$port"); done
    local IFS=,
    echo "${out[*]}"
}
all_cohort=$(endpoints "${cohort_ports[@]}")

json() { python3 -c 'import json,sys; v=json.loads(sys.argv[1]).get(sys.argv[2]); print("-" if v is None else v)' "$1" "$2"; }

declare -A samples=()
declare -A unpaused_p99=()
kv() { # name op clients duration endpoints [keyspace]
    local name=$1 op=$2 clients=$3 duration=$4 targets=$5 use=${6:-}
    local extra=()
    [[ -n "$use" ]] && extra=(--use "$use")
    python3 "$kvload" bench --system resp --endpoints "$targets" --clients "$clients" \
        --procs "$GEN_PROCS" --duration "$duration" --warmup "$WARMUP" --keyspace "$KEYSPACE" \
        --value-bytes "$VALUE_BYTES" --op "$op" "${extra[@]}" 2>>"$work/kvload.log"
}

median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "-" }'; }
ratio() { python3 -c 'import sys; a, b = sys.argv[1], sys.argv[2]; print("-" if "-" in (a, b) or float(b) == 0 else "%.2f" % (float(a) / float(b)))' "$1" "$2"; }

# --- 1. Throughput -----------------------------------------------------------------------------

part throughput || ROUNDS=0
for round in $(seq 1 "$ROUNDS"); do
    for clients in $CLIENTS_LIST; do
        for op in set get; do
            for system in ll sl redis; do
                case $system in
                    redis) output=$(kv redis "$op" "$clients" "$DURATION" "127.0.0.1:$redis_port") ;;
                    *) output=$(kv "$system" "$op" "$clients" "$DURATION" "$all_cohort" "$system") ;;
                esac
                log "round $round $system $op c=$clients: $output"
                for field in ops_per_s p50_ms p99_ms errors; do
                    samples["$system|$op|$clients|$field"]+="$(json "$output" "$field") "
                done
            done
        done
    done
done

if part throughput; then
echo
echo "=== leaderless (N 3 W 2 R 2) vs single-leader (majority) vs redis-server (appendfsync always), 3 nodes on one machine, $(nproc) cores, medians of $ROUNDS rounds ==="
printf '%-4s %-8s %-12s %-12s %-12s %-8s %-8s %-16s %-16s %-16s\n' op clients ll_ops/s sl_ops/s redis_ops/s ll/sl ll/redis "p50 ll/sl/redis" "p99 ll/sl/redis" "errors ll/sl/rd"
for op in set get; do
    for clients in $CLIENTS_LIST; do
        declare -A m=()
        for system in ll sl redis; do
            for field in ops_per_s p50_ms p99_ms errors; do
                m[$system$field]=$(echo "${samples[$system|$op|$clients|$field]}" | median)
            done
        done
        printf '%-4s %-8s %-12s %-12s %-12s %-8s %-8s %-16s %-16s %-16s\n' "$op" "$clients" \
            "${m[llops_per_s]}" "${m[slops_per_s]}" "${m[redisops_per_s]}" \
            "$(ratio "${m[llops_per_s]}" "${m[slops_per_s]}")" "$(ratio "${m[llops_per_s]}" "${m[redisops_per_s]}")" \
            "${m[llp50_ms]}/${m[slp50_ms]}/${m[redisp50_ms]}" "${m[llp99_ms]}/${m[slp99_ms]}/${m[redisp99_ms]}" \
            "${m[llerrors]}/${m[slerrors]}/${m[rediserrors]}"
        unpaused_p99["$op$clients"]="${m[llp99_ms]}"
    done
done
fi

# --- 2. One node paused ------------------------------------------------------------------------

leader_of_sl() {
    local i
    for i in 0 1 2; do
        if printf 'COHORT USE sl\nINFO replication\n' | cli "${cohort_ports[$i]}" | tr -d '\r' | grep -qx 'role:leader'; then
            echo "$i"; return 0
        fi
    done
    return 1
}
paused_run() { # system paused-index
    local system=$1 paused=$2 others=() i
    for i in 0 1 2; do [[ $i == "$paused" ]] || others+=("${cohort_ports[$i]}"); done
    kv "$system" set "$PAUSE_CLIENTS" $((PAUSE_SECONDS + 4)) "$(endpoints "${others[@]}")" "$system" \
        >"$work/paused-$system.json" &
    local load=$!
    sleep $((WARMUP + 2))
    kill -STOP "${cohort_pids[$paused]}"
    sleep "$PAUSE_SECONDS"
    kill -CONT "${cohort_pids[$paused]}"
    wait "$load" || true
    cat "$work/paused-$system.json"
}
if part pause; then
echo
echo "=== one node SIGSTOPped for ${PAUSE_SECONDS}s under $PAUSE_CLIENTS writing clients (through the other two nodes) ==="
ll_paused=$(paused_run ll 2)
sl_leader=$(leader_of_sl) || sl_leader=0
sl_paused=$(paused_run sl "$sl_leader")
for pair in "ll:$ll_paused" "sl:$sl_paused"; do
    system=${pair%%:*}
    output=${pair#*:}
    echo "$system: ops/s $(json "$output" ops_per_s) p99_ms $(json "$output" p99_ms) errors $(json "$output" errors) (paused node: $([[ $system == sl ]] && echo "the keyspace's leader" || echo node 3))"
done
if [[ -n "${unpaused_p99[set$PAUSE_CLIENTS]:-}" ]]; then
    echo "leaderless p99 paused / unpaused at $PAUSE_CLIENTS clients: $(ratio "$(json "$ll_paused" p99_ms)" "${unpaused_p99[set$PAUSE_CLIENTS]}")"
fi
fi

# --- 3. Anti-entropy repair --------------------------------------------------------------------

field_of() { # port field
    printf 'COHORT USE ae\nINFO leaderless\n' | cli "$1" | tr -d '\r' | awk -F: -v f="$2" '$1 == f { print $2 }'
}
part repair || exit 0
echo
echo "=== anti-entropy: node 3 misses $REPAIR_KEYS writes ==="
kill -STOP "${cohort_pids[2]}"
python3 - "${cohort_ports[0]}" "$REPAIR_KEYS" "$VALUE_BYTES" <<'PY'
import socket, sys, threading
port, keys, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
value = b"v" * size
def resp(*args):
    out = b"*%d\r\n" % len(args)
    for a in args:
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    return out
def writer(first, last):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(resp(b"COHORT", b"USE", b"ae"))
    replies, buffer, batch = 0, b"", 200
    expected = 1
    for start in range(first, last, batch):
        chunk = b"".join(resp(b"SET", b"ae:%d" % i, value) for i in range(start, min(last, start + batch)))
        s.sendall(chunk)
        expected += min(last, start + batch) - start
        while buffer.count(b"\r\n") < expected:
            buffer += s.recv(1 << 20)
    if buffer.count(b"+OK") != expected:
        print("writer: %d of %d replies were OK" % (buffer.count(b"+OK"), expected), file=sys.stderr)
    s.close()
threads = [threading.Thread(target=writer, args=(k * keys // 8, (k + 1) * keys // 8)) for k in range(8)]
for t in threads: t.start()
for t in threads: t.join()
PY
node1_keys=$(field_of "${cohort_ports[0]}" leaderless_keys)
log "wrote $REPAIR_KEYS keys with node 3 paused (node 1 holds $node1_keys keys)"
started=$(now_ms)
kill -CONT "${cohort_pids[2]}"
held=0
while (($(now_ms) - started < 300000)); do
    held=$(field_of "${cohort_ports[2]}" leaderless_keys || echo 0)
    [[ "${held:-0}" -ge "$REPAIR_KEYS" ]] && break
    sleep 0.5
done
elapsed=$(($(now_ms) - started))
received=$(field_of "${cohort_ports[2]}" leaderless_anti_entropy_bytes_received || echo 0)
repaired=$(field_of "${cohort_ports[2]}" leaderless_anti_entropy_keys_repaired || echo 0)
# Some missed writes reach node 3 anyway, from its peers' outbound queues, when it resumes;
# anti-entropy repairs the rest, and its bytes are set against the states it repaired. One
# repaired state on the wire: key (u32 length, bytes), clock (u32 count, one 16-byte entry),
# u32 sibling count, sibling (dot 16, stamp 12, presence 1, u32 length, value).
state_bytes=$(python3 -c "print($repaired * (4 + len('ae:$REPAIR_KEYS') + 4 + 16 + 4 + 16 + 12 + 1 + 4 + $VALUE_BYTES))")
echo "node 3 held $held of $REPAIR_KEYS keys $elapsed ms after resuming"
echo "anti-entropy repaired $repaired keys there (the rest came from its peers' queues): $received bytes received for about $state_bytes bytes of repaired states, ratio $(ratio "$received" "$state_bytes")"
