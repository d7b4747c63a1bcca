"""A payment/shipping provider for bench/outage on loopback: answers every POST with
{"reference": ...} at once, or — after POST /mode/hang — holds each call for 30 s (an
outage: the provider accepts connections and never answers in time). POST /mode/ok ends it.
Prints its port on the first line of stdout."""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

hanging = threading.Event()


class Provider(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        if self.path.startswith("/mode/"):
            (hanging.set if self.path == "/mode/hang" else hanging.clear)()
            return self.answer({"mode": self.path[6:]})
        if hanging.is_set():
            time.sleep(30)
        self.answer({"reference": "bench-" + self.headers.get("idempotency-key", "")})

    def answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Provider)
server.daemon_threads = True
print(server.server_address[1], flush=True)
sys.stdout.close()
server.serve_forever()
