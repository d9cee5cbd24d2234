#pragma once

#include <cstdint>
#include <string_view>

namespace cce::util {

// 64-bit FNV-1a followed by a murmur3 finalizer: stable across runs and platforms, so hashes
// can be stored (series identities, duplicate detection). Not for adversarial keys.
class Hasher {
 public:
  Hasher& add(std::string_view s) {
    for (unsigned char c : s) {
      h_ ^= c;
      h_ *= 0x100000001b3ULL;
    }
    // A length-dependent separator keeps ("ab","c") apart from ("a","bc").
    return add_u64(s.size());
  }
  Hasher& add_u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) {
      h_ ^= (v >> (i * 8)) & 0xff;
      h_ *= 0x100000001b3ULL;
    }
    return *this;
  }
  uint64_t digest() const {
    uint64_t k = h_;
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
  }

 private:
  uint64_t h_ = 0xcbf29ce484222325ULL;
};

}  // namespace cce::util
