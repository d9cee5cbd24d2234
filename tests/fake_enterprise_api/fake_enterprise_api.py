#!/usr/bin/env python3
"""A fake of the Claude Enterprise Analytics API and the Spend Limits API for tests, following
the shared spec sections B and I:

- GET /v1/organizations/analytics/users: one day (`date`), `limit` 1..1000 (default 100),
  rows sorted by email, paged by `next_page` alone (no `has_more`), a date not ready yet (after
  --latest) refused with 400 naming the latest available day, nothing before 2026-01-01.
- GET /v1/organizations/analytics/user_cost_report and /user_usage_report: RFC 3339
  `starting_at`/`ending_at` (at most 31 days), `bucket_width=1d`, `products[]`, `group_by[]`,
  `limit` rows 1..1000 (default 20), `has_more` + `next_page`, cursors tied to the query (400
  when a parameter changes), `data_refreshed_at`, `organization_id`; amounts are decimal strings
  in cents; actors carry `email_address`, `email` or both, and some are service accounts or
  deleted users without an email.
- GET /v1/organizations/spend_limits/effective: members' caps (`amount` null = no cap) in the
  organization's currency with `period_to_date_spend`, paged by `next_page` alone.
- x-api-key must match; a key without the endpoint's scope gets 403 (--scope-status to change);
  a wrong key gets 404 on /users and 401 elsewhere (the support article's variant).

Faults are queued through POST /_control/faults ([{"kind": "429"|"500"|"503"|"504"|"410"|
"timeout"|"malformed", "endpoint": "users"|"user_cost_report"|…, "date": …, "paged": true,
"retry_after": s, "count": n}]) and served to the next matching requests (410 only to requests
carrying a cursor). /_control/log lists the requests, /_control/totals the truth per
(date, actor, quantity, labels) for days up to --latest (costs in cents; --truth-file writes it,
with the caps, to a file at start), /_control/caps the spend caps. Listens on 127.0.0.1 only.
"""
import argparse
import base64
import datetime
import hashlib
import json
import random
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ROOT = "/v1/organizations/analytics/"
SPEND = "/v1/organizations/spend_limits/effective"
MODELS = ["claude-opus-5", "claude-sonnet-5", "claude-haiku-4-5-20251001", "claude-opus-4-6[1m]"]
TOOLS = ["edit_tool", "multi_edit_tool", "notebook_edit_tool", "write_tool"]
FIRST_DAY = datetime.date(2026, 1, 1)


class Org:
    """A deterministic Enterprise organization: per day, /users rows and cost/usage rows."""

    def __init__(self, end, days, users, seed, big_days, currency):
        rng = random.Random(seed)
        self.users = {}  # date -> [row]
        self.cost = {}   # date -> [row]
        self.usage = {}  # date -> [row]
        people = ["dev%03d@example.com" % i for i in range(users)]
        for n in range(days):
            day = end - datetime.timedelta(days=n)
            if day < FIRST_DAY:
                break
            iso = day.isoformat()
            if iso in big_days:
                active = ["big%04d@example.com" % i for i in range(big_days[iso])]
            else:
                active = [p for p in people if rng.random() < 0.6]
            urows, crows, trows = [], [], []
            for email in active:
                uid = "user_" + hashlib.sha1(email.encode()).hexdigest()[:16]
                coder = rng.random() < 0.85  # the others only chatted: all-zero Claude Code
                shown = email if rng.random() < 0.8 else email.upper()
                urows.append(self.users_row(rng, uid, shown, coder))
                if coder or rng.random() < 0.1:  # cost without engagement happens too
                    for m in rng.sample(MODELS, rng.randint(1, 2)):
                        actor = self.actor(rng, uid, shown)
                        cents = rng.randint(0, 90000) + rng.choice([0, 0.5, 0.25, 0.125])
                        crows.append(dict(actor=actor, model=m, product="claude_code",
                                          amount="%.6f" % cents, list_amount="%.6f" % (cents * 1.2),
                                          currency="USD", cost_type=None, token_type=None,
                                          starting_at=iso + "T00:00:00Z",
                                          ending_at=(day + datetime.timedelta(days=1)).isoformat() + "T00:00:00Z"))
                        five, hour = rng.randint(0, 10 ** 6), rng.randint(0, 10 ** 5)
                        row = dict(actor=self.actor(rng, uid, shown), model=m, product="claude_code",
                                   uncached_input_tokens=rng.randint(0, 10 ** 6),
                                   output_tokens=rng.randint(0, 10 ** 5),
                                   cache_read_input_tokens=rng.randint(0, 10 ** 7),
                                   cache_creation=dict(ephemeral_5m_input_tokens=five,
                                                       ephemeral_1h_input_tokens=hour),
                                   server_tool_use=dict(web_search_requests=0),
                                   requests=rng.randint(1, 300),
                                   starting_at=iso + "T00:00:00Z",
                                   ending_at=(day + datetime.timedelta(days=1)).isoformat() + "T00:00:00Z")
                        row["total_tokens"] = (row["uncached_input_tokens"] + row["output_tokens"] +
                                               row["cache_read_input_tokens"] + five + hour)
                        trows.append(row)
            # Rows that are nobody's: a service account and a deleted member without an email.
            for rows in (crows, trows):
                src = dict(crows[0] if rows is crows and crows else trows[0] if trows else {})
                if not src:
                    continue
                for actor in ({"type": "service_account_actor", "service_account_id": "sa_1"},
                              {"type": "user_actor", "user_id": "user_gone", "email": None,
                               "email_address": None, "name": None, "deleted": True}):
                    r = dict(src)
                    r["actor"] = actor
                    rows.append(r)
            urows.sort(key=lambda r: r["user"]["email_address"].lower())
            crows.sort(key=lambda r: -float(r["amount"]))  # ranked by amount
            trows.sort(key=lambda r: -r["total_tokens"])
            self.users[iso], self.cost[iso], self.usage[iso] = urows, crows, trows
        self.caps = []
        for i, email in enumerate(people):
            uid = "user_" + hashlib.sha1(email.encode()).hexdigest()[:16]
            amount = None if i % 7 == 0 else str(rng.choice([20000, 50000, 100000]))
            spend = "%.1f" % (rng.randint(0, 60000) + rng.choice([0, 0.5]))
            source = ({"type": "user", "user_id": uid} if i % 5 == 0 else
                      {"type": "seat_tier", "seat_tier": "enterprise_standard"})
            self.caps.append({"actor": {"type": "user_actor", "user_id": uid, "email_address": email,
                                        "name": None, "deleted": False},
                              "scope": {"type": "user", "user_id": uid}, "amount": amount,
                              "currency": currency, "period": "monthly",
                              "period_to_date_spend": spend, "source": source,
                              "spend_limit_id": "spl_%04d" % i})

    @staticmethod
    def actor(rng, uid, email):
        variant = rng.random()
        a = {"type": "user_actor", "user_id": uid, "name": None, "deleted": False}
        if variant < 0.4:
            a["email"] = email
        elif variant < 0.8:
            a["email_address"] = email
        else:
            a["email"] = email
            a["email_address"] = email
        return a

    @staticmethod
    def users_row(rng, uid, email, coder):
        def r(hi):
            return rng.randint(0, hi) if coder else 0
        tools = {t: {"accepted_count": r(30), "rejected_count": r(5)} for t in TOOLS}
        return {"user": {"id": uid, "email_address": email, "type": "user"},
                "claude_code_metrics": {
                    "core_metrics": {"commit_count": r(8), "pull_request_count": r(3),
                                     "distinct_session_count": r(12) if rng.random() < 0.95 else None,
                                     "lines_of_code": {"added_count": r(2000), "removed_count": r(500)},
                                     "artifacts_created_count": 0},
                    "tool_actions": tools},
                "chat_metrics": {"message_count": rng.randint(0, 40), "distinct_conversation_count": 1},
                "cowork_metrics": {}, "design_metrics": {}, "science_metrics": {},
                "office_metrics": {"excel": {}, "outlook": {}, "powerpoint": {}, "word": {}},
                "web_search_count": rng.randint(0, 5),
                "last_activity_date": None}

    def totals(self, since, through):
        """{"date|user:email|quantity|labels": value}: what the agent must store (cents)."""
        out = {}

        def add(date, email, q, labels, v):
            k = "%s|user:%s|%s|%s" % (date, email.lower(), q, "/".join(labels))
            out[k] = out.get(k, 0) + (v or 0)

        def email_of(actor):
            if actor.get("type") != "user_actor":
                return None
            return actor.get("email_address") or actor.get("email")

        for iso in self.users:
            if not (since <= iso <= through):
                continue
            for row in self.users[iso]:
                e = row["user"]["email_address"]
                c = row["claude_code_metrics"]["core_metrics"]
                add(iso, e, "sessions", [], c["distinct_session_count"])
                add(iso, e, "lines_added", [], c["lines_of_code"]["added_count"])
                add(iso, e, "lines_removed", [], c["lines_of_code"]["removed_count"])
                add(iso, e, "commits", [], c["commit_count"])
                add(iso, e, "pull_requests", [], c["pull_request_count"])
                for tool, d in row["claude_code_metrics"]["tool_actions"].items():
                    add(iso, e, "tool_decisions", [tool[:-5], "accepted"], d["accepted_count"])
                    add(iso, e, "tool_decisions", [tool[:-5], "rejected"], d["rejected_count"])
            for row in self.cost[iso]:
                e = email_of(row["actor"])
                if e:
                    add(iso, e, "cost_cents", [row["model"].split("[")[0]], float(row["amount"]))
            for row in self.usage[iso]:
                e = email_of(row["actor"])
                if e:
                    m = row["model"].split("[")[0]
                    add(iso, e, "tokens", [m, "input"], row["uncached_input_tokens"])
                    add(iso, e, "tokens", [m, "output"], row["output_tokens"])
                    add(iso, e, "tokens", [m, "cache_read"], row["cache_read_input_tokens"])
                    cc = row["cache_creation"]
                    add(iso, e, "tokens", [m, "cache_creation"],
                        cc["ephemeral_5m_input_tokens"] + cc["ephemeral_1h_input_tokens"])
        return out


class State:
    def __init__(self, org, args):
        self.org = org
        self.key = args.key
        self.scopes = set(s for s in args.scopes.split(",") if s)
        self.scope_status = args.scope_status
        self.latest = args.latest
        self.refreshed_at = args.refreshed_at
        self.org_id = args.org_id
        self.delay = args.delay
        self.faults = []
        self.log = []
        self.lock = threading.Lock()


def encode_cursor(query_hash, offset):
    return "cur_" + base64.urlsafe_b64encode(("%s:%d" % (query_hash, offset)).encode()).decode()


def decode_cursor(cursor):
    d, off = base64.urlsafe_b64decode(cursor[4:].encode()).decode().rsplit(":", 1)
    return d, int(off)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state = None

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, obj, headers=None):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("request-id", "req_fake")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def error(self, status, etype, message, headers=None):
        self.send_json(status, {"type": "error", "error": {"type": etype, "message": message},
                                "request_id": "req_fake_%d" % int(time.time() * 1e6)}, headers)

    def do_POST(self):
        st = self.state
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        if self.path == "/_control/faults":
            with st.lock:
                st.faults.extend(json.loads(body or b"[]"))
            return self.send_json(200, {"queued": len(st.faults)})
        if self.path == "/_control/clear":
            with st.lock:
                st.faults.clear()
                st.log.clear()
            return self.send_json(200, {})
        if self.path == "/_control/latest":  # the API finished more days
            st.latest = json.loads(body)["latest"]
            return self.send_json(200, {})
        if self.path == "/_control/refreshed":  # a new export of cost and usage
            st.refreshed_at = json.loads(body)["refreshed_at"]
            return self.send_json(200, {})
        self.send_json(404, {})

    def take_fault(self, endpoint, q):
        st = self.state
        with st.lock:
            for i, f in enumerate(st.faults):
                if f.get("endpoint") not in (None, endpoint):
                    continue
                day = q.get("date") or (q.get("starting_at") or "")[:10]
                if f.get("date") not in (None, day):
                    continue
                if (f.get("paged") or f["kind"] == "410") and not q.get("page"):
                    continue
                f["count"] = f.get("count", 1) - 1
                if f["count"] <= 0:
                    st.faults.pop(i)
                return f
        return None

    def do_GET(self):
        st = self.state
        url = urlparse(self.path)
        raw = parse_qs(url.query)
        q = {k: v[0] for k, v in raw.items()}
        if url.path == "/_control/log":
            with st.lock:
                return self.send_json(200, list(st.log))
        if url.path == "/_control/totals":
            return self.send_json(200, st.org.totals(q.get("since", "0000"), q.get("through", st.latest)))
        if url.path == "/_control/caps":
            return self.send_json(200, st.org.caps)
        if url.path.startswith(ROOT):
            endpoint, scope = url.path[len(ROOT):], "read:analytics"
        elif url.path == SPEND:
            endpoint, scope = "spend_limits", "read:spend_limits"
        else:
            return self.error(404, "not_found_error", "Not found")
        entry = {"t": time.time(), "endpoint": endpoint, "query": {k: v if len(v) > 1 else v[0] for k, v in raw.items()},
                 "key_ok": self.headers.get("x-api-key") == st.key,
                 "version": self.headers.get("anthropic-version"), "user_agent": self.headers.get("User-Agent")}
        with st.lock:
            st.log.append(entry)
        if st.delay:
            time.sleep(st.delay)
        fault = self.take_fault(endpoint, q)
        if fault:
            entry["fault"] = kind = fault["kind"]
            if kind == "timeout":
                time.sleep(fault.get("seconds", 3))
                return self.error(504, "timeout_error", "late")
            if kind == "malformed":
                body = b'{"data": [ {"user": '
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            status = int(kind)
            etype = {410: "invalid_request_error", 429: "rate_limit_error", 500: "api_error",
                     503: "api_error", 504: "timeout_error"}.get(status, "api_error")
            message = "cursor expired; restart pagination" if status == 410 else "injected %s" % kind
            headers = {"retry-after": str(fault["retry_after"])} if "retry_after" in fault else {}
            return self.error(status, etype, message, headers)

        # What the real API checks.
        if self.headers.get("x-api-key") != st.key:
            if endpoint == "users":
                return self.error(404, "not_found_error", "Not found")
            return self.error(401, "authentication_error", "invalid x-api-key")
        if scope not in st.scopes:
            return self.error(st.scope_status, "permission_error",
                              "this key has scopes [%s]; this endpoint requires %s" % (
                                  ", ".join(sorted(st.scopes)), scope))
        if endpoint == "users":
            return self.users(q)
        if endpoint in ("user_cost_report", "user_usage_report"):
            return self.report(endpoint, q, raw)
        if endpoint == "spend_limits":
            return self.spend_limits(q)
        return self.error(404, "not_found_error", "Not found")

    def limit(self, q, default):
        try:
            limit = int(q.get("limit", str(default)))
        except ValueError:
            return None
        return limit if 1 <= limit <= 1000 else None

    def users(self, q):
        st = self.state
        day = q.get("date", "")
        try:
            d = datetime.date.fromisoformat(day)
        except ValueError:
            return self.error(400, "invalid_request_error", "date must be YYYY-MM-DD")
        if d < FIRST_DAY:
            return self.error(400, "invalid_request_error", "date must not be before 2026-01-01")
        if day > st.latest:
            return self.error(400, "invalid_request_error",
                              "Data for %s is not available yet. The latest available date is %s." % (day, st.latest))
        limit = self.limit(q, 100)
        if limit is None:
            return self.error(400, "invalid_request_error", "limit must be 1..1000")
        offset = 0
        if q.get("page"):
            try:
                d2, offset = decode_cursor(q["page"])
                assert d2 == day
            except Exception:
                return self.error(400, "invalid_request_error", "invalid page cursor")
        rows = st.org.users.get(day, [])
        chunk = rows[offset:offset + limit]
        more = offset + limit < len(rows)
        self.last_rows(len(chunk))
        self.send_json(200, {"data": chunk, "next_page": encode_cursor(day, offset + limit) if more else None})

    def last_rows(self, n):
        with self.state.lock:
            self.state.log[-1]["rows"] = n

    def report(self, endpoint, q, raw):
        st = self.state
        try:
            start = datetime.datetime.fromisoformat(q["starting_at"].replace("Z", "+00:00"))
            end = datetime.datetime.fromisoformat(q["ending_at"].replace("Z", "+00:00"))
        except (KeyError, ValueError):
            return self.error(400, "invalid_request_error", "starting_at and ending_at must be RFC 3339")
        if start.date() < FIRST_DAY or not (start < end) or (end - start).days > 31:
            return self.error(400, "invalid_request_error", "the range must start on or after 2026-01-01 "
                              "and span at most 31 days")
        if q.get("bucket_width") != "1d" or raw.get("products[]") != ["claude_code"] or raw.get("group_by[]") != ["model"]:
            return self.error(400, "invalid_request_error", "fake: expected bucket_width=1d, "
                              "products[]=claude_code, group_by[]=model")
        limit = self.limit(q, 20)
        if limit is None:
            return self.error(400, "invalid_request_error", "limit must be 1..1000")
        query_hash = hashlib.sha1(json.dumps({k: v for k, v in sorted(raw.items()) if k != "page"}).encode()).hexdigest()[:12]
        offset = 0
        if q.get("page"):
            try:
                h, offset = decode_cursor(q["page"])
            except Exception:
                return self.error(400, "invalid_request_error", "invalid page cursor")
            if h != query_hash:
                return self.error(400, "invalid_request_error", "cursor does not match current query parameters")
        table = st.org.cost if endpoint == "user_cost_report" else st.org.usage
        rows, day = [], start.date()
        while day < end.date():
            rows += table.get(day.isoformat(), [])
            day += datetime.timedelta(days=1)
        chunk = rows[offset:offset + limit]
        more = offset + limit < len(rows)
        self.last_rows(len(chunk))
        self.send_json(200, {"data": chunk, "has_more": more,
                             "next_page": encode_cursor(query_hash, offset + limit) if more else None,
                             "data_refreshed_at": st.refreshed_at, "organization_id": st.org_id})

    def spend_limits(self, q):
        st = self.state
        limit = self.limit(q, 20)
        if limit is None:
            return self.error(400, "invalid_request_error", "limit must be 1..1000")
        offset = 0
        if q.get("page"):
            try:
                _, offset = decode_cursor(q["page"])
            except Exception:
                return self.error(400, "invalid_request_error", "invalid page cursor")
        rows = st.org.caps
        chunk = rows[offset:offset + limit]
        more = offset + limit < len(rows)
        self.last_rows(len(chunk))
        self.send_json(200, {"data": chunk, "next_page": encode_cursor("caps", offset + limit) if more else None})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--key", required=True)
    ap.add_argument("--scopes", default="read:analytics,read:spend_limits")
    ap.add_argument("--scope-status", type=int, default=403)
    ap.add_argument("--end", default="2026-11-22", help="the newest day with data")
    ap.add_argument("--latest", help="the newest day /users serves (default: the day before --end)")
    ap.add_argument("--refreshed-at", default=None, help="data_refreshed_at (default: --end 08:00 UTC)")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--users", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--big-day", action="append", default=[], help="DATE:USERS")
    ap.add_argument("--org-id", default="org_enterprise_0001")
    ap.add_argument("--currency", default="USD")
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--truth-file", help="write the truth (as /_control/totals, and the caps) here at start")
    a = ap.parse_args()
    end = datetime.date.fromisoformat(a.end)
    a.latest = a.latest or (end - datetime.timedelta(days=1)).isoformat()
    a.refreshed_at = a.refreshed_at or end.isoformat() + "T08:00:00Z"
    big = {d: int(n) for d, n in (b.split(":") for b in a.big_day)}
    org = Org(end, a.days, a.users, a.seed, big, a.currency)
    Handler.state = State(org, a)
    if a.truth_file:
        with open(a.truth_file, "w") as f:
            json.dump({"latest": a.latest, "totals": org.totals("0000", a.latest), "caps": org.caps}, f,
                      sort_keys=True)
    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.daemon_threads = True
    print("listening on 127.0.0.1:%d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
