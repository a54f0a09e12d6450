#!/usr/bin/env bash
# Server CPU per request: redis-server and one or more cohort builds side by side, the same
# redis-benchmark load against each in turn, ROUNDS times (the order rotates each round).
# Prints, per server and round, requests/second and the CPU time (user + system, read from
# /proc/PID/stat before and after) the server spent per request in microseconds, then the
# medians and each server's CPU per request relative to redis-server's, with the user and
# system parts (the system part is mostly the socket reads and writes both servers make).
# CPU per request moves far less with this shared machine's noise than requests/second, so it
# is the figure by which to compare two builds of Cohort; bench/redis-compare.sh gives the
# issue's throughput ratios.
#
#   bench/cpu-per-request.sh [BIN ...]   cohort binaries to compare (default: a release build)
#
# Environment:
#   MODE=batch        durability: batch (Redis appendfsync always) or everysec (everysec)
#   TEST=set          redis-benchmark -t (set or get; every server is loaded with SETs first)
#   PIPELINE=16       redis-benchmark -P
#   N=200000          requests per run
#   ROUNDS=3          runs per server
#   CLIENTS=50        redis-benchmark -c
#   KEYSPACE=100000   redis-benchmark -r
#   KEEP=0            1 keeps the data directories and logs
set -euo pipefail

MODE=${MODE:-batch}
TEST=${TEST:-set}
PIPELINE=${PIPELINE:-16}
N=${N:-200000}
ROUNDS=${ROUNDS:-3}
CLIENTS=${CLIENTS:-50}
KEYSPACE=${KEYSPACE:-100000}
KEEP=${KEEP:-0}
READY_TIMEOUT_SECONDS=${READY_TIMEOUT_SECONDS:-300}
STOP_TIMEOUT_SECONDS=${STOP_TIMEOUT_SECONDS:-60}
BENCH_TIMEOUT_SECONDS=${BENCH_TIMEOUT_SECONDS:-300}

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cohort-cpu-per-request.XXXXXX")
started_pids=()

# shellcheck source=bench/lib.sh
source "$root/bench/lib.sh"

case "$MODE" in
    batch) redis_durability=(--appendonly yes --appendfsync always) ;;
    everysec) redis_durability=(--appendonly yes --appendfsync everysec) ;;
    *) die "MODE=$MODE: batch or everysec" ;;
esac
ensure_redis
binaries=("$@")
if ((${#binaries[@]} == 0)); then
    build_cohort
    binaries=("$BIN")
fi

names=(redis-server)
pids=()
read -r -a ports <<<"$(free_ports $((${#binaries[@]} + 1)))"
mkdir -p "$work/redis"
redis-server --port "${ports[0]}" --bind 127.0.0.1 --dir "$work/redis" --save '' \
    "${redis_durability[@]}" --daemonize no --protected-mode no \
    --logfile "$work/redis/redis.log" >/dev/null 2>&1 &
pids+=($!)
started_pids+=($!)
for index in "${!binaries[@]}"; do
    binary=${binaries[$index]}
    [[ -x "$binary" ]] || die "$binary is not an executable"
    dir="$work/cohort-$index"
    "$binary" server --port "${ports[$((index + 1))]}" --data-dir "$dir" --fsync "$MODE" \
        >>"$dir.log" 2>&1 &
    pids+=($!)
    started_pids+=($!)
    names+=("$(basename "$binary")#$index")
done
for index in "${!pids[@]}"; do
    wait_ready "${ports[$index]}" "${pids[$index]}" || die "${names[$index]} did not start"
done

# CPU ticks a process has used: user and system.
cpu_ticks() { awk '{print $14, $15}' "/proc/$1/stat"; }
ticks_per_second=$(getconf CLK_TCK)

benchmark() { # port test pipeline requests
    timeout "$BENCH_TIMEOUT_SECONDS" redis-benchmark -h 127.0.0.1 -p "$1" -t "$2" \
        -c "$CLIENTS" -n "$4" -r "$KEYSPACE" -P "$3" 2>/dev/null \
        | tr '\r' '\n' | awk '/requests per second/ {value = $3} END {print value}'
}

log "loading $KEYSPACE keys' worth of SETs into each server"
for index in "${!pids[@]}"; do
    benchmark "${ports[$index]}" set 16 "$N" >/dev/null
done

declare -A results=()
servers=${#pids[@]}
for ((round = 1; round <= ROUNDS; round++)); do
    for ((step = 0; step < servers; step++)); do
        index=$(((step + round - 1) % servers))
        pid=${pids[$index]}
        is_running "$pid" || die "${names[$index]} exited"
        read -r user_before system_before <<<"$(cpu_ticks "$pid")"
        rate=$(benchmark "${ports[$index]}" "$TEST" "$PIPELINE" "$N")
        read -r user_after system_after <<<"$(cpu_ticks "$pid")"
        [[ -n "$rate" ]] || die "redis-benchmark against ${names[$index]} printed no rate"
        per_request() { # ticks
            awk -v t="$1" -v hz="$ticks_per_second" -v n="$N" \
                'BEGIN {printf "%.2f", t * 1000000 / hz / n}'
        }
        user_micros=$(per_request $((user_after - user_before)))
        system_micros=$(per_request $((system_after - system_before)))
        micros=$(per_request $((user_after - user_before + system_after - system_before)))
        log "round $round ${names[$index]}: $rate req/s, $micros us CPU per request" \
            "($user_micros user, $system_micros system)"
        results[$index]+="$rate $micros $user_micros $system_micros "
    done
done

median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
echo
echo "=== CPU per request: $(date -u +%Y-%m-%dT%H:%M:%SZ), $(nproc) cores ==="
echo "MODE=$MODE TEST=$TEST PIPELINE=$PIPELINE N=$N ROUNDS=$ROUNDS CLIENTS=$CLIENTS KEYSPACE=$KEYSPACE"
printf '%-28s %12s %14s %12s %10s %10s\n' server "median rps" "median us/req" "us vs redis" \
    "user us" "system us"
redis_micros=""
for index in "${!pids[@]}"; do
    read -r -a values <<<"${results[$index]}"
    rates=() micros=() users=() systems=()
    for ((i = 0; i < ${#values[@]}; i += 4)); do
        rates+=("${values[$i]}")
        micros+=("${values[$((i + 1))]}")
        users+=("${values[$((i + 2))]}")
        systems+=("${values[$((i + 3))]}")
    done
    rate=$(printf '%s\n' "${rates[@]}" | median)
    micro=$(printf '%s\n' "${micros[@]}" | median)
    user=$(printf '%s\n' "${users[@]}" | median)
    system=$(printf '%s\n' "${systems[@]}" | median)
    [[ -n "$redis_micros" ]] || redis_micros=$micro
    printf '%-28s %12.0f %14.2f %12.2f %10.2f %10.2f\n' "${names[$index]}" "$rate" "$micro" \
        "$(awk -v a="$micro" -v b="$redis_micros" 'BEGIN {print a / b}')" "$user" "$system"
done
