#!/usr/bin/env python3
"""One closed-loop load generator for Cohort (RESP), etcd (v3 HTTP/JSON gateway) and PostgreSQL.

    kvload.py bench    --system resp|etcd|pg --endpoints 127.0.0.1:7379[,...] --clients 16
                       [--op set|get] [--use KEYSPACE]   (resp: GET instead of SET; COHORT USE first)
    kvload.py failover --system resp|etcd --endpoints SURVIVORS --kill-pid PID

Why one generator: the same client code, the same connection model (one connection per client,
one request in flight per connection), the same key and value distribution and the same clock
drive every system, so the ratios compare servers rather than client libraries. Each client
protocol is a small hand-written asyncio.Protocol speaking the system's wire protocol directly
(only the standard library is used), so the per-request client cost is similar for all three:

  resp  SET key:<n> <100-byte value>                 -> +OK
  etcd  POST /v3/kv/put {"key": b64, "value": b64}   -> 200 (HTTP/1.1 keep-alive, grpc-gateway)
  pg    extended protocol, statement prepared once:  -> ReadyForQuery
        INSERT INTO kv(k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v

`bench` spreads the clients over PROCS worker processes (multiprocessing; each runs its share of
clients on one asyncio loop), runs WARMUP seconds unmeasured and then DURATION seconds measured,
and records each request's latency with time.perf_counter_ns (CLOCK_MONOTONIC, shared by all
processes). A request counts when it started and finished inside the measured window. It prints
one JSON object: ops_per_s, p50_ms, p99_ms, errors, and the CPU the generator itself used in the
window (gen_cores) next to the whole machine's busy CPU (host_cores, from /proc/stat), so a run
where the generator rather than the server is the limit shows up as gen_cores close to the
machine's core count.

`failover` sends SIGKILL to the leader's PID and from that instant starts a write through every
survivor every --retry-interval (20 ms), each on a new connection and each allowed
--attempt-timeout, until the first one succeeds; it prints {"ms": ...} (resolution: the interval).
"""

import argparse
import asyncio
import base64
import json
import multiprocessing
import os
import random
import signal
import struct
import sys
import time


# --- Wire protocols ---------------------------------------------------------------------------
# Each parser takes the receive buffer and returns None while the reply is incomplete, else
# (bytes consumed, ok). One request is in flight per connection, so replies never interleave.


def parse_resp(buffer):
    end = buffer.find(b"\r\n")
    if end < 0:
        return None
    kind = buffer[0:1]
    if kind == b"$":  # bulk string (not expected for SET, handled for completeness)
        length = int(buffer[1:end])
        if length < 0:
            return end + 2, True
        total = end + 2 + length + 2
        if len(buffer) < total:
            return None
        return total, True
    return end + 2, kind != b"-"


def parse_http(buffer):
    header_end = buffer.find(b"\r\n\r\n")
    if header_end < 0:
        return None
    head = bytes(buffer[:header_end]).decode("latin-1")
    lines = head.split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    length = 0
    chunked = False
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "content-length":
            length = int(value.strip())
        elif name == "transfer-encoding" and "chunked" in value.lower():
            chunked = True
    body_start = header_end + 4
    if chunked:
        position = body_start
        while True:
            line_end = buffer.find(b"\r\n", position)
            if line_end < 0:
                return None
            size = int(bytes(buffer[position:line_end]).split(b";")[0], 16)
            position = line_end + 2 + size + 2
            if len(buffer) < position:
                return None
            if size == 0:
                return position, status == 200 and b'"error"' not in buffer[body_start:position]
    total = body_start + length
    if len(buffer) < total:
        return None
    # The gateway answers gRPC errors with a non-200 status and a JSON {"error": ...} body.
    return total, status == 200


def parse_pg(buffer):
    """Consumes backend messages up to and including ReadyForQuery ('Z')."""
    position = 0
    ok = True
    while True:
        if len(buffer) < position + 5:
            return None
        kind = buffer[position : position + 1]
        (length,) = struct.unpack_from("!i", buffer, position + 1)
        end = position + 1 + length
        if len(buffer) < end:
            return None
        if kind == b"E":
            ok = False
        elif kind == b"R":
            (code,) = struct.unpack_from("!i", buffer, position + 5)
            if code != 0:  # only trust authentication is supported
                ok = False
        position = end
        if kind == b"Z":
            return position, ok


def pg_message(kind, payload):
    return kind + struct.pack("!i", len(payload) + 4) + payload


def pg_startup(user, database):
    payload = struct.pack("!i", 196608)
    payload += b"user\0" + user.encode() + b"\0database\0" + database.encode() + b"\0\0"
    return struct.pack("!i", len(payload) + 4) + payload


PG_UPSERT = b"INSERT INTO kv(k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = EXCLUDED.v"
PG_SYNC = pg_message(b"S", b"")
PG_EXECUTE = pg_message(b"E", b"\0" + struct.pack("!i", 0))


class Connection(asyncio.Protocol):
    """One connection with at most one request in flight."""

    def __init__(self, parser):
        self.parser = parser
        self.buffer = bytearray()
        self.waiter = None
        self.transport = None
        self.lost = None

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.buffer += data
        if self.waiter is None:
            return
        parsed = self.parser(self.buffer)
        if parsed is None:
            return
        consumed, ok = parsed
        del self.buffer[:consumed]
        waiter, self.waiter = self.waiter, None
        if not waiter.done():
            waiter.set_result(ok)

    def connection_lost(self, exc):
        self.lost = exc or ConnectionError("connection closed")
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(self.lost)

    async def request(self, payload):
        if self.lost is not None:
            raise self.lost
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(payload)
        return await self.waiter

    def close(self):
        if self.transport is not None:
            self.transport.close()


class Client:
    """Builds one system's write request for a key and sends it over a Connection."""

    def __init__(self, system, endpoint, value, options):
        self.system = system
        self.host, port = endpoint.rsplit(":", 1)
        self.port = int(port)
        self.value = value
        self.options = options
        self.connection = None
        if system == "etcd":
            self.value_b64 = base64.b64encode(value).decode()
            self.http_head = (
                "POST /v3/kv/put HTTP/1.1\r\nHost: %s:%d\r\n"
                "Content-Type: application/json\r\nContent-Length: " % (self.host, self.port)
            ).encode()

    async def connect(self):
        parser = {"resp": parse_resp, "etcd": parse_http, "pg": parse_pg}[self.system]
        loop = asyncio.get_running_loop()
        _, self.connection = await loop.create_connection(lambda: Connection(parser), self.host, self.port)
        if self.system == "resp" and self.options.use:
            name = self.options.use.encode()
            command = b"*3\r\n$6\r\nCOHORT\r\n$3\r\nUSE\r\n$%d\r\n%s\r\n" % (len(name), name)
            if not await self.connection.request(command):
                raise ConnectionError("COHORT USE %s was refused" % self.options.use)
        if self.system == "pg":
            # The startup reply ends with ReadyForQuery; then prepare the upsert once.
            startup = pg_startup(self.options.pg_user, self.options.pg_database)
            if not await self.connection.request(startup):
                raise ConnectionError("PostgreSQL refused the startup (trust authentication needed)")
            parse = pg_message(b"P", b"s\0" + PG_UPSERT + b"\0" + struct.pack("!h", 0))
            if not await self.connection.request(parse + PG_SYNC):
                raise ConnectionError("PostgreSQL could not prepare the upsert (does table kv exist?)")

    def payload(self, key):
        if self.system == "resp" and self.options.op == "get":
            return b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n" % (len(key), key)
        if self.system == "resp":
            return b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (len(key), key, len(self.value), self.value)
        if self.system == "etcd":
            body = b'{"key":"%s","value":"%s"}' % (base64.b64encode(key), self.value_b64.encode())
            return self.http_head + str(len(body)).encode() + b"\r\n\r\n" + body
        parameters = struct.pack("!h", 0) + struct.pack("!h", 2)
        parameters += struct.pack("!i", len(key)) + key + struct.pack("!i", len(self.value)) + self.value
        bind = pg_message(b"B", b"\0s\0" + parameters + struct.pack("!h", 0))
        return bind + PG_EXECUTE + PG_SYNC

    async def write(self, key):
        return await self.connection.request(self.payload(key))

    def close(self):
        if self.connection is not None:
            self.connection.close()


def make_value(size):
    return (b"v" * size)[:size]


# --- bench ------------------------------------------------------------------------------------


def worker(index, clients, options, start_at, measure_from, measure_until, result_queue):
    """Runs `clients` connections until measure_until; sends back latencies and CPU used."""
    endpoints = options.endpoints.split(",")
    value = make_value(options.value_bytes)
    generator = random.Random(options.seed * 1000 + index)
    latencies = []
    counts = {"errors": 0}
    cpu = {}
    measure_from_ns = int(measure_from * 1e9)
    measure_until_ns = int(measure_until * 1e9)

    async def one_client(client):
        keyspace = options.keyspace
        record = latencies.append
        clock = time.perf_counter_ns
        while True:
            key = b"key:%d" % generator.randrange(keyspace)
            started = clock()
            if started >= measure_until_ns:
                return
            try:
                ok = await client.write(key)
            except (ConnectionError, OSError):
                counts["errors"] += 1
                client.close()
                while time.monotonic() < measure_until:
                    await asyncio.sleep(0.01)
                    try:
                        await client.connect()
                        break
                    except (ConnectionError, OSError):
                        counts["errors"] += 1
                continue
            finished = clock()
            if started >= measure_from_ns and finished <= measure_until_ns:
                if ok:
                    record(finished - started)
                else:
                    counts["errors"] += 1

    def snapshot(name):
        cpu[name] = time.process_time()

    async def run():
        loop = asyncio.get_running_loop()
        client_list = []
        for number in range(clients):
            # Client i of worker w gets endpoint (global client number) mod endpoint count.
            endpoint = endpoints[(index + number * options.procs) % len(endpoints)]
            client = Client(options.system, endpoint, value, options)
            await client.connect()
            client_list.append(client)
        # Start together, then snapshot this process's CPU time at the window's edges.
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        loop.call_at(loop.time() + max(0.0, measure_from - time.monotonic()), snapshot, "from")
        loop.call_at(loop.time() + max(0.0, measure_until - time.monotonic()), snapshot, "until")
        await asyncio.gather(*(one_client(client) for client in client_list))
        await asyncio.sleep(max(0.0, measure_until - time.monotonic()) + 0.01)
        for client in client_list:
            client.close()

    try:
        asyncio.run(run())
        cpu_seconds = cpu.get("until", time.process_time()) - cpu.get("from", 0.0)
        result_queue.put((index, latencies, counts["errors"], cpu_seconds, None))
    except Exception as error:  # reported by the parent
        result_queue.put((index, [], 0, 0.0, "%s: %s" % (type(error).__name__, error)))


def host_busy_jiffies():
    with open("/proc/stat") as stat:
        fields = [int(x) for x in stat.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


def percentile(sorted_values, fraction):
    if not sorted_values:
        return float("nan")
    rank = max(0, min(len(sorted_values) - 1, int(round(fraction * len(sorted_values) + 0.5)) - 1))
    return sorted_values[rank]


def bench(options):
    procs = max(1, min(options.procs, options.clients))
    options.procs = procs
    shares = [options.clients // procs + (1 if i < options.clients % procs else 0) for i in range(procs)]
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    # Connections take a moment to open (PostgreSQL forks a backend per connection).
    start_at = time.monotonic() + options.connect_seconds
    measure_from = start_at + options.warmup
    measure_until = measure_from + options.duration
    processes = [
        context.Process(target=worker, args=(i, shares[i], options, start_at, measure_from, measure_until, queue))
        for i in range(procs)
    ]
    for process in processes:
        process.start()
    time.sleep(max(0.0, measure_from - time.monotonic()))
    busy_from, total_from = host_busy_jiffies()
    time.sleep(max(0.0, measure_until - time.monotonic()))
    busy_until, total_until = host_busy_jiffies()
    results = []
    deadline = time.monotonic() + 60 + options.duration
    while len(results) < procs:
        results.append(queue.get(timeout=max(1.0, deadline - time.monotonic())))
    for process in processes:
        process.join()
    failures = [r[4] for r in results if r[4]]
    if failures:
        print(json.dumps({"error": failures[0]}))
        return 1
    latencies = sorted(latency for r in results for latency in r[1])
    errors = sum(r[2] for r in results)
    cores = os.cpu_count() or 1
    host_cores = (busy_until - busy_from) / max(1, total_until - total_from) * cores
    summary = {
        "system": options.system,
        "op": options.op,
        "clients": options.clients,
        "procs": procs,
        "ops": len(latencies),
        "ops_per_s": round(len(latencies) / options.duration, 1),
        "p50_ms": round(percentile(latencies, 0.50) / 1e6, 3),
        "p99_ms": round(percentile(latencies, 0.99) / 1e6, 3),
        "errors": errors,
        "gen_cores": round(sum(r[3] for r in results) / options.duration, 2),
        "host_cores": round(host_cores, 2),
    }
    print(json.dumps(summary))
    return 0


# --- failover ---------------------------------------------------------------------------------


async def failover_async(options):
    """Kills the leader, then starts a write through every survivor every --retry-interval.

    Each attempt runs on its own new connection and is never cut short before --attempt-timeout:
    a write that a follower parks until a new leader exists (etcd drops proposals made while
    there is no leader, so such a request only ends at its server-side timeout) must neither
    hide a later attempt that would succeed nor be cancelled while it is about to succeed. The
    result's resolution is therefore the retry interval (plus a loopback connect).
    """
    endpoints = options.endpoints.split(",")
    value = make_value(options.value_bytes)
    generator = random.Random()
    done = asyncio.Event()
    state = {"attempts": 0, "finished_ns": None, "errors": 0}
    started = 0

    async def attempt(endpoint):
        client = Client(options.system, endpoint, value, options)
        try:
            await client.connect()
            key = b"failover:%d" % generator.randrange(options.keyspace)
            if await client.write(key):
                if state["finished_ns"] is None:
                    state["finished_ns"] = time.perf_counter_ns()
                done.set()
            else:
                state["errors"] += 1
        except (ConnectionError, OSError):
            state["errors"] += 1
        finally:
            client.close()

    async def keep_trying(endpoint, attempts):
        while not done.is_set():
            state["attempts"] += 1
            attempts.append(asyncio.ensure_future(asyncio.wait_for(attempt(endpoint), options.attempt_timeout)))
            try:
                await asyncio.wait_for(done.wait(), options.retry_interval)
            except asyncio.TimeoutError:
                pass

    attempts = []
    started = time.perf_counter_ns()
    os.kill(options.kill_pid, signal.SIGKILL)
    loops = [asyncio.ensure_future(keep_trying(endpoint, attempts)) for endpoint in endpoints]
    try:
        await asyncio.wait_for(done.wait(), options.deadline)
    except asyncio.TimeoutError:
        pass
    for task in loops + attempts:
        task.cancel()
    await asyncio.gather(*loops, *attempts, return_exceptions=True)
    finished = state["finished_ns"]
    elapsed = None if finished is None else round((finished - started) / 1e6, 1)
    print(json.dumps({"ms": elapsed, "attempts": state["attempts"], "errors": state["errors"]}))
    return 0 if elapsed is not None else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["bench", "failover"])
    parser.add_argument("--system", required=True, choices=["resp", "etcd", "pg"])
    parser.add_argument("--endpoints", required=True, help="host:port[,host:port...]")
    parser.add_argument("--clients", type=int, default=1)
    parser.add_argument("--procs", type=int, default=os.cpu_count() or 1, help="worker processes")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=2.0, help="unmeasured seconds first")
    parser.add_argument("--connect-seconds", type=float, default=1.0, help="time allowed to connect")
    parser.add_argument("--keyspace", type=int, default=100000)
    parser.add_argument("--value-bytes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--op", choices=["set", "get"], default="set", help="resp: the request sent")
    parser.add_argument("--use", help="resp: COHORT USE this keyspace on every connection first")
    parser.add_argument("--pg-user", default="bench")
    parser.add_argument("--pg-database", default="postgres")
    parser.add_argument("--kill-pid", type=int, help="failover: the leader's PID")
    parser.add_argument("--attempt-timeout", type=float, default=10.0, help="failover: seconds per write")
    parser.add_argument("--retry-interval", type=float, default=0.02, help="failover: seconds between writes")
    parser.add_argument("--deadline", type=float, default=60.0, help="failover: give up after seconds")
    options = parser.parse_args()
    if options.mode == "bench":
        return bench(options)
    if options.kill_pid is None:
        parser.error("failover needs --kill-pid")
    return asyncio.run(failover_async(options))


if __name__ == "__main__":
    sys.exit(main())
