#include "server/loop/send_ring.hpp"

#include <liburing.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

namespace wspush {
namespace {

constexpr unsigned kEntries = 256;          // sends per kernel entry
constexpr std::size_t kIovecs = 16 * 1024;  // buffers over all of them

}  // namespace

SendRing::SendRing() : ring_(std::make_unique<io_uring>()) {
  messages_.reserve(kEntries);  // never reallocated: the kernel reads them by address
  iovecs_.reserve(kIovecs);
  answered_.reserve(kEntries);
}

SendRing::~SendRing() {
  if (ring_) io_uring_queue_exit(ring_.get());
}

std::unique_ptr<SendRing> SendRing::open(int* error) {
  std::unique_ptr<SendRing> ring(new SendRing());
  // One thread submits, and completions need no interrupt of it (kernels from 6.1);
  // older kernels get a plain ring. Created disabled: the thread that enables it is
  // the one that may submit.
  io_uring_params params{};
  params.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_SINGLE_ISSUER |
                 IORING_SETUP_DEFER_TASKRUN | IORING_SETUP_R_DISABLED;
  if (io_uring_queue_init_params(kEntries, ring->ring_.get(), &params) == 0) {
    ring->disabled_ = true;
    return ring;
  }
  params = io_uring_params{};
  int const rc = io_uring_queue_init_params(kEntries, ring->ring_.get(), &params);
  if (rc == 0) return ring;
  if (error) *error = -rc;
  ring->ring_.reset();  // never initialised: nothing to tear down
  return nullptr;
}

bool SendRing::enable() {
  if (!disabled_) return true;
  // Debian's liburing 2.3 declares io_uring_enable_rings but does not export it.
  disabled_ = ::syscall(__NR_io_uring_register, ring_->ring_fd, IORING_REGISTER_ENABLE_RINGS,
                        nullptr, 0) != 0;
  return !disabled_;
}

bool SendRing::add(int fd, std::string_view const* buffers, std::size_t count) {
  if (disabled_ || messages_.size() == kEntries || iovecs_.size() + count > kIovecs) {
    return false;
  }
  io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
  if (!sqe) return false;
  std::size_t const first = iovecs_.size();
  for (std::size_t i = 0; i < count; ++i) {
    iovecs_.push_back(iovec{const_cast<char*>(buffers[i].data()), buffers[i].size()});
  }
  msghdr& message = messages_.emplace_back();
  message.msg_iov = iovecs_.data() + first;
  message.msg_iovlen = count;
  // MSG_DONTWAIT: EAGAIN rather than a poll left armed in the kernel; MSG_NOSIGNAL: a
  // peer that went away is an error, not a SIGPIPE.
  io_uring_prep_sendmsg(sqe, fd, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
  io_uring_sqe_set_data64(sqe, messages_.size() - 1);
  return true;
}

bool SendRing::submit(std::function<void(std::size_t tag, long result)> const& done) {
  std::size_t const queued = messages_.size();
  // The kernel may take fewer entries than offered (short of memory): offer the rest
  // again, a bounded number of times.
  std::size_t submitted = 0;
  for (int tries = 0; submitted < queued && tries < 8; ++tries) {
    int const rc = io_uring_submit(ring_.get());
    if (rc > 0) {
      submitted += static_cast<std::size_t>(rc);
    } else if (rc != -EINTR && rc != -EAGAIN && rc != -EBUSY) {
      break;
    }
  }
  answered_.assign(queued, false);
  std::size_t seen = 0;
  while (seen < submitted) {
    io_uring_cqe* cqe = nullptr;
    int const rc = io_uring_wait_cqe(ring_.get(), &cqe);
    if (rc == -EINTR) continue;
    if (rc < 0) break;
    auto const tag = static_cast<std::size_t>(io_uring_cqe_get_data64(cqe));
    long const result = cqe->res;
    io_uring_cqe_seen(ring_.get(), cqe);
    ++seen;
    if (tag < queued && !answered_[tag]) {
      answered_[tag] = true;
      done(tag, result);
    }
  }
  // A send never answered may or may not have gone out: its connection cannot go on.
  for (std::size_t tag = 0; tag < queued; ++tag) {
    if (!answered_[tag]) done(tag, -EIO);
  }
  messages_.clear();
  iovecs_.clear();
  return submitted == queued && seen == submitted;
}

}  // namespace wspush
