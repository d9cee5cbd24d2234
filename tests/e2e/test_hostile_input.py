"""Hostile and careless input against the real binary, one row of the hardening table each:
values that would poison counters, timestamps from the future, huge labels, label floods, and an
Admin API that answers too much, loops, trickles or asks to be left alone for a year; a store
that cannot be written; a team change. Each asserts the bounded outcome: counters finite and
unchanged by rejected points, /metrics and memory bounded, the poller moving on with its log
line and failure reason, /readyz telling why."""
import gzip
import http.client
import json
import math
import os
import stat
import threading
import time

import harness
from harness import Agent, Checker, FakeAdminApi

a = harness.args()
c = Checker("e2e hostile input")
KEY = "sk-ant-admin01-hostile-test-key"
T = 1795348800 * 10**9 - 60 * 10**9  # a minute before the agent's clock (2026-11-22T12:00Z)


def attr(k, v):
    return {"key": k, "value": {"stringValue": v}}


def metrics_body(points, name="claude_code.cost.usage", resource=None):
    return json.dumps({"resourceMetrics": [{
        "resource": {"attributes": resource or [attr("service.name", "claude-code")]},
        "scopeMetrics": [{"scope": {"name": "com.anthropic.claude_code"}, "metrics": [
            {"name": name, "sum": {"aggregationTemporality": 1, "isMonotonic": True, "dataPoints": points}}]}]}]}).encode()


def cost_point(value, email="dev@example.com", model="claude-opus-5", t=T, start=None, extra=()):
    return {"attributes": [attr("user.email", email), attr("model", model)] + list(extra),
            "startTimeUnixNano": str(start if start is not None else t - 10**9), "timeUnixNano": str(t),
            "asDouble": value}


def post(agent, body):
    return harness.post(agent.otlp + "/v1/metrics", body, {"Content-Type": "application/json"})


def cost_total(samples, **labels):
    return sum(v for _, v in harness.select(samples, "claude_code_cost_usd_total", **labels))


def limit_hits(samples, limit):
    return sum(v for _, v in harness.select(samples, "claude_code_exporter_limit_hits_total", limit=limit))


def admin_failures(samples, reason):
    return sum(v for _, v in harness.select(samples, "claude_code_exporter_admin_api_failures_total", reason=reason))


def rss_kib(pid, field="VmRSS:"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def raw_post(port, body, headers):
    """One POST on its own connection: the status, or the error that ended it."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("POST", "/v1/metrics", body=body,
                     headers=dict({"Content-Type": "application/x-protobuf"}, **headers))
        return conn.getresponse().status
    except OSError as e:
        return "error: %s" % e
    finally:
        conn.close()


def flood(port, n, body, headers):
    results = [None] * n
    def run(i):
        results[i] = raw_post(port, body, headers)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


# --- Memory under big and inflating bodies (otlp.max_inflight_bytes) --------------------------
# Default config: 64 MiB bodies, 256 MiB in flight. The documented bound on RSS growth is
# max_inflight_bytes plus 256 MiB (buffers growing while a body arrives, and the decode).
agent = Agent(a.binary).start()
try:
    base = rss_kib(agent.proc.pid)
    big = os.urandom(1 << 20) * 48  # 48 MiB that is not OTLP: held, then refused with 400
    results = flood(agent.otlp_port, 12, big, {})
    c.check(all(r in (400, 503) for r in results),
            "12 concurrent 48 MB bodies are each answered 400 (taken) or 503 (budget spent): %s" % results)
    c.check(503 in results, "the in-flight budget turned some away: %s" % results)
    bomb = gzip.compress(b"\0" * (256 << 20), 9)  # 256 MiB of zeros in ~250 KB
    results = flood(agent.otlp_port, 32, bomb, {"Content-Encoding": "gzip"})
    c.check(all(r in (413, 503) for r in results),
            "a 32-way gzip bomb flood is answered 413 (past max_body_bytes) or 503: %s" % results)
    peak = rss_kib(agent.proc.pid, "VmHWM:")
    growth_mib = (peak - base) / 1024
    print("RSS: %.0f MiB before, peak %.0f MiB (growth %.0f MiB)" % (base / 1024, peak / 1024, growth_mib))
    c.check(growth_mib <= 256 + 256, "peak RSS growth %.0f MiB within max_inflight_bytes + 256 MiB" % growth_mib)
    samples = agent.scrape()
    c.check(limit_hits(samples, "otlp.max_inflight_bytes") > 0, "budget refusals are counted")
    c.check(sum(v for _, v in harness.select(samples, "claude_code_exporter_otlp_inflight_bytes")) == 0,
            "every held byte was given back")
    status, _, _ = post(agent, metrics_body([cost_point(2.5, t=T - 7 * 10**9)]))
    c.check(status == 200, "and a normal export is still served")
finally:
    agent.cleanup()

# --- OTLP rows -------------------------------------------------------------------------------
agent = Agent(a.binary).start()
try:
    status, body, _ = post(agent, metrics_body([cost_point(1.25, t=T - 5 * 10**9)]))
    c.check(status == 200, "a normal cost point is accepted")
    before = cost_total(agent.scrape())

    # Two cost points of 1e308.
    status, body, _ = post(agent, metrics_body([cost_point(1e308, t=T - 4 * 10**9), cost_point(1e308, t=T - 3 * 10**9)]))
    answer = json.loads(body or b"{}")
    c.check(status == 200 and answer.get("partialSuccess", {}).get("rejectedDataPoints") in (2, "2"),
            "1e308 cost points: both rejected in the partial-success answer: %r" % body[:300])
    c.check("limits.max_cost_usd" in answer.get("partialSuccess", {}).get("errorMessage", ""),
            "the answer names limits.max_cost_usd")
    s = agent.scrape()
    c.check(math.isfinite(cost_total(s)) and cost_total(s) == before, "the cost counter is finite and unchanged")
    c.equal(limit_hits(s, "max_cost_usd"), 2, "claude_code_exporter_limit_hits_total{limit=max_cost_usd}")

    # A point from the year 2100.
    status, body, _ = post(agent, metrics_body([cost_point(5, t=4102444800 * 10**9)]))
    c.check(status == 200 and b"max_future_skew" in body, "a point dated 2100 is rejected: %r" % body[:300])
    s = agent.scrape()
    c.check(cost_total(s) == before, "and not counted")
    c.equal(limit_hits(s, "max_future_skew"), 1, "limit hit max_future_skew")

    # A 10 MB user.email.
    big = "x" * (10 << 20) + "@example.com"
    status, body, _ = post(agent, metrics_body([cost_point(0.5, email=big, t=T - 2 * 10**9)]))
    c.check(status == 200, "a 10 MB email is accepted (cut)")
    text = agent.scrape_text()
    c.check(len(text) < 200_000, "/metrics stays small: %d bytes" % len(text))
    longest = max((len(l.get("actor", "")) for l, _ in harness.select(harness.parse_metrics(text), "claude_code_cost_usd_total")), default=0)
    c.check(longest <= 256, "actor labels are at most limits.max_label_length (256) bytes: %d" % longest)
    c.check(limit_hits(harness.parse_metrics(text), "max_label_length") >= 1, "limit hit max_label_length")

    # One actor, 1,000 distinct models.
    pts = [cost_point(0.001, email="flood@example.com", model="model-%04d" % i, t=T - 10**9) for i in range(1000)]
    status, body, _ = post(agent, metrics_body(pts))
    c.check(status == 200, "1,000 models for one actor accepted (folded)")
    s = agent.scrape()
    models = {l["model"] for l, _ in harness.select(s, "claude_code_cost_usd_total", actor="flood@example.com")}
    c.check(len(models) <= 101 and "__other__" in models, "series per actor bounded: %d models" % len(models))
    c.check(abs(cost_total(s, actor="flood@example.com") - 1.0) < 1e-9, "no cost lost in the fold: %r" % cost_total(s, actor="flood@example.com"))
    c.equal(limit_hits(s, "max_label_values_per_actor"), 900, "900 values folded and counted")
finally:
    agent.cleanup()

# --- Team change and __other__ -----------------------------------------------------------------
agent = Agent(a.binary, extra_toml="[limits]\nmax_actors = 1\n").start()
try:
    y = T - 86400 * 10**9
    post(agent, metrics_body([cost_point(2, t=y, extra=[attr("team.id", "blue")])]))
    post(agent, metrics_body([cost_point(3, t=T - 10**9, extra=[attr("team.id", "green")])]))
    post(agent, metrics_body([cost_point(7, email="late@example.com", t=T - 10**9, extra=[attr("team.id", "red")])]))
    s = agent.scrape()
    day_team = {l["date"]: l["team"] for l, _ in harness.select(s, "claude_code_daily_cost_usd", actor="dev@example.com")}
    c.check(day_team == {"2026-11-21": "blue", "2026-11-22": "green"}, "each day keeps the team it was spent under: %r" % day_team)
    other = harness.select(s, "claude_code_cost_usd_total", actor="__other__")
    c.check(other and all(l["team"] == "" for l, _ in other), "__other__ does not borrow a folded actor's team: %r" % other)
finally:
    agent.cleanup()

# --- Admin API rows ---------------------------------------------------------------------------
fake = FakeAdminApi(KEY, days=3)
BASE = ('[admin_api]\nbase_url = "%s"\nmin_request_interval = "0s"\nretry_backoff = "50ms"\n'
        'retry_backoff_max = "100ms"\nrefresh_days = 1\npoll_interval = "1h"\n' % fake.url)
try:
    # A record with a cost of 1e308 cents.
    fake.set_day("2026-11-22", [harness.admin_record("2026-11-22", "rich@example.com", "claude-opus-5", 1e308),
                                harness.admin_record("2026-11-22", "fine@example.com", "claude-opus-5", 250)])
    # Then: a 1.5 GB page, a looping cursor, a trickling answer, a retry-after of a year.
    # The backfill walks 11-22, 11-21 (loops: skipped), 11-20 (too large twice: left for the
    # next cycle).
    fake.faults([{"kind": "loop", "date": "2026-11-21", "count": 100},
                 {"kind": "huge", "date": "2026-11-20", "count": 2}])
    agent = Agent(a.binary, extra_toml=BASE + 'backfill_days = 3\nmax_attempts = 2\nmax_response_bytes = 1048576\n',
                  env={"ANTHROPIC_ADMIN_API_KEY": KEY}).start()
    try:
        harness.wait_for(lambda: "giving up" in agent.read_log(), 60, "the huge day given up")
        log = agent.read_log()
        s = agent.scrape()
        c.check(cost_total(s, actor="rich@example.com") == 0 and math.isfinite(cost_total(s)),
                "a 1e308-cent record is skipped, the counter stays finite")
        c.check(abs(cost_total(s, actor="fine@example.com") - 2.5) < 1e-9, "the rest of the page is kept")
        c.check("limits.max_cost_usd" in log, "the skipped record is logged with the bound")
        c.check("admin_api.max_response_bytes" in log, "the huge page is abandoned with its log line")
        c.check(admin_failures(s, "too_large") >= 1, "failure reason too_large")
        c.check(rss_kib(agent.proc.pid) < 300 * 1024, "memory stays bounded: %d KiB" % rss_kib(agent.proc.pid))
        c.check(admin_failures(s, "cursor_loop") == 1, "failure reason cursor_loop")
        days = [e["starting_at"] for e in fake.log()]
        c.check("cursor loops" in log, "the cursor-loop log line")
        c.check(days == ["2026-11-22", "2026-11-21", "2026-11-21", "2026-11-20", "2026-11-20"],
                "the loop is caught on the second page and the poller goes on to the next day: %r" % days)
        c.check(KEY not in log, "the key is never logged")
    finally:
        agent.cleanup()

    # 1 byte a second against a 3 s deadline; then a retry-after of a year.
    fake.control("/_control/clear", {})
    fake.faults([{"kind": "trickle", "date": "2026-11-22", "count": 1},
                 {"kind": "429", "date": "2026-11-22", "retry_after": 31536000, "count": 1}])
    agent = Agent(a.binary, extra_toml=BASE + 'backfill_days = 1\nrequest_timeout = "3s"\nmax_retry_after = "2s"\n',
                  env={"ANTHROPIC_ADMIN_API_KEY": KEY})
    started = time.time()
    agent.start()
    try:
        harness.wait_for(lambda: len(fake.log()) >= 3, 30, "three requests (trickle, 429, success)")
        log = fake.log()
        c.check(log[1]["t"] - log[0]["t"] < 6, "the trickling answer is abandoned after the 3 s deadline: %.1f s" % (log[1]["t"] - log[0]["t"]))
        c.check(1.5 < log[2]["t"] - log[1]["t"] < 5, "retry-after of a year capped at 2 s: %.1f s" % (log[2]["t"] - log[1]["t"]))
        text = agent.read_log()
        c.check("admin_api.request_timeout" in text, "the deadline log line")
        c.check("admin_api.max_retry_after" in text, "the retry-after cap log line")
        s = agent.scrape()
        c.check(admin_failures(s, "deadline") == 1, "failure reason deadline")
        c.check(admin_failures(s, "retry_after_capped") == 1, "failure reason retry_after_capped")
        c.check(time.time() - started < 40, "the poller was never stuck")
    finally:
        agent.cleanup()
finally:
    fake.close()

# --- A store that cannot be written -------------------------------------------------------------
# A read-only file where permissions bind; as root (they do not) the write-ahead log is a
# /dev/full device node, where every write fails as on a full disk.
agent = Agent(a.binary).start()
db = os.path.join(agent.dir, "store.db")
agent.stop()
wal = db + "-wal"
if os.path.exists(wal):
    os.remove(wal)
if os.geteuid() != 0:
    os.chmod(db, stat.S_IRUSR | stat.S_IRGRP)
else:
    os.mknod(wal, stat.S_IFCHR | 0o666, os.makedev(1, 7))
try:
    agent.start(probe="/healthz")
    status, body, _ = harness.get("http://127.0.0.1:%d/readyz" % agent.metrics_port)
    c.check(status == 503 and b"store" in body and db.encode() in body,
            "/readyz 503 naming the store and its error: %d %r" % (status, body))
    c.check(db in agent.read_log(), "the store error is logged with the file")
    status, _, _ = post(agent, metrics_body([cost_point(1)]))
    c.equal(status, 503, "OTLP requests get 503 while the store cannot be written")
    status, _, _ = harness.get("http://127.0.0.1:%d/readyz" % agent.metrics_port)
    c.equal(status, 503, "and /readyz still says so")
finally:
    agent.stop()
    if os.path.exists(wal) and stat.S_ISCHR(os.stat(wal).st_mode):
        os.remove(wal)
    os.chmod(db, stat.S_IRUSR | stat.S_IWUSR)
    agent.cleanup()

c.finish()
