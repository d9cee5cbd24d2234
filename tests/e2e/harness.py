"""End-to-end helpers: start the real agent binary on loopback, replay recorded telemetry, scrape
and parse /metrics. Standard library only; every address is 127.0.0.1."""
import argparse
import datetime
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

FIXTURE_NOW = "2026-11-22T12:00:00Z"


def args():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--testdata", required=True)
    ap.add_argument("--grpc-send", help="cce_otlp_grpc_send, for tests that export over OTLP/gRPC")
    return ap.parse_args()


def require_yaml():
    """PyYAML, re-running the test under Debian's python3 (python3-yaml) where this interpreter
    (pyenv, a venv) lacks it."""
    try:
        import yaml
        return yaml
    except ImportError:
        if sys.executable != "/usr/bin/python3":
            os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
        raise


def expand_alternation(regex):
    """'a_(b|c)_d' -> ['a_b_d', 'a_c_d']: the metric names a __name__=~ selector of the rules means."""
    m = re.search(r"\(([^()]*)\)", regex)
    if not m:
        return [regex]
    return [x for alt in m.group(1).split("|")
            for x in expand_alternation(regex[:m.start()] + alt + regex[m.end():])]


_handed_out = set()


def free_port():
    """A free loopback port, never one this process was given before (the kernel may offer a
    port again as soon as its probe socket closes, e.g. for an agent's two listeners)."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port


class Agent:
    """The agent binary with its own temp dir, store and ports."""

    def __init__(self, binary, extra_toml="", workdir=None, now=FIXTURE_NOW, env=None, metrics_tls=None,
                 otlp_toml="", exposition_toml=""):
        """metrics_tls: an ssl.SSLContext when the metrics listener serves HTTPS; otlp_toml and
        exposition_toml: more keys for those tables (the harness writes their listen addresses)."""
        self.binary = binary
        self.metrics_tls = metrics_tls
        self.dir = workdir or tempfile.mkdtemp(prefix="cce-e2e-")
        self.owns_dir = workdir is None
        self.otlp_port = free_port()
        self.grpc_port = free_port()
        self.metrics_port = free_port()
        self.now = now
        self.config = os.path.join(self.dir, "config.toml")
        with open(self.config, "w") as f:
            f.write('[otlp]\nlisten = "127.0.0.1:%d"\ngrpc_listen = "127.0.0.1:%d"\n%s'
                    % (self.otlp_port, self.grpc_port, otlp_toml))
            # Tests scrape right after posting: every scrape renders.
            f.write('[exposition]\nlisten = "127.0.0.1:%d"\nmin_render_interval = "0s"\n%s'
                    % (self.metrics_port, exposition_toml))
            f.write('[store]\npath = "%s"\n' % os.path.join(self.dir, "store.db"))
            f.write(extra_toml)
        self.proc = None
        self.log_path = os.path.join(self.dir, "agent.log")
        self.env = dict(os.environ, **(env or {}))  # kept for every (re)start

    def start(self, timeout=20, probe="/readyz"):
        """Starts the agent and waits until `probe` answers 200 ("/healthz": running, ready or not)."""
        cmd = [self.binary, "--config", self.config]
        if self.now:
            cmd += ["--now", self.now]
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("agent exited with %d:\n%s" % (self.proc.returncode, self.read_log()))
            try:
                scheme = "https" if self.metrics_tls else "http"
                if get("%s://127.0.0.1:%d%s" % (scheme, self.metrics_port, probe), timeout=1,
                       context=self.metrics_tls)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("agent not ready:\n" + self.read_log())

    def read_log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=timeout)
        code = self.proc.returncode if self.proc else None
        self.proc = None
        return code

    def kill9(self):
        return self.stop(signal.SIGKILL)

    def cleanup(self):
        self.stop()
        if self.owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def otlp(self):
        return "http://127.0.0.1:%d" % self.otlp_port

    def scrape_text(self):
        status, body, _ = get("http://127.0.0.1:%d/metrics" % self.metrics_port)
        assert status == 200, status
        return body.decode()

    def scrape(self):
        return parse_metrics(self.scrape_text())


def get(url, timeout=10, context=None, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def post(url, body, headers, timeout=10, context=None):
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as r:
            return r.status, r.read(), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read(), dict(e.headers)


def run_entries(run_dir):
    with open(os.path.join(run_dir, "index.jsonl")) as f:
        return [json.loads(line) for line in f if line.strip()]


def post_entry(agent, run_dir, e):
    with open(os.path.join(run_dir, e["file"]), "rb") as f:
        body = f.read()
    headers = {"Content-Type": e["content_type"]}
    if e.get("content_encoding"):
        headers["Content-Encoding"] = e["content_encoding"]
    return post(agent.otlp + e["path"], body, headers)


def replay_grpc(grpc_send, agent, run_dir, entries):
    """Sends protobuf entries over OTLP/gRPC (gzip files decompressed: gRPC compresses itself)."""
    import gzip
    for e in entries:
        path = os.path.join(run_dir, e["file"])
        if e.get("content_encoding") == "gzip":
            plain = os.path.join(agent.dir, "grpc-body.bin")
            with gzip.open(path, "rb") as f, open(plain, "wb") as out:
                out.write(f.read())
            path = plain
        signal = e["path"].rsplit("/", 1)[-1]
        r = subprocess.run([grpc_send, str(agent.grpc_port), signal, path],
                           capture_output=True, text=True, timeout=30)
        if r.returncode != 0:
            raise AssertionError("request %d of %s over gRPC: %s%s" % (e["n"], run_dir, r.stdout, r.stderr))


def replay(agent, run_dir, entries=None):
    for e in entries if entries is not None else run_entries(run_dir):
        status, body, _ = post_entry(agent, run_dir, e)
        if status != 200:
            raise AssertionError("request %d of %s answered %d: %r" % (e["n"], run_dir, status, body[:300]))


def shift_run(run_dir, out_dir):
    """Copies a recorded JSON run with every timestamp moved so that it ends a minute ago, for
    tests whose rules compare with the wall clock; the shifting is scripts/send-sample-telemetry.py's.
    Returns the run's entries."""
    import importlib.util
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "send-sample-telemetry.py")
    spec = importlib.util.spec_from_file_location("send_sample_telemetry", path)
    sender = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sender)
    entries = run_entries(run_dir)
    offset = time.time_ns() - 60 * 10**9 - sender.last_time_ns(run_dir, entries)
    os.makedirs(out_dir, exist_ok=True)
    for e in entries:
        with open(os.path.join(run_dir, e["file"])) as f:
            body = sender.shift_json(json.load(f), offset)
        with open(os.path.join(out_dir, e["file"]), "w") as f:
            json.dump(body, f)
    return entries


def admin_record(date, email, model, cents, commits=1):
    """One Admin API usage-report record for a user and UTC day, with its cost in cents."""
    return {"date": date + "T00:00:00Z", "actor": {"type": "user_actor", "email_address": email},
            "organization_id": "org-1", "customer_type": "api", "terminal_type": "xterm",
            "core_metrics": {"num_sessions": 2, "lines_of_code": {"added": 120, "removed": 30},
                             "commits_by_claude_code": commits, "pull_requests_by_claude_code": 1},
            "tool_actions": {"edit_tool": {"accepted": 8, "rejected": 2}, "write_tool": {"accepted": 3, "rejected": 1}},
            "model_breakdown": [{"model": model,
                                 "tokens": {"input": 20000, "output": 5000, "cache_read": 300000, "cache_creation": 10000},
                                 "estimated_cost": {"amount": cents, "currency": "USD"}}]}


class Prometheus:
    """Debian's prometheus on a loopback port, scraping the agent every second as job
    "claude-code-exporter", with optional rule files and an Alertmanager."""

    def __init__(self, binary, workdir, agent, rule_files=(), alertmanager_port=None, flags=(), scrape=None):
        """scrape: more scrape_config settings (scheme, basic_auth, tls_config)."""
        self.port = free_port()
        job = {"job_name": "claude-code-exporter", "static_configs": [{"targets": ["127.0.0.1:%d" % agent.metrics_port]}]}
        job.update(scrape or {})
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"}, "scrape_configs": [job]}
        if rule_files:
            config["rule_files"] = list(rule_files)
        if alertmanager_port:
            config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": ["127.0.0.1:%d" % alertmanager_port]}]}]}
        path = os.path.join(workdir, "prometheus.yml")
        with open(path, "w") as f:
            json.dump(config, f)  # JSON is YAML
        log = open(os.path.join(workdir, "prometheus.log"), "wb")
        self.proc = subprocess.Popen([binary, "--config.file", path, "--storage.tsdb.path", os.path.join(workdir, "prometheus"),
                                      "--web.listen-address", "127.0.0.1:%d" % self.port, *flags], stdout=log, stderr=log)

    def query(self, expr, timeout=30):
        """The parsed answer of an instant query; raises OSError while Prometheus starts."""
        _, body, _ = get("http://127.0.0.1:%d/api/v1/query?query=%s" % (self.port, urllib.parse.quote(expr)), timeout)
        return json.loads(body)

    def result(self, expr):
        """An instant query's result; [] while Prometheus is still starting."""
        try:
            return self.query(expr)["data"]["result"]
        except (OSError, ValueError, KeyError):
            return []

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """[(name, {labels}, value)] for every sample line."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        if not m:
            raise AssertionError("unparseable line: " + line)
        labels = dict(LABEL.findall(m.group(3) or ""))
        out.append((m.group(1), labels, float(m.group(4))))
    return out


def select(samples, metric, /, **labels):
    return [(l, v) for n, l, v in samples if n == metric and all(l.get(k) == v2 for k, v2 in labels.items())]


class Checker:
    """Collects failures instead of stopping at the first, then reports them all."""

    def __init__(self, name):
        self.name = name
        self.failures = []
        self.passed = 0

    def check(self, ok, what):
        if ok:
            self.passed += 1
        else:
            self.failures.append(what)
            print("FAIL:", what, flush=True)

    def equal(self, got, want, what, tol=0.0):
        ok = got is not None and want is not None and abs(got - want) <= tol
        self.check(ok, "%s: got %r, want %r" % (what, got, want))

    def finish(self):
        print("%s: %d passed, %d failed" % (self.name, self.passed, len(self.failures)), flush=True)
        sys.exit(1 if self.failures else 0)


class FakeAdminApi:
    """tests/fake_admin_api/fake_admin_api.py as a subprocess on a loopback port."""

    def __init__(self, key, days=30, end="2026-11-22", seed=1, big_days=(), delay=0.0, records_file=None):
        here = os.path.dirname(os.path.abspath(__file__))
        script = os.path.join(here, "..", "fake_admin_api", "fake_admin_api.py")
        self.port = free_port()
        cmd = [sys.executable, script, "--port", str(self.port), "--key", key, "--days", str(days),
               "--end", end, "--seed", str(seed), "--delay", str(delay)]
        for b in big_days:
            cmd += ["--big-day", b]
        if records_file:
            cmd += ["--records-file", records_file]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        line = self.proc.stdout.readline().decode()
        if "listening" not in line:
            raise RuntimeError("fake admin api did not start: " + line)
        self.url = "http://127.0.0.1:%d" % self.port

    def control(self, path, body=None):
        if body is None:
            status, data, _ = get(self.url + path)
        else:
            status, data, _ = post(self.url + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
        assert status == 200, (path, status)
        return json.loads(data)

    def faults(self, faults):
        return self.control("/_control/faults", faults)

    def log(self):
        return self.control("/_control/log")

    def totals(self):
        return self.control("/_control/totals")

    def days(self):
        return self.control("/_control/days")

    def set_day(self, date, records):
        return self.control("/_control/day", {"date": date, "records": records})

    def close(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class FakeEnterpriseApi(FakeAdminApi):
    """tests/fake_enterprise_api/fake_enterprise_api.py (Enterprise Analytics and Spend Limits)
    as a subprocess on a loopback port; keyword arguments become its flags."""

    def __init__(self, key, **flags):
        here = os.path.dirname(os.path.abspath(__file__))
        script = os.path.join(here, "..", "fake_enterprise_api", "fake_enterprise_api.py")
        self.port = free_port()
        cmd = [sys.executable, script, "--port", str(self.port), "--key", key]
        for name, value in flags.items():
            for v in (value if isinstance(value, (list, tuple)) else [value]):
                cmd += ["--" + name.replace("_", "-"), str(v)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        line = self.proc.stdout.readline().decode()
        if "listening" not in line:
            raise RuntimeError("fake enterprise api did not start: " + line)
        self.url = "http://127.0.0.1:%d" % self.port

    def totals(self, since="0000", through=None):
        return self.control("/_control/totals?since=%s%s" % (since, "&through=" + through if through else ""))

    def caps(self):
        return self.control("/_control/caps")


def wait_for(predicate, timeout, what, interval=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    raise AssertionError("timed out waiting for " + what)


def metric_value(agent, name, **labels):
    found = select(agent.scrape(), name, **labels)
    return found[0][1] if found else None


def compare_api_totals(c, tag, want, got):
    """The store's API totals (stored_api_totals) against a fake's truth: the same non-zero
    series, each value equal (cost to the cent), and the same total cost."""
    nonzero_want = {k: v for k, v in want.items() if v}
    nonzero_got = {k: v for k, v in got.items() if v}
    c.check(set(nonzero_want) == set(nonzero_got),
            "%s: same series (%d stored, %d expected; e.g. missing %s, extra %s)" % (
                tag, len(nonzero_got), len(nonzero_want), sorted(set(nonzero_want) - set(nonzero_got))[:3],
                sorted(set(nonzero_got) - set(nonzero_want))[:3]))
    bad = [k for k, v in nonzero_want.items()
           if abs(nonzero_got.get(k, -1) - v) > (1e-6 if "|cost_cents|" in k else 0)]
    c.check(not bad, "%s: every stored value equals the fake's (cost to the cent); first differences: %s" % (
        tag, [(k, want[k], got.get(k)) for k in bad[:3]]))
    cents = sum(v for k, v in want.items() if "|cost_cents|" in k)
    got_cents = sum(v for k, v in got.items() if "|cost_cents|" in k)
    c.equal(round(got_cents, 6), round(cents, 6), tag + ": total cost in cents")


def otlp_cost_json(email, day, usd, session, org_id=None):
    """One OTLP/JSON delta cost point of Claude Code for `email` at 10:00 UTC on `day`."""
    t = int(datetime.datetime.fromisoformat(day + "T10:00:00+00:00").timestamp() * 1e9)
    attrs = [{"key": "user.email", "value": {"stringValue": email}},
             {"key": "session.id", "value": {"stringValue": session}},
             {"key": "model", "value": {"stringValue": "claude-sonnet-5"}}]
    if org_id:
        attrs.append({"key": "organization.id", "value": {"stringValue": org_id}})
    return json.dumps({"resourceMetrics": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "claude-code"}}]},
        "scopeMetrics": [{"scope": {"name": "com.anthropic.claude_code"}, "metrics": [
            {"name": "claude_code.cost.usage", "unit": "USD",
             "sum": {"aggregationTemporality": 1, "isMonotonic": True, "dataPoints": [
                 {"attributes": attrs, "startTimeUnixNano": str(t - 60 * 10 ** 9),
                  "timeUnixNano": str(t), "asDouble": usd}]}}]}]}]}).encode()


def stored_api_totals(db_path, org=None):
    """Sums of the store's organization API slice (of one configured organization when `org` is
    given), keyed like the fakes' totals (costs in cents)."""
    import sqlite3
    con = sqlite3.connect(db_path)
    out = {}
    query = "SELECT date, actor_key, quantity, labels, value FROM daily_values WHERE source = 'api'"
    params = ()
    if org is not None:
        query += " AND actor_key IN (SELECT actor_key FROM actors WHERE org = ?)"
        params = (org,)
    for date, actor, quantity, labels, value in con.execute(query, params):
        if quantity == "cost_usd":
            quantity, value = "cost_cents", value * 100
        key = "%s|%s|%s|%s" % (date, actor, quantity, labels.replace("\x1f", "/"))
        out[key] = out.get(key, 0) + value
    con.close()
    return out
