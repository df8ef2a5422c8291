"""redis-py through the gateway: both access keys, RESP2 and RESP3 (HELLO 3 AUTH),
pipelines, transactions, pub/sub, maintenance notifications, and the TLS endpoint.

Run by crates/gateway/tests/clients.rs as
`python3 gateway_clients.py HOST PORT TLS_PORT KEY1 KEY2`; prints
'redis-py: all checks passed' and exits 0, or raises.
"""

import sys

import redis

host, port, tls_port, key1, key2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]


def check(r, tag):
    assert r.ping() is True
    assert r.set(f"{tag}:k", "v") is True
    assert r.get(f"{tag}:k") == b"v"
    p = r.pipeline(transaction=False)
    for i in range(50):
        p.set(f"{tag}:{i}", i)
        p.get(f"{tag}:{i}")
    out = p.execute()
    assert out[1::2] == [str(i).encode() for i in range(50)], out
    t = r.pipeline(transaction=True)
    t.incr(f"{tag}:n").incr(f"{tag}:n")
    assert t.execute() == [1, 2]
    r.hset(f"{tag}:h", mapping={"a": "1"})
    assert r.hgetall(f"{tag}:h") == {b"a": b"1"}


def check_pubsub(r, tag):
    ps = r.pubsub()
    ps.subscribe(f"{tag}:ch")
    first = ps.get_message(timeout=5)
    assert first and first["type"] == "subscribe", first
    assert r.publish(f"{tag}:ch", "hello") == 1
    msg = ps.get_message(timeout=5)
    assert msg and msg["type"] == "message" and msg["data"] == b"hello", msg
    ps.close()


check(redis.Redis(host=host, port=port, password=key1, socket_timeout=10), "p1")
check(redis.Redis(host=host, port=port, password=key2, socket_timeout=10), "p2")
resp3 = redis.Redis(host=host, port=port, password=key2, protocol=3, socket_timeout=10)
check(resp3, "r3")
check_pubsub(resp3, "r3")
check_pubsub(redis.Redis(host=host, port=port, password=key1, socket_timeout=10), "r2")

# Maintenance notifications required (not "auto"): redis-py refuses to connect
# unless the endpoint accepts CLIENT MAINT_NOTIFICATIONS ON.
try:
    from redis.maint_notifications import MaintNotificationsConfig
except ImportError:  # redis-py older than 6.4 has no maintenance notifications
    MaintNotificationsConfig = None
if MaintNotificationsConfig is not None:
    maint = redis.Redis(host=host, port=port, password=key1, protocol=3, socket_timeout=10,
                        maint_notifications_config=MaintNotificationsConfig(enabled=True))
    check(maint, "maint")

try:
    redis.Redis(host=host, port=port, password="wrong", socket_timeout=10).ping()
    raise AssertionError("a wrong key was accepted")
except redis.AuthenticationError as e:
    assert "invalid username-password pair" in str(e), e

tls = redis.Redis(host=host, port=tls_port, password=key1, ssl=True, ssl_cert_reqs=None, socket_timeout=10)
check(tls, "tls")
check_pubsub(tls, "tls")
check(redis.Redis(host=host, port=tls_port, password=key2, ssl=True, ssl_cert_reqs=None, protocol=3,
                  socket_timeout=10), "tls3")

print("redis-py: all checks passed")
