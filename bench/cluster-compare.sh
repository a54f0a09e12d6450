#!/usr/bin/env bash
# Cohort next to etcd and PostgreSQL, replicated, on the same machine, in the same run.
#
#   bench/cluster-compare.sh
#
# Systems (all on 127.0.0.1, free loopback ports, data in one temporary directory):
#   cohort    `cohort up --nodes 3` (a 3-node Raft cluster), or with COHORT_SINGLE=1 one
#             `cohort server --fsync batch` (until `cohort up` lands). Durability: COHORT_FSYNC.
#   etcd      a 3-member etcd 3.4 cluster (Debian's etcd-server), default durability (fsync on),
#             default heartbeat 100 ms and election timeout 1000 ms.
#   postgres  PostgreSQL 15 primary plus ONE synchronous streaming standby
#             (synchronous_standby_names = 'standby1', synchronous_commit = on, fsync on), so a
#             commit is acknowledged once it is flushed on both, like a Raft majority of 3.
#
# 1. Write throughput and latency: for each CLIENTS_LIST entry, closed-loop single-key writes
#    with random keys from a KEYSPACE (100000) key space and VALUE_BYTES (100) byte values:
#      cohort    SET key:<n> <value>
#      etcd      Put key:<n> <value>
#      postgres  INSERT INTO kv(k, v) VALUES (:k, :v) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v
#    WARMUP seconds unmeasured, then DURATION seconds measured; ROUNDS interleaved rounds (the
#    order of the systems alternates); the table shows the medians of ops/s, p50 and p99.
# 2. Failover (cohort cluster and etcd): SIGKILL the leader, time until the first write through a
#    surviving node succeeds (kvload starts a write through every survivor every 20 ms, so the
#    resolution is 20 ms); the killed node is restarted on its data and the cluster is healthy
#    again before the next of TRIALS trials; the table shows p50/p99/max in ms. Failover time is
#    mostly the election timeout: etcd's default is 1000 ms (elections after 1000-2000 ms without
#    a heartbeat), Cohort's 10-20 ticks of 50 ms; ETCD_ARGS can align them. The Cohort failover
#    cluster is always three `cohort server --id nI --peers ...` processes (so exactly the killed
#    node can be restarted), whatever COHORT_LAUNCH says.
#
# The load generator (the choice that decides whether the ratios mean anything):
#   One generator, bench/kvload.py, drives all three systems. It is Python 3 (standard library
#   only) with a small hand-written asyncio protocol per system: RESP for Cohort, etcd's v3
#   HTTP/JSON gateway (POST /v3/kv/put, HTTP/1.1 keep-alive), and PostgreSQL's extended query
#   protocol with the upsert prepared once per connection. One connection per client, one request
#   in flight per connection, the clients split over GEN_PROCS processes, latency per request from
#   CLOCK_MONOTONIC. So every system sees the same client, the same keys and the same clock;
#   the ratios compare servers, not client libraries.
#   Why not the native tools alone: etcd's `benchmark` tool is not packaged in Debian (only
#   etcd-server and etcd-client are), and redis-benchmark and pgbench differ from each other in
#   client cost and in how they measure. They are still run (NATIVE=1, the default) as a cross-
#   check of the Python generator: redis-benchmark against Cohort, pgbench against PostgreSQL.
#   Costs to keep in mind: the generator needs CPU, about 50-85 us per write whatever the system
#   (measured on a 2-core VM: 0.66-0.76 cores at 11.5k-15.6k Cohort writes/s, 0.44 cores at 6.3k
#   PostgreSQL writes/s, 0.24 cores at 2.5k etcd writes/s). The table prints its share, gen_cores,
#   next to the whole machine's busy cores, host_cores (from /proc/stat, so other load on the
#   machine shows up there too). On 2 cores that CPU is taken from the servers, which costs the
#   fastest system the most: redis-benchmark reported 1.3-1.4x kvload's Cohort writes/s and
#   pgbench 1.1-1.3x kvload's PostgreSQL writes/s (16-64 clients), so the kvload ratios, if
#   anything, understate Cohort's lead. etcd is reached through its grpc-gateway, which costs etcd
#   some CPU for JSON and an in-process gRPC hop that a Go gRPC client would not pay.
#
# Environment:
#   SYSTEMS="cohort etcd postgres"   the systems to run (any subset)
#   CLIENTS_LIST="1 16 64"           concurrent clients (connections)
#   DURATION=10                      measured seconds per run
#   WARMUP=2                         unmeasured seconds before each run
#   ROUNDS=3                         interleaved rounds; the table shows medians
#   TRIALS=20                        failover trials per system; 0 skips failover
#   TARGET=leader                    send writes to the leader (etcd, cohort) or to `all` nodes
#   GEN_PROCS=<cores>                load-generator processes
#   NATIVE=1                         also run redis-benchmark (cohort) and pgbench (postgres)
#   KEYSPACE=100000  VALUE_BYTES=100
#   BIN=path                         a built cohort binary; otherwise one is built (release)
#   COHORT_SINGLE=1                  one `cohort server` instead of `cohort up --nodes 3`; no
#                                    Cohort failover then
#   COHORT_FSYNC=batch               Cohort durability (passed as --fsync, and in the
#                                    environment of `cohort up`)
#   COHORT_UP_ARGS=""                extra arguments for `cohort up`
#   COHORT_LAUNCH=up                 `up`: the throughput cluster comes from `cohort up --nodes 3`;
#                                    `nodes`: from three `cohort server --id ... --peers ...`
#                                    processes, as the failover cluster always is
#   COHORT_NODE_ARGS=""              extra arguments for each `cohort server --id ...` node
#   ETCD_ARGS=""                     extra arguments for each etcd member, e.g.
#                                    "--heartbeat-interval 50 --election-timeout 500" to match
#                                    Cohort's default election timing (50 ms ticks, 10-20 ticks)
#   PG_BIN=/usr/lib/postgresql/15/bin
#   KEEP=1                           keep the temporary directory (logs, data); it is always kept
#                                    on failure
#
# Needs python3, etcd + etcdctl, PostgreSQL 15 server binaries, redis-cli and redis-benchmark
# (installed from Debian's packages when missing). PostgreSQL refuses to run as root: when this
# script runs as root, the two postgres servers run as the `postgres` user (or a `cohortbench`
# system user created for it) through setpriv, which execs, so the PID recorded is the server's.
# Everything started here is stopped by PID on exit; nothing is killed by name.
set -euo pipefail

SYSTEMS=${SYSTEMS:-"cohort etcd postgres"}
CLIENTS_LIST=${CLIENTS_LIST:-"1 16 64"}
DURATION=${DURATION:-10}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
TRIALS=${TRIALS:-20}
TARGET=${TARGET:-leader}
GEN_PROCS=${GEN_PROCS:-$(nproc)}
NATIVE=${NATIVE:-1}
KEYSPACE=${KEYSPACE:-100000}
VALUE_BYTES=${VALUE_BYTES:-100}
COHORT_SINGLE=${COHORT_SINGLE:-0}
COHORT_FSYNC=${COHORT_FSYNC:-batch}
COHORT_UP_ARGS=${COHORT_UP_ARGS:-}
COHORT_LAUNCH=${COHORT_LAUNCH:-up}
COHORT_NODE_ARGS=${COHORT_NODE_ARGS:-}
ETCD_ARGS=${ETCD_ARGS:-}
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
KEEP=${KEEP:-0}
READY_TIMEOUT_SECONDS=${READY_TIMEOUT_SECONDS:-120}
STOP_TIMEOUT_SECONDS=${STOP_TIMEOUT_SECONDS:-60}
FAILOVER_DEADLINE_SECONDS=${FAILOVER_DEADLINE_SECONDS:-60}
read -r -a SYSTEM_LIST <<<"$SYSTEMS"
read -r -a CLIENT_COUNTS <<<"$CLIENTS_LIST"

root=$(cd "$(dirname "$0")/.." && pwd)
kvload="$root/bench/kvload.py"
work=$(mktemp -d "${TMPDIR:-/tmp}/cohort-cluster-compare.XXXXXX")
started_pids=()

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

wants() { # system
    local system
    for system in "${SYSTEM_LIST[@]}"; do [[ "$system" == "$1" ]] && return 0; done
    return 1
}

# --- Tools -------------------------------------------------------------------------------------

ensure_tools() {
    command -v python3 >/dev/null || die "python3 is needed"
    [[ -f "$kvload" ]] || die "no load generator at $kvload"
    local packages=()
    if wants cohort || [[ "$NATIVE" == 1 ]]; then
        command -v redis-cli >/dev/null && command -v redis-benchmark >/dev/null || packages+=(redis-tools)
    fi
    if wants etcd; then
        command -v etcd >/dev/null || packages+=(etcd-server)
        command -v etcdctl >/dev/null || packages+=(etcd-client)
    fi
    if wants postgres; then
        [[ -x "$PG_BIN/postgres" && -x "$PG_BIN/pgbench" ]] || packages+=(postgresql)
    fi
    if ((${#packages[@]} > 0)); then apt_install "${packages[@]}"; fi
    if wants postgres; then
        [[ -x "$PG_BIN/postgres" ]] || die "no PostgreSQL server in PG_BIN=$PG_BIN"
    fi
}

ensure_cohort() {
    wants cohort || return 0
    build_cohort
}

join_by() { # separator words...
    local separator=$1
    shift
    local IFS=$separator
    echo "$*"
}

# --- etcd --------------------------------------------------------------------------------------

etcd_client_ports=()
etcd_peer_ports=()
etcd_pids=()
etcd_initial_cluster=""
etcd_endpoints=""

start_etcd_member() { # index (0-based)
    local i=$1
    local name="e$((i + 1))"
    local client="http://127.0.0.1:${etcd_client_ports[$i]}" peer="http://127.0.0.1:${etcd_peer_ports[$i]}"
    mkdir -p "$work/etcd"
    # shellcheck disable=SC2086 # ETCD_ARGS is a list of words
    etcd --name "$name" --data-dir "$work/etcd/$name" \
        --listen-client-urls "$client" --advertise-client-urls "$client" \
        --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
        --initial-cluster "$etcd_initial_cluster" --initial-cluster-state new \
        --initial-cluster-token "cohort-bench-$$" --logger zap --log-outputs stderr $ETCD_ARGS \
        >>"$work/etcd/$name.log" 2>&1 &
    etcd_pids[i]=$!
    disown "${etcd_pids[$i]}"
    started_pids+=("${etcd_pids[$i]}")
}

etcdctl_all() { # args...
    ETCDCTL_API=3 etcdctl --endpoints="$etcd_endpoints" --dial-timeout=1s --command-timeout=3s "$@"
}

# Healthy: every member answers a quorum read (which needs an elected leader).
etcd_healthy() { etcdctl_all endpoint health; }

start_etcd() {
    local ports
    read -r -a ports <<<"$(free_ports 6)"
    etcd_client_ports=("${ports[@]:0:3}")
    etcd_peer_ports=("${ports[@]:3:3}")
    local members=() endpoints=() i
    for i in 0 1 2; do
        members+=("e$((i + 1))=http://127.0.0.1:${etcd_peer_ports[$i]}")
        endpoints+=("127.0.0.1:${etcd_client_ports[$i]}")
    done
    etcd_initial_cluster=$(join_by , "${members[@]}")
    etcd_endpoints=$(join_by , "${endpoints[@]}")
    for i in 0 1 2; do start_etcd_member "$i"; done
    wait_until "etcd cluster" "${etcd_pids[*]}" etcd_healthy || {
        tail -n 20 "$work"/etcd/*.log >&2 || true
        die "etcd did not become healthy"
    }
    log "etcd: 3 members on $etcd_endpoints"
}

# Prints the 0-based index of the current leader among the members (by client port).
etcd_leader_index() {
    etcdctl_all endpoint status -w json 2>/dev/null | python3 -c '
import json, sys
ports = sys.argv[1].split(",")
statuses = json.load(sys.stdin)
for status in statuses:
    header = status["Status"]["header"]
    if header["member_id"] == status["Status"]["leader"]:
        port = status["Endpoint"].rsplit(":", 1)[1]
        print(ports.index(port))
        sys.exit(0)
sys.exit(1)' "$(join_by , "${etcd_client_ports[@]}")"
}

stop_etcd() {
    local pid
    for pid in "${etcd_pids[@]}"; do stop_process "$pid" TERM; done
}

# --- PostgreSQL --------------------------------------------------------------------------------

pg_run_as=()
pg_primary_port=""
pg_standby_port=""
pg_pids=()

# PostgreSQL refuses to run as root; setpriv execs (no fork), so $! is the server's PID.
prepare_pg_user() {
    if [[ $(id -u) -ne 0 ]]; then return; fi
    local user=postgres
    if ! id "$user" >/dev/null 2>&1; then
        user=cohortbench
        id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
    fi
    pg_run_as=(setpriv "--reuid=$user" "--regid=$(id -g "$user")" --init-groups --)
    chmod 755 "$work" # mktemp made it 0700; the server user must reach its directories
    mkdir -p "$work/pg"
    chown "$user:$(id -g "$user")" "$work/pg"
    "${pg_run_as[@]}" test -w "$work/pg" \
        || die "user $user cannot write $work/pg (a parent directory is private?); try TMPDIR=/tmp"
    log "postgres runs as user $user"
}

pg_sql() { # port sql
    "$PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$1" -U bench -d postgres -c "$2"
}

start_pg_server() { # dir
    "${pg_run_as[@]}" "$PG_BIN/postgres" -D "$1" >>"$1.log" 2>&1 &
    local pid=$!
    disown "$pid"
    started_pids+=("$pid")
    pg_pids+=("$pid")
}

pg_standby_is_sync() {
    [[ "$(pg_sql "$pg_primary_port" "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'")" == sync ]]
}

start_postgres() {
    prepare_pg_user
    mkdir -p "$work/pg"
    local ports
    read -r -a ports <<<"$(free_ports 2)"
    pg_primary_port=${ports[0]}
    pg_standby_port=${ports[1]}
    local primary="$work/pg/primary" standby="$work/pg/standby"
    # initdb's pg_hba.conf with --auth=trust also trusts replication connections from 127.0.0.1.
    "${pg_run_as[@]}" "$PG_BIN/initdb" -D "$primary" -U bench --auth=trust -E UTF8 >"$work/pg/initdb.log" 2>&1 \
        || { cat "$work/pg/initdb.log" >&2; die "initdb failed"; }
    cat >>"$primary/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $pg_primary_port
unix_socket_directories = '$work/pg'
max_connections = 200
wal_level = replica
max_wal_senders = 4
fsync = on
synchronous_commit = on
synchronous_standby_names = 'standby1'
EOF
    start_pg_server "$primary"
    wait_until "postgres primary" "${pg_pids[0]}" pg_sql "$pg_primary_port" "SELECT 1" || {
        tail -n 20 "$primary.log" >&2
        die "postgres primary did not start"
    }
    "${pg_run_as[@]}" "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p "$pg_primary_port" -U bench -D "$standby" \
        -R -X stream -c fast >"$work/pg/basebackup.log" 2>&1 \
        || { cat "$work/pg/basebackup.log" >&2; die "pg_basebackup failed"; }
    # The standby's walreceiver reports cluster_name as its application_name.
    cat >>"$standby/postgresql.conf" <<EOF
port = $pg_standby_port
cluster_name = 'standby1'
hot_standby = on
EOF
    start_pg_server "$standby"
    wait_until "postgres synchronous standby" "${pg_pids[*]}" pg_standby_is_sync || {
        tail -n 20 "$primary.log" "$standby.log" >&2
        die "postgres standby did not become synchronous"
    }
    pg_sql "$pg_primary_port" "CREATE TABLE kv (k text PRIMARY KEY, v text NOT NULL)"
    log "postgres: primary on $pg_primary_port, synchronous standby on $pg_standby_port ($("$PG_BIN/postgres" --version))"
}

stop_postgres() {
    local pid
    # SIGINT is PostgreSQL's fast shutdown; the primary first, so it does not wait on the standby.
    for pid in "${pg_pids[@]}"; do stop_process "$pid" INT; done
}

# --- Cohort ------------------------------------------------------------------------------------

cohort_ports=()
cohort_peer_ports=()
cohort_pids=()
cohort_up_pid=""

cohort_is_leader() { # port
    redis-cli -h 127.0.0.1 -p "$1" INFO replication 2>/dev/null | tr -d '\r' | grep -qx 'role:leader'
}

cohort_ping() { # port
    [[ "$(redis-cli -h 127.0.0.1 -p "$1" PING 2>/dev/null)" == PONG ]]
}

# Prints the 0-based index of the node that says role:leader.
cohort_leader_index() {
    local i
    for i in "${!cohort_ports[@]}"; do
        if cohort_is_leader "${cohort_ports[$i]}"; then echo "$i"; return 0; fi
    done
    return 1
}

cohort_up_ready() { grep -qx 'ready' "$work/cohort-up.out"; }

start_cohort() {
    mkdir -p "$work/cohort"
    if [[ "$COHORT_SINGLE" == 1 ]]; then
        local port
        port=$(free_ports 1)
        "$BIN" server --port "$port" --data-dir "$work/cohort/single" --fsync "$COHORT_FSYNC" \
            >>"$work/cohort/single.log" 2>&1 &
        cohort_pids=("$!")
        disown "$!"
        started_pids+=("$!")
        cohort_ports=("$port")
        wait_until "cohort server" "${cohort_pids[0]}" cohort_ping "$port" || {
            tail -n 20 "$work/cohort/single.log" >&2
            die "cohort did not start"
        }
        log "cohort: one node on $port (COHORT_SINGLE=1, --fsync $COHORT_FSYNC)"
        return
    fi
    if [[ "$COHORT_LAUNCH" == nodes ]]; then
        start_cohort_nodes
        return
    fi
    local base
    base=$(free_base_port 3 10000 20000)
    # shellcheck disable=SC2086 # COHORT_UP_ARGS is a list of words
    COHORT_FSYNC="$COHORT_FSYNC" "$BIN" up --nodes 3 --base-port "$base" --data-dir "$work/cohort/up" \
        $COHORT_UP_ARGS >"$work/cohort-up.out" 2>"$work/cohort/up.log" &
    cohort_up_pid=$!
    disown "$cohort_up_pid"
    started_pids+=("$cohort_up_pid")
    wait_until "cohort up" "$cohort_up_pid" cohort_up_ready || {
        tail -n 20 "$work/cohort-up.out" "$work/cohort/up.log" >&2
        die "cohort up did not print ready"
    }
    # Lines look like: node n1 client 127.0.0.1:7379 peer 127.0.0.1:17379 pid 12345
    local word node client peer pid_word pid
    while read -r word node _ client _ peer pid_word pid _; do
        [[ "$word" == node && "$pid_word" == pid ]] || continue
        cohort_ports+=("${client##*:}")
        cohort_pids+=("$pid")
        started_pids+=("$pid") # stopped by `cohort up`; recorded in case it does not
        log "cohort: node $node client $client peer $peer pid $pid"
    done <"$work/cohort-up.out"
    ((${#cohort_ports[@]} == 3)) || die "cohort up printed ${#cohort_ports[@]} node lines, expected 3"
    wait_until "cohort leader" "$cohort_up_pid" cohort_leader_index || die "no cohort node says role:leader"
}

stop_cohort() {
    local pid
    if [[ -n "$cohort_up_pid" ]]; then stop_process "$cohort_up_pid" TERM; fi
    for pid in "${cohort_pids[@]}"; do stop_process "$pid" TERM; done
    cohort_pids=()
    cohort_ports=()
    cohort_up_pid=""
}

# --- Throughput --------------------------------------------------------------------------------

declare -A samples=()

# Prints the endpoints (host:port,...) the load goes to: the leader, or every node (TARGET=all).
endpoints_for() { # system
    local ports=() leader
    case "$1" in
        postgres) ports=("$pg_primary_port") ;;
        etcd)
            if [[ "$TARGET" == all ]]; then ports=("${etcd_client_ports[@]}"); else
                leader=$(etcd_leader_index) || die "no etcd leader"
                ports=("${etcd_client_ports[$leader]}")
            fi
            ;;
        cohort)
            if [[ "$TARGET" == all || ${#cohort_ports[@]} == 1 ]]; then ports=("${cohort_ports[@]}"); else
                leader=$(cohort_leader_index) || die "no cohort leader"
                ports=("${cohort_ports[$leader]}")
            fi
            ;;
    esac
    local endpoints=() port
    for port in "${ports[@]}"; do endpoints+=("127.0.0.1:$port"); done
    join_by , "${endpoints[@]}"
}

json_field() { # json field
    python3 -c 'import json, sys; v = json.loads(sys.argv[1]).get(sys.argv[2]); print("-" if v is None else v)' "$1" "$2"
}

# Runs bench/kvload.py against `system` with `clients` and appends its results to `samples`.
run_kvload() { # system clients
    local system=$1 clients=$2
    local protocol
    case "$system" in cohort) protocol=resp ;; etcd) protocol=etcd ;; postgres) protocol=pg ;; esac
    local endpoints output
    endpoints=$(endpoints_for "$system")
    output=$(python3 "$kvload" bench --system "$protocol" --endpoints "$endpoints" --clients "$clients" \
        --procs "$GEN_PROCS" --duration "$DURATION" --warmup "$WARMUP" --keyspace "$KEYSPACE" \
        --value-bytes "$VALUE_BYTES" 2>>"$work/kvload.log") || {
        log "kvload failed against $system with $clients clients: $output"
        return 0
    }
    local field
    for field in ops_per_s p50_ms p99_ms errors gen_cores host_cores; do
        samples["kvload|$system|$clients|$field"]+="$(json_field "$output" "$field") "
    done
    log "kvload $system c=$clients: $output"
    LAST_OPS=$(json_field "$output" ops_per_s)
}

# redis-benchmark against Cohort: about DURATION seconds of requests at the rate kvload saw.
run_redis_benchmark() { # clients expected-ops-per-s
    local clients=$1 rate=$2
    local requests port output
    requests=$(awk -v r="$rate" -v d="$DURATION" 'BEGIN { n = int(r * d); if (n < 1000) n = 1000; print n }')
    port=$(endpoints_for cohort | cut -d, -f1 | cut -d: -f2)
    output=$(redis-benchmark -h 127.0.0.1 -p "$port" -t set -c "$clients" -n "$requests" -r "$KEYSPACE" \
        -d "$VALUE_BYTES" --csv 2>/dev/null) || { log "redis-benchmark failed"; return 0; }
    local test rps p50 p99
    # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms",...
    while IFS=, read -r test rps _ _ p50 _ p99 _; do
        [[ "${test//\"/}" == SET ]] || continue
        samples["native|cohort|$clients|ops_per_s"]+="${rps//\"/} "
        samples["native|cohort|$clients|p50_ms"]+="${p50//\"/} "
        samples["native|cohort|$clients|p99_ms"]+="${p99//\"/} "
        log "redis-benchmark cohort c=$clients n=$requests: ${rps//\"/} req/s p50 ${p50//\"/} ms p99 ${p99//\"/} ms"
    done <<<"$output"
}

# pgbench against the primary: WARMUP + DURATION seconds; the per-transaction log (-l) gives the
# latencies, and only transactions that finished in the last DURATION seconds count.
run_pgbench() { # clients
    local clients=$1
    local threads=$((clients < GEN_PROCS ? clients : GEN_PROCS))
    local script="$work/pgbench-upsert.sql" prefix="$work/pgbench-log/c$clients"
    mkdir -p "$work/pgbench-log"
    rm -f "$prefix".*
    cat >"$script" <<EOF
\set k random(0, $((KEYSPACE - 1)))
INSERT INTO kv(k, v) VALUES ('key:' || :k, repeat('v', $VALUE_BYTES)) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v;
EOF
    local total
    total=$(awk -v w="$WARMUP" -v d="$DURATION" 'BEGIN { printf "%d", w + d + 0.999 }')
    "$PG_BIN/pgbench" -h 127.0.0.1 -p "$pg_primary_port" -U bench -n -M prepared -c "$clients" -j "$threads" \
        -T "$total" -f "$script" -l --log-prefix="$prefix" postgres >>"$work/pgbench.log" 2>&1 \
        || { log "pgbench failed (see $work/pgbench.log)"; return 0; }
    local output
    # Log lines: client_id transaction_no latency_us script_no epoch_s epoch_us (at completion).
    output=$(cat "$prefix".* | python3 -c '
import sys
duration = float(sys.argv[1])
done = []
for line in sys.stdin:
    fields = line.split()
    done.append((int(fields[4]) + int(fields[5]) / 1e6, int(fields[2])))
if not done:
    print("- - -"); sys.exit(0)
end = max(t for t, _ in done)
latencies = sorted(latency for t, latency in done if t > end - duration)
def rank(p):
    return latencies[max(0, min(len(latencies) - 1, int(round(p * len(latencies) + 0.5)) - 1))] / 1000
print("%.1f %.3f %.3f" % (len(latencies) / duration, rank(0.50), rank(0.99)))' "$DURATION")
    local ops p50 p99
    read -r ops p50 p99 <<<"$output"
    samples["native|postgres|$clients|ops_per_s"]+="$ops "
    samples["native|postgres|$clients|p50_ms"]+="$p50 "
    samples["native|postgres|$clients|p99_ms"]+="$p99 "
    log "pgbench postgres c=$clients: $ops tx/s p50 $p50 ms p99 $p99 ms"
}

measure_throughput() {
    local round clients system order
    for ((round = 1; round <= ROUNDS; round++)); do
        # Alternate who goes first, so warm-up and background noise do not favour one system.
        if ((round % 2)); then order=("${SYSTEM_LIST[@]}"); else
            mapfile -t order < <(printf '%s\n' "${SYSTEM_LIST[@]}" | tac)
        fi
        for clients in "${CLIENT_COUNTS[@]}"; do
            for system in "${order[@]}"; do
                log "round $round/$ROUNDS: $system, $clients clients"
                LAST_OPS=0
                run_kvload "$system" "$clients"
                if [[ "$NATIVE" == 1 ]]; then
                    case "$system" in
                        cohort) run_redis_benchmark "$clients" "$LAST_OPS" ;;
                        postgres) run_pgbench "$clients" ;;
                    esac
                fi
            done
        done
    done
}

# --- Failover ----------------------------------------------------------------------------------

declare -A failover=()

# Kills the leader (index `leader` among `ports`) from kvload, which then writes through the
# survivors until one write succeeds; appends the milliseconds to `failover[system]`.
failover_trial() { # system protocol leader-index leader-pid ports...
    local system=$1 protocol=$2 leader=$3 pid=$4
    shift 4
    local ports=("$@") survivors=() i
    for i in "${!ports[@]}"; do
        ((i == leader)) || survivors+=("127.0.0.1:${ports[$i]}")
    done
    local output ms
    output=$(python3 "$kvload" failover --system "$protocol" --endpoints "$(join_by , "${survivors[@]}")" \
        --kill-pid "$pid" --keyspace "$KEYSPACE" --value-bytes "$VALUE_BYTES" \
        --deadline "$FAILOVER_DEADLINE_SECONDS" 2>>"$work/kvload.log") || true
    [[ -n "$output" ]] || output='{}'
    ms=$(json_field "$output" ms)
    failover["$system"]+="$ms "
    log "$system failover: killed leader pid $pid, first write after $ms ms ($output)"
    stop_process "$pid" KILL # reap it
}

measure_etcd_failover() {
    local trial leader
    for ((trial = 1; trial <= TRIALS; trial++)); do
        leader=$(etcd_leader_index) || die "no etcd leader before trial $trial"
        failover_trial etcd etcd "$leader" "${etcd_pids[$leader]}" "${etcd_client_ports[@]}"
        start_etcd_member "$leader"
        wait_until "etcd after restart" "${etcd_pids[*]}" etcd_healthy || die "etcd did not recover"
    done
}

cohort_peers=""

start_cohort_node() { # index (0-based)
    local i=$1
    local id="n$((i + 1))"
    # shellcheck disable=SC2086 # COHORT_NODE_ARGS is a list of words
    "$BIN" server --id "$id" --port "${cohort_ports[$i]}" --peer-port "${cohort_peer_ports[$i]}" \
        --peers "$cohort_peers" --data-dir "$work/cohort/nodes/$id" --pid-file "$work/cohort/nodes/$id.pid" \
        --fsync "$COHORT_FSYNC" $COHORT_NODE_ARGS >>"$work/cohort/nodes/$id.log" 2>&1 &
    cohort_pids[i]=$!
    disown "${cohort_pids[$i]}"
    started_pids+=("${cohort_pids[$i]}")
}

cohort_healthy() {
    local port
    for port in "${cohort_ports[@]}"; do cohort_ping "$port" || return 1; done
    cohort_leader_index >/dev/null
}

# Starts three `cohort server --id nI --peers ...` processes and waits for a leader.
start_cohort_nodes() {
    mkdir -p "$work/cohort/nodes"
    local ports
    read -r -a ports <<<"$(free_ports 6)"
    cohort_ports=("${ports[@]:0:3}")
    cohort_peer_ports=("${ports[@]:3:3}")
    local peers=() i
    for i in 0 1 2; do peers+=("n$((i + 1))=127.0.0.1:${cohort_peer_ports[$i]}"); done
    cohort_peers=$(join_by , "${peers[@]}")
    for i in 0 1 2; do start_cohort_node "$i"; done
    wait_until "cohort cluster" "${cohort_pids[*]}" cohort_healthy || {
        tail -n 20 "$work"/cohort/nodes/*.log >&2 || true
        die "the cohort cluster did not elect a leader"
    }
    log "cohort: 3 nodes on ports ${cohort_ports[*]} (peers $cohort_peers)"
}

measure_cohort_failover() {
    start_cohort_nodes
    local trial leader
    for ((trial = 1; trial <= TRIALS; trial++)); do
        leader=$(cohort_leader_index) || die "no cohort leader before trial $trial"
        failover_trial cohort resp "$leader" "${cohort_pids[$leader]}" "${cohort_ports[@]}"
        start_cohort_node "$leader"
        wait_until "cohort after restart" "${cohort_pids[*]}" cohort_healthy || die "cohort did not recover"
    done
    stop_cohort
}

# --- Report ------------------------------------------------------------------------------------

median() { # format values...
    local format=$1
    shift
    local values=() value
    for value in "$@"; do [[ "$value" == - ]] || values+=("$value"); done
    if ((${#values[@]} == 0)); then echo "-"; return; fi
    printf '%s\n' "${values[@]}" | sort -g | awk -v f="$format" '{ v[NR] = $1 } END {
        if (NR % 2) m = v[(NR + 1) / 2]; else m = (v[NR / 2] + v[NR / 2 + 1]) / 2
        printf f, m }'
}

sample() { # key format
    # shellcheck disable=SC2086 # the samples are space-separated numbers
    median "$2" ${samples["$1"]:-}
}

ratio() { # numerator denominator
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b + 0 == 0) print "-"; else printf "%.2f", a / b }'
}

print_throughput_table() {
    echo
    echo "Single-key writes, bench/kvload.py (same client for all; median of $ROUNDS rounds of ${DURATION}s" \
        "after ${WARMUP}s warm-up; keys from $KEYSPACE, $VALUE_BYTES-byte values; TARGET=$TARGET)"
    printf '%-9s %7s %10s %9s %9s %7s %9s %10s\n' system clients ops/s p50_ms p99_ms errors gen_cores host_cores
    local clients system
    for clients in "${CLIENT_COUNTS[@]}"; do
        for system in "${SYSTEM_LIST[@]}"; do
            local key="kvload|$system|$clients"
            printf '%-9s %7s %10s %9s %9s %7s %9s %10s\n' "$system" "$clients" \
                "$(sample "$key|ops_per_s" %.0f)" "$(sample "$key|p50_ms" %.2f)" "$(sample "$key|p99_ms" %.2f)" \
                "$(sample "$key|errors" %.0f)" "$(sample "$key|gen_cores" %.2f)" "$(sample "$key|host_cores" %.2f)"
        done
    done
    if wants cohort && { wants etcd || wants postgres; }; then
        echo
        echo "Ratios (Cohort / other; ops/s above 1 and latency below 1 favour Cohort)"
        if [[ "$COHORT_SINGLE" == 1 ]]; then
            echo "WARNING: COHORT_SINGLE=1, so Cohort is ONE unreplicated node here; these ratios do not compare like with like"
        fi
        printf '%7s %-12s %10s %10s %10s\n' clients versus ops/s p50 p99
        local other
        for clients in "${CLIENT_COUNTS[@]}"; do
            for other in etcd postgres; do
                wants "$other" || continue
                local c="kvload|cohort|$clients" o="kvload|$other|$clients"
                printf '%7s %-12s %10s %10s %10s\n' "$clients" "$other" \
                    "$(ratio "$(sample "$c|ops_per_s" %.1f)" "$(sample "$o|ops_per_s" %.1f)")" \
                    "$(ratio "$(sample "$c|p50_ms" %.3f)" "$(sample "$o|p50_ms" %.3f)")" \
                    "$(ratio "$(sample "$c|p99_ms" %.3f)" "$(sample "$o|p99_ms" %.3f)")"
            done
        done
    fi
    if [[ "$NATIVE" == 1 ]] && { wants cohort || wants postgres; }; then
        echo
        echo "Cross-check with native tools (redis-benchmark -t set for cohort, pgbench -M prepared for postgres)"
        printf '%-9s %7s %10s %9s %9s %16s\n' system clients ops/s p50_ms p99_ms "vs kvload ops/s"
        for clients in "${CLIENT_COUNTS[@]}"; do
            for system in cohort postgres; do
                wants "$system" || continue
                local key="native|$system|$clients"
                printf '%-9s %7s %10s %9s %9s %16s\n' "$system" "$clients" \
                    "$(sample "$key|ops_per_s" %.0f)" "$(sample "$key|p50_ms" %.2f)" "$(sample "$key|p99_ms" %.2f)" \
                    "$(ratio "$(sample "$key|ops_per_s" %.1f)" "$(sample "kvload|$system|$clients|ops_per_s" %.1f)")"
            done
        done
    fi
}

print_failover_table() {
    [[ -n "${failover[cohort]:-}${failover[etcd]:-}" ]] || return 0
    echo
    echo "Failover: SIGKILL the leader -> first successful write through a survivor (ms)"
    printf '%-9s %7s %7s %9s %9s %9s\n' system trials ok p50_ms p99_ms max_ms
    local system
    for system in cohort etcd; do
        [[ -n "${failover[$system]:-}" ]] || continue
        # shellcheck disable=SC2086 # space-separated numbers
        python3 - "$system" ${failover[$system]} <<'PY'
import sys
system, values = sys.argv[1], sys.argv[2:]
ok = sorted(float(v) for v in values if v not in ("-", "None"))
def rank(p):
    if not ok:
        return "-"
    return "%.0f" % ok[max(0, min(len(ok) - 1, int(round(p * len(ok) + 0.5)) - 1))]
print("%-9s %7d %7d %9s %9s %9s" % (system, len(values), len(ok), rank(0.5), rank(0.99), "%.0f" % ok[-1] if ok else "-"))
PY
    done
}

# --- Main --------------------------------------------------------------------------------------

for system in "${SYSTEM_LIST[@]}"; do
    case "$system" in cohort | etcd | postgres) ;; *) die "unknown system $system (cohort, etcd, postgres)" ;; esac
done
[[ "$TARGET" == leader || "$TARGET" == all ]] || die "TARGET=$TARGET (leader or all)"
[[ "$COHORT_LAUNCH" == up || "$COHORT_LAUNCH" == nodes ]] || die "COHORT_LAUNCH=$COHORT_LAUNCH (up or nodes)"
ensure_tools
ensure_cohort
log "work directory: $work"
wants cohort && log "cohort: $BIN"

wants etcd && start_etcd
wants postgres && start_postgres
wants cohort && start_cohort
measure_throughput
wants cohort && stop_cohort
wants postgres && stop_postgres

if ((TRIALS > 0)); then
    if wants etcd; then
        log "etcd failover, $TRIALS trials"
        measure_etcd_failover
    fi
    if wants cohort; then
        if [[ "$COHORT_SINGLE" == 1 ]]; then
            log "COHORT_SINGLE=1: no Cohort failover (one node)"
        else
            log "cohort failover, $TRIALS trials"
            measure_cohort_failover
        fi
    fi
fi
wants etcd && stop_etcd

echo
echo "=== Cohort vs etcd vs PostgreSQL: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores ==="
wants etcd && echo "etcd: $(etcd --version | head -n 1), 3 members, fsync on${ETCD_ARGS:+, $ETCD_ARGS}"
wants postgres && echo "postgres: $("$PG_BIN/postgres" --version), primary + 1 synchronous standby"
if wants cohort; then
    if [[ "$COHORT_SINGLE" == 1 ]]; then echo "cohort: one node, --fsync $COHORT_FSYNC ($BIN)"
    elif [[ "$COHORT_LAUNCH" == nodes ]]; then echo "cohort: 3 x cohort server --id, --fsync $COHORT_FSYNC ($BIN)"
    else echo "cohort: cohort up --nodes 3, fsync $COHORT_FSYNC ($BIN)"; fi
fi
print_throughput_table
((TRIALS > 0)) && print_failover_table
echo
