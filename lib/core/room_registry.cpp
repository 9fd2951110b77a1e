#include "core/room_registry.hpp"

namespace wspush {

std::size_t RoomRegistry::history_for(RoomSpec const& spec) const {
  if (spec.history) return *spec.history;
  if (history_) return *history_;
  return default_history(spec.kind);
}

namespace {
SlowConsumerPolicy policy_for(RoomSpec const& spec) {
  return spec.slow_consumer ? *spec.slow_consumer : default_slow_consumer_policy(spec.kind);
}
}  // namespace

std::string RoomRegistry::declare(RoomSpec const& spec) {
  if (spec.family) {
    for (Family const& f : families_) {
      if (f.prefix == spec.path) return "room family '" + spec.path + "*' is declared twice";
    }
    families_.push_back({spec.path, spec.kind, history_for(spec), policy_for(spec), 0,
                         spec.history_ttl.value_or(history_ttl_)});
    return {};
  }
  auto const [it, inserted] = rooms_.try_emplace(spec.path, nullptr);
  if (!inserted) return "room '" + spec.path + "' is declared twice";
  it->second = std::make_unique<Room>(next_id_++, spec.path, spec.kind, /*dynamic=*/false,
                                      history_for(spec), policy_for(spec), loops_);
  it->second->set_history_ttl(spec.history_ttl.value_or(history_ttl_));
  return {};
}

RoomRegistry::Family const* RoomRegistry::family_of(std::string_view path) const {
  Family const* best = nullptr;
  for (Family const& f : families_) {
    bool const below =
        path.size() > f.prefix.size() && path.compare(0, f.prefix.size(), f.prefix) == 0;
    if (below && (!best || f.prefix.size() > best->prefix.size())) best = &f;
  }
  return best;
}

RoomRegistry::Family* RoomRegistry::family_of(std::string_view path) {
  return const_cast<Family*>(static_cast<RoomRegistry const*>(this)->family_of(path));
}

bool RoomRegistry::family_full(std::string_view path, std::size_t max) const {
  if (max == 0 || rooms_.count(std::string(path))) return false;
  Family const* f = family_of(path);
  return f && f->live >= max;
}

std::optional<RoomKind> RoomRegistry::resolve(std::string_view path) const {
  auto const it = rooms_.find(std::string(path));
  if (it != rooms_.end()) return it->second->kind();
  if (Family const* f = family_of(path)) return f->kind;
  return std::nullopt;
}

Room* RoomRegistry::find(std::string_view path) {
  auto const it = rooms_.find(std::string(path));
  return it == rooms_.end() ? nullptr : it->second.get();
}

Room* RoomRegistry::get_or_create(std::string_view path, bool* created) {
  if (created) *created = false;
  if (Room* room = find(path)) return room;
  Family* family = family_of(path);
  if (!family) return nullptr;
  ++family->live;
  auto room =
      std::make_unique<Room>(next_id_++, std::string(path), family->kind,
                             /*dynamic=*/true, family->history, family->slow_consumer, loops_);
  room->set_history_ttl(family->history_ttl);
  Room* raw = room.get();
  rooms_.emplace(raw->path(), std::move(room));
  if (created) *created = true;
  return raw;
}

bool RoomRegistry::drop_if_unused(Room const& room, bool holds_history) {
  if (!room.dynamic() || !room.empty() || holds_history) return false;
  if (Family* f = family_of(room.path())) --f->live;
  rooms_.erase(room.path());
  return true;
}

void RoomRegistry::for_each(std::function<void(Room&)> const& fn) {
  for (auto& [path, room] : rooms_) fn(*room);
}

void RoomRegistry::for_each(std::function<void(Room const&)> const& fn) const {
  for (auto const& [path, room] : rooms_) fn(*room);
}

std::optional<std::string> RoomRegistry::family_pattern(std::string_view path) const {
  if (Family const* f = family_of(path)) return f->prefix + "*";
  return std::nullopt;
}

bool RoomRegistry::is_family(std::string_view pattern) const {
  if (pattern.size() < 2 || pattern.substr(pattern.size() - 1) != "*") return false;
  std::string_view const prefix = pattern.substr(0, pattern.size() - 1);
  for (Family const& f : families_) {
    if (f.prefix == prefix) return true;
  }
  return false;
}

std::vector<RoomRegistry::FamilyInfo> RoomRegistry::families() const {
  std::vector<FamilyInfo> out;
  for (Family const& f : families_) out.push_back({f.prefix + "*", f.kind, f.slow_consumer});
  return out;
}

}  // namespace wspush
