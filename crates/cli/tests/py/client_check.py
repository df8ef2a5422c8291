"""redis-py against a server: commands, pipelines, transactions, pub/sub, RESP3.

Run by crates/cli/tests/real_clients.rs as `python3 client_check.py HOST PORT`;
prints 'redis-py: all checks passed' and exits 0, or raises.
"""

import sys
import time

import redis


def check_commands(r):
    assert r.ping() is True
    assert r.set("k", "v") is True
    assert r.get("k") == b"v"
    assert r.get("missing") is None
    assert r.set("k", "other", nx=True) is None
    assert r.set("k", "v2", xx=True, get=True) == b"v"
    assert r.mset({"a": "1", "b": "2"}) is True
    assert r.mget("a", "b", "missing") == [b"1", b"2", None]
    assert r.incr("n") == 1
    assert r.incrby("n", 10) == 11
    assert r.decr("n") == 10
    assert r.incrbyfloat("f", 2.5) == 2.5
    assert r.append("k", "-x") == 4
    assert r.strlen("k") == 4
    assert r.getrange("k", 0, 1) == b"v2"
    assert r.setrange("k", 0, "V") == 4
    assert r.setbit("bits", 7, 1) == 0
    assert r.getbit("bits", 7) == 1
    assert r.bitcount("bits") == 1
    assert r.bitpos("bits", 1) == 7
    binary = bytes(range(256))
    assert r.set(b"bin\x00key", binary) is True
    assert r.get(b"bin\x00key") == binary
    assert r.expire("k", 1000) is True
    assert 998 <= r.ttl("k") <= 1000
    assert r.persist("k") is True
    assert r.ttl("k") == -1
    assert r.ttl("missing") == -2
    assert r.type("k") == b"string"
    assert r.exists("k", "a", "missing") == 2
    assert r.rename("a", "a2") is True
    assert sorted(r.keys("a*")) == [b"a2"]
    assert sorted(r.scan_iter(match="a*", count=2)) == [b"a2"]
    assert r.copy("a2", "a3") is True
    assert r.getdel("a3") == b"1"
    assert r.getex("a2", ex=500) == b"1"
    assert r.delete("a2", "b", "missing") == 2
    assert r.dbsize() >= 1
    try:
        r.incr("k")
    except redis.ResponseError as e:
        assert str(e) == "value is not an integer or out of range", str(e)
    else:
        raise AssertionError("INCR on a non-integer must fail")
    info = r.info()
    for field in ("redis_version", "connected_clients", "used_memory"):
        assert field in info, field
    assert "db0" in r.info("keyspace")
    assert r.client_setname("py") is True
    assert r.client_getname() == "py" or r.client_getname() == b"py"
    assert isinstance(r.client_id(), int)
    assert r.config_get("maxclients") == {"maxclients": "10000"}
    assert isinstance(r.time(), tuple)


def check_pipelines_and_transactions(r):
    pipe = r.pipeline(transaction=False)
    for i in range(200):
        pipe.set(f"p{i}", i)
    pipe.get("p199")
    results = pipe.execute()
    assert results[-1] == b"199", results[-1]

    pipe = r.pipeline(transaction=True)
    pipe.incr("t").incr("t").get("t")
    assert pipe.execute() == [1, 2, b"2"]

    # WATCH: a concurrent change aborts the first attempt.
    other = redis.Redis(host=HOST, port=PORT, socket_timeout=10)
    with r.pipeline() as pipe:
        pipe.watch("w")
        other.set("w", "changed")
        pipe.multi()
        pipe.set("w", "mine")
        try:
            pipe.execute()
        except redis.WatchError:
            pass
        else:
            raise AssertionError("EXEC after a watched key changed must abort")
    assert r.get("w") == b"changed"

    def incr_w(pipe):
        value = pipe.get("counter") or b"0"
        pipe.multi()
        pipe.set("counter", int(value) + 1)

    r.transaction(incr_w, "counter")
    assert r.get("counter") == b"1"

    # EXECABORT after a queueing error.
    pipe = r.pipeline(transaction=True)
    pipe.set("x", 1)
    pipe.execute_command("SET", "only-one-arg")
    try:
        pipe.execute()
    except redis.ResponseError as e:
        assert "EXECABORT" in str(e) or "wrong number of arguments" in str(e), str(e)
    else:
        raise AssertionError("a queued arity error must abort EXEC")
    assert r.exists("x") == 0


def wait_message(p, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        m = p.get_message(ignore_subscribe_messages=True, timeout=0.5)
        if m is not None:
            return m
    raise AssertionError("no pub/sub message within the deadline")


def check_pubsub(r, publisher):
    p = r.pubsub()
    p.subscribe("news")
    p.psubscribe("sport.*")
    # Drain the subscribe confirmations.
    for _ in range(2):
        m = p.get_message(timeout=5)
        assert m is not None and m["type"] in ("subscribe", "psubscribe"), m
    assert publisher.publish("news", "hello") == 1
    m = wait_message(p)
    assert (m["type"], m["channel"], m["data"]) == ("message", b"news", b"hello"), m
    assert publisher.publish("sport.chess", b"\x00bin") == 1
    m = wait_message(p)
    assert (m["type"], m["pattern"], m["data"]) == ("pmessage", b"sport.*", b"\x00bin"), m
    assert publisher.pubsub_numsub("news") == [(b"news", 1)]
    assert publisher.pubsub_numpat() == 1
    assert publisher.pubsub_channels() == [b"news"]
    p.unsubscribe()
    p.punsubscribe()
    p.close()


def main():
    global HOST, PORT
    HOST, PORT = sys.argv[1], int(sys.argv[2])
    r2 = redis.Redis(host=HOST, port=PORT, socket_timeout=10)
    r2.flushall()
    check_commands(r2)
    check_pipelines_and_transactions(r2)
    check_pubsub(r2, redis.Redis(host=HOST, port=PORT, socket_timeout=10))

    major = int(redis.__version__.split(".")[0])
    if major >= 5:
        r3 = redis.Redis(host=HOST, port=PORT, socket_timeout=10, protocol=3)
        r3.flushall()
        check_commands(r3)
        check_pipelines_and_transactions(r3)
        check_pubsub(r3, redis.Redis(host=HOST, port=PORT, socket_timeout=10, protocol=3))
        print("redis-py: RESP3 checks passed")
    print("redis-py: all checks passed")


if __name__ == "__main__":
    main()
