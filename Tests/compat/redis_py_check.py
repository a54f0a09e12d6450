"""Drives a running Cohort server with redis-py, the way an application would.

Usage: python3 redis_py_check.py PORT
Exits non-zero on the first behaviour that differs from Redis.
"""
import sys
import time

import redis


def main() -> None:
    port = int(sys.argv[1])
    checks = 0
    for protocol in (2, 3):
        r = redis.Redis(host="127.0.0.1", port=port, protocol=protocol, decode_responses=True)
        r.flushdb()
        assert r.ping() is True
        assert r.set("greeting", "hello") is True
        assert r.get("greeting") == "hello"
        assert r.get("missing") is None
        assert r.set("greeting", "again", nx=True) is None
        assert r.set("greeting", "hi", xx=True, get=True) == "hello"
        assert r.incr("counter") == 1
        assert r.incrby("counter", 41) == 42
        assert r.decr("counter") == 41
        try:
            r.incr("greeting")
            raise AssertionError("INCR on a non-integer must fail")
        except redis.ResponseError as error:
            assert "not an integer" in str(error)
        assert r.append("greeting", "!") == 3
        assert r.strlen("greeting") == 3
        assert r.mset({"a": "1", "b": "2", "c": "3"}) is True
        assert r.mget(["a", "b", "missing", "c"]) == ["1", "2", None, "3"]
        assert r.exists("a", "b", "nope") == 2
        assert r.expire("a", 100) is True
        ttl = r.ttl("a")
        assert 99 <= ttl <= 100, ttl
        assert 0 < r.pttl("a") <= 100_000
        assert r.persist("a") is True
        assert r.ttl("a") == -1
        assert r.ttl("nope") == -2
        r.set("short", "x", px=50)
        time.sleep(0.1)
        assert r.get("short") is None
        assert r.getdel("b") == "2"
        assert r.get("b") is None
        assert r.delete("a", "c", "nope") == 2
        for i in range(250):
            r.set(f"scan:{i}", i)
        seen = set(r.scan_iter(match="scan:*", count=17))
        assert seen == {f"scan:{i}" for i in range(250)}, len(seen)
        assert r.dbsize() == 252  # 250 scan keys + greeting + counter
        info = r.info()
        assert "redis_version" in info and info["connected_clients"] >= 1
        assert "fsync" in str(r.info("persistence"))
        pipe = r.pipeline(transaction=False)
        for i in range(100):
            pipe.set(f"p{i}", i)
            pipe.get(f"p{i}")
        results = pipe.execute()
        assert results[1::2] == [str(i) for i in range(100)]
        r.client_setname("compat")
        assert r.client_getname() == "compat"
        try:
            r.execute_command("NOSUCHCOMMAND", "x")
            raise AssertionError("unknown command must fail")
        except redis.ResponseError as error:
            assert "unknown command" in str(error)
        assert r.ping() is True  # the connection survives an unknown command
        binary = redis.Redis(host="127.0.0.1", port=port, protocol=protocol)
        blob = bytes(range(256)) * 64
        binary.set(b"\x00bin\xff", blob)
        assert binary.get(b"\x00bin\xff") == blob
        r.flushdb()
        assert r.dbsize() == 0
        checks += 1
        r.close()
        binary.close()
    print(f"redis-py: {checks} protocol versions checked")


if __name__ == "__main__":
    main()
