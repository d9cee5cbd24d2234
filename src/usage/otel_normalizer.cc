#include "cce/usage/otel_normalizer.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <functional>
#include <optional>
#include <unordered_map>

#include "cce/usage/model_id.h"
#include "cce/util/hash.h"
#include "cce/util/strings.h"

namespace cce::usage {
namespace {

using otlp::Attributes;
using otlp::AttrValue;

// "cacheRead" -> "cache_read", "NotebookEdit" -> "notebook_edit".
std::string snake_case(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (std::isupper(static_cast<unsigned char>(c))) {
      if (i > 0 && out.back() != '_') out += '_';
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    } else if (c == '-' || c == ' ' || c == '.') {
      out += '_';
    } else {
      out += c;
    }
  }
  return out;
}

std::string token_type(std::string_view t) {
  return snake_case(t);
}

// Claude Code's tool names onto the Admin API's tool_actions vocabulary (without "_tool").
std::string edit_tool(std::string_view t) {
  return snake_case(t);
}

std::string decision_label(std::string_view d) {
  if (d == "accept") return "accepted";
  if (d == "reject") return "rejected";
  return util::lower(d);
}

std::string event_name(const otlp::LogRecord& rec) {
  std::string name;
  if (const AttrValue* v = otlp::find(rec.attributes, "event.name")) name = otlp::to_text(*v);
  if (name.empty()) name = rec.body;
  if (name.empty()) name = rec.event_name;
  constexpr std::string_view kPrefix = "claude_code.";
  if (name.rfind(kPrefix, 0) == 0) name.erase(0, kPrefix.size());
  return name;
}

std::string bucket_label(double seconds) {
  for (double le : duration_buckets()) {
    if (seconds <= le) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", le);
      return buf;
    }
  }
  return "+Inf";
}

// Claude Code's metrics (without the "claude_code." prefix), each mapped onto our quantities.
// A name not in this table is counted as ignored.
using Emit = std::function<void(Quantity, LabelValues)>;
using MetricHandler = void (*)(const Attributes& point, const Attributes& resource,
                               const Emit& emit);
const std::unordered_map<std::string_view, MetricHandler>& metric_handlers() {
  static const std::unordered_map<std::string_view, MetricHandler> kHandlers = {
      {"session.count",
       [](const Attributes& p, const Attributes& r, const Emit& emit) {
         if (otlp::text(p, r, "start_type") == "agents_view") return;  // not a conversation
         emit(Quantity::kSessions, {});
       }},
      {"lines_of_code.count",
       [](const Attributes& p, const Attributes& r, const Emit& emit) {
         const std::string type = otlp::text(p, r, "type");
         if (type == "added") emit(Quantity::kLinesAdded, {});
         if (type == "removed") emit(Quantity::kLinesRemoved, {});
       }},
      {"pull_request.count", [](const Attributes&, const Attributes&,
                                const Emit& emit) { emit(Quantity::kPullRequests, {}); }},
      {"commit.count", [](const Attributes&, const Attributes&,
                          const Emit& emit) { emit(Quantity::kCommits, {}); }},
      {"cost.usage",
       [](const Attributes& p, const Attributes& r, const Emit& emit) {
         emit(Quantity::kCostUsd, join_labels({normalize_model_id(otlp::text(p, r, "model"))}));
       }},
      {"token.usage",
       [](const Attributes& p, const Attributes& r, const Emit& emit) {
         emit(Quantity::kTokens, join_labels({normalize_model_id(otlp::text(p, r, "model")),
                                              token_type(otlp::text(p, r, "type"))}));
       }},
      {"code_edit_tool.decision",
       [](const Attributes& p, const Attributes& r, const Emit& emit) {
         std::string tool = otlp::text(p, r, "tool_name");
         if (tool.empty()) tool = otlp::text(p, r, "tool");  // name used before 2026
         tool = edit_tool(tool);
         const std::string decision = decision_label(otlp::text(p, r, "decision"));
         std::string language = otlp::text(p, r, "language");
         if (language.empty()) language = "unknown";
         emit(Quantity::kToolDecisions, join_labels({tool, decision}));
         emit(Quantity::kEditDecisions, join_labels({tool, decision, language}));
       }},
      {"active_time.total",
       [](const Attributes& p, const Attributes& r, const Emit& emit) {
         emit(Quantity::kActiveTime, join_labels({otlp::text(p, r, "type")}));
       }},
  };
  return kHandlers;
}

// Claude Code's log events (without the "claude_code." prefix); each counts once.
using EventEmit = std::function<void(Quantity, LabelValues, double)>;
using EventHandler = void (*)(const Attributes& record, const Attributes& resource,
                              const EventEmit& emit);
const std::unordered_map<std::string_view, EventHandler>& event_handlers() {
  static const std::unordered_map<std::string_view, EventHandler> kHandlers = {
      {"api_request",
       [](const Attributes& a, const Attributes& r, const EventEmit& emit) {
         const std::string model = normalize_model_id(otlp::text(a, r, "model"));
         emit(Quantity::kApiRequests, join_labels({model}), 1);
         if (const AttrValue* d = otlp::find(a, r, "duration_ms")) {
           if (auto ms = otlp::to_number(*d); ms && *ms >= 0) {
             const double seconds = *ms / 1000.0;
             emit(Quantity::kApiDurationBucket, join_labels({model, bucket_label(seconds)}), 1);
             emit(Quantity::kApiDurationSum, join_labels({model}), seconds);
             emit(Quantity::kApiDurationCount, join_labels({model}), 1);
           }
         }
       }},
      {"api_error",
       [](const Attributes& a, const Attributes& r, const EventEmit& emit) {
         std::string status;
         if (const AttrValue* s = otlp::find(a, r, "status_code")) {
           if (auto n = otlp::to_number(*s)) status = std::to_string(static_cast<int64_t>(*n));
         }
         if (status.empty()) status = "none";
         emit(Quantity::kApiErrors,
              join_labels({normalize_model_id(otlp::text(a, r, "model")), status}), 1);
       }},
      {"tool_result",
       [](const Attributes& a, const Attributes& r, const EventEmit& emit) {
         std::string success = util::lower(otlp::text(a, r, "success"));
         if (success != "true" && success != "false") success = "unknown";
         emit(Quantity::kToolResults, join_labels({otlp::text(a, r, "tool_name"), success}), 1);
       }},
      {"user_prompt", [](const Attributes&, const Attributes&,
                         const EventEmit& emit) { emit(Quantity::kUserPrompts, {}, 1); }},
      {"tool_decision",
       [](const Attributes& a, const Attributes& r, const EventEmit& emit) {
         emit(Quantity::kPermissionDecisions,
              join_labels(
                  {otlp::text(a, r, "tool_name"), decision_label(otlp::text(a, r, "decision"))}),
              1);
       }},
  };
  return kHandlers;
}

void reject(IngestResult& out, std::string message) {
  ++out.rejected;
  if (out.rejection_message.empty()) out.rejection_message = std::move(message);
}

}  // namespace

namespace {

// The decoders hash on the listener's threads; a request built another way is hashed here.
uint64_t hash_of(uint64_t decoded, const Attributes& attrs) {
  return decoded != 0 ? decoded : otlp::hash_attributes(attrs);
}

}  // namespace

OtelNormalizer::OtelNormalizer(IdentityConfig identity, int64_t dedupe_window_seconds,
                               int64_t series_ttl_seconds, int retention_days, ValueLimits limits)
    : limits_(limits),
      identity_config_(identity),
      identities_(std::move(identity)),
      dedupe_window_s_(dedupe_window_seconds),
      series_ttl_s_(series_ttl_seconds),
      retention_days_(retention_days) {}

void OtelNormalizer::clear() {
  cumulative_.clear();
  seen_.clear();
  identities_ = IdentityResolver(identity_config_);
}

void OtelNormalizer::note_actor(const IdentityResolver::Resolved& who, IngestResult& out) {
  if (who.learned) {
    const bool known = identities_.learned().count(who.learned->first) == 1;
    if (known || identities_.learned().size() < limits_.max_learned_identities) {
      identities_.remember(who.learned->first, who.learned->second);
      out.learned_identities.push_back(*who.learned);
    } else {
      // Full: this point still counts for its email; later ones without it stay `account`.
      ++out.limit_hits[std::string(kLimitLearnedIdentities)];
    }
  }
  for (const auto& a : out.actors) {
    if (a.actor == who.actor && a.otel_team == who.otel_team && a.otel_org == who.otel_org) return;
  }
  out.actors.push_back({who.actor, who.otel_team, who.otel_org});
}

IngestResult OtelNormalizer::ingest(const otlp::MetricsRequest& req, util::TimePoint received) {
  IngestResult out;
  const int64_t received_ns = util::to_unix_nanos(received);
  const int64_t received_s = received_ns / 1000000000;
  out.received_at = received_s;
  for (const auto& rm : req.resources) {
    const uint64_t resource_hash = hash_of(rm.resource_hash, *rm.resource);
    for (const auto& sm : rm.scopes) {
      for (const auto& metric : sm.metrics) {
        if (metric.opaque_points > 0) out.ignored += metric.opaque_points;
        if (metric.points.empty()) continue;
        util::Hasher base;
        base.add_u64(resource_hash).add(sm.scope.name).add(sm.scope.version).add(metric.name);
        const uint64_t series_base = base.digest();
        for (const auto& point : metric.points) {
          ingest_point(metric, point, *rm.resource, series_base, received_s, received_ns, out);
        }
      }
    }
  }
  return out;
}

void OtelNormalizer::ingest_point(const otlp::Metric& metric, const otlp::NumberPoint& point,
                                  const Attributes& resource, uint64_t series_base,
                                  int64_t received_s, int64_t received_ns, IngestResult& out) {
  constexpr std::string_view kPrefix = "claude_code.";
  if (metric.name.rfind(kPrefix, 0) != 0) {
    ++out.ignored;
    return;
  }
  const std::string_view name = std::string_view(metric.name).substr(kPrefix.size());
  const auto handler = metric_handlers().find(name);
  if (handler == metric_handlers().end()) {
    ++out.ignored;
    return;
  }
  if (point.no_recorded_value()) {
    ++out.ignored;
    return;
  }
  if (metric.kind != otlp::MetricKind::kSum) {
    reject(out, "metric " + metric.name + " must be a Sum");
    return;
  }
  if (metric.temporality == otlp::Temporality::kUnspecified) {
    reject(out, "metric " + metric.name +
                    " has no aggregation temporality (must be DELTA or CUMULATIVE)");
    return;
  }
  if (!point.value) {
    reject(out, "a data point of " + metric.name + " has no value");
    return;
  }
  const double value = *point.value;
  if (!std::isfinite(value) || value < 0) {
    reject(out, "a data point of " + metric.name + " has a negative or non-finite value");
    return;
  }
  auto who = identities_.resolve(point.attributes, resource);
  if (!who) {
    reject(out, "a data point of " + metric.name +
                    " carries no identity (user.email, user.account_uuid, user.account_id or "
                    "user.id)");
    return;
  }

  bound_identity(*who, out);

  const int64_t when = point.time_ns ? static_cast<int64_t>(point.time_ns) : received_ns;
  const util::Date date = util::Date::from_unix_nanos(when);
  if (date < util::Date::from_unix_nanos(received_ns) - (retention_days_ - 1)) {
    reject(out, "a data point of " + metric.name + " is dated " + date.str() +
                    ", older than the store keeps (store.retention_days)");
    return;
  }
  if (in_future(when, received_ns)) {
    reject(out, "a data point of " + metric.name + " is dated " + date.str() +
                    ", ahead of the receiver's clock by more than limits.max_future_skew");
    ++out.limit_hits[std::string(kLimitFutureSkew)];
    return;
  }

  // Series identity: resource + scope + metric (in series_base) + point attributes.
  const uint64_t series = util::Hasher()
                              .add_u64(series_base)
                              .add_u64(hash_of(point.attributes_hash, point.attributes))
                              .digest();
  // State changes wait until the point is known to be accepted.
  double delta = 0;
  std::optional<uint64_t> seen_key;
  std::optional<CumulativeState> next;
  if (metric.temporality == otlp::Temporality::kDelta) {
    const uint64_t key =
        util::Hasher().add_u64(series).add_u64(point.start_ns).add_u64(point.time_ns).digest();
    if (seen_.count(key)) {
      ++out.duplicate;
      return;
    }
    seen_key = key;
    delta = value;
  } else {
    auto it = cumulative_.find(series);
    if (it == cumulative_.end()) {
      delta = value;
    } else {
      const CumulativeState& prev = it->second;
      if (point.start_ns != prev.start_ns) {
        if (point.start_ns < prev.start_ns && point.time_ns <= prev.time_ns) {
          ++out.duplicate;  // a late point from before the last reset
          return;
        }
        delta = value;  // new start time: the series restarted
      } else if (point.time_ns <= prev.time_ns) {
        ++out.duplicate;  // a retry, or out of order
        return;
      } else if (value < prev.value) {
        delta = value;  // counter reset without a new start time
      } else {
        delta = value - prev.value;
      }
    }
    next = CumulativeState{point.start_ns, point.time_ns, value, received_s};
  }

  std::vector<Observation> observations;
  handler->second(point.attributes, resource, [&](Quantity q, LabelValues labels) {
    observations.push_back(Observation{who->actor, date, q, std::move(labels), delta});
  });
  // A cumulative series moves on from this point even when its increment is beyond a bound
  // (dropped below): otherwise every later delta would carry the same jump and be rejected too.
  if (next) {
    cumulative_[series] = *next;
    out.series_updates.emplace_back(series, *next);
  }
  if (!within_bounds(observations, "a data point of " + metric.name, out)) return;
  if (seen_key) {
    seen_[*seen_key] = received_s;
    out.seen_keys.push_back(*seen_key);
  }
  ++out.accepted;
  note_actor(*who, out);
  out.observations.insert(out.observations.end(), std::make_move_iterator(observations.begin()),
                          std::make_move_iterator(observations.end()));
}

bool OtelNormalizer::in_future(int64_t when_ns, int64_t received_ns) const {
  const int64_t skew_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(limits_.max_future_skew).count();
  return when_ns > received_ns && when_ns - received_ns > skew_ns;
}

bool OtelNormalizer::within_bounds(const std::vector<Observation>& observations,
                                   const std::string& what, IngestResult& out) const {
  for (const auto& o : observations) {
    if (auto e = excess(o.quantity, o.value, limits_)) {
      reject(out, what + " carries " + e->message);
      ++out.limit_hits[std::string(e->key)];
      return false;
    }
  }
  return true;
}

void OtelNormalizer::bound_identity(IdentityResolver::Resolved& who, IngestResult& out) const {
  bool cut = truncate_label(who.actor.id, limits_.max_label_length);
  cut |= truncate_label(who.otel_team, limits_.max_label_length);
  if (who.learned) cut |= truncate_label(who.learned->second, limits_.max_label_length);
  if (cut) ++out.limit_hits[std::string(kLimitLabelLength)];
}

IngestResult OtelNormalizer::ingest(const otlp::LogsRequest& req, util::TimePoint received) {
  IngestResult out;
  const int64_t received_ns = util::to_unix_nanos(received);
  const int64_t received_s = received_ns / 1000000000;
  out.received_at = received_s;
  for (const auto& rl : req.resources) {
    const uint64_t resource_hash = hash_of(rl.resource_hash, *rl.resource);
    for (const auto& sl : rl.scopes) {
      for (const auto& rec : sl.records) {
        ingest_record(rec, *rl.resource, resource_hash, sl.scope, received_s, received_ns, out);
      }
    }
  }
  return out;
}

void OtelNormalizer::ingest_record(const otlp::LogRecord& rec, const Attributes& resource,
                                   uint64_t resource_hash, const otlp::Scope& scope,
                                   int64_t received_s, int64_t received_ns, IngestResult& out) {
  const std::string name = event_name(rec);
  const auto handler = event_handlers().find(name);
  if (handler == event_handlers().end()) {
    ++out.ignored;
    return;
  }
  auto who = identities_.resolve(rec.attributes, resource);
  if (!who) {
    reject(out, "a " + name +
                    " event carries no identity (user.email, user.account_uuid, "
                    "user.account_id or user.id)");
    return;
  }
  const uint64_t key = util::Hasher()
                           .add_u64(resource_hash)
                           .add(scope.name)
                           .add(scope.version)
                           .add_u64(rec.time_ns)
                           .add_u64(rec.observed_ns)
                           .add(rec.body)
                           .add(rec.event_name)
                           .add_u64(hash_of(rec.attributes_hash, rec.attributes))
                           .digest();
  if (seen_.count(key)) {
    ++out.duplicate;
    return;
  }

  bound_identity(*who, out);
  int64_t when = static_cast<int64_t>(rec.time_ns ? rec.time_ns : rec.observed_ns);
  if (when == 0) {
    if (const AttrValue* ts = otlp::find(rec.attributes, "event.timestamp")) {
      if (auto parsed = util::parse_rfc3339_nanos(otlp::to_text(*ts))) when = *parsed;
    }
  }
  if (when == 0) when = received_ns;
  const util::Date date = util::Date::from_unix_nanos(when);
  if (date < util::Date::from_unix_nanos(received_ns) - (retention_days_ - 1)) {
    reject(out, "a " + name + " event is dated " + date.str() +
                    ", older than the store keeps (store.retention_days)");
    return;
  }
  if (in_future(when, received_ns)) {
    reject(out, "a " + name + " event is dated " + date.str() +
                    ", ahead of the receiver's clock by more than limits.max_future_skew");
    ++out.limit_hits[std::string(kLimitFutureSkew)];
    return;
  }
  std::vector<Observation> observations;
  handler->second(rec.attributes, resource, [&](Quantity q, LabelValues labels, double value) {
    observations.push_back(Observation{who->actor, date, q, std::move(labels), value});
  });
  if (!within_bounds(observations, "a " + name + " event", out)) return;
  out.observations.insert(out.observations.end(), std::make_move_iterator(observations.begin()),
                          std::make_move_iterator(observations.end()));
  seen_[key] = received_s;
  out.seen_keys.push_back(key);
  ++out.accepted;
  note_actor(*who, out);
}

OtelNormalizer::PruneCutoffs OtelNormalizer::prune(util::TimePoint now) {
  const int64_t now_s = util::to_unix_nanos(now) / 1000000000;
  PruneCutoffs c{now_s - dedupe_window_s_, now_s - series_ttl_s_};
  std::erase_if(seen_, [&](const auto& kv) { return kv.second < c.seen_before; });
  std::erase_if(cumulative_, [&](const auto& kv) { return kv.second.seen_at < c.series_before; });
  return c;
}

}  // namespace cce::usage
