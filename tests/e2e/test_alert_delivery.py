"""From usage to on-call, all real and on loopback: the agent, fed recorded Claude Code telemetry
(moved to today) and the fake Admin API, is scraped by Debian's Prometheus loading the generated
rules; Prometheus notifies Debian's Alertmanager, configured from alerts/alertmanager.example.yml,
which delivers to a webhook in this test.

- Tight budgets: the org's and team platform's daily budgets are blown; the critical alerts reach
  the pager receivers with their labels and annotations, and the warnings of the same alerts are
  inhibited. An actor that stops sending gets a telemetry-silence alert (short windows rendered
  into the rules for this test).
- Generous budgets, same data: no cost alert is delivered."""
import datetime
import glob
import json
import os
import shutil
import subprocess
import tempfile
import threading
import re
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import harness
from harness import Agent, Checker, FakeAdminApi

yaml = harness.require_yaml()

a = harness.args()
c = Checker("e2e alert delivery")
repo = os.path.abspath(os.path.join(a.testdata, "..", ".."))
run_dir = os.path.join(a.testdata, "claude-code", "runs", "json-delta")
KEY = "sk-ant-admin01-alert-delivery-test"
DEADLINE = 90  # seconds from Prometheus' start to a delivered alert (about 12 s on loopback)
# Windows shortened for this test; everything else is the shipped pack.
OVERRIDES = {"budget": {"for": "0s"},
             "health": {"actorSilence": "15s", "actorLookback": "1h", "actorSilenceFor": "0s"}}

prometheus, alertmanager = shutil.which("prometheus"), shutil.which("prometheus-alertmanager")
c.check(prometheus is not None and alertmanager is not None,
        "prometheus and prometheus-alertmanager are installed (scripts/install-deps.sh)")
if not prometheus or not alertmanager:
    c.finish()

# Stay inside one UTC day: today's spend is what the budgets compare.
now = datetime.datetime.now(datetime.timezone.utc)
if now.hour == 23 and now.minute >= 55:
    time.sleep((60 - now.minute) * 60 - now.second + 5)
today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()


class Webhook:
    """Records Alertmanager's notifications per receiver path."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append((self.path.strip("/"), json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self, receiver=None):
        return [(r, al) for r, msg in list(self.received) for al in msg["alerts"]
                if receiver is None or r == receiver]

    def close(self):
        self.server.shutdown()


def alertmanager_config(webhook_port):
    """The shipped example with its webhooks pointed at this test and its timers shortened."""
    with open(os.path.join(repo, "alerts", "alertmanager.example.yml")) as f:
        cfg = yaml.safe_load(f)
    for r in cfg["receivers"]:
        for w in r.get("webhook_configs", []):
            w["url"] = "http://127.0.0.1:%d/%s" % (webhook_port, r["name"])

    def fast(route):
        route.update({k: "1s" for k in ("group_wait", "group_interval") if k in route})
        for sub in route.get("routes", []):
            fast(sub)
    fast(cfg["route"])
    cfg["route"].update(group_wait="1s", group_interval="1s")
    return cfg


def scenario(name, budgets_toml, work):
    """Agent + fake Admin API + Prometheus + Alertmanager + webhook; returns the webhook and facts."""
    tmp = tempfile.mkdtemp(prefix="cce-alerts-")
    procs, webhook, agent, api, prom = [], None, None, None, None
    try:
        with open(os.path.join(tmp, "records.json"), "w") as f:
            json.dump({today: [harness.admin_record(today, "ana@example.com", "claude-opus-4-6", 4000),
                               harness.admin_record(today, "bo@example.com", "claude-opus-4-6", 3000)]}, f)
        api = FakeAdminApi(KEY, days=1, end=today, records_file=os.path.join(tmp, "records.json"))
        agent = Agent(a.binary, now=None, env={"ANTHROPIC_ADMIN_API_KEY": KEY}, extra_toml=(
            '[admin_api]\nbase_url = "%s"\nbackfill_days = 1\nmin_request_interval = "0s"\n'
            '[teams.map]\n"ana@example.com" = "platform"\n"bo@example.com" = "data"\n' % api.url)
            + budgets_toml).start()
        harness.wait_for(lambda: harness.metric_value(
            agent, "claude_code_daily_cost_usd", date=today, actor="ana@example.com") is not None,
            60, "the Admin API day in the agent")
        entries = harness.shift_run(run_dir, os.path.join(tmp, "run"))
        harness.replay(agent, os.path.join(tmp, "run"), entries)
        samples = agent.scrape()
        spend = {}
        for labels, v in harness.select(samples, "claude_code_daily_cost_usd", date=today):
            spend[labels["team"]] = spend.get(labels["team"], 0) + v
        otel_actors = {l["actor"] for l, _ in harness.select(
            samples, "claude_code_exporter_actor_last_seen_timestamp_seconds", source="otel")}

        # Rules rendered with this test's windows; Alertmanager from the shipped example.
        rules_dir = os.path.join(tmp, "rules")
        r = subprocess.run([os.path.join(repo, "scripts", "generate.sh"), "--out", rules_dir,
                            "--set", json.dumps(OVERRIDES)], capture_output=True, text=True)
        c.check(r.returncode == 0, "%s: rules rendered: %s" % (name, r.stderr))
        webhook = Webhook()
        am_port = harness.free_port()
        with open(os.path.join(tmp, "alertmanager.yml"), "w") as f:
            yaml.safe_dump(alertmanager_config(webhook.port), f)
        log = open(os.path.join(tmp, "alertmanager.log"), "wb")
        procs.append(subprocess.Popen(
            [alertmanager, "--config.file", os.path.join(tmp, "alertmanager.yml"),
             "--storage.path", os.path.join(tmp, "am"), "--web.listen-address", "127.0.0.1:%d" % am_port,
             "--cluster.listen-address="], stdout=log, stderr=log))
        # Prometheus drops a notification sent before it has found Alertmanager and resends
        # after --rules.alert.resend-delay: 1 s keeps the path short.
        prom = harness.Prometheus(prometheus, tmp, agent, sorted(glob.glob(os.path.join(rules_dir, "*.yaml"))),
                                  alertmanager_port=am_port, flags=["--rules.alert.resend-delay=1s"])
        started = time.time()
        return work(dict(webhook=webhook, prom=prom, spend=spend, otel_actors=otel_actors,
                         started=started, agent=agent))
    finally:
        if prom:
            prom.stop()
        for p in procs:
            p.terminate()
            p.wait(timeout=30)
        if webhook:
            webhook.close()
        if agent:
            agent.cleanup()
        if api:
            api.close()
        if os.environ.get("CCE_KEEP_TMP"):
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


with open(os.path.join(repo, "alerts", "config.libsonnet")) as f:
    RUNBOOK = re.search(r"runbookURLPattern: '([^']+)'", f.read()).group(1)


def find(alerts, name, **labels):
    return [(r, al) for r, al in alerts if al["labels"].get("alertname") == name
            and all(al["labels"].get(k) == v for k, v in labels.items())]


def tight(s):
    wh = s["webhook"]
    org_spend = sum(s["spend"].values())
    team_spend = s["spend"].get("platform", 0)
    c.check(org_spend > 50 and team_spend > 30, "the data blows the budgets: org $%.2f, platform $%.2f"
            % (org_spend, team_spend))

    def delivered():
        return (find(wh.alerts("pager"), "ClaudeCodeOrgDailyBudgetBurn", severity="critical")
                and find(wh.alerts("pager-platform"), "ClaudeCodeTeamDailyBudgetBurn", severity="critical"))
    try:
        harness.wait_for(delivered, DEADLINE, "critical budget alerts at the pager", interval=0.5)
    except AssertionError as e:
        c.check(False, str(e))
    took = time.time() - s["started"]
    c.check(took < DEADLINE, "critical budget alerts delivered %.1f s after Prometheus started" % took)
    print("critical budget alerts delivered %.1f s after Prometheus started" % took, flush=True)

    org = find(wh.alerts("pager"), "ClaudeCodeOrgDailyBudgetBurn", severity="critical")
    if org:
        al = org[0][1]
        c.check(al["status"] == "firing", "org alert is firing")
        c.check(al["labels"].get("category") == "cost" and "team" not in al["labels"],
                "org alert labels: %s" % al["labels"])
        want = ("The organisation has spent an estimated $%.2f on Claude Code today (UTC), at least 100%% "
                "of its daily budget of $50.00." % org_spend)
        c.check(al["annotations"].get("description") == want,
                "org description: %r, want %r" % (al["annotations"].get("description"), want))
        c.check(al["annotations"].get("summary") == "The organisation has used 100% of its daily Claude Code budget.",
                "org summary: %r" % al["annotations"].get("summary"))
        c.check(al["annotations"].get("runbook_url") == RUNBOOK % "claudecodeorgdailybudgetburn", "org runbook_url")
    team = find(wh.alerts("pager-platform"), "ClaudeCodeTeamDailyBudgetBurn", severity="critical")
    if team:
        al = team[0][1]
        c.check(al["labels"].get("team") == "platform" and al["labels"].get("category") == "cost",
                "team alert labels: %s" % al["labels"])
        want = ("Team platform has spent an estimated $%.2f on Claude Code today (UTC), at least 100%% "
                "of its daily budget of $30.00." % team_spend)
        c.check(al["annotations"].get("description") == want,
                "team description: %r, want %r" % (al["annotations"].get("description"), want))
        c.check(al["annotations"].get("runbook_url") == RUNBOOK % "claudecodeteamdailybudgetburn", "team runbook_url")

    # The warnings fire in Prometheus too, but Alertmanager inhibits them.
    def warnings_firing():
        names = {(x["metric"].get("alertname"), x["metric"].get("team", "")) for x in
                 s["prom"].result('ALERTS{alertstate="firing", severity="warning", category="cost"}')}
        return ("ClaudeCodeOrgDailyBudgetBurn", "") in names and ("ClaudeCodeTeamDailyBudgetBurn", "platform") in names
    try:
        harness.wait_for(warnings_firing, 30, "the budget warnings firing in Prometheus")
        c.check(True, "budget warnings fire in Prometheus")
    except AssertionError as e:
        c.check(False, str(e))

    # Telemetry silence: the recorded actor sent its last data before Prometheus started.
    silent = sorted(s["otel_actors"])
    c.check(len(silent) == 1, "one OTel actor in the recorded run: %s" % silent)

    def silence_delivered():
        return find(wh.alerts(), "ClaudeCodeActorTelemetrySilent", actor=silent[0]) if silent else False
    try:
        harness.wait_for(silence_delivered, DEADLINE, "the telemetry-silence alert", interval=0.5)
    except AssertionError as e:
        c.check(False, str(e))
    hits = silence_delivered() or []
    c.check(bool(hits) and hits[0][0] in ("tickets", "tickets-platform") and hits[0][1]["labels"].get("severity") == "warning",
            "telemetry silence goes to tickets as a warning: %s" % [(r, al["labels"]) for r, al in hits])

    time.sleep(3)  # give an uninhibited warning every chance to arrive
    leaked = [(r, al["labels"]) for r, al in wh.alerts() if al["labels"].get("severity") == "warning"
              and al["labels"].get("alertname") in ("ClaudeCodeOrgDailyBudgetBurn", "ClaudeCodeTeamDailyBudgetBurn")]
    c.check(not leaked, "budget warnings are inhibited by their criticals: %s" % leaked)
    c.check(not wh.alerts("tickets-platform") or all(al["labels"].get("category") != "cost" for _, al in wh.alerts("tickets-platform")),
            "no cost alert reaches tickets")


def generous(s):
    wh = s["webhook"]

    # Wait until the rules have evaluated on scraped data, then past several evaluations.
    harness.wait_for(lambda: s["prom"].result("org:claude_code_cost_usd:today"), DEADLINE,
                     "the recording rules on scraped data")
    harness.wait_for(lambda: find(wh.alerts(), "ClaudeCodeActorTelemetrySilent"), DEADLINE,
                     "a non-cost alert proving delivery works")
    time.sleep(5)
    cost = [(r, al["labels"]) for r, al in wh.alerts() if al["labels"].get("category") == "cost"]
    c.check(not cost, "generous budgets: no cost alert delivered: %s" % cost)
    firing = s["prom"].result('ALERTS{category="cost"}')
    c.check(not firing, "generous budgets: no cost alert pending or firing: %s" % firing)


scenario("tight", '[budgets.org]\nday = 50.0\n[budgets.teams.platform]\nday = 30.0\n'
         '[budgets.teams.data]\nday = 100.0\n', tight)
scenario("generous", '[budgets.org]\nday = 5000.0\n[budgets.teams.platform]\nday = 3000.0\n'
         '[budgets.teams.data]\nday = 1000.0\n', generous)
c.finish()
