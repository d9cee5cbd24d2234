#include <doctest/doctest.h>
#include <sqlite3.h>

#include <atomic>
#include <thread>

#include "cce/ingest/persistence.h"
#include "cce/store/store.h"
#include "cce/usage/ledger.h"
#include "test_support.h"

using namespace cce;
using usage::Quantity;

namespace {

usage::Observation obs(const std::string& email, Quantity q, std::string labels, double v,
                       const char* date = "2026-11-22") {
  return usage::Observation{
      {usage::ActorType::kUser, email}, *util::Date::parse(date), q, std::move(labels), v};
}

std::string dump(const usage::Ledger& ledger) {
  std::string out;
  ledger.read([&](const usage::Ledger::View& v) {
    std::map<std::string, double> sorted;
    for (const auto& [date, units] : v.days) {
      for (const auto& [actor, u] : units) {
        for (auto [slice, name] :
             {std::pair{&u.otel, "otel"}, {&u.api, "api"}, {&u.counted, "counted"}}) {
          for (const auto& [k, val] : *slice) {
            sorted[date.str() + " " + name + " " + v.actors[actor].id.key() + " " +
                   std::string(usage::to_string(k.quantity)) + " " + k.labels] = val;
          }
        }
      }
    }
    for (const auto& [k, val] : v.totals) {
      sorted["total " + v.actors[k.actor].id.key() + " " +
             std::string(usage::to_string(k.key.quantity)) + " " + k.key.labels] = val;
    }
    char buf[64];
    for (const auto& [k, val] : sorted) {
      std::snprintf(buf, sizeof buf, "%.17g", val);
      out += k + " = " + buf + "\n";
    }
  });
  return out;
}

// What a fresh ledger holds after loading the store, as dump() writes it.
std::string loaded_dump(store::Store& store) {
  usage::Ledger loaded;
  usage::OtelNormalizer n({}, 3600, 86400);
  ingest::load(store, loaded, n);
  return dump(loaded);
}

}  // namespace

TEST_CASE("the store reproduces the ledger bit for bit after a reopen") {
  test::TempDir dir;
  const std::string path = dir.file("s.db");
  usage::Ledger ledger;
  usage::OtelNormalizer normalizer({}, 3600, 86400);
  {
    auto store = store::Store::open(path, store::Synchronous::kFull);
    CHECK(store->schema_version() == store::Store::latest_schema_version());
    usage::IngestResult state;
    state.received_at = 1795314293;
    state.seen_keys = {42, 43};
    state.series_updates = {{7, usage::CumulativeState{1, 2, 3.5, 1795314293}}};
    state.learned_identities = {{"uuid-1", "dev@example.com"}};
    // Values chosen so float sums are not exact.
    std::vector<usage::Observation> batch = {
        obs("dev@example.com", Quantity::kCostUsd, "claude-opus-5", 0.1),
        obs("dev@example.com", Quantity::kCostUsd, "claude-opus-5", 0.2),
        obs("dev@example.com", Quantity::kCostUsd, "claude-opus-5", 0.0000003),
        obs("dev@example.com", Quantity::kSessions, "", 1, "2026-11-21"),
    };
    auto changes = ledger.stage_otel(
        batch, {{{usage::ActorType::kUser, "dev@example.com"}, "eng", 1795314293}},
        *util::Date::parse("2026-11-22"));
    store::Batch rows = ingest::to_batch(changes);
    ingest::add_ingest_state(rows, state);
    store->write(rows);
    ledger.apply(changes);
  }
  usage::Ledger reloaded;
  usage::OtelNormalizer renormalizer({}, 3600, 86400);
  auto store = store::Store::open(path, store::Synchronous::kFull);
  ingest::load(*store, reloaded, renormalizer);
  CHECK(dump(reloaded) == dump(ledger));
  CHECK(dump(reloaded).find(
            "2026-11-22 otel user:dev@example.com cost_usd claude-opus-5 = 0.3000003") !=
        std::string::npos);
  CHECK(dump(reloaded).find(
            "2026-11-22 counted user:dev@example.com cost_usd claude-opus-5 = 0.3000003") !=
        std::string::npos);
  CHECK(renormalizer.seen_count() == 2);
  CHECK(renormalizer.series_count() == 1);
  reloaded.read([](const usage::Ledger::View& v) {
    REQUIRE(v.actors.size() == 1);
    CHECK(v.actors[0].otel_team == "eng");
    CHECK(v.actors[0].last_seen_otel == 1795314293);
  });
}

TEST_CASE("a failed write leaves the store untouched") {
  test::TempDir dir;
  auto store = store::Store::open(dir.file("s.db"), store::Synchronous::kNormal);
  usage::Ledger ledger;
  auto changes = ledger.stage_otel({obs("a@example.com", Quantity::kCommits, "", 1)},
                                   {{{usage::ActorType::kUser, "a@example.com"}, "", 1}},
                                   *util::Date::parse("2026-11-22"));
  // A daily cell whose actor has no key: the write throws midway and must roll back.
  changes.daily.push_back({usage::Source::kOtel, *util::Date::parse("2026-11-22"), 99,
                           usage::QKey{Quantity::kCommits, ""}, 5});
  CHECK_THROWS(store->write(ingest::to_batch(changes)));
  usage::Ledger reloaded;
  usage::OtelNormalizer n({}, 3600, 86400);
  ingest::load(*store, reloaded, n);
  CHECK(reloaded.actor_count() == 0);
}

TEST_CASE("a store from a newer agent is refused with advice") {
  test::TempDir dir;
  sqlite3* db = nullptr;
  sqlite3_open(dir.file("future.db").c_str(), &db);
  sqlite3_exec(db, "PRAGMA user_version=99", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  CHECK_THROWS_WITH_AS(store::Store::open(dir.file("future.db"), store::Synchronous::kFull),
                       doctest::Contains("newer than this agent"), store::StoreError);
}

TEST_CASE("duplicate-detection keys survive a reopen, from blocks and from an older agent's rows") {
  test::TempDir dir;
  const std::string path = dir.file("s.db");
  {
    auto store = store::Store::open(path, store::Synchronous::kFull);
    store::Batch b;
    b.seen = {{11, 400}, {12, 401}};
    store->write(b);
    b.seen = {{13, 90}};
    store->write(b);
  }
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  // Rows as a version 2 agent wrote them, keyed by the point key.
  REQUIRE(sqlite3_exec(db, "INSERT INTO seen_points VALUES(-5, 300), (7, 100), (9, 200);", nullptr,
                       nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  auto store = store::Store::open(path, store::Synchronous::kFull);
  std::vector<std::pair<uint64_t, int64_t>> seen;
  for (const auto& r : store->read_ingest_state().seen)
    seen.emplace_back(r.key, r.seen_at);
  CHECK(seen ==
        std::vector<std::pair<uint64_t, int64_t>>{
            {7, 100}, {9, 200}, {static_cast<uint64_t>(-5), 300}, {11, 400}, {12, 401}, {13, 90}});
  store->prune(150, 0);
  seen.clear();
  for (const auto& r : store->read_ingest_state().seen)
    seen.emplace_back(r.key, r.seen_at);
  CHECK(seen == std::vector<std::pair<uint64_t, int64_t>>{
                    {9, 200}, {static_cast<uint64_t>(-5), 300}, {11, 400}, {12, 401}});
}

namespace {
int64_t count_rows(const std::string& path, const char* table) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, (std::string("SELECT count(*) FROM ") + table).c_str(), -1, &st, nullptr);
  int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

void stage_and_write(store::Store& store, usage::Ledger& ledger,
                     const std::vector<usage::Observation>& batch) {
  std::vector<usage::Ledger::ActorTouch> actors;
  for (const auto& o : batch)
    actors.push_back({o.actor, "eng", 1795314293});
  auto changes = ledger.stage_otel(batch, actors, *util::Date::parse("2026-11-22"));
  store.write(ingest::to_batch(changes));
  ledger.apply(changes);
}
}  // namespace

TEST_CASE("journaled ledger rows are read back before and after they are folded") {
  test::TempDir dir;
  const std::string path = dir.file("s.db");
  usage::Ledger ledger;
  {
    auto store = store::Store::open(path, store::Synchronous::kFull);
    // The same cells over several commits: the journal holds each commit, a fold the latest.
    for (int i = 0; i < 5; ++i) {
      stage_and_write(*store, ledger,
                      {obs("a@example.com", Quantity::kCostUsd, "claude-opus-5", 0.1 * (i + 1)),
                       obs("b@example.com", Quantity::kCommits, "", 1, "2026-11-21")});
    }
    CHECK(store->journal_bytes() > 0);
    CHECK(count_rows(path, "ledger_journal") == 5);
    CHECK(count_rows(path, "daily_values") == 0);
  }  // closed without a fold, as after a crash
  {
    auto store = store::Store::open(path, store::Synchronous::kFull);
    CHECK(loaded_dump(*store) == dump(ledger));
    store->fold();
    CHECK(store->journal_bytes() == 0);
    CHECK(count_rows(path, "ledger_journal") == 0);
    CHECK(count_rows(path, "daily_values") > 0);
    CHECK(loaded_dump(*store) == dump(ledger));
  }
  {
    // A batch that deletes days folds the journal first, so the deletion wins over older rows.
    auto store = store::Store::open(path, store::Synchronous::kFull);
    stage_and_write(*store, ledger,
                    {obs("c@example.com", Quantity::kCommits, "", 2, "2026-11-21")});
    auto changes = ledger.stage_prune(*util::Date::parse("2026-11-22"));
    REQUIRE(changes.days_pruned.size() == 1);
    store->write(ingest::to_batch(changes));
    ledger.apply(changes);
    CHECK(store->journal_bytes() == 0);
    CHECK(count_rows(path, "ledger_journal") == 0);
  }
  auto store = store::Store::open(path, store::Synchronous::kFull);
  const std::string reloaded = loaded_dump(*store);
  CHECK(reloaded == dump(ledger));
  CHECK(reloaded.find("2026-11-21 otel") == std::string::npos);
  CHECK(reloaded.find("total user:c@example.com commits  = 2") != std::string::npos);
}

TEST_CASE("a fold round advances a step per group commit, and a crash midway loses nothing") {
  test::TempDir dir;
  const std::string path = dir.file("s.db");
  usage::Ledger ledger;
  const auto many = [](int round) {
    std::vector<usage::Observation> batch;
    for (int a = 0; a < 600; ++a) {
      // Half the actors are the round's own: rows no later commit repeats.
      const std::string who =
          a % 2 ? std::to_string(a) : std::to_string(round) + "-" + std::to_string(a);
      batch.push_back(obs("dev" + who + "@example.com", Quantity::kCostUsd, "claude-opus-5",
                          0.01 * (round + 1)));
    }
    return batch;
  };
  {
    auto store = store::Store::open(path, store::Synchronous::kNormal);
    stage_and_write(*store, ledger, many(0));  // 600 actors: more rows than one step
    store->fold_some(1000);                    // the round starts with one step
    CHECK(store->folding());
    stage_and_write(*store, ledger, many(1));  // carries the next step, and is journaled
    CHECK(store->folding());
    CHECK(count_rows(path, "ledger_journal") == 2);
  }  // a crash in the middle of the round
  auto reopen_and_compare = [&] {
    auto store = store::Store::open(path, store::Synchronous::kNormal);
    CHECK(loaded_dump(*store) == dump(ledger));
    return store;
  };
  auto store = reopen_and_compare();
  store->fold_some(1000);
  CHECK(store->folding());
  stage_and_write(*store, ledger, many(2));
  for (int i = 0; i < 10 && store->folding(); ++i)
    stage_and_write(*store, ledger, many(3 + i));
  CHECK_FALSE(store->folding());
  // The round's records are gone; the ones written during the round wait for the next.
  CHECK(count_rows(path, "ledger_journal") < 10);
  CHECK(count_rows(path, "ledger_journal") > 0);
  store.reset();
  reopen_and_compare();
}

TEST_CASE(
    "rows absorbed beside the writer reach their tables; a crash after the rounds loses none") {
  test::TempDir dir;
  const std::string path = dir.file("s.db");
  usage::Ledger ledger;
  {
    auto store = store::Store::open(path, store::Synchronous::kNormal);
    // As the pipeline's answerer does: absorb() on its own thread while the writer commits and
    // folds. Rounds finish and delete their records, so a row absorbed into the wrong round, or
    // not at all, is missing after the reopen below.
    std::atomic<bool> done{false};
    std::thread absorber([&] {
      while (!done)
        store->absorb();
    });
    for (int i = 0; i < 200; ++i) {
      const std::string who = "dev" + std::to_string(i % 37) + "@example.com";
      stage_and_write(*store, ledger,
                      {obs(who, Quantity::kCostUsd, "claude-opus-5", 0.01 * (i + 1)),
                       obs("dev" + std::to_string(i) + "@example.com", Quantity::kCommits, "", 1)});
      if (i % 10 == 9) store->fold_some(16);  // small steps: rounds span many commits
    }
    done = true;
    absorber.join();
    for (int i = 0; i < 100 && store->folding(); ++i)
      store->fold_some(16);
    CHECK_FALSE(store->folding());
    CHECK(count_rows(path, "ledger_journal") < 200);  // folded rounds' records are gone
    CHECK(count_rows(path, "daily_values") > 0);
  }  // closed without a fold, as after a crash
  auto store = store::Store::open(path, store::Synchronous::kNormal);
  CHECK(loaded_dump(*store) == dump(ledger));
}

TEST_CASE(
    "a folded round's records go a few per commit, oldest first; a crash midway loses nothing") {
  test::TempDir dir;
  const std::string path = dir.file("s.db");
  usage::Ledger ledger;
  {
    auto store = store::Store::open(path, store::Synchronous::kNormal);
    // Twelve records moving the same cells up: each replayed alone would set older values.
    for (int i = 0; i < 12; ++i) {
      stage_and_write(*store, ledger,
                      {obs("a@example.com", Quantity::kCostUsd, "claude-opus-5", 0.1 * (i + 1)),
                       obs("b@example.com", Quantity::kCommits, "", 1)});
    }
    store->fold_some(100000);  // the whole round in one step: its records may go from now on
    CHECK(store->folding());   // their deletion is under way
    CHECK(count_rows(path, "ledger_journal") == 12);
    store->fold_some(100000);  // an idle writer deletes the next few
    CHECK(count_rows(path, "ledger_journal") == 8);
    stage_and_write(*store, ledger, {obs("a@example.com", Quantity::kCostUsd, "claude-opus-5", 5)});
    CHECK(count_rows(path, "ledger_journal") == 5);  // four more gone, one new
  }                                                  // a crash in the middle of the deletion
  usage::Ledger reloaded;
  usage::OtelNormalizer n({}, 3600, 86400);
  auto store = store::Store::open(path, store::Synchronous::kNormal);
  ingest::load(*store, reloaded, n);
  CHECK(dump(reloaded) == dump(ledger));
  for (int i = 0; i < 10 && store->folding(); ++i)
    store->fold_some(100000);
  CHECK_FALSE(store->folding());
  usage::Ledger again;
  ingest::load(*store, again, n);
  CHECK(dump(again) == dump(ledger));
}

TEST_CASE("a damaged ledger journal record stops the store from opening, named") {
  test::TempDir dir;
  const std::string path = dir.file("s.db");
  store::Store::open(path, store::Synchronous::kFull);
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "INSERT INTO ledger_journal(id, record) VALUES(7, x'0205000000')", nullptr,
               nullptr, nullptr);
  sqlite3_close(db);
  CHECK_THROWS_WITH_AS(store::Store::open(path, store::Synchronous::kFull),
                       doctest::Contains("ledger journal (record 7): ledger journal record is cut"),
                       store::StoreError);
}

TEST_CASE("state values persist") {
  test::TempDir dir;
  {
    auto s = store::Store::open(dir.file("s.db"), store::Synchronous::kFull);
    CHECK_FALSE(s->get_state("k"));
    s->set_state("k", "v1");
  }
  auto s = store::Store::open(dir.file("s.db"), store::Synchronous::kFull);
  CHECK(*s->get_state("k") == "v1");
}

TEST_CASE("a write that fails midway rolls back every row of its batch") {
  test::TempDir dir;
  const std::string path = dir.file("s.db");
  store::Store::open(path, store::Synchronous::kNormal);
  {
    // The last table written refuses one row, after the earlier tables took theirs.
    sqlite3* db = nullptr;
    sqlite3_open(path.c_str(), &db);
    sqlite3_exec(db,
                 "CREATE TRIGGER refuse BEFORE INSERT ON state WHEN NEW.key = 'boom' "
                 "BEGIN SELECT RAISE(ABORT, 'refused'); END",
                 nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
  auto store = store::Store::open(path, store::Synchronous::kNormal);
  store::Batch batch;
  batch.actors.push_back({"user:a@example.com", "", 1, 0});
  batch.daily.push_back({"otel", "2026-11-22", "user:a@example.com", "commits", "", 1});
  batch.totals.push_back({"user:a@example.com", "commits", "", 1});
  batch.seen.push_back({42, 1});
  batch.state.emplace_back("boom", "x");
  CHECK_THROWS_WITH_AS(store->write(batch), doctest::Contains("refused"), store::StoreError);
  const auto rows = store->read_ledger();
  CHECK(rows.actors.empty());
  CHECK(rows.daily.empty());
  CHECK(rows.totals.empty());
  CHECK(store->read_ingest_state().seen.empty());
  batch.state.clear();
  store->write(batch);
  CHECK(store->read_ledger().daily.size() == 1);
}

TEST_CASE("rows the agent cannot read are counted and left out, not dropped silently") {
  store::LedgerRows rows;
  rows.actors.push_back({"user:a@example.com", "", 1, 0});
  rows.actors.push_back({"robot:x", "", 1, 0});  // unknown actor type
  rows.daily.push_back({"otel", "2026-11-22", "user:a@example.com", "commits", "", 2});
  rows.daily.push_back({"otel", "2026-11-22", "user:a@example.com", "telepathy", "", 1});
  rows.daily.push_back({"otel", "22/11/2026", "user:a@example.com", "commits", "", 1});
  rows.totals.push_back({"user:a@example.com", "commits", "", 2});
  rows.totals.push_back({"user:a@example.com", "", "", 1});
  usage::Ledger ledger;
  const auto report = ingest::restore_ledger(rows, ledger);
  CHECK(report.rows == 7);
  CHECK(report.skipped == 4);
  REQUIRE(report.examples.size() == 4);
  CHECK(report.examples[0].find("robot:x") != std::string::npos);
  CHECK(report.examples[2].find("22/11/2026") != std::string::npos);
  CHECK(ledger.actor_count() == 1);
}

TEST_CASE("an API source's day replaces only the rows it holds, in memory and stored") {
  test::TempDir dir;
  const std::string path = dir.file("s.db");
  const auto day = *util::Date::parse("2026-11-21");
  const auto next = day + 1;
  const auto today = *util::Date::parse("2026-11-22");
  usage::LedgerOptions options;
  options.org_by_otel_id = {{"uuid-ent", "enterprise"}};
  usage::Ledger ledger(options);
  auto store = store::Store::open(path, store::Synchronous::kFull);
  std::vector<size_t> held;
  auto apply = [&](const usage::LedgerChanges& changes) {
    store->write(ingest::to_batch(changes));
    ledger.apply(changes);
    held.push_back(changes.api_held_by_other.size());
  };
  auto sessions = [&](const char* who, double n, util::Date d) {
    const std::string date = d.str();
    return obs(who, Quantity::kSessions, "", n, date.c_str());
  };
  auto console = [&](util::Date d, std::vector<usage::Observation> rows) {
    apply(ledger.stage_api_day(d, rows, today, "console", "console"));
  };
  auto enterprise = [&](util::Date d, std::vector<usage::Observation> rows) {
    apply(ledger.stage_api_day(d, rows, today, "enterprise", "enterprise"));
  };
  console(day, {sessions("a@console.example.com", 1, day)});
  enterprise(day, {sessions("b@ent.example.com", 2, day), sessions("x@example.com", 5, day)});
  // x@ in both organizations: console's reading of the same day leaves x@ to enterprise (no
  // overwrite, no double count); console's next reading no longer lists a@: only its rows go.
  console(day, {sessions("c@console.example.com", 3, day), sessions("x@example.com", 9, day)});
  CHECK(held.back() == 1);
  // The next day x@ is console's; console re-reading the first day still leaves x@'s row alone.
  console(next, {sessions("x@example.com", 4, next)});
  console(day, {sessions("c@console.example.com", 3, day)});
  CHECK(held.back() == 0);
  // An OTel-only member joins the organization its organization.id names.
  apply(ledger.stage_otel({sessions("d@ent.example.com", 4, day)},
                          {{{usage::ActorType::kUser, "d@ent.example.com"}, "", 1, "uuid-ent"}},
                          today));
  auto check = [&](const usage::Ledger& l) {
    l.read([&](const usage::Ledger::View& v) {
      std::map<std::string, std::pair<std::string, double>> api;
      for (const auto& [actor, u] : v.days.at(day)) {
        for (const auto& [k, val] : u.api)
          api[v.actors[actor].id.id] = {u.api_owner, val};
      }
      CHECK(api == std::map<std::string, std::pair<std::string, double>>{
                       {"b@ent.example.com", {"enterprise", 2}},
                       {"c@console.example.com", {"console", 3}},
                       {"x@example.com", {"enterprise", 5}}});
      for (const auto& a : v.actors) {
        if (a.id.id == "d@ent.example.com") CHECK(a.org == "enterprise");
        if (a.id.id == "a@console.example.com") CHECK(a.org == "console");
      }
    });
  };
  check(ledger);
  store->fold();
  store.reset();
  usage::Ledger reloaded(options);
  usage::OtelNormalizer renormalizer({}, 3600, 86400);
  auto reopened = store::Store::open(path, store::Synchronous::kFull);
  ingest::load(*reopened, reloaded, renormalizer);
  check(reloaded);
  CHECK(dump(reloaded) == dump(ledger));
}
