// A loop's sessions by slot. SessionId k lives on loop k % loops, in slot k / loops:
// the one place that mapping is written. Slots, and so ids, are reused once free, which
// keeps them dense (the Hub keeps its sessions in a vector by id). What a slot holds is
// the loop's business (T).
//
// Threading: the loop's thread (it allocates and frees its own ids).
#pragma once

#include <cstdint>
#include <vector>

#include "core/room.hpp"

namespace wspush {

template <typename T>
class SessionTable {
 public:
  SessionTable(std::size_t loop, std::size_t loops) : loop_(loop), loops_(loops) {}

  // A free slot, its entry reset to T{}.
  std::uint32_t allocate() {
    std::uint32_t slot;
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(entries_.size());
      entries_.emplace_back();
      used_.push_back(false);
    }
    entries_[slot] = T{};
    used_[slot] = true;
    ++size_;
    return slot;
  }
  // The slot's entry is dropped and the slot (and its id) may serve a new session.
  void release(std::uint32_t slot) {
    if (!used(slot)) return;
    entries_[slot] = T{};
    used_[slot] = false;
    free_.push_back(slot);
    --size_;
  }

  SessionId id_of(std::uint32_t slot) const { return SessionId{slot} * loops_ + loop_; }
  // The slot of an id of this loop (another loop's id: no slot of ours).
  bool owns(SessionId id) const { return id % loops_ == loop_; }
  std::uint32_t slot_of(SessionId id) const { return static_cast<std::uint32_t>(id / loops_); }

  bool used(std::uint32_t slot) const { return slot < used_.size() && used_[slot]; }
  T* at(std::uint32_t slot) { return used(slot) ? &entries_[slot] : nullptr; }
  T* find(SessionId id) { return owns(id) ? at(slot_of(id)) : nullptr; }
  // Slots ever used: every slot below is or was a session's.
  std::uint32_t slots() const { return static_cast<std::uint32_t>(entries_.size()); }
  std::size_t size() const { return size_; }

 private:
  std::size_t loop_;
  std::size_t loops_;
  std::vector<T> entries_;
  std::vector<std::uint8_t> used_;  // bytes, not bits: looked at on every delivery
  std::vector<std::uint32_t> free_;
  std::size_t size_ = 0;
};

}  // namespace wspush
