// The sends of one loop turn's flush in one kernel entry: an io_uring (liburing) on
// which each dirty session queues one gathered sendmsg, submitted together. Every send
// is non-blocking (MSG_DONTWAIT): the kernel does it while submitting, or answers
// EAGAIN, so all have completed when submit() returns and nothing is left in flight —
// the buffers need to live only that long, and a session's bookkeeping is the same as
// after its own sendmsg.
//
// Whether it is worth it is measured in bench/RESULTS.md ("Issue #14: the write path"):
// it saves the system call entry per member, not the kernel's TCP work per send, which
// is most of a send's cost on loopback. `wspush serve --send-path` chooses; the default
// is the one the figures favour.
//
// Threading: one ring per event loop, created and used by that loop's thread only.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

struct io_uring;

namespace wspush {

class SendRing {
 public:
  // Null when this kernel (or a seccomp filter, or a container) refuses io_uring.
  static std::unique_ptr<SendRing> open();
  ~SendRing();
  SendRing(SendRing const&) = delete;
  SendRing& operator=(SendRing const&) = delete;

  // Queues a sendmsg of `buffers` (none copied: they must live until submit() returns)
  // on `fd`, reported under its place in this batch (0, 1, …). False when the ring is
  // full: submit() first.
  bool add(int fd, std::string_view const* buffers, std::size_t count);
  std::size_t queued() const { return messages_.size(); }
  // Sends everything queued in one kernel entry, then calls `done(tag, result)` for
  // each: bytes sent, or -errno as sendmsg would have said it. False when the ring did
  // not take or answer everything (the sends it lost were reported as EIO): stop using it.
  bool submit(std::function<void(std::size_t tag, long result)> const& done);

 private:
  SendRing();

  std::unique_ptr<io_uring> ring_;
  std::vector<msghdr> messages_;
  std::vector<iovec> iovecs_;
};

}  // namespace wspush
