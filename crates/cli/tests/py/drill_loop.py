"""An unmodified redis-py client in a loop through the endpoint: writes unique keys,
reads each back at once, and when stdin closes verifies every acknowledged write and
prints {"writes", "errors", "lost"} as JSON. Usage: drill_loop.py HOST PORT PASSWORD."""
import json
import sys
import threading

import redis

host, port, password = sys.argv[1], int(sys.argv[2]), sys.argv[3]
r = redis.Redis(host=host, port=port, password=password, socket_timeout=5)
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()

acked, errors = [], []
r.ping()
print("running", flush=True)
i = 0
while not stop.is_set() or i < 100:
    i += 1
    key, value = f"py:{i}", f"v{i}"
    try:
        r.set(key, value)
        acked.append((key, value))
        if r.get(key) != value.encode():
            errors.append(f"read {key}")
    except redis.RedisError as e:
        errors.append(repr(e))
lost = sum(1 for k, v in acked if r.get(k) != v.encode())
print(json.dumps({"writes": len(acked), "errors": len(errors), "lost": lost}), flush=True)
print("\n".join(errors[:10]), file=sys.stderr)
