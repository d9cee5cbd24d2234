#pragma once

#include <crypt.h>
#include <doctest/doctest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>

#include "cce/app/app.h"
#include "cce/config/config.h"
#include "cce/usage/observation.h"
#include "cce/util/civil_date.h"
#include "cce/util/clock.h"

namespace cce::test {

// Sums observations the way the ledger does, keyed "<actor key> <quantity> <labels>" with the
// label values joined by '/'.
inline std::map<std::string, double> observation_sums(const std::vector<usage::Observation>& obs) {
  std::map<std::string, double> out;
  for (const auto& o : obs) {
    std::string labels = o.labels;
    for (auto& ch : labels)
      if (ch == '\x1f') ch = '/';
    out[o.actor.key() + " " + std::string(usage::to_string(o.quantity)) + " " + labels] += o.value;
  }
  return out;
}

inline std::string testdata(const std::string& rel) {
  return std::string(CCE_TESTDATA_DIR) + "/" + rel;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A fresh directory under /tmp, removed on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "cce-test-XXXXXX").string();
    path_ = mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Golden error messages: every `<name><ext>` file in testdata/<dir> must make `parse` throw
// ConfigError with exactly the message in `<name>.expected` (UPDATE_GOLDEN=1 rewrites them).
// Returns how many files were checked.
template <typename Parse>
int check_golden_errors(const std::string& dir, const std::string& ext, Parse parse) {
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(testdata(dir))) {
    if (e.path().extension() != ext) continue;
    ++files;
    const std::string name = e.path().filename().string();
    CAPTURE(name);
    std::string message;
    try {
      parse(read_file(e.path().string()), name);
    } catch (const config::ConfigError& err) {
      message = err.what();
    }
    REQUIRE_FALSE(message.empty());
    auto expected_path = e.path();
    expected_path.replace_extension(".expected");
    if (std::getenv("UPDATE_GOLDEN")) {
      std::ofstream(expected_path) << message << "\n";
      continue;
    }
    std::string expected = read_file(expected_path.string());
    while (!expected.empty() && expected.back() == '\n')
      expected.pop_back();
    CHECK(message == expected);
  }
  return files;
}

// A recorded Claude Code export (tests/testdata/claude-code/requests/).
inline std::string request_fixture(const std::string& name) {
  return read_file(testdata("claude-code/requests/" + name));
}

// The commit counter that pb-delta__0032_metrics.bin (and its JSON twin) sets to 1.
inline const std::string kFixtureCommitSeries =
    "claude_code_commits_total{actor="
    "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",actor_type=\"install\","
    "team=\"platform\"}";

inline util::TimePoint fixture_noon() {
  return *util::parse_time_point("2026-11-22T12:00:00Z");
}

// An App on 127.0.0.1 port 0 (both listeners) with its store in a temp dir.
struct RunningApp {
  // `resolve` also reads the files and environment the config names (web config files, token
  // files), as the agent does at start-up.
  explicit RunningApp(const std::string& extra_toml = "", const std::string& db = "",
                      bool resolve = false) {
    std::string path = db.empty() ? dir.file("store.db") : db;
    config = config::parse(extra_toml, "test");
    if (resolve)
      config::apply_environment(config, [](const char*) -> const char* { return nullptr; });
    config.otlp.listen = {"127.0.0.1", 0};
    config.otlp.grpc_listen = {"127.0.0.1", 0};
    // Tests scrape right after posting: every scrape renders.
    config.exposition.min_render_interval = std::chrono::milliseconds(0);
    config.exposition.listen = {"127.0.0.1", 0};
    config.store.path = path;
    clock = std::make_shared<util::ManualClock>(fixture_noon());
    app = std::make_unique<app::App>(config, clock);
    app->start();
  }
  httplib::Client otlp() const {
    httplib::Client c("127.0.0.1", app->otlp_port());
    c.set_read_timeout(10, 0);
    return c;
  }
  std::string scrape() const {
    httplib::Client c("127.0.0.1", app->metrics_port());
    auto r = c.Get("/metrics");
    return r ? r->body : std::string();
  }
  TempDir dir;
  config::Config config;
  std::shared_ptr<util::ManualClock> clock;
  std::unique_ptr<app::App> app;
};

// The value of the first sample whose line starts with `series` (name plus labels as written),
// or NaN.
inline double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series, 0) == 0 && line.size() > series.size() &&
        (line[series.size()] == ' ' || line[series.size()] == '{')) {
      if (line[series.size()] == '{') continue;
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nan("");
}

// Sums every sample of a family whose labels contain all the given `k="v"` fragments.
inline double sum_family(const std::string& text, const std::string& family,
                         std::initializer_list<std::string> must_contain = {}) {
  std::istringstream in(text);
  std::string line;
  double total = 0;
  bool any = false;
  while (std::getline(in, line)) {
    if (line.rfind(family + "{", 0) != 0 && line.rfind(family + " ", 0) != 0) continue;
    bool ok = true;
    for (const auto& frag : must_contain)
      ok &= line.find(frag) != std::string::npos;
    if (!ok) continue;
    total += std::stod(line.substr(line.rfind(' ') + 1));
    any = true;
  }
  return any ? total : std::nan("");
}

// A bcrypt hash of a password (cost 4: fast), as a web config's basic_auth_users holds it.
inline std::string bcrypt_hash(const char* password) {
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  if (!crypt_gensalt_rn("$2b$", 4, nullptr, 0, salt, sizeof salt)) return {};
  crypt_data data{};
  const char* hash = crypt_rn(password, salt, &data, sizeof data);
  return hash ? hash : "";
}

// An Authorization header for basic auth: "Basic " + base64("user:password").
inline std::string basic_authorization(const std::string& user_pass) {
  static const char* kB64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < user_pass.size(); i += 3) {
    uint32_t n = static_cast<unsigned char>(user_pass[i]) << 16;
    if (i + 1 < user_pass.size()) n |= static_cast<unsigned char>(user_pass[i + 1]) << 8;
    if (i + 2 < user_pass.size()) n |= static_cast<unsigned char>(user_pass[i + 2]);
    out += kB64[(n >> 18) & 63];
    out += kB64[(n >> 12) & 63];
    out += i + 1 < user_pass.size() ? kB64[(n >> 6) & 63] : '=';
    out += i + 2 < user_pass.size() ? kB64[n & 63] : '=';
  }
  return "Basic " + out;
}

}  // namespace cce::test
