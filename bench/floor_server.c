// floor_server: the least an HTTP server can do per request on this
// machine, as a reference for target 2's tail latency (bench/targets.sh).
//
//   cc -O2 -pthread -o floor_server bench/floor_server.c
//   ./floor_server PORT
//
// Answers every request on 127.0.0.1:PORT with one fixed JSON body, after
// reading its head and Content-Length bytes of body. It waits for requests
// the way mast does at its default settings: each connection's thread polls
// its socket without blocking, yielding the core between tries, and a
// second thread keeps the other core busy (yielding too) while any
// connection is open, so no core halts between requests. What it does not
// do is everything mast does per request (parsing, validation, inference,
// metrics, logging). Its p99 at one connection is therefore the floor the
// machine itself (scheduler, hypervisor, wrk) sets for any server; mast's
// can only be compared with that, not with zero.
//
// Not a product component: no limits, no error handling beyond closing the
// connection.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

// Open connections; the companion sleeps on `opened` while there are none.
static atomic_int open_connections;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t opened = PTHREAD_COND_INITIALIZER;

static const char kAnswer[] =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 53\r\n"
    "\r\n"
    "{\"prediction\":[1],\"inference_time_ms\":0.012000000000}";

// The body length a request head announces (0 when it announces none).
static long ContentLength(const char* head, size_t len) {
  static const char kName[] = "\r\ncontent-length:";
  const size_t n = sizeof(kName) - 1;
  for (size_t i = 0; i + n <= len; ++i) {
    if (strncasecmp(head + i, kName, n) == 0) return strtol(head + i + n, NULL, 10);
  }
  return 0;
}

static void* Serve(void* arg) {
  const int fd = (int)(long)arg;
  char buf[65536];
  size_t have = 0;
  for (;;) {
    const ssize_t got = recv(fd, buf + have, sizeof(buf) - have, MSG_DONTWAIT);
    if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) break;
    if (got < 0) {
      sched_yield();
      continue;
    }
    have += (size_t)got;
    for (;;) {  // answer every complete request in the buffer
      const char* end = memmem(buf, have, "\r\n\r\n", 4);
      if (end == NULL) break;
      const size_t head = (size_t)(end - buf) + 4;
      const size_t whole = head + (size_t)ContentLength(buf, head);
      if (whole > sizeof(buf)) goto done;
      if (have < whole) break;
      if (send(fd, kAnswer, sizeof(kAnswer) - 1, MSG_NOSIGNAL) < 0) goto done;
      memmove(buf, buf + whole, have - whole);
      have -= whole;
    }
    if (have == sizeof(buf)) break;
  }
done:
  close(fd);
  atomic_fetch_sub(&open_connections, 1);
  return NULL;
}

// Keeps a second core from halting while any connection is open, and
// sleeps without a timer otherwise: a periodic wake-up (it used to check
// every millisecond) disturbs whatever server is measured meanwhile.
static void* Companion(void* arg) {
  (void)arg;
  for (;;) {
    pthread_mutex_lock(&mu);
    while (atomic_load(&open_connections) == 0) pthread_cond_wait(&opened, &mu);
    pthread_mutex_unlock(&mu);
    while (atomic_load(&open_connections) > 0) sched_yield();
  }
  return NULL;
}

static void Opened(void) {
  pthread_mutex_lock(&mu);
  atomic_fetch_add(&open_connections, 1);
  pthread_cond_signal(&opened);
  pthread_mutex_unlock(&mu);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: floor_server PORT\n");
    return 2;
  }
  const int listener = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in addr;
  memset(&addr, 0, sizeof(addr));
  addr.sin_family = AF_INET;
  addr.sin_port = htons((uint16_t)atoi(argv[1]));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(listener, (struct sockaddr*)&addr, sizeof(addr)) != 0 || listen(listener, 128) != 0) {
    perror("floor_server: listen");
    return 1;
  }
  pthread_t companion;
  pthread_create(&companion, NULL, Companion, NULL);
  for (;;) {
    const int fd = accept(listener, NULL, NULL);
    if (fd < 0) continue;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    Opened();
    pthread_t t;
    if (pthread_create(&t, NULL, Serve, (void*)(long)fd) != 0) {
      close(fd);
      atomic_fetch_sub(&open_connections, 1);
      continue;
    }
    pthread_detach(t);
  }
}
