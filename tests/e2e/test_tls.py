"""TLS and basic auth in exporter-toolkit web configuration files, on loopback with certificates
made for the test: a real Prometheus scrapes /metrics over https with basic auth; an OTLP client
posts over https with a client certificate where client_auth_type requires one; a wrong
password gets 401; plain http to a TLS port fails without harming the agent; certificates reload
on SIGHUP; a bad certificate stops the agent naming the file and OpenSSL's reason; no secret
reaches the log."""
import base64
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import ctypes
import ctypes.util

import harness
from harness import Agent, Checker, Prometheus

a = harness.args()
c = Checker("e2e tls")
tmp = tempfile.mkdtemp(prefix="cce-tls-")
PASSWORD = "correct-horse-battery-staple"
# The system's libcrypt, which the agent verifies with, makes the bcrypt hash.
libcrypt = ctypes.CDLL(ctypes.util.find_library("crypt"))
libcrypt.crypt_gensalt.restype = ctypes.c_char_p
libcrypt.crypt_gensalt.argtypes = [ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
libcrypt.crypt.restype = ctypes.c_char_p
libcrypt.crypt.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
HASH = libcrypt.crypt(PASSWORD.encode(), libcrypt.crypt_gensalt(b"$2b$", 4, None, 0)).decode()
assert HASH.startswith("$2b$04$"), HASH


def openssl(*args):
    r = subprocess.run(["openssl", *args], cwd=tmp, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def make_cert(name, cn, ca="ca", client=False):
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
            "-subj", "/CN=" + cn)
    ext = os.path.join(tmp, name + ".ext")
    with open(ext, "w") as f:
        f.write("extendedKeyUsage=clientAuth\n" if client else
                "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", name + ".csr", "-CA", ca + ".crt", "-CAkey", ca + ".key", "-CAcreateserial",
            "-out", name + ".crt", "-days", "2", "-sha256", "-extfile", ext)


openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=claude-code-exporter test CA")
make_cert("server", "first-server")
make_cert("server2", "reloaded-server")
make_cert("server3", "changed-on-disk")
make_cert("client", "otel-collector", client=True)
path = lambda n: os.path.join(tmp, n)

with open(path("metrics-web.yml"), "w") as f:
    f.write("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
            "basic_auth_users:\n  prometheus: %s\n" % HASH)
with open(path("otlp-web.yml"), "w") as f:
    f.write("tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n"
            "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  min_version: TLS12\n")

verify = ssl.create_default_context(cafile=path("ca.crt"))
with_client = ssl.create_default_context(cafile=path("ca.crt"))
with_client.load_cert_chain(path("client.crt"), path("client.key"))


def auth(user, password):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()}


def served_cn(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        with verify.wrap_socket(s, server_hostname="127.0.0.1") as t:
            return dict(x[0] for x in t.getpeercert()["subject"])["commonName"]


agent = Agent(a.binary, metrics_tls=verify,
              otlp_toml='web_config_file = "%s"\n' % path("otlp-web.yml"),
              exposition_toml='web_config_file = "%s"\n' % path("metrics-web.yml"))
agent.start()
metrics = "https://127.0.0.1:%d" % agent.metrics_port
otlp = "https://127.0.0.1:%d" % agent.otlp_port
prom = None
try:
    # /metrics: the right password, a wrong one, none; the probes stay open.
    status, body, _ = harness.get(metrics + "/metrics", context=verify, headers=auth("prometheus", PASSWORD))
    c.check(status == 200 and b"claude_code_exporter_build_info" in body, "https + basic auth: /metrics %d" % status)
    status, _, headers = harness.get(metrics + "/metrics", context=verify, headers=auth("prometheus", "wrong"))
    c.equal(status, 401, "a wrong password gets 401")
    c.check("Basic" in headers.get("WWW-Authenticate", ""), "with a Basic challenge")
    status, _, _ = harness.get(metrics + "/metrics", context=verify)
    c.equal(status, 401, "no credentials get 401")
    c.equal(harness.get(metrics + "/healthz", context=verify)[0], 200, "/healthz needs no password")

    # OTLP with and without a client certificate.
    body = json.dumps({"resourceMetrics": []}).encode()
    status, _, _ = harness.post(otlp + "/v1/metrics", body, {"Content-Type": "application/json"}, context=with_client)
    c.equal(status, 200, "OTLP over https with a client certificate")
    try:
        harness.post(otlp + "/v1/metrics", body, {"Content-Type": "application/json"}, context=verify)
        c.check(False, "OTLP without a client certificate must fail")
    except OSError:
        c.check(True, "OTLP without a client certificate is refused in the handshake")

    # Plain http to a TLS port: refused cleanly, and the agent keeps serving.
    try:
        status, _, _ = harness.get("http://127.0.0.1:%d/healthz" % agent.metrics_port, timeout=5)
        c.check(status != 200, "plain http to the TLS port does not get an answer: %d" % status)
    except OSError:
        c.check(True, "plain http to the TLS port fails")
    c.equal(harness.get(metrics + "/healthz", context=verify)[0], 200, "and https still works after it")

    # A real Prometheus scrapes over https with basic auth.
    prom_dir = os.path.join(tmp, "prom")
    os.makedirs(prom_dir)
    prom = Prometheus("prometheus", prom_dir, agent, scrape={
        "scheme": "https", "basic_auth": {"username": "prometheus", "password": PASSWORD},
        "tls_config": {"ca_file": path("ca.crt")}})
    harness.wait_for(lambda: prom.result('up{job="claude-code-exporter"} == 1'), 60, "Prometheus scraping over https")
    c.check(bool(prom.result("claude_code_exporter_build_info")), "Prometheus has the agent's series")

    # Certificates reload on SIGHUP.
    c.equal(1 if served_cn(agent.metrics_port) == "first-server" else 0, 1, "the first certificate is served")
    shutil.copy(path("server2.crt"), path("server.crt"))
    shutil.copy(path("server2.key"), path("server.key"))
    agent.proc.send_signal(signal.SIGHUP)
    harness.wait_for(lambda: served_cn(agent.metrics_port) == "reloaded-server", 10, "the reloaded certificate")
    harness.wait_for(lambda: served_cn(agent.otlp_port) == "reloaded-server", 10, "on both listeners")
    c.check(True, "certificates reload on SIGHUP")
    # And without a signal, when the files change (checked at most once a second).
    time.sleep(1.1)
    shutil.copy(path("server3.key"), path("server.key") + ".new")
    shutil.copy(path("server3.crt"), path("server.crt") + ".new")
    os.replace(path("server.key") + ".new", path("server.key"))
    os.replace(path("server.crt") + ".new", path("server.crt"))
    harness.wait_for(lambda: served_cn(agent.metrics_port) == "changed-on-disk", 10, "the certificate changed on disk")
    c.check(True, "certificates reload when their files change")

    log = agent.read_log()
    c.check(PASSWORD not in log and HASH not in log, "neither the password nor its hash is logged")
    c.check("https://127.0.0.1" in log and "basic auth (1 users)" in log, "the start-up log says what is on")
finally:
    if prom:
        prom.stop()
    agent.cleanup()

# A bad certificate: exit non-zero naming the file and OpenSSL's reason.
with open(path("bad.crt"), "w") as f:
    f.write("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
with open(path("bad-web.yml"), "w") as f:
    f.write("tls_server_config:\n  cert_file: bad.crt\n  key_file: server.key\n")
cfg = path("bad.toml")
with open(cfg, "w") as f:
    f.write('[exposition]\nweb_config_file = "%s"\n' % path("bad-web.yml"))
r = subprocess.run([a.binary, "--config", cfg, "--check-config"], capture_output=True, text=True)
c.check(r.returncode == 1 and path("bad.crt") in r.stderr and "error:" in r.stderr,
        "a bad certificate: exit 1 naming the file and the OpenSSL reason: %r" % r.stderr)

shutil.rmtree(tmp, ignore_errors=True)
c.finish()
