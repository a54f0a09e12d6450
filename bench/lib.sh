# Shared by the bench/ scripts: logging, process bookkeeping and cleanup, the cohort binary.
# Source it after setting `root`, `work`, `KEEP` and `started_pids=()`; it installs the EXIT,
# INT and TERM traps that stop, by PID, every process the script recorded in started_pids.

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Whether `pid` is alive (a zombie that has exited but is not yet reaped does not count).
is_running() { # pid
    kill -0 "$1" 2>/dev/null || return 1
    local state
    state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 0
    [[ "$state" != Z ]]
}

# Stops every process this script started, by PID: SIGTERM, then SIGKILL after a grace period.
cleanup() {
    local status=$?
    local pid
    for pid in "${started_pids[@]}"; do
        if is_running "$pid"; then kill -TERM "$pid" 2>/dev/null || true; fi
    done
    for pid in "${started_pids[@]}"; do
        local waited=0
        while is_running "$pid" && ((waited < 100)); do
            sleep 0.1
            waited=$((waited + 1))
        done
        if is_running "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    done
    if [[ "$KEEP" == 1 || "$status" != 0 ]]; then
        log "kept $work (logs and data)"
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Installs Debian packages (with sudo unless root).
apt_install() { # packages...
    log "installing $* from Debian's packages"
    local sudo=()
    if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
    "${sudo[@]}" apt-get update >&2
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y "$@" >&2
}

# Installs redis-server and redis-tools from Debian's packages unless they are there.
ensure_redis() {
    if command -v redis-server >/dev/null && command -v redis-benchmark >/dev/null \
        && command -v redis-cli >/dev/null; then
        return
    fi
    apt_install redis-server redis-tools
}

# A process's resident memory (VmRSS) in bytes.
rss_bytes() { # pid
    awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$1/status"
}

# Sets BIN to a release cohort binary: the one given in BIN, or a fresh `swift build`.
build_cohort() {
    if [[ -n "${BIN:-}" ]]; then
        [[ -x "$BIN" ]] || die "BIN=$BIN is not an executable"
        return
    fi
    log "building cohort (release)"
    (cd "$root" && swift build -c release --product cohort) >&2
    BIN="$(cd "$root" && swift build -c release --show-bin-path)/cohort"
    [[ -x "$BIN" ]] || die "no cohort binary at $BIN"
}

# Prints `count` distinct free loopback ports (all bound at once, so none repeats).
free_ports() { # count
    python3 - "$1" <<'PY'
import socket, sys
sockets = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    sockets.append(s)
print(" ".join(str(s.getsockname()[1]) for s in sockets))
for s in sockets:
    s.close()
PY
}

# Prints a base port whose ports for `count` nodes, and the same at each offset, are free
# (see scripts/free_base_port.py).
free_base_port() { # count offset...
    python3 "$root/scripts/free_base_port.py" "$@"
}

# Sends `signal` to `pid` and waits for it to exit (SIGKILL after STOP_TIMEOUT_SECONDS).
stop_process() { # pid signal
    local pid=$1 signal=$2
    local deadline=$(($(now_ms) + STOP_TIMEOUT_SECONDS * 1000))
    kill "-$signal" "$pid" 2>/dev/null || true
    while is_running "$pid"; do
        if (($(now_ms) >= deadline)); then
            log "process $pid did not exit within ${STOP_TIMEOUT_SECONDS}s of SIG$signal; killing it"
            kill -KILL "$pid" 2>/dev/null || true
        fi
        sleep 0.005 # redis-compare.sh times stops with it
    done
    wait "$pid" 2>/dev/null || true
}

# Runs `command` until it succeeds; fails after READY_TIMEOUT_SECONDS or when `pid` exits.
wait_until() { # what pids command...
    local what=$1 pids=$2
    shift 2
    local deadline=$(($(now_ms) + READY_TIMEOUT_SECONDS * 1000))
    local pid
    while ! "$@" >/dev/null 2>&1; do
        for pid in $pids; do
            is_running "$pid" || { log "$what: process $pid exited"; return 1; }
        done
        (($(now_ms) < deadline)) || { log "$what: not ready within ${READY_TIMEOUT_SECONDS}s"; return 1; }
        sleep 0.05
    done
}

# Waits until the server on `port` answers PING with PONG (Redis answers LOADING while it
# replays its AOF, which does not count). Fails if `pid` exits first or the timeout passes.
wait_ready() { # port pid
    local port=$1 pid=$2
    local deadline=$(($(now_ms) + READY_TIMEOUT_SECONDS * 1000))
    while true; do
        if [[ "$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" == PONG ]]; then return 0; fi
        is_running "$pid" || { log "process $pid exited before answering PING"; return 1; }
        (($(now_ms) < deadline)) || { log "no PONG on port $port within ${READY_TIMEOUT_SECONDS}s"; return 1; }
        sleep 0.005
    done
}
