// The event-driven OTLP/HTTP listener's bounds, over real loopback sockets: idle connections,
// connection limits per address and in all, the request deadline, checks before the body, and
// the in-flight byte budget.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "test_support.h"

using namespace cce;
using Clock = std::chrono::steady_clock;

namespace {

// A client socket from `source` (any 127.0.0.0/8 address is this host) to the port.
int connect_from(const std::string& source, int port, int receive_buffer = 0) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  // Before connecting, so that the window the client offers stays this small.
  if (receive_buffer > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  timeval tv{3, 0};  // a starved server fails the test instead of hanging it
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, source.c_str(), &src.sin_addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0) return close(fd), -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return close(fd), -1;
  return fd;
}

bool send_all(int fd, const std::string& data) {
  return send(fd, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
}

// Reads one response (head and Content-Length body); empty when the server closed instead.
std::string read_response(int fd) {
  std::string in;
  char buf[4096];
  for (;;) {
    const auto head_end = in.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      size_t length = 0;
      const auto cl = in.find("Content-Length: ");
      if (cl != std::string::npos && cl < head_end) length = std::stoul(in.substr(cl + 16));
      if (in.size() >= head_end + 4 + length) return in;
    }
    const ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return {};
    in.append(buf, static_cast<size_t>(n));
  }
}

int status_of(const std::string& response) {
  return response.size() > 12 ? std::stoi(response.substr(9, 3)) : 0;
}

// Reads up to n pipelined responses (each head with its Content-Length body) and returns their
// statuses, in order; `rest` gets the bytes read past the last whole response.
std::vector<int> read_statuses(int fd, int n, std::string& rest) {
  std::vector<int> statuses;
  std::string in;
  char buf[65536];
  size_t pos = 0;
  while (static_cast<int>(statuses.size()) < n) {
    const ssize_t got = recv(fd, buf, sizeof buf, 0);
    if (got <= 0) break;
    in.append(buf, static_cast<size_t>(got));
    for (;;) {
      const auto head_end = in.find("\r\n\r\n", pos);
      if (head_end == std::string::npos) break;
      const auto cl = in.find("Content-Length: ", pos);
      const size_t end = head_end + 4 + std::stoul(in.substr(cl + 16));
      if (in.size() < end) break;
      statuses.push_back(status_of(in.substr(pos, end - pos)));
      pos = end;
    }
    if (pos > (1u << 20)) {
      in.erase(0, pos);
      pos = 0;
    }
  }
  rest = in.substr(pos);
  return statuses;
}

// True when the server ends the connection within `within`.
bool closed_within(int fd, std::chrono::milliseconds within) {
  const auto until = Clock::now() + within;
  char buf[4096];
  while (Clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) > 0) {
      const ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN)) return true;
    }
  }
  return false;
}

std::string post_head(size_t length, const std::string& extra = "",
                      const std::string& type = "application/x-protobuf") {
  return "POST /v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: " + type +
         "\r\nContent-Length: " + std::to_string(length) + "\r\n" + extra + "\r\n";
}

const std::string kEmptyExport = post_head(0);

double limit_hits(const test::RunningApp& app, const std::string& key) {
  return test::sample(app.scrape(), "claude_code_exporter_limit_hits_total{limit=\"" + key + "\"}");
}

std::string source_address(int i) {
  return "127.0." + std::to_string(1 + i / 250) + "." + std::to_string(1 + i % 250);
}

}  // namespace

TEST_CASE("2,000 idle keep-alive connections hold no thread: a new client is answered at once") {
  test::RunningApp app;
  const int port = app.app->otlp_port();
  std::vector<int> fds;
  for (int i = 0; i < 2000; ++i) {
    const int fd = connect_from(source_address(i), port);
    REQUIRE(fd >= 0);
    REQUIRE(send_all(fd, kEmptyExport));
    REQUIRE(status_of(read_response(fd)) == 200);
    fds.push_back(fd);
  }
  CHECK(test::sample(app.scrape(), "claude_code_exporter_otlp_open_connections") == 2000);
  const auto start = Clock::now();
  auto r = app.otlp().Post(
      "/v1/metrics",
      test::read_file(test::testdata("claude-code/requests/pb-delta__0032_metrics.bin")),
      "application/x-protobuf");
  const auto waited = Clock::now() - start;
  REQUIRE(r);
  CHECK(r->status == 200);
  MESSAGE("new client answered in ", std::chrono::duration<double, std::milli>(waited).count(),
          " ms with 2,000 idle connections open");
  CHECK(waited < std::chrono::seconds(1));
  // And the idle ones are still served.
  for (int i : {0, 999, 1999}) {
    REQUIRE(send_all(fds[i], kEmptyExport));
    CHECK(status_of(read_response(fds[i])) == 200);
  }
  for (int fd : fds)
    close(fd);
}

TEST_CASE("connections beyond the bounds are closed; other addresses are served; hits count") {
  test::RunningApp app("[otlp]\nmax_connections = 5\nmax_connections_per_address = 3\n");
  const int port = app.app->otlp_port();
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(connect_from("127.0.0.1", port));
    REQUIRE(send_all(held.back(), kEmptyExport));
    REQUIRE(status_of(read_response(held.back())) == 200);
  }
  const int fourth = connect_from("127.0.0.1", port);
  CHECK(closed_within(fourth, std::chrono::seconds(2)));
  close(fourth);
  CHECK(limit_hits(app, "otlp.max_connections_per_address") == 1);

  for (int i = 0; i < 2; ++i) {
    held.push_back(connect_from("127.0.0.2", port));
    REQUIRE(send_all(held.back(), kEmptyExport));
    REQUIRE(status_of(read_response(held.back())) == 200);
  }
  const int sixth = connect_from("127.0.0.3", port);
  CHECK(closed_within(sixth, std::chrono::seconds(2)));
  close(sixth);
  CHECK(limit_hits(app, "otlp.max_connections") == 1);

  // A closed connection frees its place.
  close(held.front());
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const int fd = connect_from("127.0.0.1", port);
    served = send_all(fd, kEmptyExport) && status_of(read_response(fd)) == 200;
    close(fd);
  }
  CHECK(served);
  for (size_t i = 1; i < held.size(); ++i)
    close(held[i]);
}

TEST_CASE("one deadline covers a request's head and body; an idle connection waits longer") {
  test::RunningApp app("[otlp]\nrequest_timeout = \"500ms\"\nidle_timeout = \"5s\"\n");
  const int port = app.app->otlp_port();

  SUBCASE("a head trickled byte by byte is cut at the deadline") {
    const int fd = connect_from("127.0.0.1", port);
    REQUIRE(send_all(fd, "POST /v1/metrics HTTP/1.1\r\nHost: x\r\n"));
    const auto start = Clock::now();
    bool closed = false;
    for (int i = 0; i < 40 && !closed; ++i) {  // a header byte every 100 ms, for 4 s
      closed = !send_all(fd, "X") || closed_within(fd, std::chrono::milliseconds(100));
    }
    CHECK(closed);
    CHECK(Clock::now() - start < std::chrono::seconds(3));
    close(fd);
  }
  SUBCASE("a body that stops arriving is cut at the deadline") {
    const int fd = connect_from("127.0.0.1", port);
    REQUIRE(send_all(fd, post_head(100) + "0123456789"));
    CHECK(closed_within(fd, std::chrono::seconds(3)));
    close(fd);
  }
  SUBCASE("between requests the idle timeout applies, not the request deadline") {
    const int fd = connect_from("127.0.0.1", port);
    REQUIRE(send_all(fd, kEmptyExport));
    REQUIRE(status_of(read_response(fd)) == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    REQUIRE(send_all(fd, kEmptyExport));
    CHECK(status_of(read_response(fd)) == 200);
    close(fd);
  }
}

TEST_CASE("authentication, content type and declared length are answered before the body") {
  test::RunningApp app("[otlp]\nauth_tokens = [\"s3cret\"]\nmax_body_bytes = 1048576\n");
  const int port = app.app->otlp_port();
  // Each declares 50 MB and sends none of it: the answer must not wait for the body.
  const std::string token = "Authorization: Bearer s3cret\r\n";
  for (auto [head, status] : {std::pair{post_head(50000000), 401},
                              std::pair{post_head(50000000, token, "text/plain"), 415},
                              std::pair{post_head(50000000, token), 413}}) {
    CAPTURE(status);
    const int fd = connect_from("127.0.0.1", port);
    REQUIRE(send_all(fd, head));
    const std::string response = read_response(fd);
    CHECK(status_of(response) == status);
    CHECK(response.find("Connection: close") != std::string::npos);
    close(fd);
  }
}

TEST_CASE("Expect: 100-continue is answered before the body is sent") {
  test::RunningApp app;
  const std::string body =
      test::read_file(test::testdata("claude-code/requests/pb-delta__0032_metrics.bin"));
  const int fd = connect_from("127.0.0.1", app.app->otlp_port());
  REQUIRE(send_all(fd, post_head(body.size(), "Expect: 100-continue\r\n")));
  CHECK(status_of(read_response(fd)) == 100);
  REQUIRE(send_all(fd, body));
  CHECK(status_of(read_response(fd)) == 200);
  close(fd);
}

TEST_CASE("the in-flight budget answers 503 with Retry-After, and is given back") {
  test::RunningApp app("[otlp]\nmax_body_bytes = 1048576\nmax_inflight_bytes = 1048576\n");
  const int port = app.app->otlp_port();
  // A slow client holds 900 kB of the 1 MiB budget.
  const int slow = connect_from("127.0.0.1", port);
  REQUIRE(send_all(slow, post_head(900000) + std::string(1000, 'x')));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(test::sample(app.scrape(), "claude_code_exporter_otlp_inflight_bytes") == 900000);

  const int second = connect_from("127.0.0.2", port);
  REQUIRE(send_all(second, post_head(200000)));
  const std::string refused = read_response(second);
  CHECK(status_of(refused) == 503);
  CHECK(refused.find("Retry-After: 1") != std::string::npos);
  CHECK(refused.find("otlp.max_inflight_bytes") != std::string::npos);
  CHECK(limit_hits(app, "otlp.max_inflight_bytes") == 1);
  close(second);

  close(slow);  // its bytes go back to the budget
  int status = 0;
  for (int attempt = 0; attempt < 50 && status != 400; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    const int fd = connect_from("127.0.0.3", port);
    send_all(fd, post_head(200000) + std::string(200000, '\xff'));
    status = status_of(read_response(fd));  // undecodable, but taken: 400, not 503
    close(fd);
  }
  CHECK(status == 400);
  CHECK(test::sample(app.scrape(), "claude_code_exporter_otlp_inflight_bytes") == 0);
}

TEST_CASE("a request head beyond otlp.max_header_bytes is answered 431 and counted") {
  test::RunningApp app("[otlp]\nmax_header_bytes = 2048\n");
  const int fd = connect_from("127.0.0.1", app.app->otlp_port());
  REQUIRE(send_all(fd, post_head(0, "X-Padding: " + std::string(4096, 'a') + "\r\n")));
  CHECK(status_of(read_response(fd)) == 431);
  close(fd);
  CHECK(limit_hits(app, "otlp.max_header_bytes") == 1);
  // A head within the bound is served.
  const int ok = connect_from("127.0.0.1", app.app->otlp_port());
  REQUIRE(send_all(ok, post_head(0, "X-Padding: " + std::string(1024, 'a') + "\r\n")));
  CHECK(status_of(read_response(ok)) == 200);
  close(ok);
}

TEST_CASE("pipelined requests are all answered in order when the client reads only at the end") {
  // Requests arrive many to a read: each is parsed from what the last read left, and its
  // answer written before the next one is read.
  test::RunningApp app;
  const int fd = connect_from("127.0.0.1", app.app->otlp_port(), 4096);
  REQUIRE(fd >= 0);
  const int n = 5000;
  std::string blob;
  for (int i = 0; i < n; ++i)
    blob += kEmptyExport;
  std::thread sender([&] { send_all(fd, blob); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::string rest;
  const auto statuses = read_statuses(fd, n, rest);
  sender.join();
  CHECK(statuses.size() == static_cast<size_t>(n));
  CHECK(std::count(statuses.begin(), statuses.end(), 200) == n);
  CHECK(rest.empty());
  close(fd);
}

TEST_CASE("a long run of pipelined requests refused at their head is answered, one by one") {
  // Refused heads need no writer: each answer is written at once, and the next head is read
  // from the same buffer. A fresh turn of the loop between them keeps the stack flat.
  test::RunningApp app;
  const int fd = connect_from("127.0.0.1", app.app->otlp_port());
  REQUIRE(fd >= 0);
  const int n = 100000;
  const std::string one = "GET /v1/metrics HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string blob;
  for (int i = 0; i < n; ++i)
    blob += one;
  std::thread sender([&] { send_all(fd, blob); });
  std::string rest;
  const auto statuses = read_statuses(fd, n, rest);
  sender.join();
  CHECK(statuses.size() == static_cast<size_t>(n));
  CHECK(std::count(statuses.begin(), statuses.end(), 405) == n);
  close(fd);
  auto r = app.otlp().Post("/v1/metrics", "", "application/x-protobuf");
  REQUIRE(r);
  CHECK(r->status == 200);
}

TEST_CASE("an idle connection is closed at otlp.idle_timeout, before and between requests") {
  test::RunningApp app("[otlp]\nidle_timeout = \"1s\"\n");
  const int port = app.app->otlp_port();
  SUBCASE("a connection that never sends") {
    const int fd = connect_from("127.0.0.1", port);
    REQUIRE(fd >= 0);
    CHECK(closed_within(fd, std::chrono::seconds(3)));
    close(fd);
  }
  SUBCASE("a connection that goes quiet after an answer") {
    const int fd = connect_from("127.0.0.1", port);
    REQUIRE(fd >= 0);
    REQUIRE(send_all(fd, kEmptyExport));
    REQUIRE(status_of(read_response(fd)) == 200);
    CHECK(closed_within(fd, std::chrono::seconds(3)));
    close(fd);
  }
  // The gauge drops when the session is freed, a moment after the socket closed.
  double open = -1;
  for (int i = 0; i < 100 && open != 0; ++i) {
    open = test::sample(app.scrape(), "claude_code_exporter_otlp_open_connections");
    if (open != 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(open == 0);
}

TEST_CASE("a chunked body sent a byte per chunk is received whole") {
  // Thousands of chunks arrive in one read: they are parsed in a loop, each held against the
  // in-flight budget as it comes.
  test::RunningApp app;
  const std::string body =
      test::read_file(test::testdata("claude-code/requests/pb-delta__0032_metrics.bin"));
  std::string request =
      "POST /v1/metrics HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-protobuf\r\n"
      "Transfer-Encoding: chunked\r\n\r\n";
  for (char c : body)
    request += std::string("1\r\n") + c + "\r\n";
  request += "0\r\n\r\n";
  const int fd = connect_from("127.0.0.1", app.app->otlp_port());
  REQUIRE(fd >= 0);
  REQUIRE(send_all(fd, request));
  CHECK(status_of(read_response(fd)) == 200);
  close(fd);
  const double accepted = test::sample(
      app.scrape(),
      "claude_code_exporter_otlp_data_points_total{outcome=\"accepted\",signal=\"metrics\"}");
  CHECK(accepted > 0);
}
