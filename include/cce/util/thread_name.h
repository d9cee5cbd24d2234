#pragma once

#include <string_view>

namespace cce::util {

// Names the calling thread as `top -H`, `ps -L` and perf show it (the kernel keeps 15 bytes), so
// an operator can tell which of the agent's threads is busy.
void name_this_thread(std::string_view name);

}  // namespace cce::util
