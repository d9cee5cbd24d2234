"""Deployment files, checked as far as a machine without a container runtime allows: the
Dockerfile's shape, the Compose file as `docker-compose config` renders it, and the Kubernetes base
as `kubectl kustomize` renders it, each wired to the repository's generated files."""
import json
import os
import re
import shutil
import subprocess

import harness
from harness import Checker

yaml = harness.require_yaml()

a = harness.args()
c = Checker("e2e deploy")
repo = os.path.abspath(os.path.join(a.testdata, "..", ".."))
AGENT_ENV = {"ANTHROPIC_ADMIN_API_KEY", "ANTHROPIC_ANALYTICS_API_KEY", "CLAUDE_CODE_EXPORTER_OTLP_AUTH_TOKENS"}


def path(*p):
    return os.path.join(repo, *p)


def load_yaml(*p):
    with open(path(*p)) as f:
        return yaml.safe_load(f)


def listen_ports(config_file):
    """{"otlp": port, "otlp_grpc": port, "exposition": port} as the config file sets them."""
    with open(config_file) as f:
        text = f.read()
    ports = {section: int(port) for section, port in
             re.findall(r'^\[(otlp|exposition)\]\s*\nlisten = "[^"]*:(\d+)"', text, re.M)}
    grpc = re.search(r'^grpc_listen = "[^"]*:(\d+)"', text, re.M)
    if grpc:
        ports["otlp_grpc"] = int(grpc.group(1))
    return ports


# The agent really reads the variables the deployments set.
with open(path("src", "config", "config.cc")) as f:
    source = f.read()
for var in AGENT_ENV:
    c.check('"%s"' % var in source and "getenv" in source, "the agent reads %s" % var)

# ---- Dockerfile ----------------------------------------------------------------------------------
with open(path("Dockerfile")) as f:
    docker = f.read()
froms = re.findall(r"^FROM (\S+)", docker, re.M)
c.check(froms and all(f.startswith("debian:bookworm") for f in froms), "Debian bookworm base images: %s" % froms)
users = re.findall(r"^USER (\S+)", docker, re.M)
c.check(users and users[-1] not in ("root", "0"), "the image runs as a non-root user: %s" % users)
image_ports = listen_ports(path("deploy", "docker", "config.toml"))
exposed = {int(p) for line in re.findall(r"^EXPOSE (.+)$", docker, re.M) for p in line.split()}
c.check(exposed == set(image_ports.values()) == {4317, 4318, 14318}, "EXPOSE matches the image config: %s %s" % (exposed, image_ports))
c.check(re.search(r"^HEALTHCHECK .*\n?.*--healthcheck", docker, re.M) is not None, "HEALTHCHECK runs --healthcheck")


def installed_closure(packages):
    """The packages given and all they depend on (Depends, Pre-Depends), as dpkg has them here."""
    seen, todo = set(), list(packages)
    while todo:
        pkg = todo.pop()
        if pkg in seen:
            continue
        seen.add(pkg)
        r = subprocess.run(["dpkg-query", "-W", "-f=${Pre-Depends}, ${Depends}", pkg], capture_output=True, text=True)
        for group in r.stdout.split(","):
            alternatives = [a.strip().split()[0].split(":")[0] for a in group.split("|") if a.strip()]
            if alternatives:
                todo.append(alternatives[0])
    return seen


# The runtime stage installs a package for every shared library the agent links: the binary built
# here, libraries resolved by ldd and owned by packages as dpkg knows them. bookworm-slim itself
# holds the required packages and apt's dependencies.
runtime_stage = docker[docker.rfind("\nFROM "):]
runtime_pkgs = [p for p in re.findall(r"apt-get install ((?:[^\n]*\\\n)*[^\n]*)", runtime_stage)[0]
                .replace("\\\n", " ").split() if not p.startswith("-")]
ldd = subprocess.run(["ldd", a.binary], capture_output=True, text=True).stdout
needed = set()
for lib in re.findall(r"=> (/\S+)", ldd):
    owner = None
    for f in (lib, os.path.realpath(lib), "/usr" + os.path.realpath(lib)):
        r = subprocess.run(["dpkg", "-S", f], capture_output=True, text=True)
        if r.returncode == 0:
            owner = r.stdout.split(":")[0]
            break
    c.check(owner is not None, "a Debian package owns %s" % lib)
    needed.add(owner)
required = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Priority}\\n"], capture_output=True, text=True).stdout
in_slim = installed_closure([l.split()[0] for l in required.splitlines() if l.endswith(" required")] + ["apt"])
missing = needed - in_slim - installed_closure(runtime_pkgs)
c.check(len(needed) > 5 and not missing, "the runtime image installs every library the agent links; missing: %s" % sorted(missing))

with open(path(".dockerignore")) as f:
    ignored = f.read().split()
c.check(all(p in ignored for p in ("build*/", ".stack/", "*.db")), "the build context leaves out builds, stack state and stores")

# ---- Docker Compose ------------------------------------------------------------------------------
compose_file = path("deploy", "compose", "docker-compose.yml")
dc = shutil.which("docker-compose")
c.check(dc is not None, "docker-compose is installed (scripts/install-deps.sh)")
if dc:
    r = subprocess.run([dc, "-f", compose_file, "config"], capture_output=True, text=True, cwd=repo,
                       env=dict(os.environ, ANTHROPIC_ADMIN_API_KEY="", CLAUDE_CODE_EXPORTER_OTLP_AUTH_TOKENS=""))
    c.check(r.returncode == 0, "docker-compose config: " + r.stderr[-1000:])
    cfg = yaml.safe_load(r.stdout) if r.returncode == 0 else {"services": {}, "volumes": {}}
    services = cfg["services"]
    c.check(set(services) == {"agent", "prometheus", "alertmanager", "grafana"}, "services: %s" % sorted(services))
    mounts = {}
    for name, s in services.items():
        c.check("healthcheck" in s, "%s has a healthcheck" % name)
        for v in s.get("volumes", []):
            src, dst = v.split(":")[0], v.split(":")[1]
            if src.startswith("/"):
                c.check(os.path.exists(src) and os.path.realpath(src).startswith(repo + os.sep),
                        "%s mounts %s from the repository" % (name, src))
            mounts[(name, dst)] = src
    published = sorted((n, p["published"]) for n, s in services.items() for p in s.get("ports", []))
    c.check(published == [("agent", 4317), ("agent", 4318), ("grafana", 3000)],
            "only OTLP (gRPC and HTTP) and Grafana are published: %s" % published)
    agent = services.get("agent", {})
    c.check(agent.get("build", {}).get("context") == repo and agent.get("build", {}).get("dockerfile") == "Dockerfile",
            "the agent is built from the repository's Dockerfile")
    c.check(set(agent.get("environment", {})) == AGENT_ENV, "the agent's secrets come from the environment")
    c.check(mounts.get(("agent", "/var/lib/claude-code-exporter")) == "agent-data"
            and mounts.get(("prometheus", "/prometheus")) == "prometheus-data", "named volumes for the store and Prometheus")
    c.check(mounts.get(("prometheus", "/etc/prometheus/rules/claude-code")) == path("alerts", "generated"),
            "Prometheus loads alerts/generated")
    c.check(mounts.get(("alertmanager", "/etc/alertmanager/alertmanager.yml")) == path("alerts", "alertmanager.example.yml"),
            "Alertmanager runs the example config")
    c.check(mounts.get(("grafana", "/etc/grafana/provisioning")) == path("grafana", "provisioning"),
            "Grafana is provisioned from grafana/provisioning")
    provider = load_yaml("grafana", "provisioning", "dashboards", "claude-code.yaml")["providers"][0]
    c.check(mounts.get(("grafana", provider["options"]["path"])) == path("grafana", "dashboards"),
            "Grafana's dashboard provider path holds grafana/dashboards")
    datasource = load_yaml("grafana", "provisioning", "datasources", "prometheus.yaml")["datasources"][0]
    env_var = re.fullmatch(r"\$\{?(\w+)\}?", datasource["url"].strip())
    c.check(env_var is not None and services.get("grafana", {}).get("environment", {}).get(env_var.group(1)) == "http://prometheus:9090",
            "Grafana's datasource points at the Compose Prometheus")
    prom = load_yaml("deploy", "compose", "prometheus.yml")
    c.check(prom["rule_files"] == ["/etc/prometheus/rules/claude-code/*.yaml"], "Prometheus rule_files match the mount")
    jobs = {j["job_name"]: j["static_configs"][0]["targets"] for j in prom["scrape_configs"]}
    c.check(jobs == {"claude-code-exporter": ["agent:%d" % image_ports["exposition"]]},
            "Prometheus scrapes the agent as the rules' job: %s" % jobs)
    c.check(prom["alerting"]["alertmanagers"][0]["static_configs"][0]["targets"] == ["alertmanager:9093"],
            "Prometheus notifies the Compose Alertmanager")

# ---- Kubernetes ----------------------------------------------------------------------------------
kubectl = shutil.which("kubectl")
c.check(kubectl is not None, "kubectl is installed (scripts/install-deps.sh)")
objs = []
if kubectl:
    r = subprocess.run([kubectl, "kustomize", path("deploy", "kubernetes")], capture_output=True, text=True)
    c.check(r.returncode == 0, "kubectl kustomize: " + r.stderr[-1000:])
    objs = [o for o in yaml.safe_load_all(r.stdout) if o] if r.returncode == 0 else []


def one(kind, name=None):
    found = [o for o in objs if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    c.check(len(found) == 1, "one %s %s (found %d)" % (kind, name or "", len(found)))
    return found[0] if found else {}


def matches(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


if objs:
    sts = one("StatefulSet")
    spec = sts.get("spec", {})
    pod = spec.get("template", {})
    c.check(spec.get("replicas") == 1, "one replica (one SQLite store)")
    c.check(matches(spec["selector"]["matchLabels"], pod["metadata"]["labels"]), "the StatefulSet selects its pods")
    ctr = pod["spec"]["containers"][0]
    psc, csc = pod["spec"].get("securityContext", {}), ctr.get("securityContext", {})
    c.check(psc.get("runAsNonRoot") is True and psc.get("runAsUser", 0) != 0, "non-root")
    c.check(csc.get("readOnlyRootFilesystem") is True and csc.get("allowPrivilegeEscalation") is False,
            "read-only root filesystem, no privilege escalation")
    res = ctr.get("resources", {})
    c.check(all(k in res.get("requests", {}) for k in ("cpu", "memory")) and "memory" in res.get("limits", {}),
            "resource requests and limits")
    ports = {p["name"]: p["containerPort"] for p in ctr["ports"]}
    cm = [o for o in objs if o["kind"] == "ConfigMap" and o["metadata"]["name"].startswith("claude-code-exporter-config")]
    c.check(len(cm) == 1, "the agent's config ConfigMap")
    cfg_ports = {}
    if cm:
        with open(path("deploy", "kubernetes", "config.toml")) as f:
            c.check(cm[0]["data"]["config.toml"] == f.read(), "the ConfigMap holds deploy/kubernetes/config.toml")
        cfg_ports = listen_ports(path("deploy", "kubernetes", "config.toml"))
    c.check(ports == {"otlp-http": cfg_ports.get("otlp"), "otlp-grpc": cfg_ports.get("otlp_grpc"),
                      "metrics": cfg_ports.get("exposition")},
            "container ports match the config's listeners: %s %s" % (ports, cfg_ports))
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    mounts = {m["mountPath"]: m["name"] for m in ctr["volumeMounts"]}
    c.check(volumes.get(mounts.get("/etc/claude-code-exporter"), {}).get("configMap", {}).get("name") == (cm[0]["metadata"]["name"] if cm else None),
            "the config is mounted at /etc/claude-code-exporter")
    claims = [t["metadata"]["name"] for t in spec.get("volumeClaimTemplates", [])]
    c.check(mounts.get("/var/lib/claude-code-exporter") in claims, "the store is on a PersistentVolumeClaim")
    if cm and "store" in cm[0]["data"]["config.toml"]:
        store = re.search(r'^path = "([^"]+)"', cm[0]["data"]["config.toml"], re.M).group(1)
        c.check(store.startswith("/var/lib/claude-code-exporter/"), "the store path is on the volume: %s" % store)
    probes = {k: ctr.get(k, {}).get("httpGet", {}) for k in ("livenessProbe", "readinessProbe")}
    c.check(probes["livenessProbe"].get("path") == "/healthz" and probes["readinessProbe"].get("path") == "/readyz"
            and all(p.get("port") == "metrics" for p in probes.values()), "probes on /healthz and /readyz")
    env = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in ctr.get("env", []) if "valueFrom" in e}
    c.check(set(env) == AGENT_ENV and all(r["name"] == "claude-code-exporter" for r in env.values()),
            "the agent's secrets come from the Secret claude-code-exporter: %s" % env)

    svcs = {o["metadata"]["name"]: o for o in objs if o["kind"] == "Service"}
    c.check(set(svcs) == {"claude-code-exporter", "claude-code-exporter-otlp"}, "Services for metrics and OTLP")
    for name, s in svcs.items():
        c.check(matches(s["spec"]["selector"], pod["metadata"]["labels"]), "Service %s selects the agent's pods" % name)
        for p in s["spec"]["ports"]:
            c.check(p["targetPort"] in ports and p["port"] == ports[p["targetPort"]], "Service %s port %s" % (name, p["name"]))
    sm = one("ServiceMonitor")
    metrics_svc = svcs.get("claude-code-exporter", {})
    c.check(matches(sm.get("spec", {}).get("selector", {}).get("matchLabels"), metrics_svc.get("metadata", {}).get("labels", {}))
            and not matches(sm["spec"]["selector"]["matchLabels"], svcs.get("claude-code-exporter-otlp", {}).get("metadata", {}).get("labels", {})),
            "the ServiceMonitor selects the metrics Service only")
    c.check(sm["spec"]["endpoints"][0]["port"] == "metrics", "the ServiceMonitor scrapes the metrics port")

    # The PrometheusRule is the alert pack, rule for rule.
    rule = one("PrometheusRule")
    shipped = load_yaml("alerts", "generated", "recording-rules.yaml")["groups"] + load_yaml("alerts", "generated", "alerts.yaml")["groups"]
    c.check(rule.get("spec", {}).get("groups") == shipped, "the PrometheusRule equals alerts/generated")
    # The dashboards, as ConfigMaps for Grafana's sidecar, equal grafana/dashboards.
    boards = {}
    for o in objs:
        if o["kind"] == "ConfigMap" and o["metadata"].get("labels", {}).get("grafana_dashboard") == "1":
            for k, v in o["data"].items():
                boards[k] = json.loads(v)
    files = sorted(os.listdir(path("grafana", "dashboards")))
    c.check(sorted(boards) == files, "a ConfigMap per dashboard: %s" % sorted(boards))
    for f in files:
        with open(path("grafana", "dashboards", f)) as fh:
            c.check(boards.get(f) == json.load(fh), "ConfigMap of %s equals the generated dashboard" % f)
c.finish()
