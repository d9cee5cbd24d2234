// The wire reader against libprotobuf: whatever it reads must be exactly what decoding with
// libprotobuf gives for the same bytes, and what it leaves must go to libprotobuf.
#include "cce/otlp/wire_reader.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <bit>
#include <filesystem>
#include <random>
#include <sstream>

#include "cce/otlp/decoder.h"
#include "mutate.h"
#include "otlp.pb.h"
#include "test_support.h"

using namespace cce;
using otlp::Encoding;

namespace {

// Every field of a decoded request, numbers by their bits: two requests are the same when
// their descriptions are.
struct Describe {
  std::ostringstream out;
  void value(const otlp::AttrValue& v) {
    out << v.index() << ':';
    if (auto* d = std::get_if<double>(&v)) {
      out << std::bit_cast<uint64_t>(*d);
    } else if (v.index() != 0) {
      out << otlp::to_text(v);
    }
  }
  void attributes(const otlp::Attributes& attrs) {
    out << '{';
    for (const auto& a : attrs) {
      out << a.key << '=';
      value(a.value);
      out << ',';
    }
    out << '}';
  }
  void scope(const otlp::Scope& s) { out << " scope " << s.name << '/' << s.version; }
  std::string operator()(const otlp::MetricsRequest& r) {
    for (const auto& rm : r.resources) {
      out << "resource " << rm.resource_hash;
      attributes(*rm.resource);
      for (const auto& sm : rm.scopes) {
        scope(sm.scope);
        for (const auto& m : sm.metrics) {
          out << "\n metric " << m.name << ' ' << m.unit << ' ' << static_cast<int>(m.kind) << ' '
              << static_cast<int>(m.temporality) << ' ' << m.monotonic << ' ' << m.opaque_points;
          for (const auto& p : m.points) {
            out << "\n  point " << p.start_ns << ' ' << p.time_ns << ' ' << p.flags << ' '
                << p.attributes_hash << ' '
                << (p.value ? std::to_string(std::bit_cast<uint64_t>(*p.value)) : "none");
            attributes(p.attributes);
          }
        }
      }
      out << '\n';
    }
    return out.str();
  }
  std::string operator()(const otlp::LogsRequest& r) {
    for (const auto& rl : r.resources) {
      out << "resource " << rl.resource_hash;
      attributes(*rl.resource);
      for (const auto& sl : rl.scopes) {
        scope(sl.scope);
        for (const auto& rec : sl.records) {
          out << "\n record " << rec.time_ns << ' ' << rec.observed_ns << ' ' << rec.body << ' '
              << rec.event_name << ' ' << rec.attributes_hash;
          attributes(rec.attributes);
        }
      }
      out << '\n';
    }
    return out.str();
  }
};

template <typename T>
std::string describe(const T& request) {
  return Describe{}(request);
}

// What libprotobuf makes of `body`: the description, or nullopt when it refuses it.
std::optional<std::string> reference_metrics(const std::string& body) {
  auto d = otlp::decode_metrics_with_libprotobuf(body, Encoding::kProtobuf);
  if (auto* m = std::get_if<otlp::MetricsRequest>(&d)) return describe(*m);
  return std::nullopt;
}
std::optional<std::string> reference_logs(const std::string& body) {
  auto d = otlp::decode_logs_with_libprotobuf(body, Encoding::kProtobuf);
  if (auto* l = std::get_if<otlp::LogsRequest>(&d)) return describe(*l);
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> recorded(const std::string& signal) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e :
       std::filesystem::directory_iterator(test::testdata("claude-code/requests"))) {
    const auto name = e.path().filename().string();
    if (name.ends_with("_" + signal + ".bin")) {
      out.emplace_back(name, test::read_file(e.path().string()));
    }
  }
  REQUIRE(out.size() >= 5);
  return out;
}

// A new attribute `key` in `attrs`: its value, to set.
otlp::pb::AnyValue* add_value(google::protobuf::RepeatedPtrField<otlp::pb::KeyValue>* attrs,
                              const std::string& key) {
  auto* kv = attrs->Add();
  kv->set_key(key);
  return kv->mutable_value();
}

// A small logs export made with libprotobuf, for the cases the recordings do not hold.
otlp::pb::ExportLogsServiceRequest logs_export() {
  otlp::pb::ExportLogsServiceRequest req;
  auto* rl = req.add_resource_logs();
  add_value(rl->mutable_resource()->mutable_attributes(), "service.name")
      ->set_string_value("claude-code");
  auto* sl = rl->add_scope_logs();
  sl->mutable_scope()->set_name("com.anthropic.claude_code.events");
  auto* rec = sl->add_log_records();
  rec->set_time_unix_nano(1763726400000000000);
  rec->set_event_name("claude_code.api_request");
  rec->mutable_body()->set_string_value("claude_code.api_request");
  add_value(rec->mutable_attributes(), "user.email")->set_string_value("dev@example.com");
  add_value(rec->mutable_attributes(), "cost_usd")->set_double_value(0.0123);
  return req;
}

otlp::pb::LogRecord* first_record(otlp::pb::ExportLogsServiceRequest& req) {
  return req.mutable_resource_logs(0)->mutable_scope_logs(0)->mutable_log_records(0);
}

std::string varint(uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7)
    out += static_cast<char>(v | 0x80);
  return out + static_cast<char>(v);
}

// Appends a field of any wire type to a serialized message (a length-delimited payload gets its
// length).
std::string with_field(std::string msg, uint32_t field, uint32_t wire, std::string_view payload) {
  msg += varint(uint64_t{field} << 3 | wire);
  if (wire == 2) msg += varint(payload.size());
  return msg + std::string(payload);
}

}  // namespace

TEST_CASE("wire reader: every recorded export reads exactly as libprotobuf decodes it") {
  for (const auto& [name, body] : recorded("metrics")) {
    CAPTURE(name);
    auto read = otlp::read_metrics_wire(body);
    REQUIRE(read);
    CHECK(read->point_count() > 0);
    CHECK(describe(*read) == reference_metrics(body));
  }
  for (const auto& [name, body] : recorded("logs")) {
    CAPTURE(name);
    auto read = otlp::read_logs_wire(body);
    REQUIRE(read);
    CHECK(read->record_count() > 0);
    CHECK(describe(*read) == reference_logs(body));
  }
}

namespace {
// One byte changed: into a printable character (most often still a valid export, with a
// different string or number), or into any byte.
std::string change_one_byte(std::string s, std::mt19937_64& rng) {
  const size_t at = std::uniform_int_distribution<size_t>(0, s.size() - 1)(rng);
  s[at] = static_cast<char>(rng() % 3 == 0 ? rng() : ' ' + rng() % 95);
  return s;
}
}  // namespace

TEST_CASE("wire reader: 20,000 mutated exports read as libprotobuf decodes them, or are left") {
  auto metrics = recorded("metrics");
  auto logs = recorded("logs");
  std::mt19937_64 rng(20261124);  // fixed seed: failures reproduce
  size_t read = 0, left_valid = 0, left_invalid = 0;
  for (int i = 0; i < 20000; ++i) {
    const bool is_logs = i % 2 == 1;
    const auto& seeds = is_logs ? logs : metrics;
    std::string body = seeds[static_cast<size_t>(i / 2) % seeds.size()].second;
    body = i % 4 == 0 ? test::mutate(body, rng) : change_one_byte(body, rng);
    const auto reference = is_logs ? reference_logs(body) : reference_metrics(body);
    std::optional<std::string> mine;
    if (is_logs) {
      if (auto r = otlp::read_logs_wire(body)) mine = describe(*r);
    } else {
      if (auto r = otlp::read_metrics_wire(body)) mine = describe(*r);
    }
    if (mine) {
      ++read;
      REQUIRE(reference);  // read bytes that libprotobuf refuses: never
      CHECK(*mine == *reference);
    } else {
      ++(reference ? left_valid : left_invalid);
    }
  }
  MESSAGE("read " << read << ", left to libprotobuf " << left_valid << " valid and " << left_invalid
                  << " invalid");
  // Both sides are exercised: mutations that keep an export valid, and ones that break it.
  CHECK(read > 2000);
  CHECK(left_invalid > 2000);
}

TEST_CASE("wire reader: what it leaves to libprotobuf") {
  const std::string good = logs_export().SerializeAsString();
  REQUIRE(otlp::read_logs_wire(good));

  SUBCASE("a resource sent twice, which libprotobuf merges into one") {
    auto req = logs_export();
    std::string resource = req.resource_logs(0).resource().SerializeAsString();
    std::string rl = with_field(req.resource_logs(0).SerializeAsString(), 1, 2, resource);
    std::string body = with_field("", 1, 2, rl);
    CHECK_FALSE(otlp::read_logs_wire(body));
    auto merged = otlp::decode_logs(body, Encoding::kProtobuf);
    REQUIRE(std::holds_alternative<otlp::LogsRequest>(merged));
    CHECK(std::get<otlp::LogsRequest>(merged).resources[0].resource->size() == 2);
  }
  SUBCASE("invalid UTF-8 in a string, which libprotobuf refuses") {
    auto req = logs_export();
    first_record(req)->set_event_name("bad \xc3\x28 name");
    std::string body;
    req.SerializePartialToString(&body);
    CHECK_FALSE(otlp::read_logs_wire(body));
    CHECK(std::holds_alternative<otlp::DecodeError>(otlp::decode_logs(body, Encoding::kProtobuf)));
  }
  SUBCASE("values nested more than 32 deep") {
    auto req = logs_export();
    auto* v = add_value(first_record(req)->mutable_attributes(), "deep");
    for (int i = 0; i < 40; ++i)
      v = v->mutable_array_value()->add_values();
    v->set_int_value(1);
    const std::string body = req.SerializeAsString();
    CHECK_FALSE(otlp::read_logs_wire(body));
    auto d = otlp::decode_logs(body, Encoding::kProtobuf);
    REQUIRE(std::holds_alternative<otlp::LogsRequest>(d));
    CHECK(describe(std::get<otlp::LogsRequest>(d)) == reference_logs(body));
  }
  SUBCASE("a group, and an invalid wire type") {
    const std::string grouped = with_field(good, 9, 3, "") + with_field("", 9, 4, "");
    CHECK_FALSE(otlp::read_logs_wire(grouped));
    CHECK(
        std::holds_alternative<otlp::LogsRequest>(otlp::decode_logs(grouped, Encoding::kProtobuf)));
    CHECK_FALSE(otlp::read_logs_wire(with_field(good, 9, 7, "")));
    CHECK_FALSE(otlp::read_logs_wire(with_field(good, 0, 0, "\x01")));  // field number 0
  }
}

TEST_CASE("wire reader: what it reads as libprotobuf does") {
  SUBCASE("unknown fields of every plain wire type are skipped") {
    std::string body = logs_export().SerializeAsString();
    body = with_field(body, 900, 0, "\x96\x01");
    body = with_field(body, 901, 1, "12345678");
    body = with_field(body, 902, 2, "skip me");
    body = with_field(body, 903, 5, "1234");
    auto read = otlp::read_logs_wire(body);
    REQUIRE(read);
    CHECK(describe(*read) == reference_logs(body));
  }
  SUBCASE("empty strings, bools, ints and bytes keep their kinds") {
    auto req = logs_export();
    auto* attrs = first_record(req)->mutable_attributes();
    add_value(attrs, "empty")->set_string_value("");
    add_value(attrs, "flag")->set_bool_value(false);
    add_value(attrs, "negative")->set_int_value(-42);
    add_value(attrs, "id")->set_bytes_value(std::string("\x00\xff", 2));
    attrs->Add()->set_key("unset");  // no value at all
    const std::string body = req.SerializeAsString();
    auto read = otlp::read_logs_wire(body);
    REQUIRE(read);
    const auto& got = read->resources[0].scopes[0].records[0].attributes;
    CHECK(std::get<std::string>(*otlp::find(got, "empty")).empty());
    CHECK(std::get<bool>(*otlp::find(got, "flag")) == false);
    CHECK(std::get<int64_t>(*otlp::find(got, "negative")) == -42);
    CHECK(std::get<otlp::Composite>(*otlp::find(got, "id")).text == "0x00ff");
    CHECK(std::holds_alternative<std::monostate>(*otlp::find(got, "unset")));
    CHECK(describe(*read) == reference_logs(body));
  }
  SUBCASE("arrays and key-value lists, nested, as text") {
    auto req = logs_export();
    auto* attrs = first_record(req)->mutable_attributes();
    auto* values = add_value(attrs, "list")->mutable_array_value();
    values->add_values()->set_int_value(7);
    values->add_values()->set_string_value("x");
    values->add_values();  // an empty value
    auto* inner = values->add_values()->mutable_kvlist_value()->add_values();
    inner->set_key("k");
    inner->mutable_value()->mutable_array_value()->add_values()->set_bool_value(true);
    add_value(attrs, "sources")->mutable_array_value();
    const std::string body = req.SerializeAsString();
    auto read = otlp::read_logs_wire(body);
    REQUIRE(read);
    const auto& got = read->resources[0].scopes[0].records[0].attributes;
    CHECK(std::get<otlp::Composite>(*otlp::find(got, "list")).text == "[7,x,,{k=[true]}]");
    CHECK(std::get<otlp::Composite>(*otlp::find(got, "sources")).text == "[]");
    CHECK(describe(*read) == reference_logs(body));
  }
  SUBCASE("a gauge carries no temporality, even when sent one") {
    otlp::pb::ExportMetricsServiceRequest req;
    auto* m = req.add_resource_metrics()->add_scope_metrics()->add_metrics();
    m->set_name("claude_code.session.count");
    auto* p = m->mutable_gauge()->add_data_points();
    p->set_as_int(3);
    p->set_flags(1);
    std::string gauge = with_field(m->gauge().SerializeAsString(), 2, 0, "\x01");
    std::string metric = with_field(with_field("", 1, 2, m->name()), 5, 2, gauge);
    std::string scope_metrics = with_field("", 2, 2, metric);
    std::string body = with_field("", 1, 2, with_field("", 2, 2, scope_metrics));
    auto read = otlp::read_metrics_wire(body);
    REQUIRE(read);
    const auto& got = read->resources[0].scopes[0].metrics[0];
    CHECK(got.kind == otlp::MetricKind::kGauge);
    CHECK(got.temporality == otlp::Temporality::kUnspecified);
    CHECK(got.points[0].value == 3.0);
    CHECK(got.points[0].no_recorded_value());
    CHECK(describe(*read) == reference_metrics(body));
  }
}
