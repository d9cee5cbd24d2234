"""Data acknowledged is data kept: values survive a graceful restart unchanged, and a kill -9
right after a 200; a run continued after the crash ends at exactly its expected totals (no loss,
no double count of cumulative series or replays)."""
import json
import os

import expected
import harness
from harness import Agent, Checker

a = harness.args()
c = Checker("e2e durability")
runs_dir = os.path.join(a.testdata, "claude-code", "runs")


def usage_lines(text):
    return sorted(l for l in text.splitlines() if l.startswith("claude_code_") and not l.startswith("claude_code_exporter_"))


def crashed_after_ack(label, run, send):
    """Sends the first half of a run with `send`, kills the agent with kill -9 right after the last
    answer and starts it again: its values must be those of an agent that got the same half
    without a crash. Returns the restarted agent, the run's entries, the half and the expected
    totals."""
    run_dir = os.path.join(runs_dir, run)
    entries = harness.run_entries(run_dir)
    half = len(entries) // 2
    with open(os.path.join(run_dir, "expected-totals.json")) as f:
        want = json.load(f)

    # Control: the same first half, no crash.
    control = Agent(a.binary).start()
    harness.replay(control, run_dir, entries[:half])
    control_text = usage_lines(control.scrape_text())
    control.cleanup()

    agent = Agent(a.binary).start()
    try:
        send(agent, run_dir, entries[:half])  # the last one was answered ...
        agent.kill9()                         # ... and the process dies at once
        agent.start()
    except BaseException:
        agent.cleanup()
        raise
    after_crash = usage_lines(agent.scrape_text())
    c.check(after_crash == control_text and len(after_crash) > 5,
            "%s: after kill -9 the values are those acknowledged (%d vs %d lines)" % (label, len(after_crash), len(control_text)))
    return agent, run_dir, entries, half, want


for run in ("pb-cumulative", "json-delta", "pb-oauth"):
    agent, run_dir, entries, half, want = crashed_after_ack(run, run, harness.replay)
    try:
        after_crash = usage_lines(agent.scrape_text())
        # The client retries the last request (it never heard back, as far as it knows): no change.
        harness.replay(agent, run_dir, entries[half - 1:half])
        c.check(usage_lines(agent.scrape_text()) == after_crash, "%s: a retry after the crash counts once" % run)
        harness.replay(agent, run_dir, entries[half:])
        expected.check(c, agent.scrape(), want, run + " continued after kill -9")

        # Graceful restart: exactly the same numbers.
        before = usage_lines(agent.scrape_text())
        c.equal(agent.stop(), 0, "%s: SIGTERM exits 0" % run)
        agent.start()
        c.check(usage_lines(agent.scrape_text()) == before, "%s: same numbers after stop/start" % run)
    finally:
        agent.cleanup()
# The same over OTLP/gRPC: OK is sent only after the commit, so a kill -9 right after an OK
# loses nothing either.
if a.grpc_send:
    def send_grpc(agent, run_dir, entries):
        harness.replay_grpc(a.grpc_send, agent, run_dir, entries)
    agent, run_dir, entries, half, want = crashed_after_ack("gRPC pb-cumulative", "pb-cumulative", send_grpc)
    try:
        send_grpc(agent, run_dir, entries[half - 1:])
        expected.check(c, agent.scrape(), want, "gRPC pb-cumulative continued after kill -9 (the last OK retried)")
    finally:
        agent.cleanup()
else:
    c.check(False, "--grpc-send is needed for the OTLP/gRPC round")
c.finish()
