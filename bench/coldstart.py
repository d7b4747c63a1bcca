"""Cold start of `levee serve`: milliseconds from exec to the first 200 on /ready.

usage: coldstart.py BIN WORKDIR ROUNDS — prints one JSON line. Each round starts levee in a
fresh directory (the embedded SQLite database created and migrated by that start), stops it,
and starts it again in the same directory (already migrated). /ready is polled every
millisecond over loopback; rate limiting is off so polling is never turned away.
"""

import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ready(port):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("GET", "/ready")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def start_to_ready(binary, directory):
    port = free_port()
    env = dict(os.environ, LEVEE_SERVER__PORT=str(port), LEVEE_LOG__LEVEL="warn",
               LEVEE_RATE_LIMIT__ENABLED="false")
    started = time.monotonic()
    proc = subprocess.Popen([binary, "serve"], cwd=directory, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not ready(port):
            if proc.poll() is not None:
                sys.exit(f"levee serve exited with {proc.returncode} before it was ready")
            if time.monotonic() - started > 30:
                sys.exit("levee serve was not ready within 30 s")
            time.sleep(0.001)
        return (time.monotonic() - started) * 1000
    finally:
        proc.terminate()
        proc.wait()


def summary(samples):
    return {"median_ms": round(statistics.median(samples), 1),
            "min_ms": round(min(samples), 1), "max_ms": round(max(samples), 1)}


def main():
    binary, workdir, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    fresh, migrated = [], []
    for _ in range(rounds):
        directory = tempfile.mkdtemp(dir=workdir)
        fresh.append(start_to_ready(binary, directory))
        migrated.append(start_to_ready(binary, directory))
    print(json.dumps({"rounds": rounds, "fresh_sqlite": summary(fresh),
                      "migrated_sqlite": summary(migrated)}))


main()
