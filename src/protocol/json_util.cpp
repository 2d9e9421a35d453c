#include "protocol/json_util.hpp"

#include <boost/json/parse.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <utility>

namespace horde::protocol {

namespace {

namespace json = boost::json;

/// The last component of an error path: "params.loras[0].name" → "name".
std::string_view Leaf(std::string_view path) {
    const size_t dot = path.rfind('.');
    return dot == std::string_view::npos ? path : path.substr(dot + 1);
}

std::string Quoted(std::string_view path) {
    std::string out = "'";
    out += Leaf(path);
    out += "'";
    return out;
}

/// Shortest readable form of a limit: 0.01, 100, 1048576.
std::string FormatNumber(double number) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.15g", number);
    return buffer;
}

std::string LengthMessage(std::string_view path, size_t min_chars, size_t max_chars) {
    if (max_chars == kNoLimit) {
        return Quoted(path) + " must be at least " + std::to_string(min_chars) + " characters";
    }
    if (min_chars == 0) {
        return Quoted(path) + " must be at most " + std::to_string(max_chars) + " characters";
    }
    return Quoted(path) + " must be between " + std::to_string(min_chars) + " and " +
           std::to_string(max_chars) + " characters";
}

std::string RangeMessage(std::string_view path, std::string_view what, double min, double max,
                         bool bounded) {
    std::string message = Quoted(path) + " must be " + std::string(what);
    if (bounded) {
        message += " between " + FormatNumber(min) + " and " + FormatNumber(max);
    }
    return message;
}

/// The integral value of a JSON number, if it has one that fits int64.
std::optional<int64_t> AsInt64(const json::value& value) {
    if (value.is_int64()) {
        return value.get_int64();
    }
    if (value.is_uint64()) {
        const uint64_t u = value.get_uint64();
        if (u <= static_cast<uint64_t>(kInt64Max)) {
            return static_cast<int64_t>(u);
        }
        return std::nullopt;
    }
    if (value.is_double()) {
        const double d = value.get_double();
        // 2^63 is exactly representable; anything at or above it does not fit.
        constexpr double kTwoPow63 = 9223372036854775808.0;
        if (std::isfinite(d) && std::trunc(d) == d && d >= -kTwoPow63 && d < kTwoPow63) {
            return static_cast<int64_t>(d);
        }
    }
    return std::nullopt;
}

bool StringHasNul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

}  // namespace

Result<json::object> ParseJsonObject(std::string_view body, json::storage_ptr sp) {
    if (StringHasNul(body)) {
        return MakeError(ErrorCode::kNulByteInPayload);
    }
    boost::system::error_code ec;
    json::value parsed =
        json::parse(json::string_view(body.data(), body.size()), ec, std::move(sp));
    if (ec) {
        return MakeError(ErrorCode::kBadRequest, "Malformed JSON body: " + ec.message());
    }
    if (!parsed.is_object()) {
        return MakeError(ErrorCode::kBadRequest, "Malformed JSON body: expected a JSON object");
    }
    if (ContainsNul(parsed)) {
        return MakeError(ErrorCode::kNulByteInPayload);
    }
    return std::move(parsed.as_object());
}

bool ContainsNul(const json::value& value) {
    switch (value.kind()) {
        case json::kind::string:
            return StringHasNul(value.get_string());
        case json::kind::array:
            for (const json::value& item : value.get_array()) {
                if (ContainsNul(item)) {
                    return true;
                }
            }
            return false;
        case json::kind::object:
            for (const auto& entry : value.get_object()) {
                if (StringHasNul(entry.key()) || ContainsNul(entry.value())) {
                    return true;
                }
            }
            return false;
        case json::kind::null:
        case json::kind::bool_:
        case json::kind::int64:
        case json::kind::uint64:
        case json::kind::double_:
            return false;
    }
    return false;
}

size_t Utf8Length(std::string_view text) {
    // Every byte that is not a continuation byte (10xxxxxx) starts a character. Eight bytes at
    // a time: a continuation byte has its top bit set and the next one clear.
    constexpr uint64_t kTopBits = 0x8080808080808080ULL;
    size_t continuation = 0;
    size_t i = 0;
    for (; i + 8 <= text.size(); i += 8) {
        uint64_t word = 0;
        std::memcpy(&word, text.data() + i, sizeof word);
        const uint64_t marks = word & ~(word << 1) & kTopBits;  // 0x80 in each such byte
        continuation += static_cast<size_t>(((marks >> 7) * 0x0101010101010101ULL) >> 56);
    }
    for (; i < text.size(); ++i) {
        if ((static_cast<unsigned char>(text[i]) & 0xC0U) == 0x80U) {
            ++continuation;
        }
    }
    return text.size() - continuation;
}

std::string_view Utf8Prefix(std::string_view text, size_t max_chars) {
    size_t chars = 0;
    for (size_t i = 0; i < text.size(); ++i) {
        const bool starts_char = (static_cast<unsigned char>(text[i]) & 0xC0U) != 0x80U;
        if (starts_char) {
            if (chars == max_chars) {
                return text.substr(0, i);
            }
            ++chars;
        }
    }
    return text;
}

std::string_view TrimAscii(std::string_view text) {
    constexpr std::string_view kSpace = " \t\n\r\f\v";
    const size_t first = text.find_first_not_of(kSpace);
    if (first == std::string_view::npos) {
        return {};
    }
    const size_t last = text.find_last_not_of(kSpace);
    return text.substr(first, last - first + 1);
}

Error ValidationError(std::string message, std::string field) {
    return MakeError(ErrorCode::kValidationFailed, std::move(message), std::move(field));
}

namespace {

/// What ReadString accepts: a string of `spec`'s length.
bool FitsString(const json::value& value, StringSpec spec) {
    if (!value.is_string()) {
        return false;
    }
    const size_t length = Utf8Length(value.get_string());
    return length >= spec.min_chars && length <= spec.max_chars;
}

}  // namespace

Result<std::string> ReadString(const json::value& value, const std::string& path, StringSpec spec) {
    if (FitsString(value, spec)) {
        return std::string(value.get_string());
    }
    if (!value.is_string()) {
        return ValidationError(Quoted(path) + " must be a string", path);
    }
    return ValidationError(LengthMessage(path, spec.min_chars, spec.max_chars), path);
}

Result<int64_t> ReadInt(const json::value& value, const std::string& path, int64_t min,
                        int64_t max) {
    const bool bounded = min != kInt64Min || max != kInt64Max;
    const std::optional<int64_t> number = AsInt64(value);
    if (!number || *number < min || *number > max) {
        return ValidationError(RangeMessage(path, "an integer", static_cast<double>(min),
                                            static_cast<double>(max), bounded),
                               path);
    }
    return *number;
}

FieldReader::FieldReader(const json::object& object, std::string path)
    : object_(object), path_(std::move(path)) {}

const json::value* FieldReader::Find(std::string_view key) const {
    const json::value* value = object_.if_contains(json::string_view(key.data(), key.size()));
    if (value == nullptr || value->is_null()) {
        return nullptr;
    }
    return value;
}

std::string FieldReader::PathOf(std::string_view key) const {
    if (path_.empty()) {
        return std::string(key);
    }
    return path_ + "." + std::string(key);
}

Result<std::optional<std::string>> FieldReader::OptString(std::string_view key,
                                                          StringSpec spec) const {
    const json::value* value = Find(key);
    if (value == nullptr) {
        return std::optional<std::string>();
    }
    if (spec.empty_is_unset && value->is_string() && value->get_string().empty()) {
        return std::optional<std::string>();
    }
    HORDE_TRY(std::string text, ReadString(*value, PathOf(key), spec));
    return std::optional<std::string>(std::move(text));
}

Result<std::string> FieldReader::String(std::string_view key, std::string fallback,
                                        StringSpec spec) const {
    HORDE_TRY(std::optional<std::string> text, OptString(key, spec));
    return text ? std::move(*text) : std::move(fallback);
}

Result<std::string> FieldReader::RequiredString(std::string_view key, StringSpec spec) const {
    HORDE_TRY(std::optional<std::string> text, OptString(key, spec));
    if (!text) {
        return ValidationError(Quoted(PathOf(key)) + " is required", PathOf(key));
    }
    return std::move(*text);
}

Result<std::optional<std::string>> FieldReader::OptEnum(
    std::string_view key, std::span<const std::string_view> allowed) const {
    HORDE_TRY(std::optional<std::string> text, OptString(key, {.empty_is_unset = true}));
    if (!text) {
        return text;
    }
    for (const std::string_view option : allowed) {
        if (*text == option) {
            return text;
        }
    }
    std::string message = Quoted(PathOf(key)) + " must be one of:";
    for (size_t i = 0; i < allowed.size(); ++i) {
        message += (i == 0 ? " " : ", ");
        message += allowed[i];
    }
    return ValidationError(std::move(message), PathOf(key));
}

Result<std::optional<bool>> FieldReader::OptBool(std::string_view key) const {
    const json::value* value = Find(key);
    if (value == nullptr) {
        return std::optional<bool>();
    }
    if (!value->is_bool()) {
        return ValidationError(Quoted(PathOf(key)) + " must be a boolean", PathOf(key));
    }
    return std::optional<bool>(value->get_bool());
}

Result<bool> FieldReader::Bool(std::string_view key, bool fallback) const {
    HORDE_TRY(std::optional<bool> flag, OptBool(key));
    return flag.value_or(fallback);
}

Result<std::optional<int64_t>> FieldReader::OptInt(std::string_view key, int64_t min,
                                                   int64_t max) const {
    const json::value* value = Find(key);
    if (value == nullptr) {
        return std::optional<int64_t>();
    }
    HORDE_TRY(int64_t number, ReadInt(*value, PathOf(key), min, max));
    return std::optional<int64_t>(number);
}

Result<int64_t> FieldReader::Int(std::string_view key, int64_t fallback, int64_t min,
                                 int64_t max) const {
    HORDE_TRY(std::optional<int64_t> number, OptInt(key, min, max));
    return number.value_or(fallback);
}

Result<std::optional<double>> FieldReader::OptDouble(std::string_view key, double min,
                                                     double max) const {
    const json::value* value = Find(key);
    if (value == nullptr) {
        return std::optional<double>();
    }
    const bool bounded =
        min != -std::numeric_limits<double>::max() || max != std::numeric_limits<double>::max();
    const std::string path = PathOf(key);
    if (!value->is_number()) {
        return ValidationError(RangeMessage(path, "a number", min, max, bounded), path);
    }
    const double number = value->to_number<double>();
    if (!std::isfinite(number) || number < min || number > max) {
        return ValidationError(RangeMessage(path, "a number", min, max, bounded), path);
    }
    return std::optional<double>(number);
}

Result<double> FieldReader::Double(std::string_view key, double fallback, double min,
                                   double max) const {
    HORDE_TRY(std::optional<double> number, OptDouble(key, min, max));
    return number.value_or(fallback);
}

Result<std::optional<std::vector<std::string>>> FieldReader::OptStringArray(
    std::string_view key, StringArraySpec spec) const {
    using Out = std::optional<std::vector<std::string>>;
    HORDE_TRY(const json::array* array, OptArray(key));
    if (array == nullptr) {
        return Out();
    }
    const StringSpec item_spec{.min_chars = spec.min_chars, .max_chars = spec.max_chars};
    std::vector<std::string> items;
    items.reserve(array->size());
    for (size_t i = 0; i < array->size(); ++i) {
        const json::value& item = (*array)[i];
        if (spec.drop_empty && item.is_string() && item.get_string().empty()) {
            continue;
        }
        if (!FitsString(item, item_spec)) {  // the item's path only for the error
            return ReadString(item, PathOf(key) + "[" + std::to_string(i) + "]", item_spec).error();
        }
        items.emplace_back(item.get_string());
    }
    if (items.size() > spec.max_items) {
        const std::string path = PathOf(key);
        return ValidationError(
            Quoted(path) + " must have at most " + std::to_string(spec.max_items) + " entries",
            path);
    }
    return Out(std::move(items));
}

Result<std::optional<std::vector<int64_t>>> FieldReader::OptIntArray(std::string_view key,
                                                                     size_t max_items, int64_t min,
                                                                     int64_t max) const {
    using Out = std::optional<std::vector<int64_t>>;
    HORDE_TRY(const json::array* array, OptArray(key));
    if (array == nullptr) {
        return Out();
    }
    const std::string path = PathOf(key);
    if (array->size() > max_items) {
        return ValidationError(
            Quoted(path) + " must have at most " + std::to_string(max_items) + " entries", path);
    }
    std::vector<int64_t> items;
    items.reserve(array->size());
    for (size_t i = 0; i < array->size(); ++i) {
        HORDE_TRY(int64_t number,
                  ReadInt((*array)[i], path + "[" + std::to_string(i) + "]", min, max));
        items.push_back(number);
    }
    return Out(std::move(items));
}

Result<const json::object*> FieldReader::OptObject(std::string_view key) const {
    const json::value* value = Find(key);
    if (value == nullptr) {
        return static_cast<const json::object*>(nullptr);
    }
    if (!value->is_object()) {
        return ValidationError(Quoted(PathOf(key)) + " must be an object", PathOf(key));
    }
    return &value->get_object();
}

Result<const json::array*> FieldReader::OptArray(std::string_view key) const {
    const json::value* value = Find(key);
    if (value == nullptr) {
        return static_cast<const json::array*>(nullptr);
    }
    if (!value->is_array()) {
        return ValidationError(Quoted(PathOf(key)) + " must be an array", PathOf(key));
    }
    return &value->get_array();
}

}  // namespace horde::protocol
