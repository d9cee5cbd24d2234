#include "cce/usage/spend_limits.h"

#include <array>

namespace cce::usage {

void SpendLimits::replace(const std::string& org, std::vector<SpendLimit> rows) {
  std::lock_guard lock(mu_);
  by_org_[org] = std::move(rows);
}

std::map<std::string, std::vector<SpendLimit>> SpendLimits::snapshot() const {
  std::lock_guard lock(mu_);
  return by_org_;
}

int currency_exponent(std::string_view code) {
  // ISO 4217 currencies whose minor unit is not the hundredth.
  static constexpr std::array<std::string_view, 16> kZero = {
      "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW",
      "PYG", "RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF"};
  static constexpr std::array<std::string_view, 7> kThree = {"BHD", "IQD", "JOD", "KWD",
                                                             "LYD", "OMR", "TND"};
  for (auto c : kZero)
    if (c == code) return 0;
  for (auto c : kThree)
    if (c == code) return 3;
  return 2;
}

}  // namespace cce::usage
