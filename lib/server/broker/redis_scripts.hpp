// The Lua scripts RedisBroker runs: numbering and keeping a publish (with its
// idempotency key), reading a stream, the nodes' member counts, and trimming expired
// history. One script per operation, so that each is atomic in Redis; each is sent by
// its SHA-1 (EVALSHA, RedisLink::script), loaded once per connection (SCRIPT LOAD).
#pragma once

#include <string>
#include <vector>

namespace wspush {

struct LuaScript {
  explicit LuaScript(char const* script_text);
  char const* text;
  std::string sha;  // hex SHA-1 of the text, as EVALSHA names it
};

// KEYS[1] meta, KEYS[2] stream. A missing hash means Redis lost the room (or never had
// it): a new epoch (Redis's clock in microseconds, as text: Lua's numbers are doubles),
// and the stream (if any is left) goes with the old one. Both scripts start so.
#define WSPUSH_EPOCH_LUA                                      \
  "local epoch = redis.call('HGET', KEYS[1], 'epoch')\n"      \
  "if not epoch then\n"                                       \
  "  local now = redis.call('TIME')\n"                        \
  "  epoch = now[1] .. string.sub('000000' .. now[2], -6)\n"  \
  "  redis.call('DEL', KEYS[2])\n"                            \
  "  redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0)\n" \
  "end\n"

// Several publishes of one room, in order. KEYS[1] meta, KEYS[2] stream, then the
// idempotency keys of those that have one. ARGV: the history to keep, the channel, the
// keys' window in ms, the number N of publishes, then per publish the envelope up to its
// seq and the index in KEYS of its key (0: none). Each is numbered, added to the stream
// (with Redis's time, for --history-ttl) and published on its own — unless its key was
// seen (then nothing). Answers {epoch, {seq, 1 if the key was seen, …}}.
constexpr char const* kPublishScript = WSPUSH_EPOCH_LUA R"lua(
local keep = tonumber(ARGV[1])
local ms = nil
if keep > 0 then
  local now = redis.call('TIME')
  ms = now[1] .. string.sub('000' .. math.floor(now[2] / 1000), -3)
end
local out = {}
for i = 0, tonumber(ARGV[4]) - 1 do
  local k = tonumber(ARGV[6 + 2 * i])
  local first = k > 0 and redis.call('GET', KEYS[k])
  if first then
    out[#out + 1] = tonumber(first)
    out[#out + 1] = 1
  else
    local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
    local msg = ARGV[5 + 2 * i] .. seq .. '}'
    if keep > 0 then
      redis.call('XADD', KEYS[2], 'MAXLEN', keep, seq .. '-1', 'm', msg, 't', ms)
    end
    redis.call('PUBLISH', ARGV[2], epoch .. ' ' .. seq .. ' ' .. msg)
    if k > 0 then redis.call('SET', KEYS[k], seq, 'PX', ARGV[3]) end
    out[#out + 1] = seq
    out[#out + 1] = 0
  end
end
return {epoch, out}
)lua";

// ARGV: the last seq this node has, its epoch. Answers the epoch, the last seq, and
// the entries after ARGV[1] (all of them when the epoch is not the node's: that
// stream is not the one the node knew).
constexpr char const* kReadScript = WSPUSH_EPOCH_LUA R"lua(
local seq = tonumber(redis.call('HGET', KEYS[1], 'seq') or '0')
local after = ARGV[1]
if epoch ~= ARGV[2] then after = '0' end
return {epoch, seq, redis.call('XRANGE', KEYS[2], '(' .. after .. '-1', '+')}
)lua";
#undef WSPUSH_EPOCH_LUA

// DELETE /api/rooms. KEYS[1] meta, KEYS[2] stream; ARGV[1] the channel. The stream goes,
// the room starts again at seq 0 in a new epoch (Redis's clock), and every node hears
// "EPOCH 0 deleted" on the channel. Answers the new epoch.
constexpr char const* kDeleteScript = R"lua(
local now = redis.call('TIME')
local epoch = now[1] .. string.sub('000000' .. now[2], -6)
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[1], 'epoch', epoch, 'seq', 0)
redis.call('PUBLISH', ARGV[1], epoch .. ' 0 deleted')
return epoch
)lua";

LuaScript const& publish_script();
LuaScript const& read_script();
LuaScript const& presence_script();
LuaScript const& trim_script();
LuaScript const& delete_script();
// All of them, for SCRIPT LOAD when a link comes up.
std::vector<LuaScript const*> const& all_scripts();

// ARGV: this node's key, its lifetime in ms, then ROOM, COUNT pairs. Answers the other
// nodes' ROOM, COUNT pairs; keys of nodes that are gone leave the set.
constexpr char const* kPresenceScript = R"lua(
redis.call('DEL', ARGV[1])
for i = 3, #ARGV, 2 do redis.call('HSET', ARGV[1], ARGV[i], ARGV[i + 1]) end
redis.call('PEXPIRE', ARGV[1], ARGV[2])
redis.call('SADD', 'wspush:nodes', ARGV[1])
local out = {}
for _, key in ipairs(redis.call('SMEMBERS', 'wspush:nodes')) do
  if key ~= ARGV[1] then
    local kv = redis.call('HGETALL', key)
    if #kv == 0 then redis.call('SREM', 'wspush:nodes', key) end
    for i = 1, #kv do out[#out + 1] = kv[i] end
  end
end
return out
)lua";

// --history-ttl. KEYS[1] stream; ARGV[1] the TTL in ms. Entries older than it by Redis's
// clock leave the stream (XTRIM MINID), checked 256 at a time from the oldest; an entry
// without a time ('t', written since issue #30) is kept.
constexpr char const* kTrimScript = R"lua(
local now = redis.call('TIME')
local cutoff = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - tonumber(ARGV[1])
local entries = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 256)
local keep = nil
for _, e in ipairs(entries) do
  local t = nil
  for i = 1, #e[2], 2 do if e[2][i] == 't' then t = tonumber(e[2][i + 1]) end end
  if not t or t >= cutoff then keep = e[1] break end
end
if not keep and #entries > 0 then
  keep = (tonumber(string.match(entries[#entries][1], '^(%d+)')) + 1) .. '-1'
end
if keep then return redis.call('XTRIM', KEYS[1], 'MINID', keep) end
return 0
)lua";

}  // namespace wspush
