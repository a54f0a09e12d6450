"""Drives a running Cohort server with redis-py, the way an application would.

Usage: python3 redis_py_check.py PORT
Exits non-zero on the first behaviour that differs from Redis.
"""
import sys
import threading
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
        # Hashes and sets.
        assert r.hset("user:1", mapping={"name": "ada", "visits": "1"}) == 2
        assert r.hget("user:1", "name") == "ada"
        assert r.hincrby("user:1", "visits", 2) == 3
        assert abs(r.hincrbyfloat("user:1", "score", 1.5) - 1.5) < 1e-9
        assert r.hgetall("user:1") == {"name": "ada", "visits": "3", "score": "1.5"}
        assert r.hmget("user:1", ["name", "nope"]) == ["ada", None]
        assert sorted(r.hkeys("user:1")) == ["name", "score", "visits"]
        assert r.hlen("user:1") == 3 and r.hexists("user:1", "name")
        assert r.hdel("user:1", "score", "nope") == 1
        assert dict(r.hscan_iter("user:1")) == {"name": "ada", "visits": "3"}
        assert r.type("user:1") == "hash"
        assert r.sadd("cart", "apple", "pear", "apple") == 2
        assert r.smembers("cart") == {"apple", "pear"}
        assert r.sismember("cart", "pear") and not r.sismember("cart", "plum")
        assert r.srem("cart", "pear") == 1 and r.scard("cart") == 1
        r.sadd("other", "apple", "plum")
        assert r.sunion("cart", "other") == {"apple", "plum"}
        assert r.sinter("cart", "other") == {"apple"}
        assert set(r.sscan_iter("other")) == {"apple", "plum"}
        try:
            r.get("cart")
            raise AssertionError("GET on a set must fail")
        except redis.ResponseError as error:
            assert "WRONGTYPE" in str(error)
        assert r.rpush("queue", "a", "b", "c") == 3
        assert r.lpop("queue") == "a" and r.lrange("queue", 0, -1) == ["b", "c"]
        assert r.zadd("board", {"ada": 3, "bob": 1.5, "cy": 2}) == 3
        # RESP2 pairs come back as tuples, RESP3 pairs as lists (as from Redis 7).
        ranked = [tuple(pair) for pair in r.zrange("board", 0, -1, withscores=True)]
        assert ranked == [("bob", 1.5), ("cy", 2.0), ("ada", 3.0)], ranked
        assert r.zrevrank("board", "ada") == 0 and r.zscore("board", "cy") == 2.0
        assert r.zincrby("board", 2, "bob") == 3.5
        assert r.zrangebyscore("board", 2, "+inf") == ["cy", "ada", "bob"]
        # pipeline() wraps its commands in MULTI/EXEC by default.
        pipe = r.pipeline()
        pipe.incr("tx:n").incr("tx:n").hset("tx:h", "f", "v").get("tx:n")
        assert pipe.execute() == [1, 2, 1, "2"]
        # An optimistic-locking retry loop with WATCH, as redis-py documents it.
        r.set("balance", 100)

        def withdraw(pipe: redis.client.Pipeline) -> None:
            current = int(pipe.get("balance"))
            pipe.multi()
            pipe.set("balance", current - 30)

        assert r.transaction(withdraw, "balance") == [True]
        assert r.get("balance") == "70"
        with r.pipeline() as pipe:
            pipe.watch("balance")
            r.incr("balance")  # another client changes it
            pipe.multi()
            pipe.set("balance", 0)
            try:
                pipe.execute()
                raise AssertionError("EXEC after a watched key changed must abort")
            except redis.WatchError:
                pass
        assert r.get("balance") == "71"
        # Blocking pops: a timeout answers None; a push from another client wakes a waiter.
        assert r.blpop(["jobs"], timeout=0.2) is None
        assert r.rpush("jobs", "ready") == 1
        assert tuple(r.blpop(["nothing", "jobs"], timeout=1)) == ("jobs", "ready")
        results = []
        r2 = redis.Redis(host="127.0.0.1", port=port, protocol=protocol, decode_responses=True)
        waiter = threading.Thread(target=lambda: results.append(r2.brpop(["later"], timeout=10)))
        waiter.start()
        for _ in range(200):
            if int(r.info("clients")["blocked_clients"]) >= 1:
                break
            time.sleep(0.01)
        assert r.lpush("later", "wake") == 1
        waiter.join(15)
        assert not waiter.is_alive() and tuple(results[0]) == ("later", "wake"), results
        assert r.llen("later") == 0
        r.rpush("src", "m")
        assert r.blmove("src", "dst", 1, "RIGHT", "LEFT") == "m"
        assert r.bzpopmin("nozset", timeout=0.1) is None
        r2.close()
        r.delete("user:1", "cart", "other", "tx:n", "tx:h", "balance", "queue", "board", "dst")
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
