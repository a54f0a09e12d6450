#!/usr/bin/env bash
# Starts a real cohort server on a free loopback port and drives it with redis-cli,
# redis-benchmark and redis-py; then starts a 3-node cluster with the README's run command
# (`cohort up`) and drives it with redis-cli through a follower. Stops what it started by
# process id whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-$(swift build --show-bin-path)/cohort}"
WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
SERVER_PID=""
CLUSTER_PID=""
# SIGTERM, then SIGKILL after `tenths` tenths of a second.
stop_pid() { # pid tenths
    if [ -n "$1" ] && kill -0 "$1" 2>/dev/null; then
        kill -TERM "$1" 2>/dev/null || true
        for _ in $(seq "$2"); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$1" 2>/dev/null || true
    fi
}
cleanup() {
    stop_pid "$SERVER_PID" 50
    # `cohort up` stops its nodes by pid when it gets SIGTERM (SIGKILL after 10 s).
    stop_pid "$CLUSTER_PID" 150
    rm -rf "$WORK"
}
trap cleanup EXIT
"$BIN" server --port "$PORT" --data-dir "$WORK/data" --log-level warning &
SERVER_PID=$!
for _ in $(seq 100); do
    if redis-cli -p "$PORT" ping >/dev/null 2>&1; then break; fi
    sleep 0.1
done
passed=0
failed=0
# Counts one check: passed when `got` is `want`, else failed, saying which.
judge() { # judge "<what>" "<expected>" "<got>"
    if [ "$3" == "$2" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "$1: expected [$2] got [$3]"
    fi
}
expect() { # expect "<expected output>" redis-cli args...
    local want="$1"; shift
    judge "redis-cli $*" "$want" "$(timeout 10 redis-cli -p "$PORT" "$@" 2>&1 || true)"
}
# Like expect, with the output's lines sorted (SCAN's order is the server's own).
expect_sorted() { # expect_sorted "<expected lines, sorted>" redis-cli args...
    local want="$1"; shift
    judge "redis-cli $* (sorted)" "$want" \
        "$(timeout 10 redis-cli -p "$PORT" "$@" 2>&1 | LC_ALL=C sort || true)"
}
expect "PONG" PING
expect "OK" SET k v
expect "v" GET k
expect "1" INCR n
expect "11" INCRBY n 10
expect "1" EXPIRE k 100
expect "100" TTL k
expect "OK" MSET a 1 b 2
expect $'1\n2' MGET a b nope
expect "3" EXISTS a b k
expect "OK" MSET scan:1 x scan:2 y scan:3 z
expect_sorted $'scan:1\nscan:2\nscan:3' --scan --pattern 'scan:*'
expect "ERR unknown command 'NOPE', with args beginning with: 'x' " NOPE x
expect "ERR wrong number of arguments for 'get' command" GET
expect "3" HSET h f 1 g 2 k 3
expect $'1\n\n3' HMGET h f nope k
expect "hash" TYPE h
expect "WRONGTYPE Operation against a key holding the wrong kind of value" GET h
expect "2" SADD s x y
expect_sorted $'x\ny' SMEMBERS s
expect "1" SISMEMBER s x
expect "3" ZADD z 1 a 2 b 3 c
expect $'a\n1\nb\n2' ZRANGE z 0 1 WITHSCORES
expect "2" ZRANK z c
expect "2" RPUSH l x y
expect $'x\ny' LRANGE l 0 -1
expect "OK" RENAME l l2
expect "1" COPY l2 l3
expect $'x\ny' LRANGE l3 0 -1
expect "" BLPOP nolist 0.1
expect $'l3\nx' BLPOP nolist l3 1
if timeout 120 redis-benchmark -p "$PORT" -t set,get,incr,mset -n 2000 -c 10 -q >"$WORK/bench.txt" 2>&1 \
    && grep -q "MSET" "$WORK/bench.txt"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1)); echo "redis-benchmark failed:"; cat "$WORK/bench.txt"
fi
if timeout 120 python3 Tests/compat/redis_py_check.py "$PORT"; then
    passed=$((passed + 1))
else
    failed=$((failed + 1)); echo "redis-py check failed"
fi
stop_pid "$SERVER_PID" 50

# The README's run command: a 3-node cluster. Node 2 is asked; it forwards writes to the
# leader wherever that is. Ports B..B+2, B+10000.. and B+20000.. must be free.
# Another process may take a port between the check and the bind: then the launcher exits
# without "ready", and the cluster is tried again on other ports (three attempts at most).
for attempt in 1 2 3; do
    BASE="$(python3 scripts/free_base_port.py 3 10000 20000)"
    rm -rf "$WORK/cluster"
    "$BIN" up --nodes 3 --base-port "$BASE" --data-dir "$WORK/cluster" --log-level warning \
        >"$WORK/up.txt" 2>&1 &
    CLUSTER_PID=$!
    for _ in $(seq 600); do
        if grep -qx ready "$WORK/up.txt" || ! kill -0 "$CLUSTER_PID" 2>/dev/null; then break; fi
        sleep 0.1
    done
    if grep -qx ready "$WORK/up.txt"; then break; fi
    echo "cohort up on base port $BASE did not report ready (attempt $attempt):"
    cat "$WORK/up.txt"
    stop_pid "$CLUSTER_PID" 150
done
if grep -qx ready "$WORK/up.txt"; then
    PORT=$((BASE + 1))
    expect "PONG" PING
    expect "OK" SET k v
    expect "v" GET k
    expect "1" INCR n
    expect "1" EXPIRE k 100
    expect "100" TTL k
    expect "OK" MSET a 1 b 2
    expect $'1\n2' MGET a b nope
    expect "OK" MSET scan:1 x scan:2 y scan:3 z
    expect_sorted $'scan:1\nscan:2\nscan:3' --scan --pattern 'scan:*'
    expect "2" HSET h f 1 g 2
    expect "3" HINCRBY h f 2
    expect "2" SADD s x y
    PORT=$((BASE + 2))
    expect "v" GET k
    expect $'f\n3\ng\n2' HGETALL h
    expect_sorted $'x\ny' SMEMBERS s
    expect "1" RPUSH bl item
    expect $'bl\nitem' BRPOP nolist bl 1
    if timeout 120 python3 Tests/compat/redis_py_check.py "$PORT"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1)); echo "redis-py check through a cluster follower failed"
    fi
else
    failed=$((failed + 1)); echo "cohort up did not report ready in three attempts"
fi

echo "compat: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
