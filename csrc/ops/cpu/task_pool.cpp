// The pool behind run_tasks (task_pool.h).
//
// One job at a time. Its state is one 64-bit word, (generation, tasks, next task), which a thread
// advances by compare-and-swap to take a task: a worker still holding an older generation cannot
// take a task of the new job, and the job's function pointer, written before the word is
// published, stays valid until every task taken has finished (the caller waits for `done_`). The
// workers spin a little after a job (a flow's kernels follow each other within microseconds), then
// sleep on a condition variable.
#include "pyframegan/task_pool.h"

#include <ATen/Parallel.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define PFG_PAUSE() _mm_pause()
#else
#define PFG_PAUSE() std::this_thread::yield()
#endif

namespace pyframegan::cpu {

namespace {

constexpr int kTaskBits = 22, kGenBits = 64 - 2 * kTaskBits;
constexpr int64_t kMaxTasks = (int64_t{1} << kTaskBits) - 1;
constexpr uint64_t kTaskMask = (uint64_t{1} << kTaskBits) - 1, kGenMask = (uint64_t{1} << kGenBits) - 1;
constexpr int kSpins = 4000;  // pauses (~50-100 us) a worker waits for the next job before sleeping

thread_local bool in_pool = false;  // this thread is running a task of the pool (nested calls run inline)

uint64_t pack(uint64_t gen, uint64_t tasks, uint64_t next) {
  return ((gen & kGenMask) << (2 * kTaskBits)) | (tasks << kTaskBits) | next;
}
uint64_t gen_of(uint64_t word) { return word >> (2 * kTaskBits); }
uint64_t tasks_of(uint64_t word) { return (word >> kTaskBits) & kTaskMask; }
uint64_t next_of(uint64_t word) { return word & kTaskMask; }

class TaskPool {
 public:
  TaskPool() : pid_(getpid()) {}

  // false: the pool cannot take this job now (the caller runs it inline)
  bool run(int64_t tasks, c10::function_ref<void(int64_t)> task) {
    if (getpid() != pid_) return false;  // a forked child has none of the workers
    std::unique_lock<std::mutex> busy(job_, std::try_to_lock);
    if (!busy) return false;
    const int threads = std::max(1, at::get_num_threads());
    if (threads < 2) return false;
    start_workers(threads - 1);
    task_ = &task;
    active_.store(threads - 1, std::memory_order_relaxed);
    done_.store(0, std::memory_order_relaxed);
    const uint64_t gen = (gen_of(word_.load(std::memory_order_relaxed)) + 1) & kGenMask;
    word_.store(pack(gen, static_cast<uint64_t>(tasks), 0), std::memory_order_release);
    { const std::lock_guard<std::mutex> lock(wake_); }  // a worker between its check and its wait gets the notice
    wake_cv_.notify_all();
    in_pool = true;
    work(gen);
    in_pool = false;
    for (int spin = 0; done_.load(std::memory_order_acquire) < tasks; ++spin) {
      if (spin < kSpins) {
        PFG_PAUSE();
      } else {
        std::this_thread::yield();  // a worker was descheduled in the middle of its task
      }
    }
    return true;
  }

 private:
  // Takes and runs tasks of generation `gen` until none are left.
  void work(uint64_t gen) {
    uint64_t word = word_.load(std::memory_order_acquire);
    while (gen_of(word) == gen && next_of(word) < tasks_of(word)) {
      if (!word_.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      (*task_)(static_cast<int64_t>(next_of(word)));
      done_.fetch_add(1, std::memory_order_release);
      word = word_.load(std::memory_order_acquire);
    }
  }

  void start_workers(int wanted) {
    while (static_cast<int>(workers_.size()) < wanted) {
      const int index = static_cast<int>(workers_.size());
      workers_.emplace_back([this, index] { loop(index); });
      workers_.back().detach();  // the pool lives as long as the process
    }
  }

  void loop(int index) {
    in_pool = true;
    uint64_t seen = gen_of(word_.load(std::memory_order_acquire));
    for (;;) {
      uint64_t gen = seen;
      for (int spin = 0; spin < kSpins && gen == seen; ++spin) {
        PFG_PAUSE();
        gen = gen_of(word_.load(std::memory_order_acquire));
      }
      if (gen == seen) {
        std::unique_lock<std::mutex> lock(wake_);
        wake_cv_.wait(lock, [&] { return gen_of(word_.load(std::memory_order_acquire)) != seen; });
        gen = gen_of(word_.load(std::memory_order_acquire));
      }
      seen = gen;
      // fewer threads wanted now than workers started (at::set_num_threads): sit the job out
      if (index < active_.load(std::memory_order_acquire)) work(gen);
    }
  }

  const pid_t pid_;
  std::mutex job_;  // held by the caller of the current job
  std::atomic<uint64_t> word_{0};
  std::atomic<int64_t> done_{0};
  const c10::function_ref<void(int64_t)>* task_ = nullptr;
  std::mutex wake_;
  std::condition_variable wake_cv_;
  std::atomic<int> active_{0};  // workers that take part in the current job
  std::vector<std::thread> workers_;
};

TaskPool& pool() {
  static TaskPool* p = new TaskPool();  // never destroyed: its workers run until the process ends
  return *p;
}

void run_inline(int64_t begin, int64_t end, c10::function_ref<void(int64_t)> task) {
  for (int64_t i = begin; i < end; ++i) task(i);
}

}  // namespace

void run_tasks(int64_t tasks, c10::function_ref<void(int64_t)> task) {
  if (tasks <= 0) return;
  if (tasks == 1 || in_pool || at::in_parallel_region() || at::get_num_threads() < 2) return run_inline(0, tasks, task);
  if (tasks > kMaxTasks) {  // groups of tasks, each one pool task
    const int64_t group = (tasks + kMaxTasks - 1) / kMaxTasks;
    return run_tasks((tasks + group - 1) / group,
                     [&](int64_t g) { run_inline(g * group, std::min(tasks, (g + 1) * group), task); });
  }
  if (!pool().run(tasks, task)) run_inline(0, tasks, task);
}

}  // namespace pyframegan::cpu
