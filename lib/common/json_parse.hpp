// JSON text into a RapidJSON Document, with numbers converted by the C library.
//
// Debian's RapidJSON 1.1.0 turns some numbers into wrong values in its full-precision
// mode: a zero significand with an exponent ("0e99" became 2.37e80, "0.000…0" with 25
// zeros 1.12e-44; upstream issue #1249, fixed after 1.1.0) and significands near 2^64
// (upstream #2326). Found by fuzz_codec. Here RapidJSON only tokenises numbers
// (kParseNumbersAsStringsFlag) and each is converted by strtoll/strtoull, or by strtod,
// which glibc rounds correctly: the value a member receives is the value published.
#pragma once

#include <rapidjson/document.h>

#include <string>
#include <string_view>

namespace wspush {

// Parses `text` into `doc` (iteratively: no recursion, whatever the nesting). Returns ""
// on success, else "invalid JSON: REASON at offset N".
std::string parse_json(rapidjson::Document& doc, std::string_view text);

}  // namespace wspush
