#!/usr/bin/env bash
# Starts a real cohort server on a free loopback port and drives it with redis-cli,
# redis-benchmark and redis-py. Stops the server by its process id whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BIN:-$(swift build --show-bin-path)/cohort}"
WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER_PID" 2>/dev/null || true
    fi
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
expect() { # expect "<expected output>" redis-cli args...
    local want="$1"; shift
    local got
    got="$(timeout 10 redis-cli -p "$PORT" "$@" 2>&1)" || true
    if [ "$got" == "$want" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "redis-cli $*: expected [$want] got [$got]"
    fi
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
expect "ERR unknown command 'NOPE', with args beginning with: 'x' " NOPE x
expect "ERR wrong number of arguments for 'get' command" GET
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
echo "compat: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
