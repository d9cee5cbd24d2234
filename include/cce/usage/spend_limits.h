#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cce/usage/observation.h"

namespace cce::usage {

// A member's spend cap as the organization's Spend Limits API resolves it for one period
// (GET /v1/organizations/spend_limits/effective), in the organization's billing currency.
struct SpendLimit {
  ActorId actor;                 // users, by lower-cased email
  std::string period;            // "monthly" (an open set)
  std::string currency;          // ISO 4217, never converted
  std::optional<double> amount;  // in the currency's major unit; nullopt: no cap
  double period_spend = 0;       // the API's own period-to-date spend, major unit
};

// The latest complete reading per organization ("" when one is configured). Thread-safe.
class SpendLimits {
 public:
  void replace(const std::string& org, std::vector<SpendLimit> rows);
  std::map<std::string, std::vector<SpendLimit>> snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::vector<SpendLimit>> by_org_;
};

// Digits of an ISO 4217 currency's minor unit: 2 unless the currency is known to use 0 or 3.
int currency_exponent(std::string_view code);

}  // namespace cce::usage
