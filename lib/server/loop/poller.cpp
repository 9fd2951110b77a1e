#include "server/loop/poller.hpp"

#include <sys/epoll.h>

#include <asio/post.hpp>
#include <cerrno>
#include <system_error>

namespace wspush {
namespace {
// Events taken per epoll_wait, and epoll_waits per wake-up before the loop yields to
// its other work (then it comes back at once: the set may still hold ready sockets).
constexpr int kEventsPerWait = 256;
constexpr int kWaitsPerTurn = 4;

int open_epoll() {
  int const fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  return fd;
}
}  // namespace

asio::execution_context::id Poller::id;

Poller::Poller(asio::io_context& io)
    : asio::execution_context::service(io), io_(io), epoll_(io, open_epoll()) {
  arm();
}

Poller::~Poller() = default;

void Poller::arm() {
  epoll_.async_wait(asio::posix::stream_descriptor::wait_read, [this](asio::error_code const& ec) {
    if (!ec && !shut_down_) poll();
  });
}

void Poller::poll() {
  epoll_event events[kEventsPerWait];
  for (int waits = 0; waits < kWaitsPerTurn; ++waits) {
    int const n = ::epoll_wait(epoll_.native_handle(), events, kEventsPerWait, 0);
    for (int i = 0; i < n && !shut_down_; ++i) {
      // Looked up again for each event: an earlier one's callback may have ended it.
      auto const slot = static_cast<std::size_t>(events[i].data.u64);
      if (slot < targets_.size() && targets_[slot] != nullptr) {
        targets_[slot]->on_events(events[i].events);
      }
    }
    if (n < kEventsPerWait || shut_down_) return arm();
  }
  // Still full: the rest after whatever else the loop has queued.
  asio::post(epoll_.get_executor(), [this] {
    if (!shut_down_) poll();
  });
}

namespace {
constexpr std::uint32_t kReads = EPOLLIN | EPOLLRDHUP | EPOLLET;
}  // namespace

std::uint32_t Poller::add(int fd, Target& target, bool writes) {
  std::uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
    targets_[slot] = &target;
  } else {
    slot = static_cast<std::uint32_t>(targets_.size());
    targets_.push_back(&target);
  }
  epoll_event event{};
  event.events = writes ? kReads | EPOLLOUT : kReads;
  event.data.u64 = slot;
  if (::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_ADD, fd, &event) != 0) {
    int const e = errno;
    remove(slot);
    errno = e;
    return kNoSlot;
  }
  return slot;
}

bool Poller::watch_writes(std::uint32_t slot, int fd) {
  epoll_event event{};
  event.events = kReads | EPOLLOUT;
  event.data.u64 = slot;
  return ::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_MOD, fd, &event) == 0;
}

void Poller::remove(std::uint32_t slot, int fd) {
  if (slot >= targets_.size() || targets_[slot] == nullptr) return;
  if (fd >= 0) ::epoll_ctl(epoll_.native_handle(), EPOLL_CTL_DEL, fd, nullptr);
  targets_[slot] = nullptr;
  free_.push_back(slot);
}

void Poller::shutdown() {
  shut_down_ = true;
  asio::error_code ec;
  epoll_.close(ec);
  // By index, read afresh: letting go of one target may end others.
  for (std::size_t slot = 0; slot < targets_.size(); ++slot) {
    if (Target* target = targets_[slot]) target->on_shutdown();
  }
}

}  // namespace wspush
