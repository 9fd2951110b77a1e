#include "common/json_parse.hpp"

#include <rapidjson/encodedstream.h>
#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>

namespace wspush {
namespace {

// Forwards every SAX event to the document, converting numbers itself.
class ExactNumbers {
 public:
  explicit ExactNumbers(rapidjson::Document& doc) : doc_(doc) {}

  bool Null() { return doc_.Null(); }
  bool Bool(bool b) { return doc_.Bool(b); }
  bool Int(int i) { return doc_.Int(i); }
  bool Uint(unsigned u) { return doc_.Uint(u); }
  bool Int64(std::int64_t i) { return doc_.Int64(i); }
  bool Uint64(std::uint64_t u) { return doc_.Uint64(u); }
  bool Double(double d) { return doc_.Double(d); }
  bool String(char const* s, rapidjson::SizeType n, bool copy) { return doc_.String(s, n, copy); }
  bool Key(char const* s, rapidjson::SizeType n, bool copy) { return doc_.Key(s, n, copy); }
  bool StartObject() { return doc_.StartObject(); }
  bool EndObject(rapidjson::SizeType n) { return doc_.EndObject(n); }
  bool StartArray() { return doc_.StartArray(); }
  bool EndArray(rapidjson::SizeType n) { return doc_.EndArray(n); }

  // The number's text as RapidJSON validated it (JSON grammar: no hex, no inf/nan).
  bool RawNumber(char const* s, rapidjson::SizeType n, bool) {
    std::string const text(s, n);
    char* end = nullptr;
    if (text.find_first_of(".eE") == std::string::npos) {  // an integer, if it fits
      errno = 0;
      if (text.front() == '-') {
        long long const v = std::strtoll(text.c_str(), &end, 10);
        if (errno == 0) return v >= INT_MIN ? doc_.Int(static_cast<int>(v)) : doc_.Int64(v);
      } else {
        unsigned long long const v = std::strtoull(text.c_str(), &end, 10);
        if (errno == 0) {
          return v <= UINT_MAX ? doc_.Uint(static_cast<unsigned>(v)) : doc_.Uint64(v);
        }
      }
    }
    errno = 0;
    double const d = std::strtod(text.c_str(), &end);
    if (errno == ERANGE && std::isinf(d)) {
      too_big = true;  // as RapidJSON: a JSON number has no infinity
      return false;
    }
    return doc_.Double(d);
  }

  bool too_big = false;

 private:
  rapidjson::Document& doc_;
};

}  // namespace

std::string parse_json(rapidjson::Document& doc, std::string_view text) {
  ExactNumbers handler(doc);
  rapidjson::ParseResult result;
  auto generate = [&](rapidjson::Document&) {
    rapidjson::MemoryStream memory(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> in(memory);
    rapidjson::Reader reader;
    result = reader.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseIterativeFlag>(
        in, handler);
    return !result.IsError();
  };
  doc.Populate(generate);
  if (!result.IsError()) return {};
  char const* const reason = handler.too_big ? "Number too big to be stored in double."
                                             : rapidjson::GetParseError_En(result.Code());
  return std::string("invalid JSON: ") + reason + " at offset " + std::to_string(result.Offset());
}

}  // namespace wspush
