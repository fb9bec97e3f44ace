// serial_latency: sends POST /predict requests one after another over one
// keep-alive connection for a while, records every request's latency, and
// prints where the time went. A diagnostic for target 2 (bench/targets.sh):
// wrk's p99 at one connection goes above 150 us once requests slower than
// that add up to about 1% of the run's time (wrk adds samples for the
// requests a stalled connection would have sent), so the share of the run
// spent in slow requests, printed here, says how close a server is to the
// target and whether few long stalls or many short ones cost it.
//
//   cc -O2 -o serial_latency bench/serial_latency.c
//   ./serial_latency PORT SECONDS BODY_FILE [THRESHOLD_US] 2>slow.txt
//
// stdout: one line with requests, req/s, p50/p90/p99/p99.9/max (us), and the
// count, share and time share of requests slower than THRESHOLD_US (150).
// stderr: one line per slow request, "<start us since the first> <latency us>",
// to see whether stalls come at a period.
//
// Not a product component: 127.0.0.1 only, a body of at most 64 KiB, and the
// answer must carry Content-Length (mast's do).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double NowUs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int CompareDoubles(const void* a, const void* b) {
  const double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

// Reads one answer (head and Content-Length bytes of body). 0 on success.
static int ReadAnswer(int fd, char* buf, size_t cap) {
  size_t got = 0, head = 0;
  long need = -1;
  for (;;) {
    const ssize_t n = read(fd, buf + got, cap - 1 - got);
    if (n <= 0) return -1;
    got += (size_t)n;
    buf[got] = '\0';  // for strcasestr
    if (need < 0) {
      const char* end = memmem(buf, got, "\r\n\r\n", 4);
      if (end == NULL) continue;
      head = (size_t)(end - buf) + 4;
      const char* length = strcasestr(buf, "content-length:");
      if (length == NULL || length > end) return -1;
      need = atol(length + 15);
      if (head + (size_t)need >= cap) return -1;
    }
    if (got >= head + (size_t)need) return 0;
  }
}

int main(int argc, char** argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: %s PORT SECONDS BODY_FILE [THRESHOLD_US]\n", argv[0]);
    return 2;
  }
  const int port = atoi(argv[1]);
  const double seconds = atof(argv[2]);
  const double threshold = argc > 4 ? atof(argv[4]) : 150;
  static char body[65536], request[70000], answer[1 << 20];
  FILE* f = fopen(argv[3], "rb");
  if (f == NULL) {
    perror(argv[3]);
    return 2;
  }
  const size_t body_len = fread(body, 1, sizeof(body), f);
  fclose(f);
  int len = snprintf(request, sizeof(request),
                     "POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     body_len);
  memcpy(request + len, body, body_len);
  len += (int)body_len;

  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr*)&addr, sizeof(addr)) != 0) {
    perror("connect");
    return 1;
  }

  const size_t cap = 20 * 1000 * 1000;
  double* latency = malloc(cap * sizeof(double));
  double* sorted = malloc(cap * sizeof(double));
  double* started = malloc(cap * sizeof(double));
  if (latency == NULL || sorted == NULL || started == NULL) return 1;
  size_t n = 0;
  const double t0 = NowUs(), end = t0 + seconds * 1e6;
  while (n < cap) {
    const double start = NowUs();
    if (start > end) break;
    if (write(fd, request, (size_t)len) != len || ReadAnswer(fd, answer, sizeof(answer)) != 0) {
      fprintf(stderr, "request %zu failed\n", n);
      return 1;
    }
    latency[n] = NowUs() - start;
    started[n] = start - t0;
    ++n;
  }
  if (n == 0) return 1;
  const double total = NowUs() - t0;
  double slow_time = 0;
  size_t slow = 0;
  for (size_t i = 0; i < n; ++i) {
    if (latency[i] <= threshold) continue;
    ++slow;
    slow_time += latency[i];
    fprintf(stderr, "%.0f %.0f\n", started[i], latency[i]);
  }
  memcpy(sorted, latency, n * sizeof(double));
  qsort(sorted, n, sizeof(double), CompareDoubles);
  printf("requests %zu  req/s %.0f  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.0f us  |  "
         "over %.0f us: %zu (%.3f%%), %.3f%% of the time\n",
         n, n / (total / 1e6), sorted[n / 2], sorted[n * 9 / 10], sorted[n * 99 / 100],
         sorted[n * 999 / 1000], sorted[n - 1], threshold, slow, 100.0 * slow / n,
         100 * slow_time / total);
  return 0;
}
