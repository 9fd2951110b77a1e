// SessionLoop (declared in ws_session.hpp): the end-of-turn flush of a loop's sessions,
// by sendmsg per session or in one io_uring submission (send_ring.hpp).
#include <spdlog/spdlog.h>

#include <asio/post.hpp>
#include <cstring>

#include "server/ws/ws_session.hpp"

namespace wspush {

void SessionLoop::mark_dirty(std::shared_ptr<WsSession> session) {
  dirty_.push_back(std::move(session));
  if (flush_posted_) return;
  flush_posted_ = true;
  asio::post(io_, [this] { flush(); });
}

void SessionLoop::flush() {
  flush_posted_ = false;
  flushing_.swap(dirty_);
  if (ring_) send_through_ring();
  // What the ring did not take (no ring; TLS and event streams): a write each.
  for (auto& session : flushing_) {
    if (session) session->flush();
  }
  flushing_.clear();
}

// Every send first, in as few kernel entries as the ring allows; then what follows
// from them (waits, closes, the rest of long queues), which may queue more. The
// sessions taken leave `flushing_` (null there).
void SessionLoop::send_through_ring() {
  for (auto& session : flushing_) {
    WsSession::Batched batched = session->send_batched(*ring_);
    if (batched == WsSession::Batched::ring_full && ring_->queued() > 0) {
      submit_ring();
      if (!ring_) break;
      batched = session->send_batched(*ring_);
    }
    if (batched == WsSession::Batched::queued) batch_.push_back(std::move(session));
  }
  if (ring_) submit_ring();
  for (auto& [session, result] : sent_) session->after_batched_send(result);
  sent_.clear();
}

void SessionLoop::submit_ring() {
  bool const whole = ring_->submit([this](std::size_t tag, long result) {
    batch_[tag]->batched_sent(result);
    sent_.emplace_back(std::move(batch_[tag]), result);
  });
  batch_.clear();
  if (whole) return;
  ring_.reset();  // what it lost was reported (EIO); sendmsg from now on
  spdlog::warn("io_uring stopped answering; sending with sendmsg from now on");
}

SessionLoop::SessionLoop(asio::io_context& io, SendPath send_path) : io_(io), scratch_(64 * 1024) {
  if (send_path != SendPath::io_uring) return;
  int error = 0;
  ring_ = SendRing::open(&error);
  if (ring_) return;
  spdlog::warn("io_uring is not available here ({}); sending with sendmsg (--send-path)",
               std::strerror(error));
}

void SessionLoop::start() {
  if (!ring_ || ring_->enable()) return;
  ring_.reset();
  spdlog::warn("io_uring would not start on this loop; sending with sendmsg");
}

}  // namespace wspush
