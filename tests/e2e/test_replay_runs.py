"""Each recorded Claude Code run, replayed in order over HTTP against the real binary, yields on
/metrics exactly the totals of its expected-totals.json; replaying it again changes nothing; every
single recorded request is accepted."""
import json
import os

import expected
import harness
from harness import Agent, Checker

a = harness.args()
c = Checker("e2e replay runs")
runs_dir = os.path.join(a.testdata, "claude-code", "runs")
runs = sorted(os.listdir(runs_dir))
c.check(set(runs) >= {"pb-delta", "json-delta", "pb-cumulative", "json-cumulative", "pb-oauth"}, "all runs present")

for run in runs:
    run_dir = os.path.join(runs_dir, run)
    with open(os.path.join(run_dir, "expected-totals.json")) as f:
        want = json.load(f)
    agent = Agent(a.binary).start()
    try:
        harness.replay(agent, run_dir)
        first = agent.scrape()
        expected.check(c, first, want, run)
        if run == "pb-oauth":
            c.check(harness.select(first, "claude_code_cost_usd_total", actor="dev@example.com", actor_type="user"),
                    "oauth run is attributed to dev@example.com")
        # The whole run again (as a client retrying everything): no value moves.
        harness.replay(agent, run_dir)
        second = agent.scrape()
        expected.check(c, second, want, run + " (replayed twice)")
        dup = harness.select(second, "claude_code_exporter_otlp_data_points_total", outcome="duplicate")
        c.check(sum(v for _, v in dup) > 0, run + ": duplicates were counted as such")
    finally:
        agent.cleanup()

# Every single request of requests/, each on its own, is accepted with no rejected points.
req_dir = os.path.join(a.testdata, "claude-code", "requests")
agent = Agent(a.binary).start()
try:
    n = 0
    for name in sorted(os.listdir(req_dir)):
        if not name.endswith(".headers.json"):
            continue
        with open(os.path.join(req_dir, name)) as f:
            h = json.load(f)
        stem = name[: -len(".headers.json")]
        body_file = [f for f in os.listdir(req_dir) if f.startswith(stem + ".") and not f.endswith(
            (".headers.json", ".decoded.txt"))][0]
        e = {"file": body_file, "path": h["path"], "content_type": h["content_type"],
             "content_encoding": h.get("content_encoding")}
        status, body, headers = harness.post_entry(agent, req_dir, e)
        n += 1
        c.check(status == 200, "%s answered %d: %r" % (name, status, body[:200]))
        c.check(headers.get("Content-Type") == h["content_type"], "%s: response content type mirrors" % name)
        c.check(b"rejected" not in body, "%s: nothing rejected (%r)" % (name, body[:200]))
    c.equal(n, 36, "requests posted")
finally:
    agent.cleanup()
c.finish()
