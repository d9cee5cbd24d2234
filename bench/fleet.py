#!/usr/bin/env python3
"""Fleet benchmark: the agent, with its default config, under a simulated Claude Code fleet.

Runs bench/fleet_load.cc's generator against the agent and, as a baseline measured in the same
run, against nginx answering `return 200` (the floor of what an HTTP server costs here). Prints,
per fleet size, the medians of --runs runs: accepted requests/s, failed exports, p50/p99
latency, agent CPU-seconds per 1M data points, CPU per request against nginx's, peak RSS,
and the cores the generator itself took (it shares the machine).
Then the idle-connection and slow-client storms: a new client's latency with 2,000 idle
keep-alive connections, or 600 connections trickling headers, open.

Usage: bench/fleet.py --binary build/claude-code-exporter --loadgen build/bench/cce_fleet_load
                      --payloads tests/testdata/claude-code/requests [--seconds 30] [--runs 3]
                      [--bench build/bench/cce_bench]   (also /metrics against a pushgateway)
"""
import argparse
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")
# (name, clients, speed): each client is one Claude Code process; speed divides its intervals.
FLEETS = [("1k developers", 1000, 1), ("10k-equivalent (1k clients x10)", 1000, 10),
          ("50k-equivalent (1k clients x50)", 1000, 50)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def peak_rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0


def wait_port(port, timeout=10):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on %d" % port)


class Agent:
    def __init__(self, binary, tmp):
        self.otlp, self.grpc, self.metrics = free_port(), free_port(), free_port()
        conf = os.path.join(tmp, "agent.toml")
        with open(conf, "w") as f:
            f.write('[otlp]\nlisten = "127.0.0.1:%d"\ngrpc_listen = "127.0.0.1:%d"\n'
                    '[exposition]\nlisten = "127.0.0.1:%d"\n[store]\npath = "%s"\n'
                    '[admin_api]\nenabled = false\n[log]\nlevel = "warn"\n'
                    % (self.otlp, self.grpc, self.metrics, os.path.join(tmp, "agent.db")))
        self.proc = subprocess.Popen([binary, "--config", conf], stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(tmp, "agent.log"), "w"))
        wait_port(self.otlp)
        wait_port(self.metrics)
        self.pids = [self.proc.pid]

    def scrape(self):
        return urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.metrics).read()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


class Nginx:
    def __init__(self, tmp):
        self.otlp = free_port()
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write("""worker_processes 1;
pid %s/nginx.pid;
error_log %s/nginx-error.log;
worker_rlimit_nofile 65536;
events { worker_connections 65536; }
http {
  access_log off;
  client_body_temp_path %s;
  keepalive_timeout 120s;
  keepalive_requests 100000000;
  client_max_body_size 64m;
  server { listen 127.0.0.1:%d; location / { return 200; } }
}
""" % (tmp, tmp, tmp, self.otlp))
        self.proc = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx", "-c", conf,
                                      "-p", tmp, "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.otlp)
        time.sleep(0.3)
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        self.pids = [self.proc.pid] + [int(p) for p in out.stdout.split()]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def load(args, port, clients, speed, grpc=False, scrapers=0, metrics_port=0):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run([args.loadgen, "--port", str(port), "--payloads", args.payloads,
                          "--clients", str(clients), "--speed", str(speed),
                          "--seconds", str(args.seconds), "--grpc", "1" if grpc else "0",
                          "--scrapers", str(scrapers), "--metrics-port", str(metrics_port)],
                         capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    # The generator shares the machine with the server: what it takes, the server cannot have.
    r["generator_cores"] = ((after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)) / args.seconds
    return r


def fleet_run(args, server, clients, speed, grpc=False, scrapers=0):
    before = cpu_seconds(server.pids)
    r = load(args, server.grpc if grpc else server.otlp, clients, speed, grpc, scrapers,
             getattr(server, "metrics", 0))
    r["cpu_s"] = cpu_seconds(server.pids) - before
    r["cores"] = r["cpu_s"] / args.seconds
    r["us_per_request"] = 1e6 * r["cpu_s"] / max(1, r["ok"])
    r["cpu_s_per_1m_points"] = 1e6 * r["cpu_s"] / max(1, r["points"])
    r["rss_mib"] = peak_rss_mib(server.pids[-1])
    return r


def scrape_storm(args, scrapers=20):
    """Ingestion while scrapers GET /metrics in a loop: the 50,000-equivalent load, with and
    without them (the agent near its limit, where scraping could take ingestion's CPU)."""
    _, clients, speed = FLEETS[2]
    results = {}
    for n in (0, scrapers):
        runs = []
        for _ in range(args.runs):
            tmp = tempfile.mkdtemp(prefix="cce-fleet-")
            agent = Agent(args.binary, tmp)
            try:
                runs.append(fleet_run(args, agent, clients, speed, scrapers=n))
            finally:
                agent.stop()
                shutil.rmtree(tmp, ignore_errors=True)
        results[n] = runs
    base, loaded = results[0], results[scrapers]
    print("scrape storm (50k-equivalent, %d scrapers in a loop): %.0f req/s accepted vs %.0f "
          "without (%.2fx), p99 %.1f ms vs %.1f ms, %.0f scrapes/s" % (
              scrapers, median(loaded, "rps"), median(base, "rps"),
              median(loaded, "rps") / max(1e-9, median(base, "rps")), median(loaded, "p99_ms"),
              median(base, "p99_ms"), median(loaded, "scrapes") / args.seconds))


def median(runs, key):
    return statistics.median(r[key] for r in runs)


def storm(args, kind, n):
    tmp = tempfile.mkdtemp(prefix="cce-fleet-")
    agent = Agent(args.binary, tmp)
    try:
        out = subprocess.run([args.loadgen, "--port", str(agent.otlp), "--payloads",
                              args.payloads, "--" + kind, str(n), "--probe-port",
                              str(agent.metrics)],
                             capture_output=True, text=True, check=True).stdout
        head, otlp, health = [json.loads(l) for l in out.splitlines() if l.startswith("{")]
        return head["opened"], otlp, health
    finally:
        agent.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def exposition(args):
    """/metrics side by side: the agent's rendering (cce_bench scrape, 10,000 actors) and a
    pushgateway serving the same series, pushed to it."""
    tmp = tempfile.mkdtemp(prefix="cce-expo-")
    try:
        dump = os.path.join(tmp, "metrics.txt")
        out = subprocess.run([args.bench, "scrape"], capture_output=True, text=True, check=True,
                             env=dict(os.environ, CCE_SCRAPE_DUMP=dump)).stdout
        agent_line = [l for l in out.splitlines() if l.startswith("scrape ")][-1]
        print("agent:       " + agent_line)
        with open(dump, "rb") as f:
            text = f.read()
        series = sum(1 for l in text.splitlines() if l and not l.startswith(b"#"))
        port = free_port()
        pg = subprocess.Popen(["prometheus-pushgateway", "--web.listen-address=127.0.0.1:%d" % port,
                               "--persistence.file=", "--log.level=warn"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_port(port)
            rss_before = peak_rss_mib(pg.pid)
            req = urllib.request.Request("http://127.0.0.1:%d/metrics/job/bench" % port, data=text,
                                         method="PUT", headers={"Content-Type": "text/plain"})
            urllib.request.urlopen(req, timeout=600).read()
            times = []
            for _ in range(5):
                t = time.time()
                urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=600).read()
                times.append(time.time() - t)
            ms = statistics.median(times) * 1000
            pg_rss = peak_rss_mib(pg.pid)
            print("pushgateway: %d series pushed: median %.1f ms per /metrics (%.2f us/series), "
                  "RSS %.0f MiB (%.0f before the push)" % (
                      series, ms, 1000 * ms / series, pg_rss, rss_before))
            agent_us = float(re.search(r"GET /metrics median [0-9.]+ ms \(([0-9.]+) us/series",
                                       agent_line).group(1))
            agent_rss = float(re.search(r"peak RSS ([0-9]+) MiB", agent_line).group(1))
            print("agent against pushgateway: %.2fx the time per series, %.2fx the peak RSS" % (
                agent_us / (1000 * ms / series), agent_rss / pg_rss))
        finally:
            pg.terminate()
            pg.wait(30)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--loadgen", required=True)
    p.add_argument("--payloads", required=True)
    p.add_argument("--bench", help="cce_bench, for /metrics against a pushgateway")
    p.add_argument("--seconds", type=float, default=30)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--fleets", default="all", help="comma-separated indexes into FLEETS, or all")
    args = p.parse_args()

    fleets = FLEETS if args.fleets == "all" else [FLEETS[int(i)] for i in args.fleets.split(",")]
    print("fleet benchmark: %d runs of %g s each, medians; agent with its default config"
          % (args.runs, args.seconds))
    print("%-34s %-10s %9s %7s %9s %9s %7s %12s %9s %8s %9s" % (
        "fleet", "server", "req/s", "failed", "p50 ms", "p99 ms", "cores", "CPU s/1M pts",
        "us/req", "RSS MiB", "gen cores"))
    for name, clients, speed in fleets:
        results = {}
        for kind in ("nginx", "agent", "agent/grpc"):
            runs = []
            for _ in range(args.runs):
                tmp = tempfile.mkdtemp(prefix="cce-fleet-")
                server = Nginx(tmp) if kind == "nginx" else Agent(args.binary, tmp)
                try:
                    runs.append(fleet_run(args, server, clients, speed, kind == "agent/grpc"))
                finally:
                    server.stop()
                    shutil.rmtree(tmp, ignore_errors=True)
            results[kind] = runs
            print("%-34s %-10s %9.0f %7d %9.2f %9.2f %7.2f %12.1f %9.1f %8.0f %9.2f" % (
                name, kind, median(runs, "rps"), median(runs, "failed"), median(runs, "p50_ms"),
                median(runs, "p99_ms"), median(runs, "cores"),
                median(runs, "cpu_s_per_1m_points"), median(runs, "us_per_request"),
                median(runs, "rss_mib"), median(runs, "generator_cores")))
            # Near saturation the tail swings from run to run: each run's p99 shows how much,
            # beside the cores server and generator took in it (their sum against the
            # machine's cores is what the tail follows).
            print("%-34s %-10s p99 of each run: %s ms; cores (server + generator): %s" % (
                "", "", ", ".join("%.0f" % r["p99_ms"] for r in runs),
                ", ".join("%.2f + %.2f" % (r["cores"], r["generator_cores"]) for r in runs)))
        ratio = median(results["agent"], "us_per_request") / max(
            1e-9, median(results["nginx"], "us_per_request"))
        ratio_grpc = median(results["agent/grpc"], "us_per_request") / max(
            1e-9, median(results["nginx"], "us_per_request"))
        print("%-34s CPU per request against nginx: agent %.1fx, agent/grpc %.1fx" % (
            "", ratio, ratio_grpc))
        sys.stdout.flush()

    scrape_storm(args)
    if args.bench:
        exposition(args)
    for kind, n in (("idle", 2000), ("trickle", 600)):
        opened, otlp, health = storm(args, kind, n)
        print("%s storm: %d connections open; a new OTLP client: p50 %.2f ms, max %.2f ms, "
              "%d failed; /healthz: p50 %.2f ms, max %.2f ms, %d failed" % (
                  kind, opened, otlp["p50_ms"], otlp["max_ms"], otlp["failed"],
                  health["p50_ms"], health["max_ms"], health["failed"]))


if __name__ == "__main__":
    main()
