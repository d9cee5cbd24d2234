"""1,000 actors: promtool check metrics is clean; privacy.actor_label = "hash" keeps every email
off /metrics while teams and user budgets still resolve from the real email; "domain" folds users
into their domain (summed, still valid exposition); limits.max_actors folds the overflow into
actor="__other__" without losing a cent."""
import json
import os
import re
import shutil
import subprocess

import harness
from harness import Agent, Checker

a = harness.args()
c = Checker("e2e privacy and cardinality")
T = "1795314293562000000"
N = 1000


def request(n):
    res = []
    for i in range(n):
        attrs = [{"key": "user.email", "value": {"stringValue": "User%04d@Corp.Example.com" % i}},
                 {"key": "user.account_uuid", "value": {"stringValue": "uuid-%d" % i}}]

        def point(value, *extra):
            return {"attributes": attrs + list(extra), "startTimeUnixNano": T, "timeUnixNano": T, "asDouble": value}
        model = {"key": "model", "value": {"stringValue": "claude-opus-5"}}
        res.append({"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "claude-code"}}]},
                    "scopeMetrics": [{"scope": {"name": "com.anthropic.claude_code"}, "metrics": [
                        {"name": "claude_code.cost.usage", "sum": {"aggregationTemporality": 1, "isMonotonic": True,
                                                                   "dataPoints": [point(0.01 * (i % 7 + 1), model)]}},
                        {"name": "claude_code.token.usage", "sum": {"aggregationTemporality": 1, "isMonotonic": True,
                         "dataPoints": [point(100 + i, model, {"key": "type", "value": {"stringValue": "input"}})]}},
                        {"name": "claude_code.session.count", "sum": {"aggregationTemporality": 1, "isMonotonic": True,
                                                                      "dataPoints": [point(1)]}}]}]})
    return json.dumps({"resourceMetrics": res}).encode()


BODY = request(N)
WANT_COST = sum(0.01 * (i % 7 + 1) for i in range(N))
promtool = shutil.which("promtool")


def run(extra, env=None):
    agent = Agent(a.binary, extra_toml=extra, env=env).start()
    status, body, _ = harness.post(agent.otlp + "/v1/metrics", BODY, {"Content-Type": "application/json"})
    c.check(status == 200 and b"rejected" not in body, "1,000 actors accepted: %d %r" % (status, body[:200]))
    return agent


def promtool_ok(tag, text):
    r = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True)
    c.check(r.returncode == 0, "%s: promtool check metrics: %s%s" % (tag, r.stdout.decode()[:500], r.stderr.decode()[:500]))


def total_cost(samples):
    return sum(v for _, v in harness.select(samples, "claude_code_cost_usd_total"))


# Email labels (the default).
agent = run("")
try:
    text = agent.scrape_text()
    promtool_ok("email", text)
    s = harness.parse_metrics(text)
    c.equal(len(harness.select(s, "claude_code_cost_usd_total")), N, "one cost series per actor")
    c.equal(total_cost(s), WANT_COST, "total cost", 1e-9)
    c.check(harness.select(s, "claude_code_sessions_total", actor="user0042@corp.example.com"), "emails lower-cased")
finally:
    agent.cleanup()

# Hashed labels.
HASH = ('[privacy]\nactor_label = "hash"\n[teams]\nmap = { "user0007@corp.example.com" = "alpha", '
        '"*@corp.example.com" = "corp" }\n[budgets.users."user0007@corp.example.com"]\nday = 3.5\n')
ENV = {"CLAUDE_CODE_EXPORTER_PRIVACY_KEY": "0123456789abcdef0123456789abcdef"}
agent = run(HASH, ENV)
try:
    text = agent.scrape_text()
    promtool_ok("hash", text)
    c.check("@" not in text, "no email, nor any '@', anywhere on /metrics in hash mode")
    c.check(re.search(r"user0\d\d\d", text) is None, "no local part either")
    s = harness.parse_metrics(text)
    labels = {l["actor"] for l, _ in harness.select(s, "claude_code_cost_usd_total")}
    c.equal(len(labels), N, "still one series per user")
    c.check(all(re.fullmatch(r"[0-9a-f]{16}", x) for x in labels), "actor labels are 16-hex keyed hashes")
    alpha = harness.select(s, "claude_code_sessions_total", team="alpha")
    c.equal(len(alpha), 1, "the exact-email team mapping still applies")
    c.equal(len(harness.select(s, "claude_code_sessions_total", team="corp")), N - 1, "the pattern mapping too")
    budget = harness.select(s, "claude_code_budget_usd", scope="user")
    c.check(budget and budget[0][0]["name"] == alpha[0][0]["actor"],
            "a user budget is named by the same hash as the user's series (joins work)")
    c.equal(total_cost(s), WANT_COST, "total cost in hash mode", 1e-9)
    # Stable across restarts.
    agent.stop()
    agent.start()
    again = {l["actor"] for l, _ in harness.select(agent.scrape(), "claude_code_cost_usd_total")}
    c.check(again == labels, "hashes are stable across a restart")
finally:
    agent.cleanup()

# Without a key, hash mode refuses to start.
r = subprocess.run([a.binary, "--check-config", "--config", "/dev/stdin"], input='[privacy]\nactor_label = "hash"\n',
                   capture_output=True, text=True)
c.check(r.returncode == 1 and "CLAUDE_CODE_EXPORTER_PRIVACY_KEY" in r.stderr, "hash mode needs a key: " + r.stderr)

# Domain labels: every user folds into the domain, summed.
agent = run('[privacy]\nactor_label = "domain"\n')
try:
    text = agent.scrape_text()
    promtool_ok("domain", text)
    s = harness.parse_metrics(text)
    costs = harness.select(s, "claude_code_cost_usd_total")
    c.equal(len(costs), 1, "one series for the domain")
    c.check(costs and costs[0][0]["actor"] == "corp.example.com", "labelled by domain")
    c.equal(total_cost(s), WANT_COST, "domain total", 1e-9)
finally:
    agent.cleanup()

# The cardinality guard.
agent = run("[limits]\nmax_actors = 100\n")
try:
    text = agent.scrape_text()
    promtool_ok("guard", text)
    s = harness.parse_metrics(text)
    c.equal(len(harness.select(s, "claude_code_cost_usd_total")), 101, "100 actors and __other__")
    c.check(harness.select(s, "claude_code_cost_usd_total", actor="__other__"), "the overflow actor")
    c.equal(total_cost(s), WANT_COST, "nothing lost to the guard", 1e-9)
    c.check((harness.metric_value(agent, "claude_code_exporter_actor_overflow_observations_total") or 0) >= 900,
            "overflow counted")
finally:
    agent.cleanup()
c.finish()
