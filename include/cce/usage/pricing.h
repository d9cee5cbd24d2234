#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace cce::usage {

// USD per million tokens.
struct ModelPrice {
  double input = 0;
  double output = 0;
  double cache_read = 0;
  double cache_write_5m = 0;
  double cache_write_1h = 0;
};

enum class CacheTtl { k5m, k1h };

// The price table: defaults for current models (the pricing page, 2026-08), overridable per
// model in the config. Lookups take normalized model ids and fall back from a dated id
// ("claude-haiku-4-5-20251001") to its alias ("claude-haiku-4-5"). Pure; thread-safe to read.
class PriceTable {
 public:
  static PriceTable defaults();

  void set(const std::string& model, const ModelPrice& price) { prices_[model] = price; }
  std::optional<ModelPrice> find(std::string_view model) const;
  const std::map<std::string, ModelPrice>& all() const { return prices_; }

  // Estimated USD for these tokens. Cache writes are not split by TTL in either source, so
  // `ttl` says which write price to assume.
  static double cost(const ModelPrice& p, double input, double output, double cache_read,
                     double cache_creation, CacheTtl ttl);

 private:
  std::map<std::string, ModelPrice> prices_;
};

}  // namespace cce::usage
