"""promtool accepts /metrics, and a real Prometheus scrapes the real binary and sees the numbers."""
import json
import os
import shutil
import subprocess
import tempfile
import time

import harness
from harness import Agent, Checker

a = harness.args()
c = Checker("e2e prometheus")
runs_dir = os.path.join(a.testdata, "claude-code", "runs")
promtool = shutil.which("promtool")
prometheus = shutil.which("prometheus")
c.check(promtool is not None and prometheus is not None, "promtool and prometheus are installed (scripts/install-deps.sh)")
if not promtool or not prometheus:
    c.finish()

agent = Agent(a.binary).start()
tmp = tempfile.mkdtemp(prefix="cce-prom-")
prom = None
try:
    for run in sorted(os.listdir(runs_dir)):
        harness.replay(agent, os.path.join(runs_dir, run))
    text = agent.scrape_text()
    r = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True)
    c.check(r.returncode == 0, "promtool check metrics: %s%s" % (r.stdout.decode(), r.stderr.decode()))
    c.check(len(harness.parse_metrics(text)) > 100, "a full scrape")

    # A real Prometheus scraping the agent every second.
    prom = harness.Prometheus(prometheus, tmp, agent)
    query = 'sum(claude_code_cost_usd_total{actor="dev@example.com"})'
    value = None
    up = None
    deadline = time.time() + 60
    while time.time() < deadline and value is None:
        time.sleep(1)
        res = prom.result(query)
        if res:
            value = float(res[0]["value"][1])
        res = prom.result("up")
        up = float(res[0]["value"][1]) if res else None
    with open(os.path.join(runs_dir, "pb-oauth", "expected-totals.json")) as f:
        want = sum(json.load(f)["dev@example.com"]["2026-11-22"]["cost_usd"].values())
    c.equal(up, 1.0, "Prometheus scraped the agent (up)")
    c.equal(value, want, "Prometheus sees dev@example.com's cost", 1e-9)
finally:
    if prom:
        prom.stop()
    agent.cleanup()
    shutil.rmtree(tmp, ignore_errors=True)
c.finish()
