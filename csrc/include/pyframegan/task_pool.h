// The CPU kernels' threads: a small pool whose parallel call ends when the work is done.
#pragma once
#include <c10/util/FunctionRef.h>

#include <cstdint>

namespace pyframegan::cpu {

// Runs task(i) for every i in [0, tasks) on up to at::get_num_threads() threads, the caller one of
// them, each thread taking the next task as it frees; returns when every task has run. Unlike
// at::parallel_for (an OpenMP region, whose end waits until every thread of the team has arrived),
// a worker that the machine has not scheduled yet does not hold the call up: the caller takes its
// tasks and returns, and the late worker finds none left. Measured before this pool, one 512x384
// dis_flow (hundreds of short kernels) with other processes on the 2 cores: 150-200 ms against
// 15 ms at one thread. Runs the tasks in the caller, in order, when there is one task or one
// thread, inside a parallel region (at::parallel_for's or this pool's), after a fork, or while
// another thread is using the pool. `task` must not throw.
void run_tasks(int64_t tasks, c10::function_ref<void(int64_t)> task);

}  // namespace pyframegan::cpu
