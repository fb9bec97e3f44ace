// cpu_gaps: how much of each CPU's time the machine itself takes away from a
// running program, in pieces long enough to spoil a request's latency.
//
//   cc -O2 -pthread -o cpu_gaps bench/cpu_gaps.c
//   ./cpu_gaps SECONDS [THRESHOLD_US]      (threshold: 150 us)
//
// One thread per CPU the process may run on, each pinned to its CPU, reads
// the monotonic clock in a tight loop. Whenever two readings are more than
// THRESHOLD_US apart, the CPU was doing something else meanwhile: a kernel
// thread (kdamond, kworkers), an interrupt, another process, or the
// hypervisor running another guest on the virtual core. Prints, per CPU, the
// number of such gaps, the share of the time they took and the longest; on
// stderr each gap's start (us since the start) and length.
//
// That share is what a server answering one connection cannot avoid: a
// request that meets a gap waits it out, whatever the server does. wrk's p99
// at one connection passes 150 us once the time spent in requests slower
// than 150 us passes about 1% (see bench/README.md), so a CPU losing 0.5% of
// its time in gaps leaves a server little room. Run it on an otherwise idle
// machine: it keeps every CPU busy while it runs.
//
// Not a product component.
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
  int cpu;
  int64_t gaps;
  int64_t gap_ns;  // total
  int64_t max_ns;
} Result;

static int64_t threshold_ns;
static int64_t start_ns;
static int64_t end_ns;

static int64_t Now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static void* Watch(void* arg) {
  Result* r = arg;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(r->cpu, &one);
  if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one) != 0) {
    fprintf(stderr, "cpu_gaps: cannot pin a thread to cpu %d\n", r->cpu);
    return NULL;
  }
  int64_t prev = Now();
  while (prev < end_ns) {
    const int64_t now = Now();
    const int64_t gap = now - prev;
    if (gap > threshold_ns) {
      ++r->gaps;
      r->gap_ns += gap;
      if (gap > r->max_ns) r->max_ns = gap;
      fprintf(stderr, "cpu%d %lld %lld\n", r->cpu, (long long)((prev - start_ns) / 1000),
              (long long)(gap / 1000));
      prev = Now();  // the time the line took is not the machine's
      continue;
    }
    prev = now;
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3 || atof(argv[1]) <= 0 || (argc == 3 && atof(argv[2]) <= 0)) {
    fprintf(stderr, "usage: cpu_gaps SECONDS [THRESHOLD_US]\n");
    return 2;
  }
  const double seconds = atof(argv[1]);
  threshold_ns = (int64_t)((argc == 3 ? atof(argv[2]) : 150) * 1000);
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) {
    perror("cpu_gaps: sched_getaffinity");
    return 1;
  }
  const int n = CPU_COUNT(&allowed);
  Result* results = calloc((size_t)n, sizeof(Result));
  pthread_t* threads = calloc((size_t)n, sizeof(pthread_t));
  if (results == NULL || threads == NULL) return 1;
  start_ns = Now();
  end_ns = start_ns + (int64_t)(seconds * 1e9);
  for (int cpu = 0, i = 0; i < n; ++cpu) {
    if (!CPU_ISSET(cpu, &allowed)) continue;
    results[i].cpu = cpu;
    if (pthread_create(&threads[i], NULL, Watch, &results[i]) != 0) {
      fprintf(stderr, "cpu_gaps: cannot start a thread\n");
      return 1;
    }
    ++i;
  }
  for (int i = 0; i < n; ++i) pthread_join(threads[i], NULL);
  const double total_ns = seconds * 1e9;
  for (int i = 0; i < n; ++i) {
    const Result* r = &results[i];
    printf("cpu%d  gaps over %lld us: %lld, %.3f%% of the time, longest %.0f us\n", r->cpu,
           (long long)(threshold_ns / 1000), (long long)r->gaps, 100.0 * r->gap_ns / total_ns,
           r->max_ns / 1000.0);
  }
  free(results);
  free(threads);
  return 0;
}
