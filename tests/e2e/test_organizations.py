"""Several organizations in one agent: a Console organization (the fake Admin API) and a claude.ai
Enterprise organization (the fake Enterprise Analytics API) as [[organizations]] entries. Every
usage series carries org; each organization's stored totals equal its fake's truth; budgets and
teams apply per organization; OTel data whose organization.id is configured joins that
organization; a restart keeps every actor's organization; the per-source agent metrics carry org.
Then two entries that turn out to be one organization: the second is paused."""
import os

import harness
from harness import Agent, Checker, FakeAdminApi, FakeEnterpriseApi

a = harness.args()
c = Checker("e2e organizations")
ADMIN_KEY = "sk-ant-admin01-orgsCONSOLEkey-0123456789"
ENT_KEY = "sk-ant-api01-orgsENTERPRISEkey-0123456789"
ENT_OTEL_ID = "5d1c7a3e-0000-4000-8000-00000000e17e"

CONFIG = """
[[organizations]]
name = "console"
source = "admin_api"
key_env = "CONSOLE_KEY"
base_url = "%(admin)s"
min_request_interval = "0s"
backfill_days = 5
poll_interval = "1h"
teams = { "user0*@example.com" = "console-core" }
[organizations.budgets.org]
day = 100
[organizations.budgets.teams.console-core]
month = 900

[[organizations]]
name = "enterprise"
key_env = "ENTERPRISE_KEY"
organization_id = "%(ent_id)s"
base_url = "%(ent)s"
min_request_interval = "0s"
backfill_days = 5
poll_interval = "1h"
refresh_days = 3
[organizations.budgets.org]
day = 250
"""


def compare(tag, want, got):
    harness.compare_api_totals(c, tag, want, got)


admin = FakeAdminApi(ADMIN_KEY, days=5, seed=21)
ent = FakeEnterpriseApi(ENT_KEY, days=5, users=15, seed=22)
agent = Agent(a.binary, extra_toml=CONFIG % {"admin": admin.url, "ent": ent.url, "ent_id": ENT_OTEL_ID},
              env={"CONSOLE_KEY": ADMIN_KEY, "ENTERPRISE_KEY": ENT_KEY}).start()
workdir = agent.dir
try:
    remaining = "claude_code_exporter_admin_api_backfill_dates_remaining"
    harness.wait_for(lambda: harness.metric_value(agent, remaining, api="admin_api", org="console") == 0
                     and harness.metric_value(agent, remaining, api="enterprise_analytics", org="enterprise") == 0,
                     60, "both backfills")
    status, _, _ = harness.post(agent.otlp + "/v1/metrics",
                                harness.otlp_cost_json("otel-only@example.com", "2026-11-22", 4.5, "s1", ENT_OTEL_ID),
                                {"Content-Type": "application/json"})
    c.equal(status, 200, "OTel with the Enterprise organization.id accepted")
    samples = agent.scrape()
    daily = harness.select(samples, "claude_code_daily_cost_usd")
    c.check(daily and all(l.get("org") in ("console", "enterprise") for l, _ in daily),
            "every daily cost series carries org (%d series)" % len(daily))
    admin_actors = {k.split("|")[1].split(":", 1)[1] for k in admin.totals()}
    orgs = {l["actor"]: l["org"] for l, _ in daily}
    c.check(all(orgs[x] == "console" for x in orgs if x in admin_actors), "the Admin API's actors are org=\"console\"")
    c.check(orgs.get("otel-only@example.com") == "enterprise",
            "an OTel-only user whose organization.id is configured is org=\"enterprise\"")
    c.check(any(v == "enterprise" for v in orgs.values() if v), "the Enterprise API's actors are org=\"enterprise\"")
    budgets = {(l["scope"], l["name"], l.get("org")): v for l, v in harness.select(samples, "claude_code_budget_usd")}
    c.check(budgets == {("org", "console", "console"): 100.0, ("team", "console-core", "console"): 900.0,
                        ("org", "enterprise", "enterprise"): 250.0}, "budgets per organization: %s" % budgets)
    teams = {l["team"] for l, _ in harness.select(samples, "claude_code_cost_usd_total", org="console")}
    c.check("console-core" in teams, "the console organization's team map applies: %s" % sorted(teams))
    c.check(not {l["team"] for l, _ in harness.select(samples, "claude_code_cost_usd_total", org="enterprise")} & {"console-core"},
            "... and only to its members")
    for api, org in (("admin_api", "console"), ("enterprise_analytics", "enterprise")):
        c.check(harness.metric_value(agent, "claude_code_exporter_admin_api_requests_total", api=api, org=org, code="200"),
                "agent metrics of %s carry org=%s" % (api, org))
    c.check(ADMIN_KEY not in agent.read_log() and ENT_KEY not in agent.read_log(), "no key in the log")

    agent.stop()
    db = os.path.join(workdir, "store.db")
    compare("console", admin.totals(), harness.stored_api_totals(db, "console"))
    compare("enterprise", ent.totals(), harness.stored_api_totals(db, "enterprise"))

    # A restart keeps every actor's organization.
    agent.start()
    again = {l["actor"]: l["org"] for l, _ in harness.select(agent.scrape(), "claude_code_daily_cost_usd")}
    c.check(again == orgs, "after a restart every actor keeps its organization")
finally:
    agent.cleanup()
    admin.close()
    ent.close()

# Two entries that are one organization (the same organization_id in the answers): the second
# to report it is paused; the first's data is complete.
ent1 = FakeEnterpriseApi(ENT_KEY, days=3, users=8, seed=23, org_id="org_same")
ent2 = FakeEnterpriseApi(ENT_KEY, days=3, users=8, seed=23, org_id="org_same", delay=0.2)
agent = Agent(a.binary, extra_toml="""
[[organizations]]
name = "first"
key_env = "ENTERPRISE_KEY"
base_url = "%s"
min_request_interval = "0s"
backfill_days = 3
[[organizations]]
name = "second"
key_env = "ENTERPRISE_KEY"
base_url = "%s"
min_request_interval = "0s"
backfill_days = 3
""" % (ent1.url, ent2.url), env={"ENTERPRISE_KEY": ENT_KEY}).start()
try:
    harness.wait_for(lambda: "reports the same organization (org_same) as first/enterprise_analytics" in agent.read_log(),
                     30, "the pause of the second entry")
    c.equal(harness.metric_value(agent, "claude_code_exporter_admin_api_failures_total", api="enterprise_analytics",
                                 org="second", reason="duplicate_organization"), 1.0, "the pause is counted")
    agent.stop()
    db = os.path.join(agent.dir, "store.db")
    compare("first", ent1.totals(), harness.stored_api_totals(db, "first"))
    c.equal(len(harness.stored_api_totals(db, "second")), 0, "nothing stored for the paused entry")
finally:
    agent.cleanup()
    ent1.close()
    ent2.close()
c.finish()
