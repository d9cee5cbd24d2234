"""scripts/stack.sh on loopback: it sets up and starts the agent, Prometheus (loading the shipped
rules) and Alertmanager (the example config); the sample telemetry reaches Prometheus; every
shipped rule is loaded; `scripts/stack.sh stop` stops everything and frees the ports."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

import harness
from harness import Checker

yaml = harness.require_yaml()

a = harness.args()
c = Checker("e2e stack")
repo = os.path.abspath(os.path.join(a.testdata, "..", ".."))
tmp = tempfile.mkdtemp(prefix="cce-stack-")
ports = {k: harness.free_port() for k in ("OTLP", "OTLP_GRPC", "METRICS", "PROMETHEUS", "ALERTMANAGER", "RECEIVER")}
env = dict(os.environ, STACK_DIR=os.path.join(tmp, "state"), **{"STACK_%s_PORT" % k: str(v) for k, v in ports.items()})
env.pop("ANTHROPIC_ADMIN_API_KEY", None)
prom = "http://127.0.0.1:%d" % ports["PROMETHEUS"]


def api(path):
    status, body, _ = harness.get(prom + path)
    return json.loads(body) if status == 200 else {}


proc = subprocess.Popen(["scripts/stack.sh"], cwd=repo, env=env, stdout=subprocess.PIPE,
                        stderr=subprocess.STDOUT, start_new_session=True, text=True)
try:
    out = []
    deadline = time.time() + 600
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        out.append(line)
        if line.startswith("Stop with Ctrl-C"):
            break
    text = "".join(out)
    c.check("stack: running" in text, "the stack starts and prints its URLs:\n" + text[-3000:])
    c.check(prom in text and "127.0.0.1:%d" % ports["ALERTMANAGER"] in text, "the URLs are printed")

    r = subprocess.run(["python3", "scripts/send-sample-telemetry.py", "--endpoint", "http://127.0.0.1:%d" % ports["OTLP"]],
                       cwd=repo, capture_output=True, text=True, timeout=120)
    c.check(r.returncode == 0, "sample telemetry sent: " + r.stdout[-500:] + r.stderr[-500:])

    def series():
        res = api("/api/v1/query?query=claude_code_cost_usd_total").get("data", {}).get("result", [])
        return res if any(float(x["value"][1]) > 0 for x in res) else None
    try:
        harness.wait_for(series, 120, "the sample's cost in Prometheus", interval=1)
        c.check(True, "Prometheus has the agent's series")
    except AssertionError as e:
        c.check(False, str(e))

    shipped = set()
    for name in ("recording-rules.yaml", "alerts.yaml"):
        with open(os.path.join(repo, "alerts", "generated", name)) as f:
            for g in yaml.safe_load(f)["groups"]:
                shipped.update((g["name"], r.get("alert") or r.get("record")) for r in g["rules"])
    loaded = {(g["name"], r["name"]) for g in api("/api/v1/rules").get("data", {}).get("groups", []) for r in g["rules"]}
    c.check(shipped and loaded == shipped, "Prometheus loaded every shipped rule: %d of %d (missing %s)"
            % (len(loaded & shipped), len(shipped), sorted(shipped - loaded)[:5]))
    ams = api("/api/v1/alertmanagers").get("data", {}).get("activeAlertmanagers", [])
    c.check(any(str(ports["ALERTMANAGER"]) in x["url"] for x in ams), "Prometheus found the stack's Alertmanager: %s" % ams)
    status, body, _ = harness.get("http://127.0.0.1:%d/api/v2/status" % ports["ALERTMANAGER"])
    c.check(status == 200 and b"tickets" in body, "Alertmanager runs the example routing")
finally:
    r = subprocess.run(["scripts/stack.sh", "stop"], cwd=repo, env=env, capture_output=True, text=True, timeout=60)
    c.check(r.returncode == 0, "scripts/stack.sh stop: " + r.stdout + r.stderr)
    try:
        code = proc.wait(timeout=30)
        c.check(code == 0, "the foreground stack ends cleanly (exit %d)" % code)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        c.check(False, "the foreground stack ended")
    time.sleep(0.5)
    for k, port in ports.items():
        try:
            harness.get("http://127.0.0.1:%d/" % port, timeout=1)
            c.check(False, "port %d (%s) is free after stop" % (port, k))
        except OSError:
            c.check(True, "port free")
    shutil.rmtree(tmp, ignore_errors=True)
c.finish()
