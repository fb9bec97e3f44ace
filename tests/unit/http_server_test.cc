#include "server/http_server.h"

#include <gtest/gtest.h>

#include <ostream>
#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <filesystem>
#include <fstream>
#include <future>
#include <sys/socket.h>
#include <unistd.h>
#include <thread>

#include "common/cpus.h"
#include "fixture_util.h"

namespace mast {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

// Answers "echo:<body>"; requests to /hold are parked until Release().
class FakeHandler : public HttpHandler {
 public:
  void Handle(HttpRequest request, const PeerInfo& peer, HttpResponder respond) override {
    last_peer_loopback = peer.loopback;
    if (request.target() == "/hold") {
      std::lock_guard<std::mutex> lock(mu_);
      held_.push_back(std::move(respond));
      return;
    }
    if (request.target() == "/async") {
      std::thread([respond] {
        HttpResponse r{http::status::ok, 11};
        r.body() = "from another thread";
        respond(std::move(r));
      }).detach();
      return;
    }
    if (request.target() == "/stream" || request.target() == "/stream-fail") {
      HttpResponse head{http::status::ok, 11};
      head.set(http::field::content_type, "text/plain");
      respond.Stream(std::move(head), std::make_shared<Pieces>(request.target() == "/stream"));
      return;
    }
    HttpResponse r{http::status::ok, request.version()};
    r.body() = "echo:" + request.body();
    respond(std::move(r));
  }
  // Streams "a", "b", "c" (from another thread), then ends, or fails after
  // the first piece.
  class Pieces : public BodyStream {
   public:
    explicit Pieces(bool complete) : complete_(complete) {}
    void Next(Deliver deliver) override {
      const int n = next_++;
      std::thread([this, n, deliver = std::move(deliver)] {
        if (n < 3 && (complete_ || n == 0)) return deliver(std::string(1, char('a' + n)), true);
        deliver(std::string(), complete_);
      }).detach();
    }

   private:
    const bool complete_;
    std::atomic<int> next_{0};
  };
  HttpResponse Reject(int status, StatusCode, std::string_view target,
                      std::string_view message) override {
    rejected_status = status;
    HttpResponse r{static_cast<http::status>(status), 11};
    r.body() = std::string(message);
    return r;
  }
  size_t BodyLimit(std::string_view target, size_t default_limit) override {
    return target == "/big" ? default_limit * 10 : default_limit;
  }
  // Bodies of /spool... requests go to files in `spool_dir`; /spool-denied
  // is refused before its body.
  std::string SpoolDir(std::string_view target) override {
    return target.substr(0, 6) == "/spool" ? spool_dir : std::string();
  }
  Status AdmitBody(const HttpRequest& header, const PeerInfo&) override {
    if (header.target() == "/spool-denied") return Status(StatusCode::kPermissionDenied, "no");
    return OkStatus();
  }
  // Answers "spooled:<file content>" (the request's own body must be empty).
  void HandleSpooled(HttpRequest request, std::shared_ptr<SpooledBody> body, const PeerInfo&,
                     HttpResponder respond) override {
    std::ifstream in(body->path, std::ios::binary);
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    HttpResponse r{http::status::ok, request.version()};
    r.body() = "spooled:" + request.body() + content.substr(0, 64) + ":" +
               std::to_string(content.size()) + "/" + std::to_string(body->size);
    respond(std::move(r));
  }
  std::string spool_dir;
  int held() {
    std::lock_guard<std::mutex> lock(mu_);
    return static_cast<int>(held_.size());
  }
  void Release() {
    std::vector<HttpResponder> held;
    {
      std::lock_guard<std::mutex> lock(mu_);
      held.swap(held_);
    }
    for (auto& r : held) {
      HttpResponse resp{http::status::ok, 11};
      resp.body() = "released";
      r(std::move(resp));
    }
  }
  std::atomic<int> rejected_status{0};
  std::atomic<bool> last_peer_loopback{false};

 private:
  std::mutex mu_;
  std::vector<HttpResponder> held_;
};

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options = {}) {
    options.port = 0;
    auto s = HttpServer::Create(options, &handler_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(s).value();
    runner_ = std::thread([this] {
      runner_tid_ = gettid();
      server_->Run();
    });
  }
  void TearDown() override {
    if (server_) {
      server_->Shutdown(std::chrono::milliseconds(100));
      runner_.join();
    }
  }
  tcp::socket Connect() {
    tcp::socket s(ioc_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    return s;
  }
  static http::response<http::string_body> Send(tcp::socket& s, http::verb method,
                                                std::string target, std::string body = "") {
    http::request<http::string_body> req{method, target, 11};
    req.set(http::field::host, "localhost");
    req.body() = std::move(body);
    req.prepare_payload();
    http::write(s, req);
    return ReadResponse(s);
  }

  // Reads one response from `s` (nothing may follow it on the connection).
  static http::response<http::string_body> ReadResponse(tcp::socket& s) {
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    return res;
  }
  // The /proc status file of the thread that called Run().
  std::string RunnerStatus() const {
    return "/proc/self/task/" + std::to_string(runner_tid_.load()) + "/status";
  }

  FakeHandler handler_;
  asio::io_context ioc_;
  std::unique_ptr<HttpServer> server_;
  std::thread runner_;
  std::atomic<pid_t> runner_tid_{0};  // set before Run() is called
};

TEST_F(HttpServerTest, ServesSeveralRequestsOnOneKeepAliveConnection) {
  Start();
  auto s = Connect();
  auto a = Send(s, http::verb::post, "/x", "one");
  auto b = Send(s, http::verb::post, "/x", "two");
  EXPECT_EQ(a.body(), "echo:one");
  EXPECT_TRUE(handler_.last_peer_loopback.load());
  EXPECT_EQ(b.body(), "echo:two");
  EXPECT_TRUE(b.keep_alive());
}

// Reads everything the server sends until it closes the connection.
std::string ReadUntilClosed(tcp::socket& s) {
  std::string out;
  char buf[4096];
  beast::error_code ec;
  for (;;) {
    const size_t n = s.read_some(asio::buffer(buf), ec);
    out.append(buf, n);
    if (ec) return out;
  }
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Start();
  auto s = Connect();
  // Three requests in one write; the last asks to close.
  asio::write(s, asio::buffer(std::string(
                     "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\none"
                     "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\ntwo"
                     "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
                     "three")));
  const std::string all = ReadUntilClosed(s);
  const size_t one = all.find("echo:one"), two = all.find("echo:two"),
               three = all.find("echo:three");
  ASSERT_NE(one, std::string::npos) << all;
  ASSERT_NE(two, std::string::npos) << all;
  ASSERT_NE(three, std::string::npos) << all;
  EXPECT_LT(one, two);
  EXPECT_LT(two, three);
  EXPECT_NE(all.find("Connection: close\r\n"), std::string::npos) << all;
}

// Many connections with a request ready at once: their answers are held and
// sent together at the end of the I/O thread's round, each to its own
// connection, in order.
TEST_F(HttpServerTest, AnswersSentTogetherReachTheirOwnConnections) {
  HttpServerOptions o;
  o.io_threads = 2;
  o.write_coalesce = std::chrono::milliseconds(50);
  Start(o);
  constexpr int kConnections = 16, kRounds = 30;
  std::vector<tcp::socket> sockets;
  for (int c = 0; c < kConnections; ++c) {
    sockets.push_back(Connect());
    // An answer that is never sent fails the read instead of hanging it.
    timeval limit{10, 0};
    setsockopt(sockets.back().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  }
  for (int round = 0; round < kRounds; ++round) {
    for (int c = 0; c < kConnections; ++c) {
      const std::string body = std::to_string(c) + "-" + std::to_string(round);
      asio::write(sockets[c], asio::buffer("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: " +
                                           std::to_string(body.size()) + "\r\n\r\n" + body));
    }
    for (int c = 0; c < kConnections; ++c) {
      beast::flat_buffer buf;
      http::response<http::string_body> res;
      http::read(sockets[c], buf, res);
      ASSERT_EQ(res.body(), "echo:" + std::to_string(c) + "-" + std::to_string(round));
      ASSERT_TRUE(res.keep_alive());
    }
  }
}

// A held answer goes out when its round ends, not when the wait allowed
// to it runs out.
TEST_F(HttpServerTest, ALoneAnswerIsNotHeldForTheCoalescingWait) {
  HttpServerOptions o;
  o.write_coalesce = std::chrono::seconds(20);
  Start(o);
  auto s = Connect();
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 20; ++i) {
    ASSERT_EQ(Send(s, http::verb::post, "/x", std::to_string(i)).body(),
              "echo:" + std::to_string(i));
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(HttpServerTest, EachAnswerIsSentAtOnceWithoutCoalescing) {
  HttpServerOptions o;
  o.write_coalesce = std::chrono::microseconds(0);
  Start(o);
  auto s = Connect();
  EXPECT_EQ(Send(s, http::verb::post, "/x", "one").body(), "echo:one");
  EXPECT_EQ(Send(s, http::verb::get, "/async").body(), "from another thread");
  EXPECT_EQ(Send(s, http::verb::post, "/x", "two").body(), "echo:two");
}

// Busy-polling I/O threads (which keep each other polling and wake each
// other from sleep) serve connections on every thread, sleep when idle, and
// stop on shutdown.
TEST_F(HttpServerTest, BusyPollingThreadsServeSleepAndStop) {
  HttpServerOptions o;
  o.io_threads = 3;
  o.busy_poll = std::chrono::microseconds(200);
  Start(o);
  std::vector<tcp::socket> sockets;
  for (int c = 0; c < 6; ++c) sockets.push_back(Connect());  // two per thread
  for (int pass = 0; pass < 3; ++pass) {
    for (int c = 0; c < 6; ++c) {
      const std::string body = std::to_string(pass) + "/" + std::to_string(c);
      ASSERT_EQ(Send(sockets[c], http::verb::post, "/x", body).body(), "echo:" + body);
    }
    // Long enough for every thread to stop polling and block.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(Send(sockets[0], http::verb::get, "/async").body(), "from another thread");
  std::promise<int> drained;
  server_->Shutdown(std::chrono::seconds(5), [&](int abandoned) { drained.set_value(abandoned); });
  EXPECT_EQ(drained.get_future().get(), 0);
  runner_.join();
  server_.reset();
}

// The CPUs a thread may run on, as the kernel lists them ("0-1", "1"), from
// its /proc status file.
std::string AllowedCpus(const std::filesystem::path& status_file) {
  std::ifstream status(status_file);
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Cpus_allowed_list:", 0) == 0) {
      return line.substr(line.find_last_of(" \t") + 1);
    }
  }
  return "";
}

// The same for this process's thread named `name`; "" if there is none.
std::string AllowedCpusOfThread(const std::string& name) {
  const std::filesystem::path task = testing::ThreadTaskDir(name);
  return task.empty() ? "" : AllowedCpus(task / "status");
}

TEST_F(HttpServerTest, PinnedIoThreadsRunEachOnTheirOwnCpu) {
  const std::vector<int> cpus = UsableCpus();
  ASSERT_FALSE(cpus.empty());
  HttpServerOptions o;
  o.io_threads = 3;  // more threads than CPUs on small machines: round robin
  o.pin_io_threads = true;
  o.busy_poll = std::chrono::microseconds(100);
  Start(o);
  tcp::socket s = Connect();
  ASSERT_EQ(Send(s, http::verb::post, "/x", "a").body(), "echo:a");
  // Each thread pins itself as it starts: one that has served nothing yet
  // may still be starting.
  const std::string runner_status = RunnerStatus();  // the caller of Run() is thread 0
  const std::string want0 = std::to_string(cpus[0]);
  const std::string want1 = std::to_string(cpus[1 % cpus.size()]);
  const std::string want2 = std::to_string(cpus[2 % cpus.size()]);
  auto pinned = [&] {
    return AllowedCpusOfThread("mast-io-1") == want1 &&
           AllowedCpusOfThread("mast-io-2") == want2 && AllowedCpus(runner_status) == want0;
  };
  for (int i = 0; i < 200 && !pinned(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(AllowedCpusOfThread("mast-io-1"), want1);
  EXPECT_EQ(AllowedCpusOfThread("mast-io-2"), want2);
  EXPECT_EQ(AllowedCpus(runner_status), want0);
}

TEST_F(HttpServerTest, IoThreadsAreNotPinnedUnlessAsked) {
  HttpServerOptions o;
  o.io_threads = 2;
  Start(o);
  tcp::socket s = Connect();
  ASSERT_EQ(Send(s, http::verb::post, "/x", "a").body(), "echo:a");
  const std::string own = AllowedCpus("/proc/thread-self/status");
  ASSERT_NE(own, "");
  // A thread that has served nothing yet may still be starting (unnamed).
  for (int i = 0; i < 200 && AllowedCpusOfThread("mast-io-1").empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(AllowedCpusOfThread("mast-io-1"), own);
  EXPECT_EQ(AllowedCpus(RunnerStatus()), own);
}

TEST_F(HttpServerTest, ChunkedRequestBodiesAreReassembled) {
  Start();
  auto s = Connect();
  asio::write(s, asio::buffer(std::string("POST /x HTTP/1.1\r\nHost: a\r\n"
                                          "Transfer-Encoding: chunked\r\n\r\n"
                                          "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n")));
  http::response<http::string_body> res = ReadResponse(s);
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "echo:abcdefg");
  EXPECT_EQ(Send(s, http::verb::post, "/x", "after").body(), "echo:after");
}

size_t FilesIn(const std::string& dir) {
  size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++n;
  return n;
}

// Files left in `dir` once they had up to two seconds to go (a spooled file
// goes with the handler's last reference, which may outlive its answer).
size_t FilesLeftIn(const std::string& dir) {
  for (int i = 0; i < 400 && FilesIn(dir) > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return FilesIn(dir);
}

class HttpServerSpoolTest : public HttpServerTest {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mast_spool_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    handler_.spool_dir = dir_.string();
  }
  void TearDown() override {
    HttpServerTest::TearDown();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
};

TEST_F(HttpServerSpoolTest, SpooledBodiesReachTheHandlerAsAFileThatIsRemovedAfterwards) {
  Start();
  auto s = Connect();
  std::string body(300 * 1024, 'x');
  body.replace(0, 5, "start");
  auto a = Send(s, http::verb::post, "/spool", body);
  EXPECT_EQ(a.body(), "spooled:start" + std::string(59, 'x') + ":307200/307200");
  EXPECT_EQ(FilesLeftIn(dir_), 0u);
  // The connection goes on: requests after a spooled one, spooled or not.
  EXPECT_EQ(Send(s, http::verb::post, "/x", "after").body(), "echo:after");
  EXPECT_EQ(Send(s, http::verb::post, "/spool", "").body(), "spooled::0/0");
  EXPECT_EQ(Send(s, http::verb::post, "/spool", "tiny").body(), "spooled:tiny:4/4");
  EXPECT_EQ(FilesLeftIn(dir_), 0u);
}

TEST_F(HttpServerSpoolTest, PipelinedRequestsAfterASpooledBodyAreKept) {
  Start();
  auto s = Connect();
  asio::write(s, asio::buffer(std::string("POST /spool HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n"
                                          "\r\nabcdefPOST /x HTTP/1.1\r\nHost: a\r\n"
                                          "Content-Length: 3\r\n\r\nxyz")));
  beast::flat_buffer buf;
  http::response<http::string_body> first, second;
  http::read(s, buf, first);
  http::read(s, buf, second);
  EXPECT_EQ(first.body(), "spooled:abcdef:6/6");
  EXPECT_EQ(second.body(), "echo:xyz");
}

TEST_F(HttpServerSpoolTest, AChunkedBodyStaysInMemory) {
  Start();
  auto s = Connect();
  asio::write(s, asio::buffer(std::string("POST /spool HTTP/1.1\r\nHost: a\r\n"
                                          "Transfer-Encoding: chunked\r\n\r\n"
                                          "3\r\nabc\r\n0\r\n\r\n")));
  http::response<http::string_body> res = ReadResponse(s);
  EXPECT_EQ(res.body(), "echo:abc");
}

TEST_F(HttpServerSpoolTest, AClientThatLeavesMidBodyLeavesNoFile) {
  Start();
  {
    auto s = Connect();
    asio::write(s, asio::buffer(std::string("POST /spool HTTP/1.1\r\nHost: a\r\n"
                                            "Content-Length: 100000\r\n\r\n") +
                                std::string(40000, 'y')));
    for (int i = 0; i < 200 && FilesIn(dir_) == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_EQ(FilesIn(dir_), 1u) << "the body was not being written to a file";
  }  // closes the connection
  EXPECT_EQ(FilesLeftIn(dir_), 0u);
}

TEST_F(HttpServerSpoolTest, ExpectContinueIsAnsweredAndARefusalComesBeforeTheBody) {
  Start();
  {
    auto s = Connect();
    asio::write(s, asio::buffer(std::string("POST /spool HTTP/1.1\r\nHost: a\r\n"
                                            "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n")));
    char got[25];
    asio::read(s, asio::buffer(got));
    EXPECT_EQ(std::string(got, sizeof(got)), "HTTP/1.1 100 Continue\r\n\r\n");
    asio::write(s, asio::buffer(std::string("hello")));
    http::response<http::string_body> res = ReadResponse(s);
    EXPECT_EQ(res.body(), "spooled:hello:5/5");
  }
  {
    auto s = Connect();
    asio::write(s, asio::buffer(std::string("POST /spool-denied HTTP/1.1\r\nHost: a\r\n"
                                            "Expect: 100-continue\r\nContent-Length: 5\r\n\r\n")));
    http::response<http::string_body> res = ReadResponse(s);
    EXPECT_EQ(res.result_int(), 403);
    EXPECT_EQ(handler_.rejected_status.load(), 403);
    EXPECT_EQ(FilesIn(dir_), 0u);
  }
}

// The body timeout of a spooled body counts from its last progress: an
// upload of gigabytes may take longer than the timeout, as long as it moves.
TEST_F(HttpServerSpoolTest, ASpooledBodyThatKeepsComingOutlivesTheBodyTimeout) {
  HttpServerOptions options;
  options.body_timeout = std::chrono::milliseconds(300);
  Start(options);
  auto s = Connect();
  asio::write(s, asio::buffer(std::string("POST /spool HTTP/1.1\r\nHost: a\r\n"
                                          "Content-Length: 5\r\n\r\n")));
  for (char c : std::string("slow!")) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    asio::write(s, asio::buffer(&c, 1));
  }
  http::response<http::string_body> res = ReadResponse(s);
  EXPECT_EQ(res.body(), "spooled:slow!:5/5");
  // A spooled body that stops is still cut off.
  asio::write(s, asio::buffer(std::string("POST /spool HTTP/1.1\r\nHost: a\r\n"
                                          "Content-Length: 5\r\n\r\nab")));
  timeval five_seconds{5, 0};  // a server that never cuts it off fails, not hangs
  ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof(five_seconds));
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(ReadUntilClosed(s), "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(FilesLeftIn(dir_), 0u);
}

TEST_F(HttpServerTest, AnswersCarryLengthAndHonourHttp10KeepAlive) {
  Start();
  auto s = Connect();
  // HTTP/1.0 without keep-alive: answered as 1.0, then closed.
  asio::write(s, asio::buffer(std::string("GET /x HTTP/1.0\r\n\r\n")));
  const std::string closed = ReadUntilClosed(s);
  EXPECT_EQ(closed.rfind("HTTP/1.0 200 OK\r\n", 0), 0u) << closed;
  EXPECT_NE(closed.find("Content-Length: 5\r\n"), std::string::npos) << closed;
  EXPECT_EQ(closed.substr(closed.size() - 5), "echo:");
  // HTTP/1.0 asking for keep-alive keeps the connection.
  auto k = Connect();
  http::request<http::string_body> req{http::verb::get, "/x", 10};
  req.keep_alive(true);
  http::write(k, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(k, buf, res);
  EXPECT_EQ(res.version(), 10u);
  EXPECT_TRUE(res.keep_alive());
  EXPECT_EQ(Send(k, http::verb::get, "/x").body(), "echo:");
}

TEST_F(HttpServerTest, IdleKeepAliveConnectionsAreClosedAfterTheIdleTimeout) {
  HttpServerOptions o;
  o.idle_timeout = std::chrono::milliseconds(500);
  Start(o);
  auto s = Connect();
  EXPECT_EQ(Send(s, http::verb::get, "/x").result_int(), 200);
  // Busy for longer than the idle timeout in total: each request moves the
  // deadline on, so the connection stays.
  for (int i = 0; i < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    EXPECT_EQ(Send(s, http::verb::get, "/x").result_int(), 200);
  }
  const auto start = std::chrono::steady_clock::now();
  char c;
  beast::error_code ec;
  s.read_some(asio::buffer(&c, 1), ec);  // blocks until the server closes
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_GE(waited, std::chrono::milliseconds(400));
  EXPECT_LT(waited, std::chrono::seconds(3));
}

TEST_F(HttpServerTest, SlowBodiesAreCutOffByTheBodyTimeout) {
  HttpServerOptions o;
  o.body_timeout = std::chrono::milliseconds(200);
  Start(o);
  auto s = Connect();
  asio::write(s, asio::buffer(std::string(
                     "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")));
  const auto start = std::chrono::steady_clock::now();
  char c;
  beast::error_code ec;
  s.read_some(asio::buffer(&c, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(HttpServerTest, StreamedBodiesAreSentChunkedAndKeepTheConnection) {
  Start();
  auto s = Connect();
  auto r = Send(s, http::verb::get, "/stream");
  EXPECT_EQ(r.result_int(), 200);
  EXPECT_TRUE(r.chunked());
  EXPECT_EQ(r[http::field::content_type], "text/plain");
  EXPECT_EQ(r.body(), "abc");
  EXPECT_EQ(Send(s, http::verb::post, "/x", "next").body(), "echo:next");
}

TEST_F(HttpServerTest, AStreamThatFailsCutsTheConnectionWithoutTheLastChunk) {
  Start();
  auto s = Connect();
  http::request<http::string_body> req{http::verb::get, "/stream-fail", 11};
  req.set(http::field::host, "localhost");
  http::write(s, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  beast::error_code ec;
  http::read(s, buf, res, ec);
  EXPECT_TRUE(ec) << "a truncated body must not read as complete";
}

TEST_F(HttpServerTest, HandlersMayAnswerFromAnotherThread) {
  Start();
  auto s = Connect();
  EXPECT_EQ(Send(s, http::verb::get, "/async").body(), "from another thread");
  EXPECT_EQ(Send(s, http::verb::get, "/x").body(), "echo:");
}

TEST_F(HttpServerTest, BodyOverTheLimitIsRejectedWith413) {
  HttpServerOptions o;
  o.max_body_bytes = 100;
  Start(o);
  auto s = Connect();
  auto r = Send(s, http::verb::post, "/x", std::string(101, 'a'));
  EXPECT_EQ(r.result_int(), 413);
  EXPECT_EQ(handler_.rejected_status.load(), 413);
  EXPECT_FALSE(r.keep_alive());
  auto s2 = Connect();
  EXPECT_EQ(Send(s2, http::verb::post, "/x", std::string(100, 'a')).result_int(), 200);
}

TEST_F(HttpServerTest, RoutesMayRaiseTheBodyLimit) {
  HttpServerOptions o;
  o.max_body_bytes = 100;
  Start(o);
  auto s = Connect();
  EXPECT_EQ(Send(s, http::verb::post, "/big", std::string(1000, 'a')).result_int(), 200);
  auto r = Send(s, http::verb::post, "/big", std::string(1001, 'a'));
  EXPECT_EQ(r.result_int(), 413);
  EXPECT_NE(r.body().find("1000 bytes"), std::string::npos) << r.body();
}

TEST_F(HttpServerTest, MalformedRequestGets400) {
  Start();
  auto s = Connect();
  asio::write(s, asio::buffer(std::string("NOT A REQUEST\r\n\r\n")));
  http::response<http::string_body> res = ReadResponse(s);
  EXPECT_EQ(res.result_int(), 400);
}

TEST_F(HttpServerTest, SlowHeadersAreCutOffByTheHeaderTimeout) {
  HttpServerOptions o;
  o.header_timeout = std::chrono::milliseconds(200);
  Start(o);
  auto s = Connect();
  asio::write(s, asio::buffer(std::string("GET /x HTTP/1.1\r\nHost: a\r\n")));
  const auto start = std::chrono::steady_clock::now();
  char c;
  beast::error_code ec;
  s.read_some(asio::buffer(&c, 1), ec);  // blocks until the server closes
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(HttpServerTest, ConnectionsBeyondTheCapAreClosed) {
  HttpServerOptions o;
  o.max_connections = 2;
  Start(o);
  auto a = Connect();
  auto b = Connect();
  EXPECT_EQ(Send(a, http::verb::get, "/x").result_int(), 200);
  EXPECT_EQ(Send(b, http::verb::get, "/x").result_int(), 200);
  auto c = Connect();
  char ch;
  beast::error_code ec;
  c.read_some(asio::buffer(&ch, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  EXPECT_EQ(server_->rejected_connections(), 1);
}

TEST_F(HttpServerTest, ShutdownFinishesInFlightRequestsAndClosesIdleOnes) {
  Start();
  auto idle = Connect();
  EXPECT_EQ(Send(idle, http::verb::get, "/x").result_int(), 200);
  auto busy = Connect();
  auto answer = std::async(std::launch::async, [&] {
    return Send(busy, http::verb::get, "/hold");
  });
  while (handler_.held() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  std::promise<int> drained;
  server_->Shutdown(std::chrono::seconds(5), [&](int abandoned) { drained.set_value(abandoned); });
  // The idle keep-alive connection is closed.
  char ch;
  beast::error_code ec;
  idle.read_some(asio::buffer(&ch, 1), ec);
  EXPECT_TRUE(ec == asio::error::eof || ec == asio::error::connection_reset) << ec.message();
  // New connections are refused.
  tcp::socket late(ioc_);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  late.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()), ec);
  EXPECT_TRUE(ec) << "connected after shutdown began";

  handler_.Release();
  auto res = answer.get();
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "released");
  EXPECT_FALSE(res.keep_alive());
  EXPECT_EQ(drained.get_future().get(), 0);
  runner_.join();
  server_.reset();
}

TEST_F(HttpServerTest, DrainDeadlineAbandonsStuckRequests) {
  Start();
  auto busy = Connect();
  http::request<http::string_body> req{http::verb::get, "/hold", 11};
  req.prepare_payload();
  http::write(busy, req);
  while (handler_.held() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::promise<int> drained;
  const auto start = std::chrono::steady_clock::now();
  server_->Shutdown(std::chrono::milliseconds(200),
                    [&](int abandoned) { drained.set_value(abandoned); });
  runner_.join();
  EXPECT_EQ(drained.get_future().get(), 1);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  handler_.Release();  // answering after the drain is harmless (never sent)
  server_.reset();
}

TEST(HttpServerCreateTest, BindFailureNamesTheAddress) {
  FakeHandler h;
  HttpServerOptions o;
  o.host = "203.0.113.7";  // not an address of this machine
  o.port = 0;
  auto s = HttpServer::Create(o, &h);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("203.0.113.7"), std::string::npos);
  o.host = "not-an-ip";
  EXPECT_EQ(HttpServer::Create(o, &h).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace mast
