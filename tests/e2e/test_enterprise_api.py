"""The Enterprise Analytics source against the fake Enterprise API: a 120-day backfill with a
few hundred users and multi-page days ends with the store equal to the fake's truth (cost to the
cent), through 429, 410, 5xx and "not available yet" answers; a restart resumes; a day the API
finishes later is fetched by the refresh; a key without the scope is told so once per cycle and
not retried; two sources reporting one organization count it once; the key is in no log line."""
import json
import tempfile
import os
import shutil

import harness
from harness import Agent, Checker, FakeAdminApi, FakeEnterpriseApi

a = harness.args()
c = Checker("e2e enterprise api")
KEY = "sk-ant-api01-e2eENTERPRISEkeyDoNotLeak-0123456789"
ADMIN_KEY = "sk-ant-admin01-e2eADMINkeyDoNotLeak-0123456789"
BASE = ('[enterprise_analytics]\nbase_url = "%s"\nmin_request_interval = "0s"\nretry_backoff = "50ms"\n'
        'retry_backoff_max = "200ms"\nrequest_timeout = "2s"\n')
REMAINING = "claude_code_exporter_admin_api_backfill_dates_remaining"


def start_agent(fake, extra="", workdir=None, env=None):
    return Agent(a.binary, extra_toml=BASE % fake.url + extra, workdir=workdir,
                 env=env or {"ANTHROPIC_ANALYTICS_API_KEY": KEY}).start()


def remaining(agent, api="enterprise_analytics"):
    return harness.metric_value(agent, REMAINING, api=api)


def compare_totals(tag, want, db):
    harness.compare_api_totals(c, tag, want, harness.stored_api_totals(db))


def check_no_leak(tag, agent, *keys):
    for key in keys or (KEY,):
        c.check(key not in agent.read_log(), tag + ": the key is in no log line")
        c.check(key not in agent.scrape_text(), tag + ": the key is not on /metrics")


def users_requests(fake):
    return [e for e in fake.log() if e["endpoint"] == "users" and not e.get("fault")]


# 1. A 120-day backfill: 300 users, two big days (several pages on every endpoint), faults.
fake = FakeEnterpriseApi(KEY, days=140, users=300, seed=11, big_day=["2026-10-15:1500", "2026-09-01:1200"])
fake.faults([{"kind": "429", "endpoint": "users", "retry_after": 1, "count": 1},
             {"kind": "410", "endpoint": "user_cost_report", "date": "2026-10-15", "count": 1},
             {"kind": "500", "endpoint": "user_usage_report", "count": 2},
             {"kind": "503", "endpoint": "users", "date": "2026-11-01", "count": 1},
             {"kind": "malformed", "endpoint": "user_cost_report", "date": "2026-10-20", "count": 1}])
agent = start_agent(fake, 'backfill_days = 120\npoll_interval = "1h"\nrefresh_days = 3\n')
try:
    harness.wait_for(lambda: remaining(agent) == 0, 300, "the backfill")
    log = fake.log()
    c.equal(len([e for e in log if e.get("fault")]), 6, "all six faults were served")
    i429 = next(i for i, e in enumerate(log) if e.get("fault") == "429")
    c.check(log[i429 + 1]["t"] - log[i429]["t"] >= 0.95, "after 429 the agent waited retry-after (1 s)")
    first = [e for e in log if not e["query"].get("page") and e["endpoint"] != "spend_limits"]
    c.check(all(e["key_ok"] and e["version"] == "2023-06-01" and e["user_agent"].startswith("claude-code-exporter/")
                and e["query"].get("limit") == ("100" if e["endpoint"] == "spend_limits" else "1000") for e in log),
            "every request carries the key, anthropic-version, the agent's User-Agent and a limit (1000; 100 members for caps)")
    c.check(first[0]["endpoint"] == "users" and first[0]["query"]["date"] == "2026-11-22",
            "the backfill starts at today: %s" % first[0]["query"])
    c.check(not any(e["endpoint"] != "users" and e["query"].get("starting_at", "").startswith("2026-11-22") for e in log),
            "a day /users has not finished costs one request (no cost or usage asked for it)")
    days = sorted({e["query"]["date"] for e in users_requests(fake)})
    c.equal(len(days), 120, "120 days asked of /users")
    c.check(days[0] == "2026-07-26", "back to 2026-07-26: %s" % days[0])
    big = [e for e in users_requests(fake) if e["query"]["date"] == "2026-10-15"]
    c.equal(len(big), 2, "a 1500-user day comes in two /users pages (next_page, no has_more)")
    c.equal(sum(e.get("rows", 0) for e in big), 1500, "every /users row of the big day fetched")
    cost_pages = [e for e in log if e["endpoint"] == "user_cost_report" and e["query"]["starting_at"].startswith("2026-10-15")]
    c.check(len(cost_pages) >= 4, "the expired cursor (410) restarted the cost report at page 1 (%d requests)" % len(cost_pages))
    m = lambda name, **l: harness.metric_value(agent, name, api="enterprise_analytics", **l)
    c.equal(m("claude_code_exporter_admin_api_failures_total", reason="cursor_expired"), 1.0, "410 counted")
    c.equal(m("claude_code_exporter_admin_api_failures_total", reason="rate_limited"), 1.0, "429 counted")
    c.equal(m("claude_code_exporter_admin_api_failures_total", reason="server_error"), 3.0, "5xx counted")
    c.equal(m("claude_code_exporter_admin_api_failures_total", reason="malformed"), 1.0, "malformed counted")
    # The fake adds a service account and a deleted member without an email to every day's cost
    # and usage report: two rows each, for the 119 finished days of the 120, two reports (the 410
    # restart reads one page again).
    c.check(m("claude_code_exporter_admin_api_non_user_rows_total") >= 2 * 2 * 119,
            "rows that are nobody's are skipped and counted: %s" % m("claude_code_exporter_admin_api_non_user_rows_total"))
    c.equal(m("claude_code_exporter_admin_api_newest_date_timestamp_seconds"), 1795219200.0,
            "the newest API date is 2026-11-21 (2026-11-22 is not finished)")
    c.check(harness.select(agent.scrape(), "claude_code_daily_cost_usd", source="api", date="2026-11-21"),
            "API days are source=\"api\" daily gauges")
    c.check("enterprise_analytics: backfill 120/120 days" in agent.read_log(), "progress is logged")
    # The members' real caps, read from the Spend Limits API beside the backfill.
    samples = agent.scrape()
    want_caps, want_spend = {}, {}
    for row in fake.caps():
        who = (row["actor"]["email_address"].lower(), row["period"], row["currency"])
        want_spend[who] = float(row["period_to_date_spend"]) / 100
        if row["amount"] is not None:
            want_caps[who] = float(row["amount"]) / 100
    got_caps = {(l["actor"], l["period"], l["currency"]): v for l, v in harness.select(samples, "claude_code_spend_limit")}
    got_spend = {(l["actor"], l["period"], l["currency"]): v
                 for l, v in harness.select(samples, "claude_code_spend_limit_period_spend")}
    c.check(got_caps == want_caps, "claude_code_spend_limit equals the fake's caps (%d members with a cap; %d shown)" % (
        len(want_caps), len(got_caps)))
    c.check(got_spend == want_spend, "claude_code_spend_limit_period_spend equals the fake's (%d members)" % len(want_spend))
    c.check(all("org" not in l for l, _ in harness.select(samples, "claude_code_spend_limit")),
            "one organization configured: no org label")
    check_no_leak("backfill", agent)
    agent.stop()
    compare_totals("120-day backfill", fake.totals(since="2026-07-26"), os.path.join(agent.dir, "store.db"))
finally:
    agent.cleanup()
    fake.close()

# The truth file the fake writes is the same truth.

with tempfile.TemporaryDirectory() as tmp:
    truth_path = os.path.join(tmp, "truth.json")
    f2 = FakeEnterpriseApi(KEY, days=5, users=10, seed=9, truth_file=truth_path)
    try:
        with open(truth_path) as f:
            truth_file = json.load(f)
        c.check(truth_file["totals"] == f2.totals() and truth_file["caps"] == f2.caps() and truth_file["totals"],
                "the fake's truth file equals its /_control answers")
    finally:
        f2.close()

# 2. A restart mid-backfill resumes; then the day the API finishes later is fetched by the refresh.
fake = FakeEnterpriseApi(KEY, days=40, users=60, seed=12, delay=0.02)
agent = start_agent(fake, 'backfill_days = 40\npoll_interval = "2s"\nrefresh_days = 3\n')
workdir = agent.dir
try:
    harness.wait_for(lambda: (remaining(agent) or 40) <= 25, 60, "part of the backfill", interval=0.05)
    c.equal(agent.stop(), 0, "stopped mid-backfill")
    agent = start_agent(fake, 'backfill_days = 40\npoll_interval = "2s"\nrefresh_days = 3\n', workdir=workdir)
    c.check("enterprise_analytics: resuming the backfill" in agent.read_log(), "the restart says it resumes")
    harness.wait_for(lambda: remaining(agent) == 0, 60, "the rest of the backfill")
    days = [e["query"]["date"] for e in users_requests(fake) if not e["query"].get("page")]
    # The refresh window: today (not finished) and the last three finished days.
    twice = {d for d in days if days.count(d) > 1} - {"2026-11-22", "2026-11-21", "2026-11-20", "2026-11-19"}
    resumed_at = agent.read_log().split("resuming the backfill at ")[1][:10]
    c.check(twice <= {resumed_at}, "no day fetched twice outside the refresh window but the one the stop "
            "interrupted (%s): %s" % (resumed_at, sorted(twice)))
    c.equal(len(set(days)), 40, "every day asked for")
    # The API finishes 2026-11-22: the next refresh stores it.
    fake.control("/_control/latest", {"latest": "2026-11-22"})
    fake.control("/_control/refreshed", {"refreshed_at": "2026-11-23T04:00:00Z"})
    harness.wait_for(lambda: harness.metric_value(agent, "claude_code_exporter_admin_api_newest_date_timestamp_seconds",
                                                  api="enterprise_analytics") == 1795305600.0, 30, "2026-11-22 from the refresh")
    check_no_leak("restart", agent)
    agent.stop()
    compare_totals("after restart", fake.totals(since="2026-10-14"), os.path.join(workdir, "store.db"))
finally:
    agent.cleanup()
    shutil.rmtree(workdir, ignore_errors=True)
    fake.close()

# 3. Merge: OTel for users and days the fake reports, and for others; the API wins where it has
#    the (user, day), OTel fills in elsewhere, and the reconciliation gap shows the difference.
fake = FakeEnterpriseApi(KEY, days=5, users=12, seed=13, currency="JPY")
agent = start_agent(fake, 'backfill_days = 5\npoll_interval = "1h"\n')
try:
    harness.wait_for(lambda: remaining(agent) == 0, 60, "the backfill")
    truth = fake.totals()
    api_cost = {}
    for k, v in truth.items():
        date, actor, q, _ = k.split("|")
        if q == "cost_cents" and v:
            api_cost[(date, actor[5:])] = api_cost.get((date, actor[5:]), 0) + v / 100
    both = sorted(k for k in api_cost if k[0] == "2026-11-21")[0]  # a (day, user) the API has
    cases = [(both, 1.25), (("2026-11-21", "otel-only@example.com"), 2.5), (("2026-11-22", both[1]), 3.75)]
    for i, ((day, email), usd) in enumerate(cases):
        status, _, _ = harness.post(agent.otlp + "/v1/metrics", harness.otlp_cost_json(email, day, usd, "s%d" % i),
                                    {"Content-Type": "application/json"})
        c.equal(status, 200, "OTel for %s on %s accepted" % (email, day))
    samples = agent.scrape()

    def daily(day, email):
        found = harness.select(samples, "claude_code_daily_cost_usd", date=day, actor=email)
        return ({l["source"] for l, _ in found}, sum(v for _, v in found))
    c.equal(daily(*both)[1], api_cost[both], "the API's cost wins where it has the (user, day)", 1e-9)
    c.check(daily(*both)[0] == {"api"}, "... shown as source=\"api\"")
    c.check(daily("2026-11-21", "otel-only@example.com") == ({"otel"}, 2.5), "OTel fills in for a user the API lacks")
    c.check(daily("2026-11-22", both[1]) == ({"otel"}, 3.75), "OTel fills in for a day the API has not finished: %s" % (daily("2026-11-22", both[1]),))
    caps = {r["actor"]["email_address"]: float(r["amount"]) for r in fake.caps() if r["amount"] is not None}
    got = {l["actor"]: v for l, v in harness.select(samples, "claude_code_spend_limit", currency="JPY")}
    c.check(got == caps, "caps in yen stay in yen (no minor unit, never converted): %d caps" % len(got))
    gap = harness.select(samples, "claude_code_reconciliation_gap", date=both[0], actor=both[1], quantity="cost_usd")
    c.check(len(gap) == 1 and abs(gap[0][1] - (1.25 - api_cost[both])) < 1e-9,
            "the reconciliation gap is OTel minus the API: %s" % gap)
finally:
    agent.cleanup()
    fake.close()

# 4. Keys that cannot read the API: told once per cycle, never retried, nothing else breaks.
for tag, flags, env_key, status in (
        ("a key without read:analytics", {"scopes": "read:spend_limits"}, KEY, 403),
        ("a key the API does not know", {}, "sk-ant-api01-someOtherKey-0123", 404)):
    fake = FakeEnterpriseApi(KEY, days=5, users=5, **flags)
    agent = start_agent(fake, 'backfill_days = 5\npoll_interval = "1h"\n',
                        env={"ANTHROPIC_ANALYTICS_API_KEY": env_key})
    try:
        harness.wait_for(lambda: "needs the read:analytics scope" in agent.read_log(), 20, tag + ": the log line")
        c.equal(len([e for e in fake.log() if e["endpoint"] != "spend_limits"]), 1, tag + ": one request, not retried")
        c.check("%d " % status in agent.read_log(), tag + ": the log names the status %d" % status)
        c.equal(harness.metric_value(agent, "claude_code_exporter_admin_api_failures_total", api="enterprise_analytics",
                                     reason="auth"), 1.0,
                tag + ": counted as auth (a refused spend-limit read is not)")
        check_no_leak(tag, agent, env_key)
    finally:
        agent.cleanup()
        fake.close()

# 4b. A key with read:analytics only: the usage is read, the caps are not (said once).
fake = FakeEnterpriseApi(KEY, days=3, users=5, scopes="read:analytics")
agent = start_agent(fake, 'backfill_days = 3\npoll_interval = "1h"\nspend_limits_interval = "1s"\n')
try:
    harness.wait_for(lambda: remaining(agent) == 0, 30, "the backfill")
    c.check("needs the read:spend_limits scope" in agent.read_log(), "the missing scope for caps is named")
    c.equal(len([e for e in fake.log() if e["endpoint"] == "spend_limits"]), 1, "caps are not asked for again")
    c.check(not harness.select(agent.scrape(), "claude_code_spend_limit_period_spend"), "no cap series")
    c.check(harness.select(agent.scrape(), "claude_code_daily_sessions", source="api"), "the usage is there")
finally:
    agent.cleanup()
    fake.close()

# 5. Both sources configured for one organization: the second to report it is paused.
admin = FakeAdminApi(ADMIN_KEY, days=4, seed=3)
fake = FakeEnterpriseApi(KEY, days=4, users=10, org_id="org-0000")
agent = Agent(a.binary, extra_toml=BASE % fake.url + 'backfill_days = 4\npoll_interval = "1h"\n'
              '[admin_api]\nbase_url = "%s"\nmin_request_interval = "0s"\nbackfill_days = 4\npoll_interval = "1h"\n' % admin.url,
              env={"ANTHROPIC_ANALYTICS_API_KEY": KEY, "ANTHROPIC_ADMIN_API_KEY": ADMIN_KEY}).start()
try:
    harness.wait_for(lambda: "reports the same organization (org-0000)" in agent.read_log(), 30, "the pause")
    harness.wait_for(lambda: remaining(agent, "admin_api") == 0 or remaining(agent) == 0, 30, "one backfill")
    paused = [api for api in ("admin_api", "enterprise_analytics")
              if harness.metric_value(agent, "claude_code_exporter_admin_api_failures_total", api=api,
                                      reason="duplicate_organization")]
    c.equal(len(paused), 1, "exactly one source is paused: %s" % paused)
    c.check("Enable only one of them" in agent.read_log(), "the log says what to do")
    harness.wait_for(lambda: remaining(agent, "admin_api" if paused == ["enterprise_analytics"] else "enterprise_analytics") == 0,
                     30, "the other source's backfill")
    check_no_leak("one organization", agent, KEY, ADMIN_KEY)
    agent.stop()
    want = fake.totals() if paused == ["admin_api"] else admin.totals()
    compare_totals("one organization counted once", want, os.path.join(agent.dir, "store.db"))
finally:
    agent.cleanup()
    fake.close()
    admin.close()
c.finish()
