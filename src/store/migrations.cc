#include "src/store/migrations.h"

namespace cce::store {

const std::vector<const char*>& migrations() {
  static const std::vector<const char*> kSteps = {
      // 0 -> 1: the ledger and the OTLP ingest state.
      R"sql(
CREATE TABLE actors(
  actor_key TEXT PRIMARY KEY,          -- "<actor_type>:<actor>"
  otel_team TEXT NOT NULL DEFAULT '',
  last_seen_otel REAL NOT NULL DEFAULT 0,
  last_seen_api REAL NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE daily_values(
  source TEXT NOT NULL,                -- 'otel' | 'api'
  date TEXT NOT NULL,                  -- YYYY-MM-DD (UTC)
  actor_key TEXT NOT NULL,
  quantity TEXT NOT NULL,
  labels TEXT NOT NULL,                -- label values joined by 0x1f
  value REAL NOT NULL,
  PRIMARY KEY(source, date, actor_key, quantity, labels)
) WITHOUT ROWID;
CREATE TABLE counter_totals(
  actor_key TEXT NOT NULL,
  quantity TEXT NOT NULL,
  labels TEXT NOT NULL,
  value REAL NOT NULL,
  PRIMARY KEY(actor_key, quantity, labels)
) WITHOUT ROWID;
CREATE TABLE cumulative_series(
  series INTEGER PRIMARY KEY,
  start_ns INTEGER NOT NULL,
  time_ns INTEGER NOT NULL,
  value REAL NOT NULL,
  seen_at INTEGER NOT NULL
);
CREATE TABLE seen_points(
  key INTEGER PRIMARY KEY,
  seen_at INTEGER NOT NULL
);
CREATE INDEX seen_points_by_time ON seen_points(seen_at);
CREATE TABLE learned_identities(
  account TEXT PRIMARY KEY,
  email TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE state(
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
)sql",
      // 1 -> 2: the team each (day, actor) had, so a day's spend keeps it.
      R"sql(
CREATE TABLE unit_teams(
  date TEXT NOT NULL,                  -- YYYY-MM-DD (UTC)
  actor_key TEXT NOT NULL,
  team TEXT NOT NULL,
  PRIMARY KEY(date, actor_key)
) WITHOUT ROWID;
)sql",
      // 2 -> 3: duplicate-detection keys as one block per group commit. As rows keyed by the
      // random point key, every commit touched about one page per point. Lookups happen in
      // memory; the store only keeps the keys across restarts. seen_points keeps what an older
      // agent wrote there until it ages out.
      R"sql(
CREATE TABLE seen_blocks(
  id INTEGER PRIMARY KEY,
  newest INTEGER NOT NULL,             -- the latest receipt time (unix seconds) in the block
  keys BLOB NOT NULL                   -- (key, receipt time) pairs, 8 + 8 bytes, native order
);
CREATE INDEX seen_blocks_by_newest ON seen_blocks(newest);
)sql",
      // 3 -> 4: ledger rows of group commits not yet folded into their tables, in commit order.
      R"sql(
CREATE TABLE ledger_journal(
  id INTEGER PRIMARY KEY,
  record BLOB NOT NULL
);
)sql",
      // 4 -> 5: the configured organization an actor belongs to ([[organizations]]), and the
      // API source holding a (day, actor)'s API rows when it is not the default one (several
      // sources never replace each other's rows).
      R"sql(
ALTER TABLE actors ADD COLUMN org TEXT NOT NULL DEFAULT '';
CREATE TABLE api_owners(
  date TEXT NOT NULL,                  -- YYYY-MM-DD (UTC)
  actor_key TEXT NOT NULL,
  owner TEXT NOT NULL,
  PRIMARY KEY(date, actor_key)
) WITHOUT ROWID;
)sql",
  };
  return kSteps;
}

}  // namespace cce::store
