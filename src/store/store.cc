#include "cce/store/store.h"

#include <sqlite3.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <mutex>
#include <type_traits>
#include <unordered_map>

#include "src/store/ledger_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include "src/store/migrations.h"

namespace cce::store {
namespace {

// Duplicate-detection keys are stored as their in-memory rows, packed.
static_assert(sizeof(SeenRow) == 16 && std::is_trivially_copyable_v<SeenRow>);

// SQLite's message, the OS error behind it (e.g. "Read-only file system") and the file.
std::string describe(sqlite3* db) {
  if (!db) return "out of memory";
  std::string out = sqlite3_errmsg(db);
  if (const int e = sqlite3_system_errno(db); e != 0)
    out += std::string(" (") + std::strerror(e) + ")";
  if (const char* f = sqlite3_db_filename(db, "main"); f && *f) out += std::string(" [") + f + "]";
  return out;
}

[[noreturn]] void fail(sqlite3* db, const std::string& what) {
  throw StoreError(what + ": " + describe(db));
}

// RAII prepared statement.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) fail(db, "prepare");
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;

  Stmt& bind(int i, const std::string& v) {
    check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& bind(int i, std::string_view v) {
    check(sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
    return *this;
  }
  Stmt& bind_blob(int i, std::string_view v) {
    check(sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC));
    return *this;
  }
  std::string_view blob(int col) const {
    auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
    return p ? std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string_view();
  }
  Stmt& bind(int i, double v) {
    check(sqlite3_bind_double(stmt_, i, v));
    return *this;
  }
  Stmt& bind(int i, int64_t v) {
    check(sqlite3_bind_int64(stmt_, i, v));
    return *this;
  }
  // Steps once; returns true while rows come.
  bool step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    fail(db_, "step");
  }
  void run() {
    step();
    reset();
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  std::string text(int col) const {
    auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) fail(db_, "bind");
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

}  // namespace

struct Store::Impl {
  sqlite3* db = nullptr;
  std::mutex mu;
  // The write statements, prepared once: preparing them for every group commit cost more
  // than a small group's rows. Guarded by mu.
  std::unordered_map<std::string, std::unique_ptr<Stmt>> statements;
  Stmt& cached(const char* sql) {
    auto& s = statements[sql];
    if (!s) s = std::make_unique<Stmt>(db, sql);
    s->reset();  // a statement that failed midway starts clean
    return *s;
  }
  // Ledger rows committed as journal records and not yet in their tables, the latest value per
  // key. A fold round moves `journal` to `folding` and writes it into the tables a step at a
  // time (each step rides on a group commit, so the writer never stops for a whole fold); when
  // the last step commits, the round's records (ids up to fold_upto) may go. Records after
  // the round gather in `journal` meanwhile. `folding` is guarded by mu.
  LedgerJournal folding;
  // Keeping the latest value per key costs a hash lookup per row: a commit leaves its batch in
  // `pending`, and absorb() moves it into `journal` beside the writer. Whatever reads or folds
  // the journal absorbs first, so no committed row is missed. Lock order: mu, journal_mu,
  // pending_mu.
  std::mutex journal_mu;
  LedgerJournal journal;  // guarded by journal_mu
  std::mutex pending_mu;
  std::vector<Batch> pending;  // guarded by pending_mu
  // Locks journal_mu and moves the pending batches into the journal (freeing them on the
  // caller's thread): the journal is read only through this, so no committed row is missed.
  [[nodiscard]] std::unique_lock<std::mutex> absorbed_journal();
  // The write-ahead log, opened by sync() on first use; guarded by sync_mu (sync() runs beside
  // the writer: fdatasync flushes the file whichever descriptor wrote it).
  bool sync_wal = false;
  std::string wal_path;
  std::mutex sync_mu;
  int wal_fd = -1;
  int64_t fold_upto = 0;     // the round's last record; 0: no round
  int64_t last_record = 0;   // the newest committed record (ids are given, never reused)
  size_t journal_bytes = 0;  // record bytes since the round began
  // Records up to delete_upto hold only rows their tables have; a few are deleted with each
  // commit, oldest first (deleting a round's records in one commit reads every page of them,
  // and held the writer for a third of a second). Oldest first keeps a crash harmless: the
  // records left are replayed in order before the newer ones, and for every row they name give
  // the value its table already has.
  int64_t delete_upto = 0;
  int64_t deleted_upto = 0;
  static constexpr int64_t kDeleteStepRecords = 4;
  // Within a transaction: deletes the next few folded records; returns the new deleted_upto.
  int64_t delete_some();

  template <typename Rows>
  void write_ledger_rows(const Rows& rows);
  void start_round();
  // Within a transaction: up to max_rows of the round's rows into their tables, and the round's
  // records deleted once none are left. Returns the rows written, for finish_step.
  LedgerRows fold_step(size_t max_rows);
  void finish_step(bool committed, LedgerRows& written);
  // Within a transaction: every pending row into its table, and the journal emptied.
  void fold_all();
  void finish_fold_all();
};

Store::Store(sqlite3* db) : impl_(std::make_unique<Impl>()) {
  impl_->db = db;
}

Store::~Store() {
  if (!impl_) return;
  if (impl_->wal_fd >= 0) ::close(impl_->wal_fd);
  impl_->statements.clear();  // finalized before the connection closes
  if (impl_->db) sqlite3_close_v2(impl_->db);
}

void Store::transaction(const std::function<void()>& body) {
  exec("BEGIN IMMEDIATE");
  try {
    body();
    exec("COMMIT");
  } catch (...) {
    sqlite3_exec(impl_->db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void Store::exec(const char* sql) {
  if (sqlite3_exec(impl_->db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
    throw StoreError(describe(impl_->db));
  }
}

std::unique_ptr<Store> Store::open(const std::string& path, Synchronous sync) {
  sqlite3* db = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    throw StoreError("cannot open store " + path + ": " + msg);
  }
  std::unique_ptr<Store> store(new Store(db));
  sqlite3_busy_timeout(db, 5000);
  try {
    store->exec("PRAGMA journal_mode=WAL");
  } catch (const StoreError&) {
    // A store that cannot take writes still opens (it was set to WAL when created), so the
    // agent can serve what it holds and /readyz can say why it is not ready.
  }
  // Commits write the log and do not wait for the disk; with kFull, sync() makes them durable
  // before they are answered (on another thread, so the writer goes on meanwhile). SQLite
  // still syncs around checkpoints, as it does for every mode.
  store->exec("PRAGMA synchronous=NORMAL");
  store->impl_->sync_wal = sync == Synchronous::kFull;
  store->impl_->wal_path = path + "-wal";
  store->exec("PRAGMA foreign_keys=ON");
  store->migrate();
  store->load_journal();
  return store;
}

int Store::latest_schema_version() {
  return static_cast<int>(migrations().size());
}

int Store::schema_version() const {
  std::lock_guard lock(impl_->mu);
  Stmt s(impl_->db, "PRAGMA user_version");
  s.step();
  return static_cast<int>(s.integer(0));
}

void Store::migrate() {
  const auto& steps = migrations();
  int current = 0;
  {
    Stmt s(impl_->db, "PRAGMA user_version");
    s.step();
    current = static_cast<int>(s.integer(0));
  }
  if (current > static_cast<int>(steps.size())) {
    throw StoreError("store schema version " + std::to_string(current) +
                     " is newer than this agent understands (" + std::to_string(steps.size()) +
                     "); upgrade the agent or point store.path at a new file");
  }
  for (int v = current; v < static_cast<int>(steps.size()); ++v) {
    transaction([&] {
      exec(steps[static_cast<size_t>(v)]);
      exec(("PRAGMA user_version=" + std::to_string(v + 1)).c_str());
    });
  }
}

void Store::load_journal() {
  std::lock_guard lock(impl_->mu);
  std::lock_guard journal(impl_->journal_mu);
  Stmt s(impl_->db, "SELECT id, record FROM ledger_journal ORDER BY id");
  while (s.step()) {
    try {
      impl_->journal.add(LedgerJournal::decode(s.blob(1)));
    } catch (const StoreError& e) {
      throw StoreError("cannot read the store's ledger journal (record " +
                       std::to_string(s.integer(0)) + "): " + e.what() + " [" +
                       sqlite3_db_filename(impl_->db, "main") + "]");
    }
    impl_->journal_bytes += s.blob(1).size();
    if (impl_->last_record == 0) impl_->deleted_upto = impl_->delete_upto = s.integer(0) - 1;
    impl_->last_record = s.integer(0);
  }
}

LedgerRows Store::read_ledger() {
  std::lock_guard lock(impl_->mu);
  sqlite3* db = impl_->db;
  LedgerRows rows;
  {
    Stmt s(db, "SELECT actor_key, otel_team, last_seen_otel, last_seen_api, org FROM actors");
    while (s.step())
      rows.actors.push_back({s.text(0), s.text(1), s.real(2), s.real(3), s.text(4)});
  }
  {
    Stmt s(db, "SELECT source, date, actor_key, quantity, labels, value FROM daily_values");
    while (s.step())
      rows.daily.push_back({s.text(0), s.text(1), s.text(2), s.text(3), s.text(4), s.real(5)});
  }
  {
    Stmt s(db, "SELECT actor_key, quantity, labels, value FROM counter_totals");
    while (s.step())
      rows.totals.push_back({s.text(0), s.text(1), s.text(2), s.real(3)});
  }
  {
    Stmt s(db, "SELECT date, actor_key, team FROM unit_teams");
    while (s.step())
      rows.unit_teams.push_back({s.text(0), s.text(1), s.text(2)});
  }
  {
    Stmt s(db, "SELECT date, actor_key, owner FROM api_owners");
    while (s.step())
      rows.api_owners.push_back({s.text(0), s.text(1), s.text(2)});
  }
  // Journaled rows come last, the round's before the newer ones: restoring assigns.
  const auto journal = impl_->absorbed_journal();
  for (const LedgerJournal* j : {&impl_->folding, &impl_->journal}) {
    LedgerRows pending = j->rows();
    rows.actors.insert(rows.actors.end(), pending.actors.begin(), pending.actors.end());
    rows.daily.insert(rows.daily.end(), pending.daily.begin(), pending.daily.end());
    rows.totals.insert(rows.totals.end(), pending.totals.begin(), pending.totals.end());
    rows.unit_teams.insert(rows.unit_teams.end(), pending.unit_teams.begin(),
                           pending.unit_teams.end());
  }
  return rows;
}

IngestStateRows Store::read_ingest_state() {
  std::lock_guard lock(impl_->mu);
  sqlite3* db = impl_->db;
  IngestStateRows rows;
  {
    Stmt s(db, "SELECT series, start_ns, time_ns, value, seen_at FROM cumulative_series");
    while (s.step()) {
      rows.series.push_back({static_cast<uint64_t>(s.integer(0)),
                             static_cast<uint64_t>(s.integer(1)),
                             static_cast<uint64_t>(s.integer(2)), s.real(3), s.integer(4)});
    }
  }
  {
    Stmt s(db, "SELECT key, seen_at FROM seen_points ORDER BY seen_at");
    while (s.step())
      rows.seen.push_back({static_cast<uint64_t>(s.integer(0)), s.integer(1)});
  }
  {
    Stmt s(db, "SELECT keys FROM seen_blocks ORDER BY id");
    while (s.step()) {
      const std::string_view keys = s.blob(0);
      const size_t n = keys.size() / sizeof(SeenRow);
      const size_t at = rows.seen.size();
      rows.seen.resize(at + n);
      std::memcpy(rows.seen.data() + at, keys.data(), n * sizeof(SeenRow));
    }
  }
  {
    Stmt s(db, "SELECT account, email FROM learned_identities");
    while (s.step())
      rows.identities.push_back({s.text(0), s.text(1)});
  }
  return rows;
}

template <typename Rows>
bool has_ledger_rows(const Rows& r) {
  return !r.actors.empty() || !r.daily.empty() || !r.totals.empty() || !r.unit_teams.empty();
}

// Upserts the ledger rows of a batch or of the journal into their tables.
template <typename Rows>
void Store::Impl::write_ledger_rows(const Rows& b) {
  if (!b.actors.empty()) {
    Stmt& s = cached(
        "INSERT INTO actors(actor_key, otel_team, last_seen_otel, last_seen_api, org) "
        "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(actor_key) DO UPDATE SET "
        "otel_team=excluded.otel_team, last_seen_otel=excluded.last_seen_otel, "
        "last_seen_api=excluded.last_seen_api, org=excluded.org");
    for (const auto& a : b.actors) {
      s.bind(1, a.actor_key).bind(2, a.otel_team).bind(3, a.last_seen_otel);
      s.bind(4, a.last_seen_api).bind(5, a.org).run();
    }
  }
  if (!b.daily.empty()) {
    Stmt& s = cached(
        "INSERT OR REPLACE INTO daily_values(source, date, actor_key, quantity, labels, "
        "value) VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
    for (const auto& d : b.daily) {
      s.bind(1, d.source).bind(2, d.date).bind(3, d.actor_key).bind(4, d.quantity);
      s.bind(5, d.labels).bind(6, d.value).run();
    }
  }
  if (!b.totals.empty()) {
    Stmt& s = cached(
        "INSERT OR REPLACE INTO counter_totals(actor_key, quantity, labels, value) "
        "VALUES(?1, ?2, ?3, ?4)");
    for (const auto& t : b.totals)
      s.bind(1, t.actor_key).bind(2, t.quantity).bind(3, t.labels).bind(4, t.value).run();
  }
  if (!b.unit_teams.empty()) {
    Stmt& s = cached("INSERT OR REPLACE INTO unit_teams(date, actor_key, team) VALUES(?1, ?2, ?3)");
    for (const auto& u : b.unit_teams)
      s.bind(1, u.date).bind(2, u.actor_key).bind(3, u.team).run();
  }
}

std::unique_lock<std::mutex> Store::Impl::absorbed_journal() {
  std::unique_lock lock(journal_mu);
  std::vector<Batch> batches;
  {
    std::lock_guard pending_lock(pending_mu);
    batches.swap(pending);
  }
  for (auto& b : batches)
    journal.add(std::move(b));
  return lock;
}

void Store::Impl::start_round() {
  if (fold_upto != 0) return;
  const auto lock = absorbed_journal();  // the round covers every record up to last_record
  if (journal.empty()) return;
  folding = std::move(journal);
  journal.clear();
  fold_upto = last_record;
  journal_bytes = 0;
}

LedgerRows Store::Impl::fold_step(size_t max_rows) {
  LedgerRows written = folding.take(max_rows);
  write_ledger_rows(written);
  return written;
}

void Store::Impl::finish_step(bool committed, LedgerRows& written) {
  if (!committed) {
    folding.add(std::move(written));  // back where they were: the tables did not get them
  } else if (folding.empty() && fold_upto != 0) {
    delete_upto = fold_upto;  // the round's rows are all in their tables
    fold_upto = 0;
  }
}

int64_t Store::Impl::delete_some() {
  if (deleted_upto >= delete_upto) return deleted_upto;
  const int64_t upto = std::min(delete_upto, deleted_upto + kDeleteStepRecords);
  cached("DELETE FROM ledger_journal WHERE id > ?1 AND id <= ?2")
      .bind(1, deleted_upto)
      .bind(2, upto)
      .run();
  return upto;
}

void Store::Impl::fold_all() {
  write_ledger_rows(folding.rows());
  const auto lock = absorbed_journal();
  write_ledger_rows(journal.rows());  // newer than the round's
  cached("DELETE FROM ledger_journal").run();
}

void Store::Impl::finish_fold_all() {
  folding.clear();
  {
    std::lock_guard lock(journal_mu);
    journal.clear();  // nothing is pending: fold_all absorbed it, and writes hold mu
  }
  fold_upto = 0;
  journal_bytes = 0;
  delete_upto = deleted_upto = last_record;
}

void Store::write(Batch b) {
  std::lock_guard lock(impl_->mu);
  // Deleting days must not run ahead of journaled rows for them: fold first, in the same
  // transaction, and write this batch's rows directly.
  const bool journal = b.days_deleted.empty() && b.api_slices_deleted.empty();
  const bool step = journal && impl_->fold_upto != 0;
  size_t journal_bytes = 0;
  int64_t record_id = 0;
  int64_t deleted_upto = impl_->deleted_upto;
  LedgerRows stepped;
  try {
    transaction([&] {
      if (!journal) impl_->fold_all();
      if (step) stepped = impl_->fold_step(kFoldStepRows);
      if (journal) deleted_upto = impl_->delete_some();
      if (!b.days_deleted.empty()) {
        Stmt& s = impl_->cached("DELETE FROM daily_values WHERE date = ?1");
        Stmt& t = impl_->cached("DELETE FROM unit_teams WHERE date = ?1");
        Stmt& o = impl_->cached("DELETE FROM api_owners WHERE date = ?1");
        for (const auto& d : b.days_deleted) {
          s.bind(1, d).run();
          t.bind(1, d).run();
          o.bind(1, d).run();
        }
      }
      if (!b.api_slices_deleted.empty()) {
        Stmt& s = impl_->cached(
            "DELETE FROM daily_values WHERE source = 'api' AND date = ?1 AND actor_key = ?2");
        Stmt& o = impl_->cached("DELETE FROM api_owners WHERE date = ?1 AND actor_key = ?2");
        for (const auto& [date, actor] : b.api_slices_deleted) {
          s.bind(1, date).bind(2, actor).run();
          o.bind(1, date).bind(2, actor).run();
        }
      }
      if (!b.api_owners.empty()) {
        Stmt& s = impl_->cached(
            "INSERT OR REPLACE INTO api_owners(date, actor_key, owner) VALUES(?1, ?2, ?3)");
        for (const auto& r : b.api_owners)
          s.bind(1, r.date).bind(2, r.actor_key).bind(3, r.owner).run();
      }
      if (journal) {
        if (has_ledger_rows(b)) {
          const std::string record = LedgerJournal::encode(b);
          record_id = impl_->last_record + 1;
          Stmt& s = impl_->cached("INSERT INTO ledger_journal(id, record) VALUES(?1, ?2)");
          s.bind(1, record_id).bind_blob(2, record).run();
          journal_bytes = record.size();
        }
      } else {
        impl_->write_ledger_rows(b);
      }
      if (!b.series.empty()) {
        Stmt& s = impl_->cached(
            "INSERT OR REPLACE INTO cumulative_series(series, start_ns, time_ns, value, "
            "seen_at) VALUES(?1, ?2, ?3, ?4, ?5)");
        for (const auto& r : b.series) {
          s.bind(1, static_cast<int64_t>(r.series)).bind(2, static_cast<int64_t>(r.start_ns));
          s.bind(3, static_cast<int64_t>(r.time_ns)).bind(4, r.value).bind(5, r.seen_at).run();
        }
      }
      if (!b.seen.empty()) {
        const auto newest = std::max_element(
            b.seen.begin(), b.seen.end(),
            [](const SeenRow& x, const SeenRow& y) { return x.seen_at < y.seen_at; });
        const std::string_view keys(reinterpret_cast<const char*>(b.seen.data()),
                                    b.seen.size() * sizeof(SeenRow));
        Stmt& s = impl_->cached("INSERT INTO seen_blocks(newest, keys) VALUES(?1, ?2)");
        s.bind(1, newest->seen_at).bind_blob(2, keys).run();
      }
      if (!b.identities.empty()) {
        Stmt& s = impl_->cached(
            "INSERT OR REPLACE INTO learned_identities(account, email) VALUES(?1, ?2)");
        for (const auto& r : b.identities)
          s.bind(1, r.account).bind(2, r.email).run();
      }
      if (!b.state.empty()) {
        Stmt& s = impl_->cached("INSERT OR REPLACE INTO state(key, value) VALUES(?1, ?2)");
        for (const auto& [k, v] : b.state)
          s.bind(1, k).bind(2, v).run();
      }
    });
  } catch (...) {
    if (step) impl_->finish_step(false, stepped);
    throw;
  }
  if (step) impl_->finish_step(true, stepped);
  if (journal) {
    impl_->deleted_upto = deleted_upto;
    std::lock_guard pending(impl_->pending_mu);
    impl_->pending.push_back(std::move(b));
    impl_->journal_bytes += journal_bytes;
    if (record_id != 0) impl_->last_record = record_id;
  } else {
    impl_->finish_fold_all();
  }
}

void Store::absorb() {
  const auto lock = impl_->absorbed_journal();
}

void Store::fold() {
  std::lock_guard lock(impl_->mu);
  bool empty = impl_->folding.empty();
  {
    const auto journal = impl_->absorbed_journal();
    empty = empty && impl_->journal.empty();
  }
  if (empty) return;
  transaction([&] { impl_->fold_all(); });
  impl_->finish_fold_all();
}

void Store::fold_some(size_t max_rows) {
  std::lock_guard lock(impl_->mu);
  impl_->start_round();
  const bool step = impl_->fold_upto != 0;
  if (!step && impl_->deleted_upto >= impl_->delete_upto) return;
  LedgerRows stepped;
  int64_t deleted_upto = impl_->deleted_upto;
  try {
    transaction([&] {
      if (step) stepped = impl_->fold_step(max_rows);
      deleted_upto = impl_->delete_some();
    });
  } catch (...) {
    if (step) impl_->finish_step(false, stepped);
    throw;
  }
  if (step) impl_->finish_step(true, stepped);
  impl_->deleted_upto = deleted_upto;
}

void Store::sync() {
  if (!impl_->sync_wal) return;
  std::lock_guard lock(impl_->sync_mu);
  if (impl_->wal_fd < 0) {
    impl_->wal_fd = ::open(impl_->wal_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (impl_->wal_fd < 0) {
      if (errno == ENOENT) return;  // nothing written yet
      throw StoreError("cannot open " + impl_->wal_path + ": " + std::strerror(errno));
    }
  }
  if (::fdatasync(impl_->wal_fd) != 0) {
    throw StoreError("cannot sync " + impl_->wal_path + ": " + std::strerror(errno));
  }
}

bool Store::folding() const {
  std::lock_guard lock(impl_->mu);
  return impl_->fold_upto != 0 || impl_->deleted_upto < impl_->delete_upto;
}

size_t Store::journal_bytes() const {
  std::lock_guard lock(impl_->mu);
  return impl_->journal_bytes;
}

void Store::prune(int64_t seen_before, int64_t series_before) {
  std::lock_guard lock(impl_->mu);
  Stmt a(impl_->db, "DELETE FROM seen_points WHERE seen_at < ?1");
  a.bind(1, seen_before).run();
  // A block goes when its newest key is old; its older keys are forgotten in memory meanwhile.
  Stmt c(impl_->db, "DELETE FROM seen_blocks WHERE newest < ?1");
  c.bind(1, seen_before).run();
  Stmt b(impl_->db, "DELETE FROM cumulative_series WHERE seen_at < ?1");
  b.bind(1, series_before).run();
}

std::optional<std::string> Store::get_state(const std::string& key) {
  std::lock_guard lock(impl_->mu);
  Stmt s(impl_->db, "SELECT value FROM state WHERE key = ?1");
  s.bind(1, key);
  if (!s.step()) return std::nullopt;
  return s.text(0);
}

void Store::set_state(const std::string& key, const std::string& value) {
  std::lock_guard lock(impl_->mu);
  Stmt s(impl_->db, "INSERT OR REPLACE INTO state(key, value) VALUES(?1, ?2)");
  s.bind(1, key).bind(2, value).run();
}

void Store::probe() {
  std::lock_guard lock(impl_->mu);
  transaction([&] {
    Stmt s(impl_->db,
           "INSERT OR REPLACE INTO state(key, value) VALUES('store.write_probe', "
           "strftime('%s', 'now'))");
    s.run();
  });
}

void Store::checkpoint() {
  try {
    fold();
  } catch (const StoreError&) {
    // The journal stays and is read at the next start.
  }
  std::lock_guard lock(impl_->mu);
  sqlite3_wal_checkpoint_v2(impl_->db, nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr, nullptr);
}

}  // namespace cce::store
