#include "server/broker/redis_scripts.hpp"

#include <openssl/sha.h>

#include <cstring>

namespace wspush {

LuaScript::LuaScript(char const* script_text) : text(script_text) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<unsigned char const*>(text), std::strlen(text), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char b : digest) {
    sha.push_back(kHex[b >> 4]);
    sha.push_back(kHex[b & 0x0F]);
  }
}

LuaScript const& publish_script() {
  static LuaScript const script(kPublishScript);
  return script;
}

LuaScript const& read_script() {
  static LuaScript const script(kReadScript);
  return script;
}

LuaScript const& presence_script() {
  static LuaScript const script(kPresenceScript);
  return script;
}

LuaScript const& trim_script() {
  static LuaScript const script(kTrimScript);
  return script;
}

LuaScript const& delete_script() {
  static LuaScript const script(kDeleteScript);
  return script;
}

std::vector<LuaScript const*> const& all_scripts() {
  static std::vector<LuaScript const*> const all{
      &publish_script(), &read_script(), &presence_script(), &trim_script(), &delete_script()};
  return all;
}

}  // namespace wspush
