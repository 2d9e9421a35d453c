#pragma once
// JSON helpers shared by every protocol decoder: parsing a request body into an object, and a
// typed, limit-checking reader for its fields.
//
// Conventions (api-contract.md §0, §9.1; peers.md §0):
// - `null` is treated exactly like an absent key.
// - Unknown keys are never an error; decoders simply do not look at them.
// - Some string fields treat "" as "unset" (StringSpec::empty_is_unset).
// - A type or range error is Error{kValidationFailed, "<message>", "<field path>"}.
// - Lengths count Unicode code points, as the reference's limits do.

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.hpp"

namespace horde::protocol {

inline constexpr size_t kNoLimit = std::numeric_limits<size_t>::max();
inline constexpr int64_t kInt64Min = std::numeric_limits<int64_t>::min();
inline constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

/// Parses a request body that must be one JSON object.
/// Errors: kNulByteInPayload when the body holds a NUL byte, raw or escaped as \u0000 in any
/// string or key; kBadRequest "Malformed JSON body: <reason>" when it is not valid JSON or not an
/// object. The object lives in `sp` (the default resource, or a caller's arena).
Result<boost::json::object> ParseJsonObject(std::string_view body,
                                            boost::json::storage_ptr sp = {});

/// True when any string or key inside `value` contains U+0000.
bool ContainsNul(const boost::json::value& value);

/// Number of code points in UTF-8 text (invalid bytes count as one each).
size_t Utf8Length(std::string_view text);

/// The longest prefix of `text` holding at most `max_chars` code points.
std::string_view Utf8Prefix(std::string_view text, size_t max_chars);

/// `text` without leading and trailing ASCII whitespace.
std::string_view TrimAscii(std::string_view text);

/// A validation error for `field` (kValidationFailed).
Error ValidationError(std::string message, std::string field);

/// Limits for one string value.
struct StringSpec {
    size_t min_chars = 0;
    size_t max_chars = kNoLimit;
    bool empty_is_unset = false;  // "" reads as absent (before min_chars applies)
};

/// Limits for a string array.
struct StringArraySpec {
    size_t max_items = kNoLimit;
    size_t min_chars = 0;  // per item
    size_t max_chars = kNoLimit;
    bool drop_empty = false;  // "" items are skipped (before min_chars applies)
};

/// Reads typed fields of one JSON object, checking types and limits.
/// Not thread-safe by itself; borrows `object`, which must outlive the reader.
class FieldReader {
public:
    /// `path` prefixes field names in errors, e.g. "params" gives "params.steps".
    explicit FieldReader(const boost::json::object& object, std::string path = {});

    /// The value under `key`, or nullptr when it is absent or null.
    const boost::json::value* Find(std::string_view key) const;
    bool Has(std::string_view key) const { return Find(key) != nullptr; }
    /// The error path of `key` ("params.steps").
    std::string PathOf(std::string_view key) const;
    const std::string& path() const { return path_; }

    Result<std::optional<std::string>> OptString(std::string_view key, StringSpec spec = {}) const;
    /// Absent (or unset) → `fallback`.
    Result<std::string> String(std::string_view key, std::string fallback,
                               StringSpec spec = {}) const;
    /// Absent (or unset) → a validation error "'key' is required".
    Result<std::string> RequiredString(std::string_view key, StringSpec spec = {}) const;
    /// One of `allowed`; "" reads as absent.
    Result<std::optional<std::string>> OptEnum(std::string_view key,
                                               std::span<const std::string_view> allowed) const;

    Result<std::optional<bool>> OptBool(std::string_view key) const;
    Result<bool> Bool(std::string_view key, bool fallback) const;

    /// JSON integers, and numbers with an integral value (30.0), within [min, max].
    Result<std::optional<int64_t>> OptInt(std::string_view key, int64_t min = kInt64Min,
                                          int64_t max = kInt64Max) const;
    Result<int64_t> Int(std::string_view key, int64_t fallback, int64_t min = kInt64Min,
                        int64_t max = kInt64Max) const;

    /// Any finite JSON number within [min, max].
    Result<std::optional<double>> OptDouble(std::string_view key,
                                            double min = -std::numeric_limits<double>::max(),
                                            double max = std::numeric_limits<double>::max()) const;
    Result<double> Double(std::string_view key, double fallback,
                          double min = -std::numeric_limits<double>::max(),
                          double max = std::numeric_limits<double>::max()) const;

    Result<std::optional<std::vector<std::string>>> OptStringArray(std::string_view key,
                                                                   StringArraySpec spec = {}) const;
    Result<std::optional<std::vector<int64_t>>> OptIntArray(std::string_view key,
                                                            size_t max_items = kNoLimit,
                                                            int64_t min = kInt64Min,
                                                            int64_t max = kInt64Max) const;

    /// The object under `key`, or nullptr when absent.
    Result<const boost::json::object*> OptObject(std::string_view key) const;
    /// The array under `key`, or nullptr when absent.
    Result<const boost::json::array*> OptArray(std::string_view key) const;

private:
    const boost::json::object& object_;
    std::string path_;
};

/// Reads one string value (an array item, say) under the error path `path`.
Result<std::string> ReadString(const boost::json::value& value, const std::string& path,
                               StringSpec spec);
/// Reads one integer value under the error path `path`.
Result<int64_t> ReadInt(const boost::json::value& value, const std::string& path, int64_t min,
                        int64_t max);

}  // namespace horde::protocol
