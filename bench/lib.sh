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
