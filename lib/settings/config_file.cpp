// RapidJSON is read here as in codec.cpp: Is*() before every Get*().
#include "settings/config_file.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace wspush {
namespace {

using Value = rapidjson::Value;
using Form = SettingValue::Form;

std::string position(std::string_view text, std::size_t offset) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < offset && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// A scalar as its text; false for an array or an object.
bool scalar(Value const& v, std::string& text, Form& form) {
  if (v.IsString()) {
    text.assign(v.GetString(), v.GetStringLength());
    form = Form::json_string;
  } else if (v.IsBool()) {
    text = v.GetBool() ? "true" : "false";
    form = Form::json_bool;
  } else if (v.IsNumber()) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    v.Accept(writer);
    text.assign(buffer.GetString(), buffer.GetSize());
    form = Form::json_number;
  } else {
    return false;
  }
  return true;
}

// {"path": P, "kind": K, OPTION: VALUE…} as "P:K,OPTION=VALUE…".
std::string room_text(Value const& object, std::string const& where, std::string& out) {
  auto const path = object.FindMember("path");
  if (path == object.MemberEnd()) return where + ".path: missing";
  if (!path->value.IsString()) return where + ".path: expected a string";
  out.assign(path->value.GetString(), path->value.GetStringLength());
  if (auto const kind = object.FindMember("kind"); kind != object.MemberEnd()) {
    if (!kind->value.IsString()) return where + ".kind: expected a string";
    out.append(":").append(kind->value.GetString(), kind->value.GetStringLength());
  }
  for (auto const& m : object.GetObject()) {
    std::string const name(m.name.GetString(), m.name.GetStringLength());
    if (name == "path" || name == "kind") continue;
    std::string text;
    Form form = Form::text;
    if (!scalar(m.value, text, form)) return where + "." + name + ": expected a value";
    if (form == Form::json_bool) {
      if (text == "true") out.append(",").append(name);
      continue;
    }
    out.append(",").append(name).append("=").append(text);
  }
  return {};
}

std::string read_value(Value const& v, std::string const& where, std::vector<SettingValue>& out) {
  SettingValue value{{}, where};
  if (scalar(v, value.text, value.form)) {
    out.push_back(std::move(value));
    return {};
  }
  if (!v.IsObject()) return where + ": expected a value, not an array of arrays";
  std::string error = room_text(v, where, value.text);
  if (error.empty()) out.push_back(std::move(value));
  return error;
}

}  // namespace

ConfigFileParse parse_config_file(
    std::string_view text, std::map<std::string, std::string, std::less<>> const& names_by_key) {
  ConfigFileParse result;
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag>(text.data(),
                                                                                 text.size());
  if (doc.HasParseError()) {
    result.error = position(text, doc.GetErrorOffset()) + ": " +
                   rapidjson::GetParseError_En(doc.GetParseError());
    return result;
  }
  if (!doc.IsObject()) {
    result.error = "expected a JSON object at the top";
    return result;
  }
  for (auto const& m : doc.GetObject()) {
    std::string const key(m.name.GetString(), m.name.GetStringLength());
    auto const name = names_by_key.find(key);
    if (name == names_by_key.end()) {
      result.error = key + ": unknown field";
      return result;
    }
    std::vector<SettingValue>& values = result.values[name->second];
    if (m.value.IsObject()) {
      result.error = key + ": expected an array";
      return result;
    }
    if (!m.value.IsArray()) {
      result.error = read_value(m.value, key, values);
    } else {
      std::size_t index = 0;
      for (Value const& element : m.value.GetArray()) {
        result.error = read_value(element, key + "[" + std::to_string(index++) + "]", values);
        if (!result.error.empty()) break;
      }
    }
    if (!result.error.empty()) return result;
  }
  return result;
}

}  // namespace wspush
