#!/usr/bin/env python3
"""A fake of GET /v1/organizations/usage_report/claude_code for tests, following the spec
(shared spec section A): one UTC day per call (starting_at), limit 1..1000 (default 20), opaque
cursor pages (has_more/next_page), the Anthropic error envelope, and the headers it must receive
(x-api-key, anthropic-version: 2023-06-01, a User-Agent). It serves a scripted organization: users
and API keys over many days, split rows (is_remote), fractional cents, unknown tool keys, mixed-case
emails, both date forms, and big days (e.g. 2500 actors = three pages).

Faults are injected through /_control/faults and served to the next matching requests: 429 with
retry-after, 500/502/503/504/529, timeout (no answer for N seconds), malformed JSON, 400, 401, 403,
404. /_control/log lists every request received, /_control/totals the organization's sums per
(date, actor, quantity, labels), costs in cents. Listens on 127.0.0.1 only.
"""
import argparse
import base64
import datetime
import json
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

API_PATH = "/v1/organizations/usage_report/claude_code"
MODELS = ["claude-opus-5", "claude-sonnet-5", "claude-haiku-4-5-20251001", "claude-opus-4-6[1m]"]
TOOLS = ["edit_tool", "multi_edit_tool", "write_tool", "notebook_edit_tool"]


def day_range(end, days):
    return [end - datetime.timedelta(days=i) for i in range(days)]


class Org:
    """A deterministic organization: records per day, and what they sum to."""

    def __init__(self, end, days, seed, big_days):
        self.records = {}
        rng = random.Random(seed)
        users = ["user%02d@example.com" % i for i in range(25)]
        keys = ["ci-key-%d" % i for i in range(4)]
        for n, day in enumerate(day_range(end, days)):
            iso = day.isoformat()
            if iso in big_days:
                actors = [("user", "big%04d@example.com" % i) for i in range(big_days[iso])]
            else:
                actors = [("user", u) for u in users if rng.random() < 0.5] + \
                         [("api", k) for k in keys if rng.random() < 0.3]
            recs = []
            for kind, name in actors:
                split = rng.random() < 0.25  # local and remote rows
                for remote in ([False, True] if split else [rng.choice([None, False])]):
                    recs.append(self.record(rng, day, n, kind, name, remote))
            rng.shuffle(recs)  # the API documents no order
            self.records[iso] = recs

    @staticmethod
    def record(rng, day, n, kind, name, remote):
        date = day.isoformat() if n % 2 == 0 else day.isoformat() + "T00:00:00Z"
        if kind == "user":
            shown = name if rng.random() < 0.8 else name[0].upper() + name[1:].replace("@example", "@Example")
            actor = {"type": "user_actor", "email_address": shown}
        else:
            actor = {"type": "api_actor", "api_key_name": name}
        tools = {}
        for t in rng.sample(TOOLS, rng.randint(0, 3)):
            tools[t] = {"accepted": rng.randint(0, 30), "rejected": rng.randint(0, 5)}
        if rng.random() < 0.1:
            tools["some_future_tool"] = {"accepted": rng.randint(0, 3), "rejected": rng.randint(0, 3)}
        models = []
        for m in rng.sample(MODELS, rng.randint(1, 2)):
            cents = rng.randint(0, 5000) + (rng.choice([0, 0.5, 0.25]) if rng.random() < 0.4 else 0)
            models.append({"model": m,
                           "tokens": {"input": rng.randint(0, 10 ** 6), "output": rng.randint(0, 10 ** 5),
                                      "cache_read": rng.randint(0, 10 ** 7), "cache_creation": rng.randint(0, 10 ** 6)},
                           "estimated_cost": {"amount": cents, "currency": "USD"}})
        rec = {"date": date, "actor": actor, "organization_id": "org-0000",
               "customer_type": "api" if kind == "api" else rng.choice(["api", "subscription"]),
               "terminal_type": rng.choice(["vscode", "iTerm.app", "tmux"]),
               "core_metrics": {"num_sessions": rng.randint(0, 12),
                                "lines_of_code": {"added": rng.randint(0, 2000), "removed": rng.randint(0, 500)},
                                "commits_by_claude_code": rng.randint(0, 8),
                                "pull_requests_by_claude_code": rng.randint(0, 3)},
               "tool_actions": tools, "model_breakdown": models}
        if rec["customer_type"] == "subscription":
            rec["subscription_type"] = rng.choice(["team", "enterprise"])
        if remote is not None:
            rec["is_remote"] = remote
        return rec

    def totals(self):
        """{"date|actor_key|quantity|labels": value}; costs in cents, labels joined by '|'."""
        out = {}

        def add(date, actor, q, labels, v):
            k = "%s|%s|%s|%s" % (date, actor, q, "/".join(labels))
            out[k] = out.get(k, 0) + v

        def norm(model):
            return model.split("[")[0]

        for iso, recs in self.records.items():
            for r in recs:
                a = r["actor"]
                actor = "user:" + a["email_address"].lower() if a["type"] == "user_actor" else "api_key:" + a["api_key_name"]
                c = r["core_metrics"]
                add(iso, actor, "sessions", [], c["num_sessions"])
                add(iso, actor, "lines_added", [], c["lines_of_code"]["added"])
                add(iso, actor, "lines_removed", [], c["lines_of_code"]["removed"])
                add(iso, actor, "commits", [], c["commits_by_claude_code"])
                add(iso, actor, "pull_requests", [], c["pull_requests_by_claude_code"])
                for tool, d in r["tool_actions"].items():
                    t = tool[:-5] if tool.endswith("_tool") else tool
                    add(iso, actor, "tool_decisions", [t, "accepted"], d["accepted"])
                    add(iso, actor, "tool_decisions", [t, "rejected"], d["rejected"])
                for m in r["model_breakdown"]:
                    for ty, v in m["tokens"].items():
                        add(iso, actor, "tokens", [norm(m["model"]), ty], v)
                    add(iso, actor, "cost_cents", [norm(m["model"])], m["estimated_cost"]["amount"])
        return out


class State:
    def __init__(self, org, key, delay):
        self.org = org
        self.key = key
        self.delay = delay
        self.faults = []
        self.log = []
        self.lock = threading.Lock()


def error(handler, status, etype, message, headers=None):
    body = json.dumps({"type": "error", "error": {"type": etype, "message": message},
                       "request_id": "req_fake_%d" % int(time.time() * 1e6)}).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("request-id", "req_fake")
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None  # set by main

    def log_message(self, fmt, *args):  # quiet
        pass

    def send_json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("request-id", "req_fake")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        st = self.state
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.path == "/_control/faults":
            with st.lock:
                st.faults.extend(json.loads(body or b"[]"))
            return self.send_json(200, {"queued": len(st.faults)})
        if self.path == "/_control/day":
            # Replace one day's records: {"date": "YYYY-MM-DD", "records": [...]}.
            req = json.loads(body)
            with st.lock:
                st.org.records[req["date"]] = req["records"]
            return self.send_json(200, {"records": len(req["records"])})
        if self.path == "/_control/clear":
            with st.lock:
                st.faults.clear()
                st.log.clear()
            return self.send_json(200, {})
        self.send_json(404, {})

    def do_GET(self):
        st = self.state
        url = urlparse(self.path)
        if url.path == "/_control/log":
            with st.lock:
                return self.send_json(200, list(st.log))
        if url.path == "/_control/totals":
            return self.send_json(200, st.org.totals())
        if url.path == "/_control/days":
            return self.send_json(200, {d: len(r) for d, r in st.org.records.items()})
        if url.path != API_PATH:
            return error(self, 404, "not_found_error", "Not found")
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        entry = {"t": time.time(), "starting_at": q.get("starting_at"), "page": q.get("page"),
                 "limit": q.get("limit"), "x_api_key_ok": self.headers.get("x-api-key") == st.key,
                 "version": self.headers.get("anthropic-version"), "user_agent": self.headers.get("User-Agent")}
        with st.lock:
            st.log.append(entry)
            fault = None
            for i, f in enumerate(st.faults):
                if f.get("date") in (None, q.get("starting_at")):
                    fault = f
                    f["count"] = f.get("count", 1) - 1
                    if f["count"] <= 0:
                        st.faults.pop(i)
                    break
        if st.delay:
            time.sleep(st.delay)
        if fault:
            entry["fault"] = fault["kind"]
            kind = fault["kind"]
            if kind == "timeout":
                time.sleep(fault.get("seconds", 3))
                return error(self, 504, "timeout_error", "late")
            # Hostile answers (tests/e2e/test_hostile_input.py).
            if kind == "huge":
                # Claims and streams far more than any page: the client must stop reading.
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(fault.get("bytes", 1500 * 1024 * 1024)))
                self.end_headers()
                chunk = b'{"data": [' + b" " * (1 << 20)
                try:
                    for _ in range(fault.get("bytes", 1500 * 1024 * 1024) >> 20):
                        self.wfile.write(chunk)
                        chunk = b" " * (1 << 20)
                except OSError:
                    pass
                return
            if kind == "loop":
                # has_more forever, always the same cursor.
                return self.send_json(200, {"data": [], "has_more": True, "next_page": "page_loop"})
            if kind == "trickle":
                # Headers, then one byte a second.
                body = b'{"data": [], "has_more": false, "next_page": null}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    for b in body:
                        self.wfile.write(bytes([b]))
                        self.wfile.flush()
                        time.sleep(1)
                except OSError:
                    pass
                return
            if kind == "malformed":
                body = b'{"data": [ {"date": "2026-'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            status = int(kind)
            etype = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
                     404: "not_found_error", 429: "rate_limit_error", 500: "api_error", 502: "api_error",
                     503: "api_error", 504: "timeout_error", 529: "overloaded_error"}.get(status, "api_error")
            headers = {"retry-after": str(fault["retry_after"])} if "retry_after" in fault else {}
            return error(self, status, etype, "injected %s" % kind, headers)

        # What the real API checks.
        if self.headers.get("x-api-key") != st.key:
            return error(self, 401, "authentication_error", "invalid x-api-key")
        if self.headers.get("anthropic-version") != "2023-06-01":
            return error(self, 400, "invalid_request_error", "anthropic-version header is required")
        if not (self.headers.get("User-Agent") or "").startswith("claude-code-exporter/"):
            return error(self, 400, "invalid_request_error", "fake: expected the agent's User-Agent")
        day = q.get("starting_at", "")
        try:
            datetime.date.fromisoformat(day)
        except ValueError:
            return error(self, 400, "invalid_request_error", "starting_at must be YYYY-MM-DD")
        try:
            limit = int(q.get("limit", "20"))
        except ValueError:
            limit = -1
        if not 1 <= limit <= 1000:
            return error(self, 400, "invalid_request_error", "limit must be 1..1000")
        offset = 0
        if q.get("page"):
            try:
                d, off = base64.b64decode(q["page"][5:]).decode().split(":")
                assert q["page"].startswith("page_") and d == day
                offset = int(off)
            except Exception:
                return error(self, 400, "invalid_request_error", "invalid page cursor")
        recs = st.org.records.get(day, [])
        chunk = recs[offset:offset + limit]
        more = offset + limit < len(recs)
        cursor = "page_" + base64.b64encode(("%s:%d" % (day, offset + limit)).encode()).decode() if more else None
        entry["records"] = len(chunk)
        self.send_json(200, {"data": chunk, "has_more": more, "next_page": cursor})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--key", required=True)
    ap.add_argument("--end", default="2026-11-22")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--big-day", action="append", default=[], help="DATE:ACTORS")
    ap.add_argument("--delay", type=float, default=0.0, help="seconds added to every API request")
    ap.add_argument("--records-file", help="JSON {date: [records]} to serve instead of a generated org")
    a = ap.parse_args()
    big = {d: int(n) for d, n in (b.split(":") for b in a.big_day)}
    org = Org(datetime.date.fromisoformat(a.end), 0 if a.records_file else a.days, a.seed, big)
    if a.records_file:
        with open(a.records_file) as f:
            org.records = json.load(f)
    Handler.state = State(org, a.key, a.delay)
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
