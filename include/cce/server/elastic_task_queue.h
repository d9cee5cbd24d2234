#pragma once

#include <httplib.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>

namespace cce::server {

// httplib serves a connection on one pool thread for the connection's whole keep-alive life,
// so with a fixed pool a few idle exporters (Claude Code keeps connections open) starve every
// new client. This pool grows a thread whenever no thread is idle, up to max_threads, and lets
// threads beyond min_threads exit after idle_exit of idleness. Past max_threads, work queues.
// Thread-safe.
class ElasticTaskQueue final : public httplib::TaskQueue {
 public:
  ElasticTaskQueue(size_t min_threads, size_t max_threads,
                   std::chrono::milliseconds idle_exit = std::chrono::seconds(30));
  ~ElasticTaskQueue() override;

  void enqueue(std::function<void()> fn) override;
  void shutdown() override;

 private:
  void spawn();  // requires mu_
  void worker();

  const size_t min_threads_;
  const size_t max_threads_;
  const std::chrono::milliseconds idle_exit_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  std::deque<std::function<void()>> jobs_;
  size_t idle_ = 0;
  bool shutdown_ = false;
  size_t threads_ = 0;  // guarded by mu_
};

}  // namespace cce::server
