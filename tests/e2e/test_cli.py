"""The binary's command line: --version, --check-config, bad configs (exit 1, the key and the fix
named), unknown flags (exit 2), a taken port (exit 1), SIGTERM (exit 0)."""
import os
import re
import subprocess
import tempfile

import harness
from harness import Agent, Checker

a = harness.args()
c = Checker("e2e cli")
repo = os.path.abspath(os.path.join(a.testdata, "..", ".."))


def run(*args, env=None):
    return subprocess.run([a.binary, *args], capture_output=True, text=True, timeout=30, env=env)


r = run("--version")
c.check(r.returncode == 0 and r.stdout.startswith("claude-code-exporter "), "--version: " + r.stdout)

r = run("--config", os.path.join(repo, "config.example.toml"), "--check-config")
c.check(r.returncode == 0 and "configuration OK" in r.stdout, "--check-config on the example: " + r.stdout + r.stderr)
c.check(re.search(r"listen = ['\"]127\.0\.0\.1:4318", r.stdout) is not None,
        "--check-config prints the effective settings")

env = dict(os.environ, CLAUDE_CODE_EXPORTER_OTLP_AUTH_TOKENS="very-secret-token")
r = run("--check-config", env=env)
c.check(r.returncode == 0 and "very-secret-token" not in r.stdout + r.stderr, "--check-config never prints a token")

cfg_dir = os.path.join(a.testdata, "config")
for name in sorted(os.listdir(cfg_dir)):
    if not name.endswith(".toml"):
        continue
    path = os.path.join(cfg_dir, name)
    with open(path[:-5] + ".expected") as f:
        message = f.read().strip().split(": ", 1)[1]  # after the file name
    r = run("--config", path, "--check-config")
    c.check(r.returncode == 1, "%s exits 1 (got %d)" % (name, r.returncode))
    c.check(message in r.stderr, "%s: stderr %r contains %r" % (name, r.stderr, message))

# A regular API key where the Admin key belongs: refused at start, saying exactly that.
wrong_key = "sk-ant-api03-NotAnAdminKey-0123456789"
env = dict(os.environ, ANTHROPIC_ADMIN_API_KEY=wrong_key)
r = run(env=env)
c.check(r.returncode == 1, "sk-ant-api key: exit 1 (got %d)" % r.returncode)
c.check("ANTHROPIC_ADMIN_API_KEY holds a regular API key (sk-ant-api…)" in r.stderr and
        "Admin API key (sk-ant-admin…)" in r.stderr and "Settings → Admin keys" in r.stderr,
        "sk-ant-api key: the message says an Admin key is needed and where: " + r.stderr)
c.check(wrong_key not in r.stderr + r.stdout, "the key itself is not printed")
with tempfile.TemporaryDirectory() as tmp:
    key_file = os.path.join(tmp, "admin-key")
    with open(key_file, "w") as f:
        f.write(wrong_key + "\n")
    cfg = os.path.join(tmp, "c.toml")
    with open(cfg, "w") as f:
        f.write('[admin_api]\nkey_file = "%s"\n' % key_file)
    r = run("--config", cfg, "--check-config")
    c.check(r.returncode == 1 and "admin_api.key_file (%s) holds a regular API key" % key_file in r.stderr,
            "key_file with an sk-ant-api key: " + r.stderr)

# Each organization key where the other belongs: refused at start, naming where it goes.
for var, key, says in (
        ("ANTHROPIC_ADMIN_API_KEY", "sk-ant-api01-EnterpriseKey-0123456789",
         "ANTHROPIC_ADMIN_API_KEY holds a claude.ai Enterprise key (sk-ant-api01…)"),
        ("ANTHROPIC_ANALYTICS_API_KEY", "sk-ant-admin01-AdminKey-0123456789",
         "ANTHROPIC_ANALYTICS_API_KEY holds an Admin API key (sk-ant-admin…)")):
    r = run(env=dict(os.environ, **{var: key}))
    c.check(r.returncode == 1 and says in r.stderr, "%s in %s: exit 1 with %r: %s" % (key[:13], var, says, r.stderr))
    c.check(key not in r.stderr + r.stdout and key[14:] not in r.stderr + r.stdout, "the key itself is not printed")

r = run("--config", "/nonexistent/config.toml")
c.check(r.returncode == 1 and "cannot read the config file" in r.stderr, "missing file: " + r.stderr)
r = run("--frobnicate")
c.check(r.returncode == 2 and "unknown flag --frobnicate" in r.stderr, "unknown flag: " + r.stderr)

first = Agent(a.binary).start()
try:
    # Its threads carry names, so `top -H` tells which one is busy (docs/operations.md).
    names = set()
    for tid in os.listdir("/proc/%d/task" % first.proc.pid):
        with open("/proc/%d/task/%s/comm" % (first.proc.pid, tid)) as f:
            names.add(f.read().strip())
    want = {"ingest-writer", "ingest-answer", "otlp-http", "otlp-grpc", "metrics-render", "http-accept"}
    c.check(want <= names, "named threads: %s" % sorted(names))
    second = Agent(a.binary)
    second.otlp_port = first.otlp_port
    with open(second.config, "w") as f:
        f.write('[otlp]\nlisten = "127.0.0.1:%d"\ngrpc_listen = "127.0.0.1:%d"\n'
                '[exposition]\nlisten = "127.0.0.1:%d"\n[store]\npath = "%s"\n'
                % (first.otlp_port, second.grpc_port, second.metrics_port,
                   os.path.join(second.dir, "s.db")))
    try:
        second.start(timeout=10)
        c.check(False, "a second agent on a taken port must not start")
    except RuntimeError as e:
        c.check("cannot listen on 127.0.0.1:%d" % first.otlp_port in str(e), "taken port is named: %s" % e)
    second.cleanup()
    c.equal(first.stop(), 0, "SIGTERM exits 0")
    c.check("shutting down" in first.read_log() and "store flushed" in first.read_log(), "shutdown is logged")
finally:
    first.cleanup()
c.finish()
