#include "cce/usage/pricing.h"

#include <cctype>

namespace cce::usage {

PriceTable PriceTable::defaults() {
  // spec F: base input, 5m write (1.25x), 1h write (2x), cache read (0.1x), output.
  auto p = [](double in, double out) { return ModelPrice{in, out, in * 0.1, in * 1.25, in * 2}; };
  PriceTable t;
  t.prices_ = {
      {"claude-fable-5", p(10, 50)},
      {"claude-mythos-5", p(10, 50)},
      {"claude-opus-5", p(5, 25)},
      {"claude-opus-4-8", p(5, 25)},
      {"claude-opus-4-7", p(5, 25)},
      {"claude-opus-4-6", p(5, 25)},
      {"claude-opus-4-5", p(5, 25)},
      {"claude-opus-4-5-20251101", p(5, 25)},
      {"claude-opus-4-1-20250805", p(15, 75)},
      {"claude-opus-4-1", p(15, 75)},
      {"claude-opus-4-20250514", p(15, 75)},
      {"claude-sonnet-5", p(2, 10)},
      {"claude-sonnet-4-6", p(3, 15)},
      {"claude-sonnet-4-5", p(3, 15)},
      {"claude-sonnet-4-5-20250929", p(3, 15)},
      {"claude-sonnet-4-20250514", p(3, 15)},
      {"claude-3-7-sonnet-20250219", p(3, 15)},
      {"claude-haiku-4-5", p(1, 5)},
      {"claude-haiku-4-5-20251001", p(1, 5)},
      {"claude-3-5-haiku-20241022", ModelPrice{0.80, 4, 0.08, 1.00, 1.60}},
      {"claude-3-opus-20240229", p(15, 75)},
      {"claude-3-haiku-20240307", ModelPrice{0.25, 1.25, 0.03, 0.30, 0.50}},
  };
  return t;
}

std::optional<ModelPrice> PriceTable::find(std::string_view model) const {
  if (auto it = prices_.find(std::string(model)); it != prices_.end()) return it->second;
  // "…-YYYYMMDD" -> alias.
  if (model.size() > 9 && model[model.size() - 9] == '-') {
    bool dated = true;
    for (size_t i = model.size() - 8; i < model.size(); ++i) {
      dated &= std::isdigit(static_cast<unsigned char>(model[i])) != 0;
    }
    if (dated) {
      if (auto it = prices_.find(std::string(model.substr(0, model.size() - 9)));
          it != prices_.end()) {
        return it->second;
      }
    }
  }
  return std::nullopt;
}

double PriceTable::cost(const ModelPrice& p, double input, double output, double cache_read,
                        double cache_creation, CacheTtl ttl) {
  const double write = ttl == CacheTtl::k1h ? p.cache_write_1h : p.cache_write_5m;
  return (input * p.input + output * p.output + cache_read * p.cache_read +
          cache_creation * write) /
         1e6;
}

}  // namespace cce::usage
