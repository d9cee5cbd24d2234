#include "cce/config/config.h"

#include <toml++/toml.h>
#include <array>
#include <cctype>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include "cce/util/duration.h"
#include "cce/util/strings.h"

namespace cce::config {
namespace {

std::string type_name(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default:
      return "a date/time";
  }
}

// The five prices of a model, by config key.
std::array<std::pair<const char*, double*>, 5> price_fields(usage::ModelPrice& p) {
  return {{{"input", &p.input},
           {"output", &p.output},
           {"cache_read", &p.cache_read},
           {"cache_write_5m", &p.cache_write_5m},
           {"cache_write_1h", &p.cache_write_1h}}};
}

// Walks one table: typed getters that name the full key on error, and a final check that
// rejects keys nobody asked for.
class Section {
 public:
  Section(const toml::table* t, std::string prefix, std::string origin)
      : t_(t), prefix_(std::move(prefix)), origin_(std::move(origin)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& msg) const {
    throw ConfigError(origin_ + ": " + full(key) + ": " + msg);
  }
  std::string full(const std::string& key) const {
    return prefix_.empty() ? key : prefix_ + "." + key;
  }

  const toml::node* get(const std::string& key) {
    known_.insert(key);
    return t_ ? t_->get(key) : nullptr;
  }

  void string(const std::string& key, std::string& out) {
    if (auto* n = get(key)) {
      auto v = n->value<std::string>();
      if (!n->is_string() || !v) fail(key, "expected a string, got " + type_name(*n));
      out = *v;
    }
  }
  void boolean(const std::string& key, bool& out) {
    if (auto* n = get(key)) {
      if (!n->is_boolean()) fail(key, "expected true or false, got " + type_name(*n));
      out = *n->value<bool>();
    }
  }
  template <typename Int>
  void integer(const std::string& key, Int& out, int64_t min, int64_t max, const char* what) {
    if (auto* n = get(key)) {
      if (!n->is_integer()) fail(key, std::string("expected ") + what + ", got " + type_name(*n));
      int64_t v = *n->value<int64_t>();
      if (v < min || v > max) {
        fail(key, std::string("must be ") + what + " from " + std::to_string(min) + " to " +
                      std::to_string(max) + " (got " + std::to_string(v) + ")");
      }
      out = static_cast<Int>(v);
    }
  }
  void duration(const std::string& key, milliseconds& out, milliseconds min) {
    if (auto* n = get(key)) {
      auto v = n->value<std::string>();
      if (!n->is_string() || !v) {
        fail(key,
             "expected a duration string such as \"5s\", \"15m\" or \"1h\", got " + type_name(*n));
      }
      auto d = util::parse_duration(*v);
      if (!d) {
        fail(key,
             "\"" + *v +
                 "\" is not a duration; use a number with a unit: ms, s, m, h, d (e.g. \"30s\")");
      }
      if (*d < min)
        fail(key, "must be at least " + util::format_duration(min) + " (got \"" + *v + "\")");
      out = *d;
    }
  }
  void string_list(const std::string& key, std::vector<std::string>& out) {
    if (auto* n = get(key)) {
      auto* arr = n->as_array();
      if (!arr) fail(key, "expected an array of strings, got " + type_name(*n));
      out.clear();
      for (const auto& el : *arr) {
        auto v = el.value<std::string>();
        if (!el.is_string() || !v)
          fail(key, "expected an array of strings, found " + type_name(el));
        out.push_back(*v);
      }
    }
  }
  void string_map(const std::string& key, std::map<std::string, std::string>& out) {
    if (auto* n = get(key)) {
      auto* tbl = n->as_table();
      if (!tbl) fail(key, "expected a table of \"key\" = \"value\" strings, got " + type_name(*n));
      out.clear();
      for (const auto& [k, v] : *tbl) {
        auto s = v.value<std::string>();
        if (!v.is_string() || !s) {
          fail(key + "." + std::string(k.str()), "expected a string, got " + type_name(v));
        }
        out[std::string(k.str())] = *s;
      }
    }
  }
  // A positive number (integer or float).
  void real(const std::string& key, double& out) {
    double v = out;
    if (number(key, v) && !(v > 0)) fail(key, "must be greater than 0");
    out = v;
  }
  // A non-negative number (integer or float); returns whether the key was there.
  bool number(const std::string& key, double& out) {
    if (auto* n = get(key)) {
      if (!n->is_number()) fail(key, "expected a number, got " + type_name(*n));
      double v = n->is_integer() ? static_cast<double>(*n->value<int64_t>()) : *n->value<double>();
      if (!(v >= 0)) fail(key, "must not be negative");
      out = v;
      return true;
    }
    return false;
  }
  void secret_list(const std::string& key, std::vector<std::string>& out) { string_list(key, out); }
  void listen(const std::string& key, ListenAddress& out) {
    std::string value;
    string(key, value);
    if (!value.empty()) out = parse_listen(value, origin_ + ": " + full(key));
  }
  // A string that names one enum value.
  template <typename E>
  void choice(const std::string& key, E& out,
              std::initializer_list<std::pair<E, const char*>> names) {
    auto* n = get(key);
    if (!n) return;
    auto v = n->value<std::string>();
    if (!n->is_string() || !v) fail(key, "expected a string, got " + type_name(*n));
    for (const auto& [value, name] : names) {
      if (*v == name) {
        out = value;
        return;
      }
    }
    std::string allowed;
    size_t i = 0;
    for (const auto& [value, name] : names) {
      allowed += (i == 0 ? "" : i + 1 == names.size() ? " or " : ", ");
      allowed += "\"" + std::string(name) + "\"";
      ++i;
    }
    fail(key, "must be " + allowed + " (got \"" + *v + "\")");
  }
  // A rule on values already read.
  void check(const std::string& key, bool ok, const std::string& message) const {
    if (!ok) fail(key, message);
  }
  void prices(const std::string& key, std::map<std::string, usage::ModelPrice>& out) {
    Section models = table(key);
    if (auto* n = models.get_table()) {
      for (const auto& [k, v] : *n) {
        const std::string model(k.str());
        Section m = models.table(model);
        usage::ModelPrice price;
        bool any = false;
        for (auto [name, field] : price_fields(price))
          any |= m.number(name, *field);
        m.reject_unknown();
        if (!any)
          m.fail("input",
                 "a model price needs input, output, cache_read, cache_write_5m, cache_write_1h "
                 "(USD per million tokens)");
        out[model] = price;
      }
    }
  }
  // [<key>.org], [<key>.teams.<team>], [<key>.users.<email>], each with day and/or month.
  void budgets(std::vector<usage::Budget>& out) {
    using B = usage::Budget;
    auto read_periods = [&](Section& b, B::Scope scope, const std::string& name) {
      for (auto period : {B::Period::kDay, B::Period::kMonth}) {
        double usd = -1;
        if (b.number(std::string(usage::to_string(period)), usd))
          out.push_back({scope, name, period, usd});
      }
      b.reject_unknown();
    };
    {
      Section org = table("org");
      read_periods(org, B::Scope::kOrg, "org");
    }
    for (auto scope : {B::Scope::kTeam, B::Scope::kUser}) {
      Section g = table(scope == B::Scope::kTeam ? "teams" : "users");
      if (auto* t = g.get_table()) {
        for (const auto& [k, v] : *t) {
          const std::string name(k.str());
          Section b = g.table(name);
          read_periods(b, scope, scope == B::Scope::kUser ? util::lower(name) : name);
        }
      }
      g.reject_unknown();
    }
  }

  // The table itself, marking every key as known (the caller walks it).
  const toml::table* get_table() {
    if (t_) {
      for (const auto& [k, v] : *t_)
        known_.insert(std::string(k.str()));
    }
    return t_;
  }
  Section table(const std::string& key) {
    if (auto* n = get(key)) {
      if (!n->is_table()) fail(key, "expected a table ([" + full(key) + "]), got " + type_name(*n));
      return Section(n->as_table(), full(key), origin_);
    }
    return Section(nullptr, full(key), origin_);
  }
  void reject_unknown() const {
    if (!t_) return;
    for (const auto& [k, v] : *t_) {
      std::string key(k.str());
      if (known_.count(key)) continue;
      std::string allowed;
      for (const auto& a : known_)
        allowed += (allowed.empty() ? "" : ", ") + a;
      throw ConfigError(origin_ + ": " + full(key) + ": unknown key" +
                        (allowed.empty() ? std::string() : "; allowed here: " + allowed));
    }
  }

 private:
  const toml::table* t_;
  std::string prefix_;
  std::string origin_;
  std::set<std::string> known_;
};

// "http://127.0.0.1:8080/x", "http://localhost", "http://[::1]:9" -> true.
bool is_loopback_url(const std::string& url) {
  const auto start = url.find("://") + 3;
  std::string host;
  if (start < url.size() && url[start] == '[') {
    host = url.substr(start, url.find(']', start) - start + 1);
  } else {
    host = url.substr(start, url.find_first_of(":/", start) - start);
  }
  return host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

// The same calls as Section, writing the values into a TOML table instead (--check-config).
class Printer {
 public:
  explicit Printer(toml::table& t) : t_(t) {}

  void string(const std::string& key, const std::string& v) { t_.insert_or_assign(key, v); }
  void boolean(const std::string& key, bool v) { t_.insert_or_assign(key, v); }
  template <typename Int>
  void integer(const std::string& key, Int v, int64_t, int64_t, const char*) {
    t_.insert_or_assign(key, static_cast<int64_t>(v));
  }
  void duration(const std::string& key, milliseconds v, milliseconds) {
    t_.insert_or_assign(key, util::format_duration(v));
  }
  void string_list(const std::string& key, const std::vector<std::string>& v) {
    toml::array a;
    for (const auto& x : v)
      a.push_back(x);
    t_.insert_or_assign(key, std::move(a));
  }
  void secret_list(const std::string& key, const std::vector<std::string>& v) {
    string_list(key, std::vector<std::string>(v.size(), "<redacted>"));
  }
  void string_map(const std::string& key, const std::map<std::string, std::string>& v) {
    toml::table m;
    for (const auto& [k, x] : v)
      m.insert_or_assign(k, x);
    t_.insert_or_assign(key, std::move(m));
  }
  void listen(const std::string& key, const ListenAddress& v) { string(key, v.str()); }
  void real(const std::string& key, double v) { t_.insert_or_assign(key, v); }
  template <typename E>
  void choice(const std::string& key, E v, std::initializer_list<std::pair<E, const char*>> names) {
    for (const auto& [value, name] : names) {
      if (value == v) string(key, name);
    }
  }
  void check(const std::string&, bool, const std::string&) const {}
  Printer table(const std::string& key) {
    t_.insert_or_assign(key, toml::table{});
    return Printer(*t_[key].as_table());
  }
  void reject_unknown() const {}
  void prices(const std::string& key, std::map<std::string, usage::ModelPrice>& v) {
    toml::table models;
    for (auto& [model, price] : v) {
      toml::table m;
      for (auto [name, field] : price_fields(price))
        m.insert_or_assign(name, *field);
      models.insert_or_assign(model, std::move(m));
    }
    t_.insert_or_assign(key, std::move(models));
  }
  void budgets(const std::vector<usage::Budget>& v) {
    using B = usage::Budget;
    for (const auto& b : v) {
      toml::table* at = &t_;
      auto sub = [](toml::table& parent, const std::string& k) -> toml::table& {
        if (!parent.contains(k)) parent.insert_or_assign(k, toml::table{});
        return *parent[k].as_table();
      };
      if (b.scope == B::Scope::kOrg) {
        at = &sub(t_, "org");
      } else {
        at = &sub(sub(t_, b.scope == B::Scope::kTeam ? "teams" : "users"), b.name);
      }
      at->insert_or_assign(std::string(usage::to_string(b.period)), b.usd);
    }
  }

 private:
  toml::table& t_;
};

constexpr std::initializer_list<std::pair<store::Synchronous, const char*>> kSynchronous = {
    {store::Synchronous::kFull, "full"}, {store::Synchronous::kNormal, "normal"}};
constexpr std::initializer_list<std::pair<usage::CacheTtl, const char*>> kCacheTtls = {
    {usage::CacheTtl::k5m, "5m"}, {usage::CacheTtl::k1h, "1h"}};
constexpr std::initializer_list<std::pair<usage::ActorLabelMode, const char*>> kActorLabels = {
    {usage::ActorLabelMode::kEmail, "email"},
    {usage::ActorLabelMode::kHash, "hash"},
    {usage::ActorLabelMode::kDomain, "domain"}};

// The keys of an organization API source ([admin_api], [enterprise_analytics] and each
// [[organizations]] entry); `enterprise` adds the Spend Limits keys.
template <typename S>
void api_source_fields(S& s, Config::ApiSource& a, Config::EnterpriseAnalytics* enterprise) {
  s.boolean("enabled", a.enabled);
  s.string("base_url", a.base_url);
  s.string("key_file", a.key_file);
  s.integer("backfill_days", a.backfill_days, 0, 1000, "a number of days");
  s.duration("poll_interval", a.poll_interval, milliseconds(1000));
  s.integer("refresh_days", a.refresh_days, 1, 31, "a number of days");
  s.duration("min_request_interval", a.min_request_interval, milliseconds(0));
  s.duration("request_timeout", a.request_timeout, milliseconds(100));
  s.duration("retry_backoff", a.retry_backoff, milliseconds(0));
  s.duration("retry_backoff_max", a.retry_backoff_max, milliseconds(0));
  s.integer("max_attempts", a.max_attempts, 1, 100, "a number of attempts");
  s.integer("max_response_bytes", a.max_response_bytes, 1024, int64_t{1} << 32,
            "a number of bytes");
  s.integer("max_pages_per_day", a.max_pages_per_day, 1, 1000000, "a number of pages");
  s.duration("max_retry_after", a.max_retry_after, milliseconds(1000));
  const std::string& url = a.base_url;
  const bool https = url.rfind("https://", 0) == 0;
  const bool http = url.rfind("http://", 0) == 0;
  s.check("base_url", https || http,
          "\"" + url + "\" must start with https:// (e.g. \"https://api.anthropic.com\")");
  // The key must never cross a network in clear text; plain HTTP is for a local test server.
  s.check("base_url", !http || is_loopback_url(url),
          "plain http:// is only allowed to a loopback address; use https://");
  if (enterprise) {
    s.boolean("spend_limits", enterprise->spend_limits);
    s.duration("spend_limits_interval", enterprise->spend_limits_interval, milliseconds(1000));
  }
}

// One [[organizations]] entry: its name (the org label), its source and key, and the source's
// keys with that source's defaults; its teams and budgets.
template <typename S>
void organization_fields(S& s, Config::Organization& o) {
  s.string("name", o.name);
  s.check("name",
          !o.name.empty() && o.name.size() <= 64 &&
              o.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                       "0123456789_.-") == std::string::npos,
          "must be 1 to 64 letters, digits, '_', '.' or '-' (it becomes the org label); got \"" +
              o.name + "\"");
  s.string("source", o.source);
  s.check("source", o.source == "admin_api" || o.source == "enterprise_analytics",
          "must be \"admin_api\" (the Claude Code usage report, Console organizations) or "
          "\"enterprise_analytics\" (claude.ai Enterprise); got \"" +
              o.source + "\"");
  if constexpr (std::is_same_v<S, Section>) {
    // The source's own defaults, then what the entry sets.
    if (o.source == "admin_api") {
      static_cast<Config::ApiSource&>(o.api) = Config::ApiSource{};
      o.api.spend_limits = false;
    }
  }
  s.string("key_env", o.key_env);
  s.string("organization_id", o.organization_id);
  api_source_fields(s, o.api, o.source == "enterprise_analytics" ? &o.api : nullptr);
  s.string_map("teams", o.teams);
  auto budgets = s.table("budgets");
  budgets.budgets(o.budgets);
  budgets.reject_unknown();
}

// Every section and key, once: parse() walks it with Section, to_toml() with Printer. A key
// missing here can neither be set nor shown.
template <typename Visit>
void walk(Visit&& section, Config& c) {
  section("http", [&](auto& s) {
    s.integer("max_connections", c.http.max_connections, 1, 1000, "a whole number");
    s.integer("min_threads", c.http.min_threads, 1, 1000, "a whole number");
    s.duration("keep_alive_timeout", c.http.keep_alive_timeout, milliseconds(1000));
    s.integer("keep_alive_max_requests", c.http.keep_alive_max_requests, 1, 1000000,
              "a whole number");
    s.duration("read_timeout", c.http.read_timeout, milliseconds(100));
    s.duration("write_timeout", c.http.write_timeout, milliseconds(100));
    s.boolean("tcp_nodelay", c.http.tcp_nodelay);
    s.check(
        "min_threads", c.http.min_threads <= c.http.max_connections,
        "must not exceed http.max_connections (" + std::to_string(c.http.max_connections) + ")");
  });
  section("otlp", [&](auto& s) {
    s.boolean("enabled", c.otlp.enabled);
    s.listen("listen", c.otlp.listen);
    s.boolean("grpc_enabled", c.otlp.grpc_enabled);
    s.listen("grpc_listen", c.otlp.grpc_listen);
    s.integer("grpc_threads", c.otlp.grpc_threads, 1, 64, "a whole number");
    s.integer("max_body_bytes", c.otlp.max_body_bytes, 1024, int64_t{1} << 32, "a number of bytes");
    s.secret_list("auth_tokens", c.otlp.auth_tokens);
    s.string("auth_tokens_file", c.otlp.auth_tokens_file);
    s.duration("dedupe_window", c.otlp.dedupe_window, milliseconds(60000));
    s.duration("series_ttl", c.otlp.series_ttl, milliseconds(60000));
    s.string("web_config_file", c.otlp.web_config_file);
    s.integer("threads", c.otlp.threads, 1, 64, "a whole number");
    s.integer("listen_backlog", c.otlp.listen_backlog, 16, 65535, "a whole number");
    s.integer("max_connections", c.otlp.max_connections, 1, 1000000, "a whole number");
    s.integer("max_connections_per_address", c.otlp.max_connections_per_address, 1, 1000000,
              "a whole number");
    s.integer("max_inflight_bytes", c.otlp.max_inflight_bytes, 1 << 20, int64_t{1} << 40,
              "a number of bytes");
    s.duration("idle_timeout", c.otlp.idle_timeout, milliseconds(1000));
    s.duration("request_timeout", c.otlp.request_timeout, milliseconds(100));
    s.integer("max_header_bytes", c.otlp.max_header_bytes, 1024, 1 << 20, "a number of bytes");
    s.check("max_inflight_bytes", c.otlp.max_inflight_bytes >= c.otlp.max_body_bytes,
            "must be at least otlp.max_body_bytes (" + std::to_string(c.otlp.max_body_bytes) +
                "), or the largest accepted body could never be taken");
    for (const auto& t : c.otlp.auth_tokens)
      s.check("auth_tokens", !t.empty(), "must not contain an empty token");
  });
  section("exposition", [&](auto& s) {
    s.listen("listen", c.exposition.listen);
    s.integer("daily_window_days", c.exposition.daily_window_days, 1, 400, "a number of days");
    s.duration("min_render_interval", c.exposition.min_render_interval, milliseconds(0));
    s.string("web_config_file", c.exposition.web_config_file);
  });
  section("store", [&](auto& s) {
    s.string("path", c.store.path);
    s.check("path", !c.store.path.empty(), "must not be empty; name the SQLite file to use");
    s.choice("synchronous", c.store.synchronous, kSynchronous);
    s.integer("retention_days", c.store.retention_days, 7, 3650, "a number of days");
  });
  section("identity", [&](auto& s) {
    s.string_list("attributes", c.identity.attributes);
    s.string_map("aliases", c.identity.aliases);
    s.string_list("team_attributes", c.identity.team_attributes);
  });
  section("admin_api", [&](auto& s) { api_source_fields(s, c.admin_api, nullptr); });
  section("enterprise_analytics",
          [&](auto& s) { api_source_fields(s, c.enterprise_analytics, &c.enterprise_analytics); });
  section("merge", [&](auto& s) { s.boolean("otel_for_today", c.merge.otel_for_today); });
  section("pricing", [&](auto& s) {
    s.choice("cache_write_ttl", c.pricing.cache_write_ttl, kCacheTtls);
    s.prices("models", c.pricing.models);
  });
  section("teams", [&](auto& s) { s.string_map("map", c.teams.map); });
  section("budgets", [&](auto& s) { s.budgets(c.budgets); });
  section("limits", [&](auto& s) {
    auto& l = c.limits;
    s.integer("max_actors", l.max_actors, 1, 10000000, "a number of actors");
    s.real(std::string(usage::kLimitCost), l.max_cost_usd);
    s.real(std::string(usage::kLimitTokens), l.max_tokens);
    s.real(std::string(usage::kLimitCount), l.max_count);
    s.duration(std::string(usage::kLimitFutureSkew), l.max_future_skew, milliseconds(0));
    s.integer(std::string(usage::kLimitLabelLength), l.max_label_length, 16, 65536,
              "a number of bytes");
    s.integer(std::string(usage::kLimitLabelValues), l.max_label_values_per_actor, 1, 100000,
              "a number of values");
    s.integer(std::string(usage::kLimitLearnedIdentities), l.max_learned_identities, 0, 100000000,
              "a number of identities");
  });
  section("privacy", [&](auto& s) {
    s.choice("actor_label", c.privacy.actor_label, kActorLabels);
    s.string("hash_key_file", c.privacy.hash_key_file);
  });
  section("log", [&](auto& s) {
    s.string("level", c.log.level);
    static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "off"};
    s.check("level", kLevels.count(c.log.level) == 1,
            "must be one of trace, debug, info, warn, error, off (got \"" + c.log.level + "\")");
  });
}

}  // namespace

std::string ListenAddress::str() const {
  return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

ListenAddress parse_listen(const std::string& value, const std::string& key) {
  auto bad = [&](const std::string& why) -> ConfigError {
    return ConfigError(key + ": \"" + value + "\" " + why +
                       "; use host:port, e.g. \"127.0.0.1:4318\", \"0.0.0.0:4318\" or "
                       "\"[::1]:4318\"");
  };
  std::string host;
  std::string port;
  if (!value.empty() && value[0] == '[') {
    auto close = value.find(']');
    if (close == std::string::npos || close + 1 >= value.size() || value[close + 1] != ':') {
      throw bad("is not a valid address");
    }
    host = value.substr(1, close - 1);
    port = value.substr(close + 2);
  } else {
    auto colon = value.rfind(':');
    if (colon == std::string::npos) throw bad("has no port");
    host = value.substr(0, colon);
    port = value.substr(colon + 1);
    if (host.find(':') != std::string::npos) throw bad("needs brackets around an IPv6 host");
  }
  if (host.empty()) throw bad("has no host");
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos) {
    throw bad("has no valid port");
  }
  int p = std::stoi(port);
  if (p > 65535) throw bad("has a port above 65535");
  return ListenAddress{host, p};
}

Config parse(const std::string& toml_text, const std::string& origin) {
  toml::table root;
  try {
    root = toml::parse(toml_text, origin);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << origin << ":" << e.source().begin.line << ":" << e.source().begin.column
        << ": not valid TOML: " << e.description();
    throw ConfigError(msg.str());
  }
  Config c;
  Section top(&root, "", origin);
  walk(
      [&](const std::string& name, const auto& fields) {
        Section s = top.table(name);
        fields(s);
        s.reject_unknown();
      },
      c);
  if (const auto* n = top.get("organizations")) {
    const auto* entries = n->as_array();
    if (!entries || !entries->is_array_of_tables()) {
      throw ConfigError(origin + ": organizations: expected [[organizations]] entries, got " +
                        type_name(*n));
    }
    std::set<std::string> names;
    for (size_t i = 0; i < entries->size(); ++i) {
      Section s(entries->get(i)->as_table(), "organizations[" + std::to_string(i) + "]", origin);
      Config::Organization o;
      organization_fields(s, o);
      s.reject_unknown();
      if (!names.insert(o.name).second) {
        s.fail("name", "\"" + o.name + "\" names two organizations; each needs its own name");
      }
      if (o.api.backfill_days > c.store.retention_days) {
        s.fail("backfill_days", "must not exceed store.retention_days (" +
                                    std::to_string(c.store.retention_days) + ")");
      }
      c.organizations.push_back(std::move(o));
    }
  }
  top.reject_unknown();
  for (auto [name, a] : {std::pair<const char*, Config::ApiSource*>{"admin_api", &c.admin_api},
                         {"enterprise_analytics", &c.enterprise_analytics}}) {
    if (a->backfill_days > c.store.retention_days) {
      throw ConfigError(
          origin + ": " + name + ".backfill_days (" + std::to_string(a->backfill_days) +
          ") must not exceed store.retention_days (" + std::to_string(c.store.retention_days) +
          "): days older than the retention are not kept");
    }
  }
  std::vector<std::pair<const char*, const ListenAddress*>> listeners{
      {"exposition.listen", &c.exposition.listen}};
  if (c.otlp.enabled) listeners.push_back({"otlp.listen", &c.otlp.listen});
  if (c.otlp.enabled && c.otlp.grpc_enabled) {
    listeners.push_back({"otlp.grpc_listen", &c.otlp.grpc_listen});
  }
  for (size_t i = 0; i < listeners.size(); ++i) {
    for (size_t j = i + 1; j < listeners.size(); ++j) {
      const auto& [a, x] = listeners[i];
      const auto& [b, y] = listeners[j];
      if (x->port != 0 && x->port == y->port && x->host == y->host) {
        throw ConfigError(origin + ": " + b + " and " + a + " are both " + x->str() +
                          "; give them different ports");
      }
    }
  }
  return c;
}

Config load_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    throw ConfigError(path + ": cannot read the config file (does it exist and is it readable?)");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

namespace {

// Reads a source's key from its environment variable, else from its key_file.
void load_key(Config::ApiSource& source, const std::string& section, const char* env_name,
              const std::string& what, const std::function<const char*(const char*)>& getenv) {
  if (const char* env = *env_name ? getenv(env_name) : nullptr; env && *env) {
    source.key = std::string(util::trim(env));
    source.key_source = env_name;
  } else if (!source.key_file.empty()) {
    std::ifstream in(source.key_file);
    if (!in) {
      throw ConfigError(section + ".key_file: cannot read \"" + source.key_file +
                        "\"; it must hold " + what);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    source.key = std::string(util::trim(ss.str()));
    source.key_source = section + ".key_file (" + source.key_file + ")";
    if (source.key.empty()) {
      throw ConfigError(section + ".key_file: \"" + source.key_file + "\" is empty; put " + what +
                        " in it");
    }
  }
}

constexpr const char* kWhereAdminKeys =
    "An organization admin creates Admin API keys (sk-ant-admin…) in the Claude Console under "
    "Settings → Admin keys.";
constexpr const char* kWhereAnalyticsKeys =
    "The organization's primary owner creates Enterprise Analytics keys (sk-ant-api01…, scope "
    "read:analytics; add read:spend_limits for spend caps) at claude.ai → Organization settings "
    "→ API.";

// The two kinds of organization key cannot stand in for each other: say which belongs where
// (by prefix; the key itself is never printed).
void check_key_kind(const std::string& source, const std::string& key,
                    const std::string& key_source, const std::string& admin_home,
                    const std::string& analytics_home) {
  auto starts = [&](const char* prefix) { return key.rfind(prefix, 0) == 0; };
  if (source == "admin_api") {
    if (starts("sk-ant-api01-")) {
      throw ConfigError(key_source +
                        " holds a claude.ai Enterprise key (sk-ant-api01…), but the Claude Code "
                        "usage report needs an Admin API key (sk-ant-admin…). An Enterprise key "
                        "belongs in " +
                        analytics_home + ". " + kWhereAdminKeys);
    }
    if (starts("sk-ant-api") || starts("sk-ant-oat")) {
      throw ConfigError(key_source +
                        " holds a regular API key (sk-ant-api…), but the Claude Code usage "
                        "report needs an Admin API key (sk-ant-admin…). " +
                        std::string(kWhereAdminKeys));
    }
  } else {
    if (starts("sk-ant-admin")) {
      throw ConfigError(key_source +
                        " holds an Admin API key (sk-ant-admin…), which cannot read the "
                        "Enterprise Analytics API; it belongs in " +
                        admin_home + ". " + kWhereAnalyticsKeys);
    }
    if (starts("sk-ant-api03-") || starts("sk-ant-oat")) {
      throw ConfigError(key_source +
                        " holds a regular API key or OAuth token, which cannot read the "
                        "Enterprise Analytics API. " +
                        std::string(kWhereAnalyticsKeys));
    }
  }
}

}  // namespace

void apply_environment(Config& config, const std::function<const char*(const char*)>& getenv) {
  auto split = [](const std::string& s, char sep) {
    std::vector<std::string> out;
    std::string cur;
    for (char ch : s) {
      if (ch == sep || ch == '\n' || ch == '\r') {
        if (!cur.empty()) out.push_back(cur);
        cur.clear();
      } else if (ch != ' ' && ch != '\t') {
        cur += ch;
      }
    }
    if (!cur.empty()) out.push_back(cur);
    return out;
  };
  if (const char* env = getenv("CLAUDE_CODE_EXPORTER_OTLP_AUTH_TOKENS")) {
    for (auto& t : split(env, ','))
      config.otlp.auth_tokens.push_back(t);
  }
  auto trim = [](std::string_view v) { return std::string(util::trim(v)); };
  load_key(config.admin_api, "admin_api", "ANTHROPIC_ADMIN_API_KEY",
           "the Admin API key (sk-ant-admin…)", getenv);
  load_key(config.enterprise_analytics, "enterprise_analytics", "ANTHROPIC_ANALYTICS_API_KEY",
           "the Enterprise Analytics API key (sk-ant-api01…)", getenv);
  auto& privacy = config.privacy;
  if (const char* env = getenv("CLAUDE_CODE_EXPORTER_PRIVACY_KEY"); env && *env) {
    privacy.hash_key = trim(env);
  } else if (!privacy.hash_key_file.empty()) {
    std::ifstream in(privacy.hash_key_file);
    if (!in) {
      throw ConfigError("privacy.hash_key_file: cannot read \"" + privacy.hash_key_file + "\"");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    privacy.hash_key = trim(ss.str());
  }
  if (privacy.actor_label == usage::ActorLabelMode::kHash && privacy.hash_key.size() < 16) {
    throw ConfigError(
        "privacy.actor_label = \"hash\" needs a secret key of at least 16 characters: set "
        "CLAUDE_CODE_EXPORTER_PRIVACY_KEY or privacy.hash_key_file (e.g. openssl rand -hex 32)");
  }
  const std::string admin_home = "[admin_api] (ANTHROPIC_ADMIN_API_KEY or admin_api.key_file)";
  const std::string analytics_home =
      "[enterprise_analytics] (ANTHROPIC_ANALYTICS_API_KEY or enterprise_analytics.key_file)";
  check_key_kind("admin_api", config.admin_api.key, config.admin_api.key_source, admin_home,
                 analytics_home);
  check_key_kind("enterprise_analytics", config.enterprise_analytics.key,
                 config.enterprise_analytics.key_source, admin_home, analytics_home);
  if (!config.organizations.empty()) {
    for (const Config::ApiSource* top : std::initializer_list<const Config::ApiSource*>{
             &config.admin_api, &config.enterprise_analytics}) {
      if (!top->key.empty()) {
        throw ConfigError(top->key_source +
                          " is set, but [[organizations]] entries are configured: with them, "
                          "each organization's key comes from its own key_env or key_file, and "
                          "[admin_api] and [enterprise_analytics] are not polled. Unset it.");
      }
    }
  }
  for (size_t i = 0; i < config.organizations.size(); ++i) {
    auto& o = config.organizations[i];
    const std::string where = "organizations[" + std::to_string(i) + "] (" + o.name + ")";
    const std::string what = o.source == "admin_api"
                                 ? "the Admin API key (sk-ant-admin…)"
                                 : "the Enterprise Analytics API key (sk-ant-api01…)";
    if (o.key_env.empty() && o.api.key_file.empty() && o.api.enabled) {
      throw ConfigError(where + ": no key: set key_env to the environment variable that holds " +
                        what + ", or key_file to a file that does");
    }
    load_key(o.api, where, o.key_env.empty() ? "" : o.key_env.c_str(), what, getenv);
    if (!o.key_env.empty() && o.api.key.empty() && o.api.enabled && o.api.key_file.empty()) {
      throw ConfigError(where + ": the environment variable " + o.key_env +
                        " (key_env) is not set; it must hold " + what);
    }
    check_key_kind(o.source, o.api.key, o.api.key_source, "an entry with source = \"admin_api\"",
                   "an entry with source = \"enterprise_analytics\"");
  }
  for (auto [file, web] : {std::pair{&config.otlp.web_config_file, &config.otlp.web},
                           {&config.exposition.web_config_file, &config.exposition.web}}) {
    if (!file->empty()) *web = load_web_config(*file);
  }
  if (!config.otlp.auth_tokens_file.empty()) {
    std::ifstream in(config.otlp.auth_tokens_file);
    if (!in) {
      throw ConfigError("otlp.auth_tokens_file: cannot read \"" + config.otlp.auth_tokens_file +
                        "\"; it must hold one token per line");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    auto tokens = split(ss.str(), '\n');
    if (tokens.empty()) {
      throw ConfigError("otlp.auth_tokens_file: \"" + config.otlp.auth_tokens_file +
                        "\" holds no token; put one token per line");
    }
    for (auto& t : tokens)
      config.otlp.auth_tokens.push_back(t);
  }
}

std::string to_toml(const Config& config) {
  toml::table root;
  Config c = config;  // walk() takes the config it fills; printing only reads it
  walk(
      [&](const std::string& name, const auto& fields) {
        toml::table t;
        Printer p(t);
        fields(p);
        root.insert_or_assign(name, std::move(t));
      },
      c);
  if (!c.organizations.empty()) {
    toml::array entries;
    for (auto& o : c.organizations) {
      toml::table t;
      Printer p(t);
      organization_fields(p, o);
      entries.push_back(std::move(t));
    }
    root.insert_or_assign("organizations", std::move(entries));
  }
  std::ostringstream out;
  out << root << "\n";
  return out.str();
}

}  // namespace cce::config
