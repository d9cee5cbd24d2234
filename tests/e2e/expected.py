"""Compares a scrape with a run's expected-totals.json (computed independently from the raw
payloads): cost within 1e-9 USD, every count exactly, and no series beyond the expected ones."""
from harness import select

TOKEN_TYPE = {"input": "input", "output": "output", "cacheRead": "cache_read", "cacheCreation": "cache_creation"}
TOOL = {"Edit": "edit", "Write": "write", "NotebookEdit": "notebook_edit", "MultiEdit": "multi_edit"}
DECISION = {"accept": "accepted", "reject": "rejected"}
COST_TOL = 1e-9


def actor_labels(key):
    if key.startswith("install:"):
        return {"actor": key[len("install:"):], "actor_type": "install"}
    return {"actor": key, "actor_type": "user"}


def family_sum(samples, name, **labels):
    found = select(samples, name, **labels)
    return sum(v for _, v in found) if found else None


def check(c, samples, expected, tag):
    actors = set()
    for actor_key, days in expected.items():
        who = actor_labels(actor_key)
        actors.add(who["actor"])
        for date, t in days.items():
            def both(daily, total, want, tol=0.0, **labels):
                """The daily gauge for the date (source=otel) and the counter agree with want."""
                what = "%s %s %s %s" % (tag, actor_key, daily, labels)
                c.equal(family_sum(samples, daily, date=date, source="otel", **who, **labels), want, what, tol)
                c.equal(family_sum(samples, total, **who, **labels), want, what.replace(daily, total), tol)

            for model, usd in t.get("cost_usd", {}).items():
                both("claude_code_daily_cost_usd", "claude_code_cost_usd_total", usd, COST_TOL, model=model)
            for model, types in t.get("tokens", {}).items():
                for ty, n in types.items():
                    both("claude_code_daily_tokens", "claude_code_tokens_total", n, model=model,
                         token_type=TOKEN_TYPE[ty])
            for kind in ("added", "removed"):
                want = t.get("lines", {}).get(kind)
                if want is not None:
                    both("claude_code_daily_lines_" + kind, "claude_code_lines_%s_total" % kind, want)
            for key, daily, total in (("sessions", "claude_code_daily_sessions", "claude_code_sessions_total"),
                                      ("commits", "claude_code_daily_commits", "claude_code_commits_total"),
                                      ("pull_requests", "claude_code_daily_pull_requests",
                                       "claude_code_pull_requests_total")):
                if key in t:
                    both(daily, total, t[key])
                else:
                    c.check(not select(samples, total, **who), "%s %s: no %s expected" % (tag, actor_key, total))
            n_decisions = 0
            for tool, decisions in t.get("decisions", {}).items():
                for d, n in decisions.items():
                    n_decisions += 1
                    both("claude_code_daily_tool_decisions", "claude_code_tool_decisions_total", n,
                         tool=TOOL[tool], decision=DECISION[d])
            c.equal(len(select(samples, "claude_code_tool_decisions_total", **who)), n_decisions,
                    "%s %s: tool decision series" % (tag, actor_key))
            for activity, secs in t.get("active_time", {}).items():
                c.equal(family_sum(samples, "claude_code_active_time_seconds_total", activity=activity, **who), secs,
                        "%s %s active_time %s" % (tag, actor_key, activity), COST_TOL)
            ev = t.get("events", {})
            for model, n in ev.get("api_request", {}).items():
                c.equal(family_sum(samples, "claude_code_api_requests_total", model=model, **who), n,
                        "%s %s api_request %s" % (tag, actor_key, model))
            for model, n in ev.get("api_error", {}).items():
                c.equal(family_sum(samples, "claude_code_api_errors_total", model=model, **who), n,
                        "%s %s api_error %s" % (tag, actor_key, model))
            if "api_error" not in ev:
                c.check(not select(samples, "claude_code_api_errors_total", **who), "%s: no api errors" % tag)
            for event, family in (("tool_result", "claude_code_tool_results_total"),
                                  ("user_prompt", "claude_code_user_prompts_total"),
                                  ("tool_decision", "claude_code_permission_decisions_total")):
                c.equal(family_sum(samples, family, **who), ev.get(event), "%s %s %s" % (tag, actor_key, event))
            # The histogram counts the same api_request events.
            c.equal(family_sum(samples, "claude_code_api_request_duration_seconds_count"),
                    float(sum(ev.get("api_request", {}).values())), "%s duration histogram count" % tag)
    seen = {l.get("actor") for n, l, v in samples if n.startswith("claude_code_") and not
            n.startswith("claude_code_exporter_") and "actor" in l}
    c.check(seen == actors, "%s: actors on /metrics %s, expected %s" % (tag, sorted(seen), sorted(actors)))
