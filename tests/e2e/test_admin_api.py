"""The Admin API poller against the fake Admin API: a 400-day backfill (days of 1000 and 2500
actors) ends with the store equal to the fake's totals; every injected fault leads to the
documented behaviour and the data is complete once it clears; a restart mid-backfill resumes
(no day fetched twice outside the refresh window); the key appears in no log line, page or
metric; API days show as source="api" daily gauges."""
import os

import harness
from harness import Agent, Checker, FakeAdminApi

a = harness.args()
c = Checker("e2e admin api")
KEY = "sk-ant-admin01-e2eTESTkeyDoNotLeak-0123456789"
BASE = ('[admin_api]\nbase_url = "%s"\nmin_request_interval = "0s"\nretry_backoff = "50ms"\n'
        'retry_backoff_max = "200ms"\nrequest_timeout = "1s"\n')


def start_agent(fake, extra="", workdir=None):
    return Agent(a.binary, extra_toml=BASE % fake.url + extra, workdir=workdir,
                 env={"ANTHROPIC_ADMIN_API_KEY": KEY}).start()


def wait_backfill(agent, timeout, what):
    harness.wait_for(lambda: harness.metric_value(agent, "claude_code_exporter_admin_api_backfill_dates_remaining") == 0,
                     timeout, what)


def stop_and_compare(c, tag, agent, fake):
    """No key leaked; then, the agent stopped, its store equals the fake's organization."""
    check_no_leak(c, tag, agent)
    agent.stop()
    harness.compare_api_totals(c, tag, fake.totals(), harness.stored_api_totals(os.path.join(agent.dir, "store.db")))


def check_no_leak(c, tag, agent):
    c.check(KEY not in agent.read_log(), tag + ": the key is in no log line")
    c.check(KEY not in agent.scrape_text(), tag + ": the key is not on /metrics")
    c.check(KEY not in harness.get("http://127.0.0.1:%d/" % agent.metrics_port)[1].decode(), tag + ": nor on /")


# 1. A 400-day backfill with a 1000-actor and a 2500-actor day.
fake = FakeAdminApi(KEY, days=400, seed=7, big_days=["2026-09-15:1000", "2026-10-01:2500"])
agent = start_agent(fake, 'backfill_days = 400\npoll_interval = "1h"\n')
try:
    harness.wait_for(lambda: harness.metric_value(agent, "claude_code_exporter_admin_api_backfill_dates_remaining") == 0
                     and harness.metric_value(agent, "claude_code_exporter_admin_api_last_success_timestamp_seconds"),
                     300, "the backfill")
    log = fake.log()
    days = [e["starting_at"] for e in log if not e["page"]]
    c.equal(len(days), 400, "one first-page request per day")
    c.equal(len(set(days)), 400, "no day fetched twice")
    c.check(days[0] == "2026-11-22" and days[-1] == "2025-10-19", "newest first: %s .. %s" % (days[0], days[-1]))
    records = fake.days()
    for day, actors in (("2026-10-01", 2500), ("2026-09-15", 1000)):
        pages = [e for e in log if e["starting_at"] == day]
        n = records[day]  # some actors have two rows (local and remote)
        c.check(n >= actors, "%s has %d records for %d actors" % (day, n, actors))
        c.equal(len(pages), (n + 999) // 1000, "%s comes in pages of 1000" % day)
        c.equal(sum(e.get("records", 0) for e in pages), n, "every record of %s fetched" % day)
    c.check(all(e["x_api_key_ok"] and e["version"] == "2023-06-01" and e["user_agent"].startswith("claude-code-exporter/")
                and e["limit"] == "1000" for e in log), "every request carries the key, version, User-Agent, limit=1000")
    samples = agent.scrape()
    api_daily = harness.select(samples, "claude_code_daily_sessions", source="api")
    c.check(api_daily and {l["date"] for l, _ in api_daily} <= {"2026-11-20", "2026-11-21", "2026-11-22"},
            "API days in the window are source=\"api\" daily gauges (%d series)" % len(api_daily))
    c.equal(harness.metric_value(agent, "claude_code_exporter_admin_api_newest_date_timestamp_seconds"),
            1795305600.0, "newest API date is 2026-11-22")
    c.check("backfill 400/400 days" in agent.read_log(), "progress is logged")
    stop_and_compare(c, "400-day backfill", agent, fake)
finally:
    agent.cleanup()
    fake.close()

# 2. Faults, each with its documented behaviour; then the data is complete.
fake = FakeAdminApi(KEY, days=6, seed=3)
fake.faults([{"kind": "429", "retry_after": 1, "count": 1}, {"kind": "500", "count": 2},
             {"kind": "timeout", "seconds": 2, "count": 1}, {"kind": "malformed", "count": 1},
             {"kind": "503", "count": 1}, {"kind": "529", "count": 1}, {"kind": "502", "count": 1}])
agent = start_agent(fake, 'backfill_days = 6\npoll_interval = "1h"\nmax_attempts = 10\n')
try:
    wait_backfill(agent, 60, "the backfill through the faults")
    log = fake.log()
    faulted = [e for e in log if e.get("fault")]
    c.equal(len(faulted), 8, "all eight faults were served")
    i429 = next(i for i, e in enumerate(log) if e.get("fault") == "429")
    c.check(log[i429 + 1]["t"] - log[i429]["t"] >= 0.95, "after 429 the agent waited retry-after (1 s): %.2f s" % (
        log[i429 + 1]["t"] - log[i429]["t"]))
    m = lambda name, **l: harness.metric_value(agent, name, **l)
    c.equal(m("claude_code_exporter_admin_api_requests_total", code="429"), 1.0, "429 counted")
    c.equal(m("claude_code_exporter_admin_api_requests_total", code="500"), 2.0, "500 counted")
    c.equal(m("claude_code_exporter_admin_api_requests_total", code="network"), 1.0, "the timeout counted as network")
    c.equal(m("claude_code_exporter_admin_api_failures_total", reason="malformed"), 1.0, "malformed counted")
    c.equal(m("claude_code_exporter_admin_api_failures_total", reason="server_error"), 5.0, "5xx counted")
    days = [e["starting_at"] for e in log if not e.get("fault")]
    c.equal(len(days), 6, "each day stored once the faults cleared")
    stop_and_compare(c, "after faults", agent, fake)
finally:
    agent.cleanup()
    fake.close()

# 3. 401: not retried that cycle, one clear log line, OTLP and /metrics unaffected; the next
#    cycle, with the fault gone, completes the data.
fake = FakeAdminApi(KEY, days=3, seed=4)
fake.faults([{"kind": "401", "count": 1}])
agent = start_agent(fake, 'backfill_days = 3\npoll_interval = "3s"\n')
try:
    harness.wait_for(lambda: "the Admin API key is wrong" in agent.read_log(), 20, "the 401 log line")
    c.equal(len(fake.log()), 1, "a 401 is not retried within the cycle")
    with open(os.path.join(a.testdata, "claude-code", "requests", "pb-delta__0032_metrics.bin"), "rb") as f:
        status, _, _ = harness.post(agent.otlp + "/v1/metrics", f.read(), {"Content-Type": "application/x-protobuf"})
    c.equal(status, 200, "OTLP keeps working during the auth failure")
    c.check(harness.metric_value(agent, "claude_code_exporter_admin_api_failures_total", reason="auth") == 1.0,
            "the auth failure is exposed")
    wait_backfill(agent, 30, "the next cycle")
    c.equal(sum(1 for l in agent.read_log().splitlines() if "the Admin API key is wrong" in l), 1,
            "one log line for the 401")
    stop_and_compare(c, "after 401", agent, fake)
finally:
    agent.cleanup()
    fake.close()

# 3b. 403 and 404 pause the cycle like 401; a 400 for one day skips that day only.
fake = FakeAdminApi(KEY, days=5, seed=6)
fake.faults([{"kind": "403", "count": 1}, {"kind": "404", "count": 1},
             {"kind": "400", "count": 1, "date": "2026-11-19"}])
agent = start_agent(fake, 'backfill_days = 5\npoll_interval = "2s"\n')
try:
    wait_backfill(agent, 30, "the backfill after 403, 404 and 400")
    text = agent.read_log()
    c.check("403 permission_error" in text and "lacks admin rights" in text, "403 explained in the log")
    c.check("404 not_found_error" in text and "not available for this organization" in text, "404 explained")
    c.check("2026-11-19: 400 invalid_request_error" in text and "the day is skipped" in text, "400 skips the day")
    log = fake.log()
    c.equal(len([e for e in log if e.get("fault") in ("403", "404")]), 2, "403 and 404 each ended a cycle")
    stored = {e["starting_at"] for e in log if not e.get("fault") and e.get("records") is not None}
    c.check(stored == {"2026-11-22", "2026-11-21", "2026-11-20", "2026-11-18"},
            "every day but the 400 one stored: %s" % sorted(stored))
    check_no_leak(c, "403/404/400", agent)
finally:
    agent.cleanup()
    fake.close()

# 4. A restart in the middle of the backfill resumes where it stopped.
fake = FakeAdminApi(KEY, days=60, seed=5, delay=0.03)
agent = start_agent(fake, 'backfill_days = 60\npoll_interval = "1h"\n')
workdir = agent.dir
try:
    harness.wait_for(lambda: (harness.metric_value(agent, "claude_code_exporter_admin_api_backfill_dates_remaining") or 60) <= 35,
                     60, "part of the backfill", interval=0.05)
    c.equal(agent.stop(), 0, "stopped mid-backfill")
    agent = start_agent(fake, 'backfill_days = 60\npoll_interval = "1h"\n', workdir=workdir)
    c.check("resuming the backfill" in agent.read_log(), "the restart says it resumes")
    wait_backfill(agent, 60, "the rest of the backfill")
    days = [e["starting_at"] for e in fake.log() if not e["page"]]
    twice = sorted({d for d in days if days.count(d) > 1})
    c.check(set(twice) <= {"2026-11-22", "2026-11-21", "2026-11-20"},
            "no day fetched twice except the refresh window: %s" % twice)
    c.equal(len(set(days)), 60, "every day fetched")
    stop_and_compare(c, "after restart", agent, fake)
finally:
    agent.cleanup()
    import shutil
    shutil.rmtree(workdir, ignore_errors=True)
    fake.close()
c.finish()
