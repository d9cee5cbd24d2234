"""The alert pack: generated rule files are fresh, promtool accepts and tests them, every alert
follows the mixin conventions and has a firing case and a quiet case, every runbook anchor
exists, and every metric the rules read is on the agent's /metrics."""
import glob
import os
import re
import subprocess

import harness
from harness import Agent, Checker

yaml = harness.require_yaml()

a = harness.args()
c = Checker("e2e alert pack")
repo = os.path.abspath(os.path.join(a.testdata, "..", ".."))
alerts_dir = os.path.join(repo, "alerts")
generated = sorted(glob.glob(os.path.join(alerts_dir, "generated", "*.yaml")))
unit_tests = sorted(glob.glob(os.path.join(alerts_dir, "tests", "*.test.yaml")))


def run(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=repo, timeout=900)
    return r.returncode, r.stdout + r.stderr


# One source: the checked-in files are what the generator renders now.
code, out = run("scripts/generate.sh", "--check")
c.check(code == 0, "alerts/generated is up to date: " + out[-2000:])

code, out = run("promtool", "check", "rules", *generated)
c.check(code == 0 and "SUCCESS" in out, "promtool check rules: " + out[-2000:])
c.check(len(unit_tests) >= 5, "alert unit test files: %d" % len(unit_tests))
code, out = run("promtool", "test", "rules", *unit_tests)
c.check(code == 0 and "FAILED" not in out, "promtool test rules: " + out[-4000:])


# The Alertmanager example is valid and routes as it says.
example = os.path.join(alerts_dir, "alertmanager.example.yml")
code, out = run("amtool", "check-config", example)
c.check(code == 0 and "SUCCESS" in out, "amtool check-config: " + out[-2000:])
for labels, receiver in [(["severity=critical", "category=cost", "team=data"], "pager"),
                         (["severity=critical", "category=cost", "team=platform"], "pager-platform"),
                         (["severity=warning", "category=cost", "team=data"], "tickets"),
                         (["severity=critical", "category=health"], "tickets"),
                         (["severity=warning", "category=health", "team=platform"], "tickets-platform"),
                         (["severity=info", "category=cost"], "null")]:
    code, out = run("amtool", "config", "routes", "test", "--config.file", example, *labels)
    c.check(code == 0 and out.strip().splitlines()[0] == receiver,
            "%s routes to %s: %s" % (" ".join(labels), receiver, out.strip()))


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


rules = [r for path in generated for g in load(path)["groups"] for r in g["rules"]]
alerts = [r for r in rules if "alert" in r]
records = [r for r in rules if "record" in r]
names = sorted({r["alert"] for r in alerts})
c.check(len(names) >= 20, "alerts in the pack: %d" % len(names))

# Conventions (monitoring mixins).
with open(os.path.join(repo, "alerts", "config.libsonnet")) as f:
    pattern = re.search(r"runbookURLPattern: '([^']+)'", f.read()).group(1)
with open(os.path.join(repo, "docs", "runbook.md")) as f:
    runbook = f.read()
anchors = {h.strip().lower() for h in re.findall(r"^#+ (.+)$", runbook, re.M)}
for r in alerts:
    n = r["alert"]
    c.check(re.fullmatch(r"ClaudeCode(?:[A-Z][a-z0-9]*|[A-Z]+(?![a-z]))+", n) is not None,
            "%s: CamelCase with the ClaudeCode prefix" % n)
    c.check(r["labels"].get("severity") in ("critical", "warning", "info"), "%s: severity" % n)
    c.check(r["labels"].get("category") in ("cost", "acceptance", "health"), "%s: category" % n)
    ann = r.get("annotations", {})
    summary, description = ann.get("summary", ""), ann.get("description", "")
    c.check(summary.endswith(".") and "{{" not in summary and summary[:1].isupper(),
            "%s: summary is a plain sentence: %r" % (n, summary))
    c.check("{{" in description and description.endswith("."),
            "%s: description is templated with the numbers: %r" % (n, description))
    if "$" in description.replace("$value", "").replace("$labels", ""):
        c.check("estimated" in description, "%s: a cost is called an estimate" % n)
    c.check(ann.get("runbook_url") == pattern % n.lower(), "%s: runbook_url from the pattern" % n)
    c.check(n.lower() in anchors, "%s: docs/runbook.md has its section" % n)

# Warning and critical of one alert are two rules of one name with different severities.
for n in names:
    sev = [r["labels"]["severity"] for r in alerts if r["alert"] == n]
    c.check(len(sev) == len(set(sev)), "%s: one rule per severity: %s" % (n, sev))
for n in ("ClaudeCodeOrgDailyBudgetBurn", "ClaudeCodeTeamDailyBudgetBurn", "ClaudeCodeUserDailyBudgetBurn"):
    sev = sorted(r["labels"]["severity"] for r in alerts if r["alert"] == n)
    c.check(sev == ["critical", "warning"], "%s: warning and critical: %s" % (n, sev))

# Recording rules: level:metric:operations.
for r in records:
    c.check(re.fullmatch(r"[a-z_]+:[a-z0-9_]+:[a-z0-9_]+", r["record"]) is not None,
            "recording rule name %s is level:metric:operations" % r["record"])
c.check(len({r["record"] for r in records}) == len(records), "recording rule names are unique")

# Every alert has a promtool case where it fires and one where it stays quiet.
fires, quiet = set(), set()
for path in unit_tests:
    for t in load(path)["tests"]:
        for case in t.get("alert_rule_test", []):
            (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
for n in names:
    c.check(n in fires, "%s has a promtool case where it fires" % n)
    c.check(n in quiet, "%s has a promtool near-miss where it stays quiet" % n)
c.check(not (fires | quiet) - set(names), "tests name only alerts that exist: %s" % sorted((fires | quiet) - set(names)))




# Every metric the rules read exists on the agent's /metrics (or is a recording rule, or `up`).
read = set()
for r in rules:
    expr = r["expr"]
    for regex in re.findall(r'__name__=~"([^"]+)"', expr):
        read.update(harness.expand_alternation(regex))
    expr = re.sub(r'"[^"]*"', '""', expr)  # label values are not metric names
    read.update(re.findall(r"(?<![:\w])claude_code_\w+(?![:\w])", expr))
for r in alerts:
    for v in re.findall(r'printf "([a-z_:]+)\{', r["annotations"]["description"]):
        read.add(v)
recorded = {r["record"] for r in rules if "record" in r}
with open(os.path.join(alerts_dir, "config.libsonnet")) as f:
    read.update(re.findall(r"'(claude_code_\w+)'", f.read()))

# An agent with both sources and a budget, after one Admin API poll.
key = "sk-ant-admin01-alert-pack-test"
api = harness.FakeAdminApi(key, days=2)
agent = Agent(a.binary, env={"ANTHROPIC_ADMIN_API_KEY": key}, extra_toml=(
    '[admin_api]\nbase_url = "%s"\nbackfill_days = 2\nmin_request_interval = "0s"\n'
    '[budgets.org]\nday = 100.0\n' % api.url)).start()
try:
    harness.wait_for(lambda: harness.metric_value(agent, "claude_code_exporter_admin_api_backfill_dates_remaining") == 0,
                     60, "the Admin API backfill")
    exposed = set(re.findall(r"^# TYPE (\S+) ", agent.scrape_text(), re.M))
finally:
    agent.cleanup()
    api.close()
missing = sorted(m for m in read if m not in exposed and m not in recorded)
c.check(len(read) > 20, "metrics read by the rules: %d" % len(read))
c.check(not missing, "metrics the rules read that /metrics lacks: %s" % missing)
c.finish()
