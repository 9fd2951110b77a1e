// Request targets as both sides see them: the room part of a path, query parameters,
// percent-decoding and seq numbers. Pure string handling, no allocation but the decode.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wspush {

// The room part of a request target: "/chat?since=3" -> "/chat".
std::string_view room_path_of(std::string_view resource);

// The raw value of query parameter `name` in a request target, if present.
std::optional<std::string_view> query_param(std::string_view resource, std::string_view name);

// Every raw value of query parameter `name`, in order ("?room=/a&room=/b").
std::vector<std::string_view> query_params(std::string_view resource, std::string_view name);

// Every byte but letters, digits and -_.~/ as %XX: a query parameter's value.
std::string percent_encode(std::string_view text);

// %XX and '+' decoded; nullopt when an escape is malformed.
std::optional<std::string> percent_decode(std::string_view text);

// `target` without the query parameters named in `names`, with `name=value` pairs in
// `append` added at its end: "/r?a=1&since=2" less since, plus since=9 ->
// "/r?a=1&since=9". A fragment is dropped.
std::string with_query(std::string_view target, std::initializer_list<std::string_view> names,
                       std::initializer_list<std::pair<std::string_view, std::string>> append);

// A decimal seq ("0".."18446744073709551615"), or nullopt.
std::optional<std::uint64_t> parse_seq(std::string_view text);

}  // namespace wspush
