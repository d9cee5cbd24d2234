#!/usr/bin/env python3
"""Posts a recorded Claude Code telemetry run to a running agent, request by request, as Claude
Code sent it. Standard library only.

  scripts/send-sample-telemetry.py                      # json-delta run, shifted to now
  scripts/send-sample-telemetry.py --run pb-oauth --no-shift --endpoint http://127.0.0.1:4318

--shift (the default, JSON runs only) moves every timestamp so the run ends now, so the daily
gauges show it under today's date; protobuf runs are sent as recorded (dated 2026-11-22).
"""
import argparse
import gzip
import json
import os
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
RUNS = os.path.join(HERE, "..", "tests", "testdata", "claude-code", "runs")
TIME_KEYS = ("timeUnixNano", "startTimeUnixNano", "observedTimeUnixNano")


def shift_json(obj, offset_ns):
    if isinstance(obj, dict):
        out = {}
        for k, v in obj.items():
            if k in TIME_KEYS and str(v) not in ("0", ""):
                out[k] = str(int(v) + offset_ns)
            elif k == "attributes" and isinstance(v, list):
                out[k] = [shift_attr(a, offset_ns) for a in v]
            else:
                out[k] = shift_json(v, offset_ns)
        return out
    if isinstance(obj, list):
        return [shift_json(v, offset_ns) for v in obj]
    return obj


def shift_attr(attr, offset_ns):
    if attr.get("key") == "event.timestamp" and "stringValue" in attr.get("value", {}):
        ts = attr["value"]["stringValue"]
        secs = time.mktime(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        secs += offset_ns / 1e9
        frac = ts[19:-1] if ts.endswith("Z") else ""
        new = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + frac + "Z"
        return {"key": attr["key"], "value": {"stringValue": new}}
    return attr


def load_run(run_dir):
    with open(os.path.join(run_dir, "index.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def last_time_ns(run_dir, entries):
    latest = 0
    for e in entries:
        if not e["file"].endswith(".json"):
            continue
        with open(os.path.join(run_dir, e["file"])) as f:
            text = f.read()
        for key in TIME_KEYS:
            for part in text.split('"%s":"' % key)[1:]:
                latest = max(latest, int(part.split('"', 1)[0]))
    return latest


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--endpoint", default="http://127.0.0.1:4318", help="OTLP/HTTP base URL")
    ap.add_argument("--run", default="json-delta", help="one of: " + ", ".join(sorted(os.listdir(RUNS))))
    ap.add_argument("--run-dir", help="a run directory (overrides --run)")
    ap.add_argument("--no-shift", dest="shift", action="store_false", help="send timestamps as recorded")
    ap.add_argument("--token", default=os.environ.get("OTLP_TOKEN"), help="bearer token, if the agent wants one")
    args = ap.parse_args()
    if not args.endpoint.startswith(("http://127.", "http://localhost", "http://[::1]")):
        print("note: sending to %s" % args.endpoint, file=sys.stderr)

    run_dir = args.run_dir or os.path.join(RUNS, args.run)
    entries = load_run(run_dir)
    offset = 0
    if args.shift and any(e["file"].endswith(".json") for e in entries):
        offset = time.time_ns() - last_time_ns(run_dir, entries)
    sent = 0
    for e in entries:
        with open(os.path.join(run_dir, e["file"]), "rb") as f:
            body = f.read()
        headers = {"Content-Type": e["content_type"]}
        if e.get("content_encoding"):
            headers["Content-Encoding"] = e["content_encoding"]
        if offset and e["file"].endswith(".json"):
            body = json.dumps(shift_json(json.loads(body), offset)).encode()
        if args.token:
            headers["Authorization"] = "Bearer " + args.token
        req = urllib.request.Request(args.endpoint.rstrip("/") + e["path"], data=body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                r.read()
        except urllib.error.HTTPError as err:
            print("request %d (%s) answered %d: %s" % (e["n"], e["path"], err.code, err.read()[:300]), file=sys.stderr)
            return 1
        except urllib.error.URLError as err:
            print("cannot reach %s: %s (is the agent running?)" % (args.endpoint, err.reason), file=sys.stderr)
            return 1
        sent += 1
    print("sent %d requests from %s%s" % (sent, os.path.basename(run_dir.rstrip("/")),
                                          ", shifted to now" if offset else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
