"""The README's first lines give the two commands (run, test), and the run command with the
README's sample-telemetry step really puts numbers on /metrics. Runs scripts/run.sh in a copy of
the tracked files (sharing build/) so the store it creates stays out of the work tree; needs the
example's ports 4318 and 14318 free."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time

import harness
from harness import Checker

a = harness.args()
c = Checker("e2e readme")
repo = os.path.abspath(os.path.join(a.testdata, "..", ".."))
with open(os.path.join(repo, "README.md")) as f:
    head = f.read().split("---", 1)[0]
commands = re.findall(r"^    (\S.*)$", head, re.M)
c.check(commands[:2] == ["scripts/run.sh", "scripts/test.sh"], "README opens with the two commands: %r" % commands)
c.check(commands[2:] == ["scripts/stack.sh"], "then the local stack: %r" % commands[2:])
with open(os.path.join(repo, ".ci", "run")) as f:
    c.check("scripts/test.sh" in f.read(), ".ci/run calls the README's test command")

tmp = tempfile.mkdtemp(prefix="cce-readme-")
proc = None
try:
    files = subprocess.run(["git", "ls-files"], cwd=repo, capture_output=True, text=True, check=True).stdout.split()
    for rel in files:
        os.makedirs(os.path.join(tmp, os.path.dirname(rel)), exist_ok=True)
        shutil.copy2(os.path.join(repo, rel), os.path.join(tmp, rel))
    os.symlink(os.path.dirname(os.path.abspath(a.binary)), os.path.join(tmp, "build"))
    log = open(os.path.join(tmp, "run.log"), "wb")
    proc = subprocess.Popen(["bash", "-c", commands[0]], cwd=tmp, stdout=log, stderr=log, start_new_session=True)
    ready = False
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        try:
            ready = harness.get("http://127.0.0.1:14318/readyz", timeout=1)[0] == 200
        except OSError:
            pass
        if ready:
            break
        time.sleep(0.5)
    with open(os.path.join(tmp, "run.log"), "rb") as f:
        output = f.read().decode(errors="replace")
    c.check(ready, "scripts/run.sh serves /readyz on 127.0.0.1:14318; output:\n" + output[-2000:])
    if ready:
        r = subprocess.run(["python3", os.path.join(tmp, "scripts", "send-sample-telemetry.py")],
                           capture_output=True, text=True, timeout=120)
        c.check(r.returncode == 0, "send-sample-telemetry.py: " + r.stdout + r.stderr)
        samples = harness.parse_metrics(harness.get("http://127.0.0.1:14318/metrics")[1].decode())
        # The sample is the json-delta run; its cost, computed independently from the payloads.
        with open(os.path.join(a.testdata, "claude-code", "runs", "json-delta", "expected-totals.json")) as f:
            want = sum(sum(day["cost_usd"].values()) for days in json.load(f).values() for day in days.values())
        cost = sum(v for _, v in harness.select(samples, "claude_code_cost_usd_total"))
        c.equal(cost, want, "the README's sample shows its cost on /metrics", 1e-9)
        # Shifted to now, so the daily gauges (today, or yesterday just after midnight) have it too.
        daily = sum(v for _, v in harness.select(samples, "claude_code_daily_cost_usd"))
        c.equal(daily, want, "and in the daily window", 1e-9)
        c.check(os.path.exists(os.path.join(tmp, "claude-code-exporter.db")), "the example's store file was created")
finally:
    if proc and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    shutil.rmtree(tmp, ignore_errors=True)
c.finish()
