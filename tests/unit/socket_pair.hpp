// A connected, non-blocking Unix socket pair for tests on real descriptors: `ours` for
// the code under test (set it to -1 when something else takes it over), `theirs` for
// the test.
#pragma once

#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace wspush::test {

struct Pair {
  int ours = -1, theirs = -1;
  Pair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0) {
      ours = fds[0];
      theirs = fds[1];
    }
  }
  ~Pair() {
    if (ours >= 0) ::close(ours);
    if (theirs >= 0) ::close(theirs);
  }
  std::string drain() const {
    std::string got;
    char buffer[65536];
    for (long n; (n = ::recv(theirs, buffer, sizeof buffer, 0)) > 0;) got.append(buffer, n);
    return got;
  }
};

}  // namespace wspush::test
