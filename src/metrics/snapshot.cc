#include "cce/metrics/snapshot.h"

#include <algorithm>

#include "cce/metrics/text_format.h"

namespace cce::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricType;

std::string_view type_name(MetricType t) {
  switch (t) {
    case MetricType::Counter:
      return "counter";
    case MetricType::Histogram:
      return "histogram";
    default:
      return "gauge";
  }
}

void write_histogram(std::string& out, const std::string& name, const ClientMetric& m) {
  std::string labels;
  for (const auto& l : m.label)
    append_label(labels, l.name, l.value);
  append_sample(out, name + "_count", labels, static_cast<double>(m.histogram.sample_count));
  append_sample(out, name + "_sum", labels, m.histogram.sample_sum);
  for (const auto& b : m.histogram.bucket) {
    std::string with_le = labels;
    std::string le;
    append_value(le, b.upper_bound);
    append_label(with_le, "le", le);
    append_sample(out, name + "_bucket", with_le, static_cast<double>(b.cumulative_count));
  }
}

// The inverse of append_label over a sample's label text.
std::vector<ClientMetric::Label> parse_labels(const std::string& text) {
  std::vector<ClientMetric::Label> out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t eq = text.find('=', i);
    ClientMetric::Label l;
    l.name = text.substr(i, eq - i);
    i = eq + 2;  // past ="
    for (; i < text.size() && text[i] != '"'; ++i) {
      if (text[i] == '\\' && i + 1 < text.size()) {
        ++i;
        l.value += text[i] == 'n' ? '\n' : text[i];
      } else {
        l.value += text[i];
      }
    }
    i += 2;  // past ",
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace

void Snapshot::Rows::push_back(const Row& row) {
  if (size_ % kBlock == 0) blocks_.push_back(std::make_unique<Row[]>(kBlock));
  blocks_[size_ / kBlock][size_ % kBlock] = row;
  ++size_;
}

std::string Snapshot::label_text(const Row& row) const {
  std::string out;
  for (const uint32_t id : row.labels) {
    if (id == 0) continue;
    if (!out.empty()) out += ',';
    out += fragments_[id];
  }
  return out;
}

bool Snapshot::write(const Emit& emit, size_t block) const {
  std::string buf;
  buf.reserve(block + 4096);
  bool stopped = false;  // the receiver is gone: the rest is not formatted
  auto flush_if_full = [&] {
    if (buf.size() < block) return;
    stopped = !emit(buf);
    buf.clear();
  };
  buf += prefix_;
  flush_if_full();
  for (const auto& f : families_) {
    if (stopped) return false;
    append_family_head(buf, f.name, f.help, type_name(f.type));
    f.rows.for_each([&](const Row& r) {
      if (stopped) return;
      // append_sample, with the fragments joined in place.
      buf += f.name;
      bool first = true;
      for (const uint32_t id : r.labels) {
        if (id == 0) continue;
        buf += first ? '{' : ',';
        buf += fragments_[id];
        first = false;
      }
      if (!first) buf += '}';
      buf += ' ';
      append_value(buf, r.value);
      buf += '\n';
      flush_if_full();
    });
    for (const auto& h : f.histograms) {
      write_histogram(buf, f.name, h);
      flush_if_full();
    }
  }
  if (stopped) return false;
  return buf.empty() || emit(buf);
}

std::string Snapshot::text() const {
  std::string out;
  write([&](std::string_view piece) {
    out += piece;
    return true;
  });
  return out;
}

std::vector<prometheus::MetricFamily> Snapshot::families() const {
  std::vector<prometheus::MetricFamily> out;
  for (const auto& f : families_) {
    prometheus::MetricFamily mf{f.name, f.help, f.type, {}};
    f.rows.for_each([&](const Row& r) {
      ClientMetric m;
      m.label = parse_labels(label_text(r));
      (f.type == MetricType::Counter ? m.counter.value : m.gauge.value) = r.value;
      mf.metric.push_back(std::move(m));
    });
    mf.metric.insert(mf.metric.end(), f.histograms.begin(), f.histograms.end());
    out.push_back(std::move(mf));
  }
  return out;
}

size_t SnapshotBuilder::LabelsHash::operator()(const Labels& l) const {
  size_t h = 0;
  for (const uint32_t id : l)
    h = h * 1000003 + id;
  return h;
}

SnapshotBuilder::SnapshotBuilder(bool fold) : fold_(fold) {
  s_.fragments_.emplace_back();
}

void SnapshotBuilder::set_prefix(std::string text) {
  s_.prefix_ = std::move(text);
}

SnapshotBuilder::Family SnapshotBuilder::declare(std::string_view name, std::string_view help,
                                                 MetricType type) {
  auto [it, fresh] = family_ids_.try_emplace(std::string(name), s_.families_.size());
  if (fresh) {
    s_.families_.push_back(Snapshot::Family{std::string(name), std::string(help), type, {}, {}});
    positions_.emplace_back();
  }
  return it->second;
}

uint32_t SnapshotBuilder::fragment(std::string_view text) {
  if (text.empty()) return 0;
  if (auto it = fragment_ids_.find(text); it != fragment_ids_.end()) return it->second;
  if (s_.fragment_free_size_ < text.size()) {
    const size_t size = std::max<size_t>(64 * 1024, text.size());
    s_.fragment_blocks_.push_back(std::make_unique<char[]>(size));
    s_.fragment_free_ = s_.fragment_blocks_.back().get();
    s_.fragment_free_size_ = size;
  }
  const std::string_view stored(s_.fragment_free_, text.size());
  std::copy(text.begin(), text.end(), s_.fragment_free_);
  s_.fragment_free_ += text.size();
  s_.fragment_free_size_ -= text.size();
  const auto id = static_cast<uint32_t>(s_.fragments_.size());
  s_.fragments_.push_back(stored);
  fragment_ids_.emplace(stored, id);
  return id;
}

void SnapshotBuilder::add(Family family, const Labels& labels, double value, Combine combine) {
  auto& rows = s_.families_[family].rows;
  if (!fold_ && combine == Combine::kAsBuilt) {
    rows.push_back(Snapshot::Row{labels, value});
    return;
  }
  auto [it, fresh] = positions_[family].try_emplace(labels, rows.size());
  if (fresh) {
    rows.push_back(Snapshot::Row{labels, value});
    return;
  }
  double& slot = rows[it->second].value;
  slot = combine == Combine::kMax ? std::max(slot, value) : slot + value;
}

void SnapshotBuilder::histogram(Family family, ClientMetric m) {
  s_.families_[family].histograms.push_back(std::move(m));
}

void SnapshotBuilder::add_series_family() {
  std::vector<std::pair<std::string, double>> counts;
  for (const auto& f : s_.families_)
    counts.emplace_back(f.name, static_cast<double>(f.rows.size() + f.histograms.size()));
  const Family series =
      declare("claude_code_exporter_series", "Series exposed per metric family in this scrape.",
              MetricType::Gauge);
  for (const auto& [name, n] : counts) {
    std::string text;
    append_label(text, "family", name);
    add(series, {fragment(text)}, n);
  }
}

Snapshot SnapshotBuilder::finish() && {
  fragment_ids_.clear();
  positions_.clear();
  return std::move(s_);
}

}  // namespace cce::metrics
