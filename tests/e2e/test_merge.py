"""The fake Admin API and the recorded Claude Code telemetry feed one running agent; the merged
values on /metrics match the hand-computed tests/testdata/expected/merge-scenario.json (API values
with source="api" where both sources have a (date, actor), the reconciliation gap, teams, budgets,
estimated and unpriced cost). Then a scripted sequence of API revisions, restarts and a kill -9,
scraping after every step: no counter ever decreases."""
import json
import os
import shutil
import time

import harness
from harness import Agent, Checker, FakeAdminApi

a = harness.args()
c = Checker("e2e merge")
KEY = "sk-ant-admin01-merge-test-key"
runs = os.path.join(a.testdata, "claude-code", "runs")
with open(os.path.join(a.testdata, "expected", "merge-scenario.json")) as f:
    expected = json.load(f)["series"]
with open(os.path.join(a.testdata, "admin-api", "merge-scenario.json")) as f:
    scenario = json.load(f)

CONFIG = """[admin_api]
base_url = "%s"
min_request_interval = "0s"
backfill_days = 3
poll_interval = "%s"
[teams]
map = { "bob@example.com" = "payments", "ci-*" = "infra" }
[budgets.org]
day = 50.0
[budgets.teams.platform]
month = 1000
[budgets.users."Dev@example.com"]
day = 5
"""


def start(fake, poll, workdir=None):
    return Agent(a.binary, extra_toml=CONFIG % (fake.url, poll), workdir=workdir,
                 env={"ANTHROPIC_ADMIN_API_KEY": KEY}).start()


def counters(samples):
    return {(n, tuple(sorted(l.items()))): v for n, l, v in samples
            if n.endswith("_total") and n.startswith("claude_code_") and not n.startswith("claude_code_exporter_")}


fake = FakeAdminApi(KEY, records_file=os.path.join(a.testdata, "admin-api", "merge-scenario.json"))
agent = start(fake, "1h")
workdir = agent.dir
try:
    harness.wait_for(lambda: harness.metric_value(agent, "claude_code_exporter_admin_api_backfill_dates_remaining") == 0,
                     30, "the backfill")
    harness.replay(agent, os.path.join(runs, "pb-oauth"))
    harness.replay(agent, os.path.join(runs, "pb-delta"))
    samples = agent.scrape()

    for row in expected:
        found = harness.select(samples, row["family"], **row["labels"])
        what = "%s%s" % (row["family"], row["labels"])
        c.check(len(found) == 1, "%s: one series (found %d)" % (what, len(found)))
        if found:
            c.equal(found[0][1], row["value"], what, 1e-9)
    # No daily series beyond the expected ones: in particular no source="otel" series for a
    # (date, actor) the API has.
    want_daily = {(r["family"], tuple(sorted(r["labels"].items()))) for r in expected
                  if r["family"].startswith("claude_code_daily_")}
    got_daily = {(n, tuple(sorted(l.items()))) for n, l, v in samples if n.startswith("claude_code_daily_")}
    c.check(got_daily == want_daily, "daily series are exactly the expected ones; extra %s, missing %s" % (
        sorted(got_daily - want_daily)[:3], sorted(want_daily - got_daily)[:3]))
    gaps = harness.select(samples, "claude_code_reconciliation_gap")
    c.check({l["actor"] for l, _ in gaps} == {"dev@example.com"}, "the gap exists only where both sources do")

    # Revisions and restarts; scrape after every step; counters never go down.
    history = [counters(samples)]
    dev_row = scenario["2026-11-22"][0]

    def step(name, check=None):
        s = agent.scrape()
        now = counters(s)
        prev = history[-1]
        dropped = [k for k in prev if k not in now]
        lower = [(k, prev[k], now[k]) for k in prev if k in now and now[k] < prev[k]]
        c.check(not dropped and not lower, "%s: no counter disappears or decreases (%s %s)" % (name, dropped[:2], lower[:2]))
        history.append(now)
        if check:
            check(s)
        return s

    def dev_daily_cost(s):
        found = harness.select(s, "claude_code_daily_cost_usd", date="2026-11-22", actor="dev@example.com")
        return (found[0][0]["source"], found[0][1]) if found else (None, None)

    def dev_cost_total(s):
        return sum(v for _, v in harness.select(s, "claude_code_cost_usd_total", actor="dev@example.com"))

    def revise(cents):
        rows = [r for r in scenario["2026-11-22"] if r is not dev_row]
        if cents is not None:
            row = json.loads(json.dumps(dev_row))
            row["model_breakdown"][0]["estimated_cost"]["amount"] = cents
            rows.insert(0, row)
        fake.set_day("2026-11-22", rows)

    agent.stop()
    agent = start(fake, "1s", workdir=workdir)
    step("restart with a 1 s poll")

    revise(3)  # the API revises dev's day down
    harness.wait_for(lambda: dev_daily_cost(agent.scrape()) == ("api", 0.03), 20, "the downward revision")
    step("API revised down", lambda s: c.equal(dev_cost_total(s), 0.06, "a downward revision is absorbed", 1e-9))

    revise(9)  # and up
    harness.wait_for(lambda: dev_daily_cost(agent.scrape()) == ("api", 0.09), 20, "the upward revision")
    step("API revised up", lambda s: c.equal(dev_cost_total(s), 0.10, "an upward revision counts", 1e-9))

    agent.kill9()
    agent.start()
    step("kill -9 and restart", lambda s: c.equal(dev_cost_total(s), 0.10, "same counter after kill -9", 1e-9))

    revise(None)  # the API no longer has dev's day: OTel fills in
    harness.wait_for(lambda: dev_daily_cost(agent.scrape())[0] == "otel", 20, "OTel taking over the day")
    with open(os.path.join(runs, "pb-oauth", "expected-totals.json")) as f:
        otel_cost = sum(json.load(f)["dev@example.com"]["2026-11-22"]["cost_usd"].values())
    step("API row removed", lambda s: c.equal(dev_daily_cost(s)[1], otel_cost, "OTel value shown", 1e-9))

    agent.stop()
    agent.start()
    step("graceful restart")
    c.check(len(history) == 7, "all steps ran")
finally:
    agent.cleanup()
    shutil.rmtree(workdir, ignore_errors=True)
    fake.close()
c.finish()
