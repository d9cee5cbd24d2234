"""The Grafana dashboards: the structure rules over every file, then every query of every panel
(template variables as "All" and as one concrete value) run against Debian's Prometheus that has
scraped the real agent, fed the recorded Claude Code run (moved to now) and the fake Admin API
(several teams and models) and loads the generated rules. Each query must return a series;
today's totals must equal what the agent exposes."""
import datetime
import glob
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import time

import harness
from harness import Agent, Checker, FakeAdminApi

yaml = harness.require_yaml()

a = harness.args()
c = Checker("e2e dashboards")
repo = os.path.abspath(os.path.join(a.testdata, "..", ".."))
files = sorted(glob.glob(os.path.join(repo, "grafana", "dashboards", "*.json")))
KEY = "sk-ant-admin01-dashboards-test"
DS = {"type": "prometheus", "uid": "${datasource}"}
UNITS = {"currencyUSD", "percentunit", "s", "short", "reqps", "dateTimeAsIso"}
# A fixed window is allowed where it is the meaning, and the title must say so.
WINDOW_WORDS = {"1d": ("day",), "7d": ("7 days", "week")}
INSTALL = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

dashboards = {}
for path in files:
    with open(path) as f:
        dashboards[os.path.basename(path)] = json.load(f)
c.check(sorted(dashboards) == ["claude-code-agent-health.json", "claude-code-overview.json",
                               "claude-code-teams-users.json"], "the three dashboards: %s" % sorted(dashboards))


def panels_of(d):
    for p in d["panels"]:
        yield p
        yield from p.get("panels", [])


# ---- Structure (grafana/dashboard-linter's rules and ours) -------------------------------------
for name, d in dashboards.items():
    c.check(d.get("uid") == name[:-5], "%s: stable uid = file name (%s)" % (name, d.get("uid")))
    c.check("claude-code" in d.get("tags", []), "%s: the shared tag" % name)
    c.check(d.get("timezone") == "utc", "%s: timezone UTC" % name)
    variables = {v["name"]: v for v in d["templating"]["list"]}
    ds = variables.get("datasource", {})
    c.check(ds.get("type") == "datasource" and ds.get("query") == "prometheus", "%s: a Prometheus datasource variable" % name)
    for v in variables.values():
        if v["type"] == "query":
            c.check(v.get("datasource") == DS, "%s: variable %s uses the datasource variable" % (name, v["name"]))
            c.check(v.get("multi") and v.get("includeAll"), "%s: variable %s is multi-select with All" % (name, v["name"]))
    c.check("loki" not in json.dumps(d).lower(), "%s: no Loki" % name)
    ids, boxes = [], []
    for p in panels_of(d):
        t = p["title"]
        ids.append(p["id"])
        c.check(p.get("datasource") == DS, "%s/%s: panel datasource is ${datasource}" % (name, t))
        c.check(len(p.get("description", "")) > 20, "%s/%s: a description" % (name, t))
        unit = p.get("fieldConfig", {}).get("defaults", {}).get("unit")
        c.check(unit in UNITS, "%s/%s: unit %r" % (name, t, unit))
        for o in p.get("fieldConfig", {}).get("overrides", []):
            for prop in o["properties"]:
                if prop["id"] == "unit":
                    c.check(prop["value"] in UNITS, "%s/%s: column unit %r" % (name, t, prop["value"]))
        c.check(len(p.get("targets", [])) > 0, "%s/%s: has queries" % (name, t))
        for tg in p.get("targets", []):
            c.check(tg.get("datasource") == DS, "%s/%s: target datasource is ${datasource}" % (name, t))
            for w in re.findall(r"\[(\d+[smhdwy])(?::\w*)?\]", tg["expr"]):
                words = WINDOW_WORDS.get(w, ())
                c.check(any(x in t.lower() for x in words), "%s/%s: fixed window [%s] is named in the title" % (name, t, w))
        g = p["gridPos"]
        c.check(g["x"] >= 0 and g["x"] + g["w"] <= 24 and g["w"] > 0 and g["h"] > 0, "%s/%s: inside the grid" % (name, t))
        boxes.append((t, g))
    c.check(len(ids) == len(set(ids)), "%s: unique panel ids" % name)
    for i, (t1, g1) in enumerate(boxes):
        for t2, g2 in boxes[i + 1:]:
            overlap = (g1["x"] < g2["x"] + g2["w"] and g2["x"] < g1["x"] + g1["w"]
                       and g1["y"] < g2["y"] + g2["h"] and g2["y"] < g1["y"] + g1["h"])
            c.check(not overlap, "%s: %r and %r do not overlap" % (name, t1, t2))

targets = [(name, p["title"], tg["expr"]) for name, d in dashboards.items() for p in panels_of(d) for tg in p["targets"]]
c.check(len(targets) >= 50, "queries across the dashboards: %d" % len(targets))




def metric_names(expr):
    names = set()
    for regex in re.findall(r'__name__=~"([^"]+)"', expr):
        names.update(harness.expand_alternation(regex))
    bare = re.sub(r'"[^"]*"', '""', expr)
    names.update(re.findall(r"(?<![\w:])((?:claude_code|[a-z_]+:claude_code)[\w:]*)", bare))
    return names


# ---- The live stack ------------------------------------------------------------------------------
prometheus = shutil.which("prometheus")
c.check(prometheus is not None, "prometheus is installed (scripts/install-deps.sh)")
if not prometheus:
    c.finish()
now = datetime.datetime.now(datetime.timezone.utc)
if now.hour == 23 and now.minute >= 50:  # stay inside one UTC day
    time.sleep((60 - now.minute) * 60 - now.second + 5)
today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
yesterday = (datetime.datetime.now(datetime.timezone.utc).date() - datetime.timedelta(days=1)).isoformat()


tmp = tempfile.mkdtemp(prefix="cce-dash-")
api = agent = prom = None
try:
    records = {d: [harness.admin_record(d, "ana@example.com", "claude-opus-4-6", 2500, 3),
                   harness.admin_record(d, "bo@example.com", "claude-sonnet-5", 1200, 1),
                   harness.admin_record(d, "dev@example.com", "claude-sonnet-5", 300, 1)] for d in (yesterday, today)}
    with open(os.path.join(tmp, "records.json"), "w") as f:
        json.dump(records, f)
    api = FakeAdminApi(KEY, days=2, end=today, records_file=os.path.join(tmp, "records.json"))
    agent = Agent(a.binary, now=None, env={"ANTHROPIC_ADMIN_API_KEY": KEY}, extra_toml=(
        '[admin_api]\nbase_url = "%s"\nbackfill_days = 2\nmin_request_interval = "0s"\n'
        '[merge]\notel_for_today = true\n'
        '[identity.aliases]\n"%s" = "dev@example.com"\n'
        '[teams.map]\n"ana@example.com" = "platform"\n"bo@example.com" = "data"\n'
        '[budgets.org]\nday = 40.0\nmonth = 2000.0\n' % (api.url, INSTALL))).start()
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)", agent.scrape_text(), re.M))

    # Every name a query reads is exposed by the agent or recorded by the alert pack; rate() and
    # increase() read counters, *_over_time of a day reads gauges.
    recorded = set()
    for path in glob.glob(os.path.join(repo, "alerts", "generated", "*.yaml")):
        with open(path) as f:
            recorded.update(r["record"] for g in yaml.safe_load(f)["groups"] for r in g["rules"] if "record" in r)
    for name, title, expr in targets:
        for m in metric_names(expr):
            base = re.sub(r"_(bucket|sum|count)$", "", m)
            c.check(m in types or base in types or m in recorded, "%s/%s: %s exists" % (name, title, m))
        for fn, m in re.findall(r"\b(rate|increase|irate)\(\s*([\w:]+)", expr):
            base = re.sub(r"_bucket$", "", m)
            c.check(types.get(m) == "counter" or types.get(base) == "histogram",
                    "%s/%s: %s() of a counter (%s is %s)" % (name, title, fn, m, types.get(m, "recorded")))
        for fn, m in re.findall(r"\b(\w+_over_time)\(\s*\(?\s*([\w:]+)", expr):
            c.check(types.get(m) == "gauge", "%s/%s: %s() of a gauge (%s)" % (name, title, fn, m))

    # Prometheus with the pack's rules (no minimum history, so baselines exist in a short run).
    rules_dir = os.path.join(tmp, "rules")
    subprocess.run([os.path.join(repo, "scripts", "generate.sh"), "--out", rules_dir, "--set",
                    json.dumps({"baseline": {"minActiveHours": 0}, "budget": {"for": "0s"}})],
                   check=True, capture_output=True)
    prom = harness.Prometheus(prometheus, tmp, agent, sorted(glob.glob(os.path.join(rules_dir, "*.yaml"))))
    query = prom.query

    harness.wait_for(lambda: prom.result("up"), 60, "Prometheus' first scrape")
    first_scrape = time.time()

    # The recorded run arrives while Prometheus watches, so rates and increases have data.
    run = os.path.join(tmp, "run")
    entries = harness.shift_run(os.path.join(a.testdata, "claude-code", "runs", "json-delta"), run)
    for i, e in enumerate(entries):
        status, body, _ = harness.post_entry(agent, run, e)
        c.check(status == 200, "replayed request %d: %d" % (e["n"], status))
        if i % 4 == 3:
            time.sleep(0.5)
    harness.wait_for(lambda: query('ALERTS{alertname="ClaudeCodeOrgDailyBudgetBurn"}')["data"]["result"], 60,
                     "an alert of the pack")
    # Subqueries step on whole minutes: wait for one after the first scrape.
    while math.floor(time.time() / 60) * 60 < first_scrape + 2:
        time.sleep(1)
    time.sleep(2)

    concrete = {"team": "platform", "actor": "dev@example.com", "model": "claude-opus-5-5"}
    builtins = {"$__rate_interval": "5m", "$__range": "1h", "$__interval": "15s"}
    for name, title, expr in targets:
        for choice in ("All", "one"):
            q = expr
            for k, v in builtins.items():
                q = q.replace(k, v)
            for var, value in concrete.items():
                q = q.replace("$" + var, ".*" if choice == "All" else re.escape(value).replace("\\", "\\\\"))
            res = query(q)
            ok = res.get("status") == "success" and len(res["data"]["result"]) > 0
            c.check(ok, "%s/%s (%s): returns a series: %s -> %s" % (name, title, choice, q, str(res)[:300]))

    # Exact totals: the panels about today equal the agent's own numbers.
    samples = agent.scrape()

    def agent_today(family):
        return sum(v for _, v in harness.select(samples, family, date=today))
    overview = dashboards["claude-code-overview.json"]
    exact = {"Spend today (UTC)": "claude_code_daily_cost_usd", "Sessions today (UTC)": "claude_code_daily_sessions",
             "Commits today (UTC)": "claude_code_daily_commits", "Pull requests today (UTC)": "claude_code_daily_pull_requests",
             "Lines added today (UTC)": "claude_code_daily_lines_added"}
    for p in panels_of(overview):
        if p["title"] in exact:
            res = query(p["targets"][0]["expr"])["data"]["result"]
            got = float(res[0]["value"][1]) if res else None
            want = agent_today(exact.pop(p["title"]))
            c.equal(got, want, "overview %r equals the agent's /metrics" % p["title"], tol=1e-6 * max(1.0, want))
            c.check(want > 0, "overview %r has data (%s)" % (p["title"], want))
    c.check(not exact, "every exact panel was found: %s" % sorted(exact))
    users = len({l["actor"] for l, v in harness.select(samples, "claude_code_daily_cost_usd", date=today) if v > 0})
    for p in panels_of(overview):
        if p["title"] == "Active users today (UTC)":
            res = query(p["targets"][0]["expr"])["data"]["result"]
            c.equal(float(res[0]["value"][1]) if res else None, users, "active users today")
finally:
    if prom:
        prom.stop()
    if agent:
        agent.cleanup()
    if api:
        api.close()
    shutil.rmtree(tmp, ignore_errors=True)

# Provisioning: a Prometheus datasource and a provider for the dashboards folder.
with open(os.path.join(repo, "grafana", "provisioning", "datasources", "prometheus.yaml")) as f:
    dsp = yaml.safe_load(f)
c.check(dsp["apiVersion"] == 1 and dsp["datasources"][0]["type"] == "prometheus", "datasource provisioning")
with open(os.path.join(repo, "grafana", "provisioning", "dashboards", "claude-code.yaml")) as f:
    dp = yaml.safe_load(f)
c.check(dp["apiVersion"] == 1 and dp["providers"][0]["type"] == "file"
        and dp["providers"][0]["options"]["path"], "dashboard provider")
c.finish()
