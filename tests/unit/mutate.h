#pragma once

#include <random>
#include <string>

namespace cce::test {

// A body gone wrong in one of the ways a network or a buggy client breaks one: truncated, bytes
// flipped, inserted or deleted, a slice repeated (nested lengths go wrong), or pure noise.
inline std::string mutate(std::string s, std::mt19937_64& rng) {
  std::uniform_int_distribution<int> kind(0, 5);
  auto pos = [&] {
    return s.empty() ? 0 : std::uniform_int_distribution<size_t>(0, s.size() - 1)(rng);
  };
  switch (kind(rng)) {
    case 0:  // truncate
      s.resize(pos());
      break;
    case 1:  // flip bytes
      for (int i = 0; i < 8 && !s.empty(); ++i)
        s[pos()] = static_cast<char>(rng());
      break;
    case 2:  // insert random bytes
      s.insert(pos(), std::string(static_cast<size_t>(rng() % 16), static_cast<char>(rng())));
      break;
    case 3:  // delete a range
      if (!s.empty()) {
        size_t p = pos();
        s.erase(p, static_cast<size_t>(rng() % 64));
      }
      break;
    case 4:  // duplicate a slice (nested lengths go wrong)
      if (!s.empty()) {
        size_t p = pos();
        s.insert(pos(), s.substr(p, static_cast<size_t>(rng() % 128)));
      }
      break;
    default: {  // pure noise
      std::string noise(static_cast<size_t>(rng() % 512), '\0');
      for (auto& c : noise)
        c = static_cast<char>(rng());
      return noise;
    }
  }
  return s;
}

}  // namespace cce::test
