#pragma once

namespace cce::store {

// SQLite's synchronous mode. kFull: a commit is on disk before the OTLP client hears 200.
// kNormal survives a crash of the process (not of the machine) and costs fewer fsyncs.
enum class Synchronous { kNormal, kFull };

}  // namespace cce::store
