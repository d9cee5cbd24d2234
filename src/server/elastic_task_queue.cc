#include "cce/server/elastic_task_queue.h"

#include <thread>

#include "cce/util/thread_name.h"

namespace cce::server {

ElasticTaskQueue::ElasticTaskQueue(size_t min_threads, size_t max_threads,
                                   std::chrono::milliseconds idle_exit)
    : min_threads_(min_threads),
      max_threads_(max_threads < 1 ? 1 : max_threads),
      idle_exit_(idle_exit) {
  std::lock_guard lock(mu_);
  for (size_t i = 0; i < min_threads_ && i < max_threads_; ++i)
    spawn();
}

ElasticTaskQueue::~ElasticTaskQueue() {
  shutdown();
}

void ElasticTaskQueue::spawn() {
  ++threads_;
  // Detached: a worker that retires on idleness cleans up after itself; shutdown() waits for
  // the count to reach zero instead of joining.
  std::thread([this] {
    util::name_this_thread("http-worker");
    worker();
  }).detach();
}

void ElasticTaskQueue::enqueue(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  if (shutdown_) return;
  jobs_.push_back(std::move(fn));
  if (idle_ < jobs_.size() && threads_ < max_threads_) spawn();
  work_cv_.notify_one();
}

void ElasticTaskQueue::worker() {
  std::unique_lock lock(mu_);
  for (;;) {
    ++idle_;
    const bool got =
        work_cv_.wait_for(lock, idle_exit_, [this] { return shutdown_ || !jobs_.empty(); });
    --idle_;
    if (!jobs_.empty()) {
      auto fn = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      fn();
      lock.lock();
      continue;
    }
    if (shutdown_ || (!got && threads_ > min_threads_)) break;
  }
  --threads_;
  done_cv_.notify_all();
}

void ElasticTaskQueue::shutdown() {
  std::unique_lock lock(mu_);
  shutdown_ = true;
  work_cv_.notify_all();
  // Queued connections are still served (httplib hands us only accepted sockets).
  done_cv_.wait(lock, [this] { return threads_ == 0; });
}

}  // namespace cce::server
