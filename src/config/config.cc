#include "cce/config/config.h"

#include <toml++/toml.h>
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

  {
    Section s = top.table("http");
    s.integer("max_connections", c.http.max_connections, 1, 1000, "a whole number");
    s.integer("min_threads", c.http.min_threads, 1, 1000, "a whole number");
    s.duration("keep_alive_timeout", c.http.keep_alive_timeout, milliseconds(1000));
    s.integer("keep_alive_max_requests", c.http.keep_alive_max_requests, 1, 1000000,
              "a whole number");
    s.duration("read_timeout", c.http.read_timeout, milliseconds(100));
    s.duration("write_timeout", c.http.write_timeout, milliseconds(100));
    s.boolean("tcp_nodelay", c.http.tcp_nodelay);
    s.reject_unknown();
    if (c.http.min_threads > c.http.max_connections) {
      s.fail("min_threads", "must not exceed http.max_connections (" +
                                std::to_string(c.http.max_connections) + ")");
    }
  }
  {
    Section s = top.table("otlp");
    s.boolean("enabled", c.otlp.enabled);
    std::string listen;
    s.string("listen", listen);
    if (!listen.empty()) c.otlp.listen = parse_listen(listen, origin + ": otlp.listen");
    s.integer("max_body_bytes", c.otlp.max_body_bytes, 1024, int64_t{1} << 32, "a number of bytes");
    s.string_list("auth_tokens", c.otlp.auth_tokens);
    s.string("auth_tokens_file", c.otlp.auth_tokens_file);
    s.duration("dedupe_window", c.otlp.dedupe_window, milliseconds(60000));
    s.duration("series_ttl", c.otlp.series_ttl, milliseconds(60000));
    s.reject_unknown();
    for (const auto& t : c.otlp.auth_tokens) {
      if (t.empty()) s.fail("auth_tokens", "must not contain an empty token");
    }
  }
  {
    Section s = top.table("exposition");
    std::string listen;
    s.string("listen", listen);
    if (!listen.empty()) c.exposition.listen = parse_listen(listen, origin + ": exposition.listen");
    s.integer("daily_window_days", c.exposition.daily_window_days, 1, 400, "a number of days");
    s.reject_unknown();
  }
  {
    Section s = top.table("store");
    s.string("path", c.store.path);
    if (c.store.path.empty()) s.fail("path", "must not be empty; name the SQLite file to use");
    std::string sync = "full";
    s.string("synchronous", sync);
    if (sync == "full") {
      c.store.synchronous = store::Synchronous::kFull;
    } else if (sync == "normal") {
      c.store.synchronous = store::Synchronous::kNormal;
    } else {
      s.fail("synchronous", "must be \"full\" or \"normal\" (got \"" + sync + "\")");
    }
    s.integer("retention_days", c.store.retention_days, 7, 3650, "a number of days");
    s.reject_unknown();
  }
  {
    Section s = top.table("identity");
    s.string_list("attributes", c.identity.attributes);
    s.string_map("aliases", c.identity.aliases);
    s.string_list("team_attributes", c.identity.team_attributes);
    s.reject_unknown();
  }
  {
    Section s = top.table("admin_api");
    auto& a = c.admin_api;
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
    s.reject_unknown();
    const std::string& url = a.base_url;
    const bool https = url.rfind("https://", 0) == 0;
    const bool http = url.rfind("http://", 0) == 0;
    if (!https && !http) {
      s.fail("base_url",
             "\"" + url + "\" must start with https:// (e.g. \"https://api.anthropic.com\")");
    }
    if (http && !is_loopback_url(url)) {
      // The Admin key must never cross a network in clear text; plain HTTP is for a local test
      // server only.
      s.fail("base_url", "plain http:// is only allowed to a loopback address; use https://");
    }
  }
  {
    Section s = top.table("merge");
    s.boolean("otel_for_today", c.merge.otel_for_today);
    s.reject_unknown();
  }
  {
    Section s = top.table("pricing");
    s.string("cache_write_ttl", c.pricing.cache_write_ttl);
    if (c.pricing.cache_write_ttl != "5m" && c.pricing.cache_write_ttl != "1h") {
      s.fail("cache_write_ttl",
             "must be \"5m\" or \"1h\" (got \"" + c.pricing.cache_write_ttl + "\")");
    }
    Section models = s.table("models");
    if (auto* n = models.get_table()) {
      for (const auto& [k, v] : *n) {
        const std::string model(k.str());
        Section m = models.table(model);
        usage::ModelPrice price;
        bool any = false;
        for (auto [key, field] :
             {std::pair{"input", &price.input}, std::pair{"output", &price.output},
              std::pair{"cache_read", &price.cache_read},
              std::pair{"cache_write_5m", &price.cache_write_5m},
              std::pair{"cache_write_1h", &price.cache_write_1h}}) {
          any |= m.number(key, *field);
        }
        m.reject_unknown();
        if (!any)
          m.fail("input",
                 "a model price needs input, output, cache_read, cache_write_5m, cache_write_1h "
                 "(USD per million tokens)");
        c.pricing.models[model] = price;
      }
    }
    s.reject_unknown();
  }
  {
    Section s = top.table("teams");
    s.string_map("map", c.teams.map);
    s.reject_unknown();
  }
  {
    Section s = top.table("budgets");
    auto read_periods = [&](Section& b, const std::string& scope, const std::string& name) {
      for (const char* period : {"day", "month"}) {
        double usd = -1;
        if (b.number(period, usd)) c.budgets.push_back({scope, name, period, usd});
      }
      b.reject_unknown();
    };
    {
      Section org = s.table("org");
      read_periods(org, "org", "org");
    }
    for (const char* group : {"teams", "users"}) {
      Section g = s.table(group);
      if (auto* t = g.get_table()) {
        for (const auto& [k, v] : *t) {
          const std::string name(k.str());
          Section b = g.table(name);
          read_periods(b, group == std::string("teams") ? "team" : "user",
                       group == std::string("users") ? util::lower(name) : name);
        }
      }
      g.reject_unknown();
    }
    s.reject_unknown();
  }
  {
    Section s = top.table("limits");
    s.integer("max_actors", c.limits.max_actors, 1, 10000000, "a number of actors");
    s.reject_unknown();
  }
  {
    Section s = top.table("privacy");
    s.string("actor_label", c.privacy.actor_label);
    if (c.privacy.actor_label != "email" && c.privacy.actor_label != "hash" &&
        c.privacy.actor_label != "domain") {
      s.fail("actor_label",
             "must be \"email\", \"hash\" or \"domain\" (got \"" + c.privacy.actor_label + "\")");
    }
    s.string("hash_key_file", c.privacy.hash_key_file);
    s.reject_unknown();
  }
  {
    Section s = top.table("log");
    s.string("level", c.log.level);
    static const std::set<std::string> kLevels = {"trace", "debug", "info", "warn", "error", "off"};
    if (!kLevels.count(c.log.level)) {
      s.fail("level",
             "must be one of trace, debug, info, warn, error, off (got \"" + c.log.level + "\")");
    }
    s.reject_unknown();
  }
  top.reject_unknown();
  if (c.admin_api.backfill_days > c.store.retention_days) {
    throw ConfigError(
        origin + ": admin_api.backfill_days (" + std::to_string(c.admin_api.backfill_days) +
        ") must not exceed store.retention_days (" + std::to_string(c.store.retention_days) +
        "): days older than the retention are not kept");
  }
  if (c.otlp.enabled && c.otlp.listen.port != 0 && c.otlp.listen.port == c.exposition.listen.port &&
      c.otlp.listen.host == c.exposition.listen.host) {
    throw ConfigError(origin + ": otlp.listen and exposition.listen are both " +
                      c.otlp.listen.str() + "; give them different ports");
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
  auto& admin = config.admin_api;
  if (const char* env = getenv("ANTHROPIC_ADMIN_API_KEY"); env && *env) {
    admin.key = trim(env);
    admin.key_source = "ANTHROPIC_ADMIN_API_KEY";
  } else if (!admin.key_file.empty()) {
    std::ifstream in(admin.key_file);
    if (!in) {
      throw ConfigError("admin_api.key_file: cannot read \"" + admin.key_file +
                        "\"; it must hold the Admin API key (sk-ant-admin…)");
    }
    std::stringstream ss;
    ss << in.rdbuf();
    admin.key = trim(ss.str());
    admin.key_source = "admin_api.key_file (" + admin.key_file + ")";
    if (admin.key.empty()) {
      throw ConfigError("admin_api.key_file: \"" + admin.key_file +
                        "\" is empty; put the Admin API key (sk-ant-admin…) in it");
    }
  }
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
  if (privacy.actor_label == "hash" && privacy.hash_key.size() < 16) {
    throw ConfigError(
        "privacy.actor_label = \"hash\" needs a secret key of at least 16 characters: set "
        "CLAUDE_CODE_EXPORTER_PRIVACY_KEY or privacy.hash_key_file (e.g. openssl rand -hex 32)");
  }
  if (admin.key.rfind("sk-ant-api", 0) == 0) {
    throw ConfigError(admin.key_source +
                      " holds a regular API key (sk-ant-api…), but the Claude Code usage report "
                      "needs an Admin API key (sk-ant-admin…). An organization admin creates one "
                      "in the Claude Console under Settings → Admin keys.");
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

std::string to_toml(const Config& c) {
  auto dur = [](milliseconds d) { return util::format_duration(d); };
  toml::table http{
      {"max_connections", static_cast<int64_t>(c.http.max_connections)},
      {"min_threads", static_cast<int64_t>(c.http.min_threads)},
      {"keep_alive_timeout", dur(c.http.keep_alive_timeout)},
      {"keep_alive_max_requests", static_cast<int64_t>(c.http.keep_alive_max_requests)},
      {"read_timeout", dur(c.http.read_timeout)},
      {"write_timeout", dur(c.http.write_timeout)},
      {"tcp_nodelay", c.http.tcp_nodelay}};
  toml::array tokens;
  for (size_t i = 0; i < c.otlp.auth_tokens.size(); ++i)
    tokens.push_back("<redacted>");
  toml::table otlp{{"enabled", c.otlp.enabled},
                   {"listen", c.otlp.listen.str()},
                   {"max_body_bytes", static_cast<int64_t>(c.otlp.max_body_bytes)},
                   {"auth_tokens", tokens},
                   {"auth_tokens_file", c.otlp.auth_tokens_file},
                   {"dedupe_window", dur(c.otlp.dedupe_window)},
                   {"series_ttl", dur(c.otlp.series_ttl)}};
  toml::table exposition{{"listen", c.exposition.listen.str()},
                         {"daily_window_days", c.exposition.daily_window_days}};
  toml::table st{
      {"path", c.store.path},
      {"synchronous", c.store.synchronous == store::Synchronous::kFull ? "full" : "normal"}};
  toml::array attrs, team_attrs;
  for (const auto& a : c.identity.attributes)
    attrs.push_back(a);
  for (const auto& a : c.identity.team_attributes)
    team_attrs.push_back(a);
  toml::table aliases;
  for (const auto& [k, v] : c.identity.aliases)
    aliases.insert(k, v);
  toml::table identity{
      {"attributes", attrs}, {"aliases", aliases}, {"team_attributes", team_attrs}};
  toml::table log{{"level", c.log.level}};
  toml::table root{{"http", http}, {"otlp", otlp},         {"exposition", exposition},
                   {"store", st},  {"identity", identity}, {"log", log}};
  std::ostringstream out;
  out << root << "\n";
  return out.str();
}

}  // namespace cce::config
