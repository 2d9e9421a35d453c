#pragma once
// The client's configuration file (`~/.config/horde/config.toml`): a small TOML subset of
// `key = value` lines. Strings in "double" (with \" \\ \n \t \r escapes) or 'single' quotes,
// bare numbers and booleans; `#` comments; `[section]` headers are accepted and ignored (keys
// are flat). Known keys: url, api_key, client_agent, timeout. Pure functions.

#include <map>
#include <string>
#include <string_view>

#include "client/api_error.hpp"

namespace horde::client {

using ConfigValues = std::map<std::string, std::string>;

/// Parses the text; kInvalidArgument names the first bad line.
ApiResult<ConfigValues> ParseConfig(std::string_view text);

/// Reads and parses a file; kIo when it cannot be read.
ApiResult<ConfigValues> LoadConfigFile(const std::string& path);

}  // namespace horde::client
