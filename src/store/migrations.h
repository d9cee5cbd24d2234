#pragma once

#include <vector>

namespace cce::store {

// migrations()[i] takes the schema from version i to i+1. Append only: a released step never
// changes, so every existing store upgrades the same way.
const std::vector<const char*>& migrations();

}  // namespace cce::store
