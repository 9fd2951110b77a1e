// The sends of one loop turn's flush in one kernel entry: an io_uring (liburing) on
// which each dirty session queues one gathered sendmsg, submitted together. Every send
// is non-blocking (MSG_DONTWAIT): the kernel does it while submitting, or answers
// EAGAIN, so all have completed when submit() returns and nothing is left in flight —
// the buffers need to live only that long, and a session's bookkeeping is the same as
// after its own sendmsg.
//
// It is the default (`wspush serve --send-path`) because it saves the system call per
// member and most of a flush's CPU with it (bench/RESULTS.md, "the write path", has the
// figures); sendmsg stays as the fallback where io_uring is refused (seccomp, old
// kernels) and on request.
//
// Threading: one ring per event loop, used by that loop's thread only (created by
// another before the loop runs, then enabled by the loop's thread).
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
  // Null when this kernel (or a seccomp filter, or a container) refuses io_uring;
  // `error` then says why (errno).
  // Any thread may open it; the loop's thread enables it, before its first add().
  static std::unique_ptr<SendRing> open(int* error = nullptr);
  bool enable();  // false: the kernel would not (do not use the ring)
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
  bool disabled_ = false;  // created disabled, not yet enabled
  std::vector<msghdr> messages_;
  std::vector<iovec> iovecs_;
  std::vector<bool> answered_;  // submit()'s, kept to spare an allocation per turn
};

}  // namespace wspush
