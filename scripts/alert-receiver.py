#!/usr/bin/env python3
"""A webhook receiver for Alertmanager on loopback, for the local stack: appends every
notification to a JSON-lines file and prints one line per alert, so nothing leaves the machine."""
import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=9095)
    ap.add_argument("--log", required=True, help="JSON-lines file of notifications")
    args = ap.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                msg = json.loads(body)
            except ValueError:
                self.send_response(400)
                self.end_headers()
                return
            with open(args.log, "a") as f:
                f.write(json.dumps({"receiver": self.path.strip("/"), "notification": msg}) + "\n")
            for a in msg.get("alerts", []):
                labels = a.get("labels", {})
                print("%s %s %s [%s] %s" % (self.path.strip("/"), a.get("status"), labels.get("alertname"),
                                            labels.get("severity"), a.get("annotations", {}).get("description", "")),
                      flush=True)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("alert receiver on 127.0.0.1:%d" % args.port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
