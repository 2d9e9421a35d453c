#pragma once
// Lenient readers for JSON that other programs send us (the horde's pop answers, backends'
// replies): a missing key, null or a value of the wrong type gives the default. Numbers given as
// strings ("123", "7.5") are read too, since seeds arrive as strings.

#include <boost/json.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace horde::bridge::json {

using boost::json::array;
using boost::json::object;
using boost::json::value;

const value* Find(const object& o, std::string_view key);
std::optional<double> OptDouble(const object& o, std::string_view key);
std::optional<int64_t> OptInt(const object& o, std::string_view key);
std::optional<std::string> OptString(const object& o, std::string_view key);
std::optional<bool> OptBool(const object& o, std::string_view key);

double Double(const object& o, std::string_view key, double fallback);
int64_t Int(const object& o, std::string_view key, int64_t fallback);
std::string String(const object& o, std::string_view key, std::string fallback = {});
bool Bool(const object& o, std::string_view key, bool fallback);
/// The strings of an array value (non-strings are skipped); empty when absent.
std::vector<std::string> Strings(const object& o, std::string_view key);
/// The object at `key`, or an empty object.
const object& Object(const object& o, std::string_view key);

/// Parses text that must be a JSON value; errors are kInternal with `what` in the message.
Result<value> Parse(std::string_view text, std::string_view what);

/// A short, single-line excerpt of a body for log and error messages.
std::string Excerpt(std::string_view body, size_t max_chars = 200);

}  // namespace horde::bridge::json
