#pragma once

#include <prometheus/metric_family.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace cce::metrics {

// One /metrics rendering, held compactly and written out as text on demand. A sample is its
// value and up to four label fragments: ids of rendered `name="value",…` pieces shared between
// samples (an actor's labels, a date, a model and token type), so 350,000 samples take a few
// MB instead of the 50 MB of their text. The text is streamed from it in blocks, so neither a
// family vector nor the whole text is ever built. Immutable once built; safe to share.
class Snapshot {
 public:
  // Takes a block of text; false stops the writing (the receiver is gone).
  using Emit = std::function<bool(std::string_view)>;

  // The text format (0.0.4), passed to `emit` in blocks of about `block` bytes; false when
  // `emit` stopped it.
  bool write(const Emit& emit, size_t block = 64 * 1024) const;
  std::string text() const;
  // As prometheus-cpp families (the Collectable interface, tests).
  std::vector<prometheus::MetricFamily> families() const;

 private:
  friend class SnapshotBuilder;
  struct Row {
    std::array<uint32_t, 4> labels{};  // fragment ids in order; 0 = none
    double value = 0;
  };
  // Rows in fixed blocks: growing never copies them or leaves a doubled capacity behind.
  class Rows {
   public:
    void push_back(const Row& row);
    Row& operator[](size_t i) { return blocks_[i / kBlock][i % kBlock]; }
    size_t size() const { return size_; }
    template <typename F>
    void for_each(F&& f) const {
      for (size_t i = 0; i < size_; ++i)
        f(blocks_[i / kBlock][i % kBlock]);
    }

   private:
    static constexpr size_t kBlock = 4096;
    std::vector<std::unique_ptr<Row[]>> blocks_;
    size_t size_ = 0;
  };
  struct Family {
    std::string name;
    std::string help;
    prometheus::MetricType type;
    Rows rows;
    std::vector<prometheus::ClientMetric> histograms;
  };
  std::string label_text(const Row& row) const;

  std::string prefix_;  // written before the families (the agent's own metrics)
  // Fragment texts, in blocks that never move (the views point into them); [0] = "".
  std::vector<std::unique_ptr<char[]>> fragment_blocks_;
  char* fragment_free_ = nullptr;  // the unused end of the last block
  size_t fragment_free_size_ = 0;
  std::vector<std::string_view> fragments_;
  std::vector<Family> families_;
};

// Builds a Snapshot. With `fold` (label transforms that can merge actors, e.g. privacy
// "domain"), samples with identical labels are summed (or max'ed) so the exposition stays valid;
// without it every sample is distinct by construction and the lookup is skipped.
class SnapshotBuilder {
 public:
  using Labels = std::array<uint32_t, 4>;
  using Family = size_t;

  explicit SnapshotBuilder(bool fold);

  // Text written before the families.
  void set_prefix(std::string text);
  // The family's handle; declared families appear (empty) even without samples.
  Family declare(std::string_view name, std::string_view help, prometheus::MetricType type);
  // The id of a rendered label fragment (`a="x",b="y"`, from append_label); 0 for "".
  uint32_t fragment(std::string_view text);

  // How a sample meets another with the same labels: kAsBuilt follows `fold`; kSum and kMax
  // always fold (aggregating families, timestamps).
  enum class Combine { kAsBuilt, kSum, kMax };
  void add(Family family, const Labels& labels, double value, Combine combine = Combine::kAsBuilt);
  void histogram(Family family, prometheus::ClientMetric m);
  // Every family's sample count, as the family claude_code_exporter_series.
  void add_series_family();

  Snapshot finish() &&;

 private:
  struct LabelsHash {
    size_t operator()(const Labels& l) const;
  };
  bool fold_;
  Snapshot s_;
  std::unordered_map<std::string_view, uint32_t> fragment_ids_;  // views of s_.fragments_
  std::unordered_map<std::string, Family> family_ids_;
  std::vector<std::unordered_map<Labels, size_t, LabelsHash>> positions_;  // per family, folding
};

}  // namespace cce::metrics
