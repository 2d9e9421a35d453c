#include "common/ids.hpp"

namespace horde {

bool IsUuid(std::string_view s) {
    if (s.size() != 36) {
        return false;
    }
    for (size_t i = 0; i < s.size(); ++i) {
        const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash_position ? s[i] != '-' : HexDigitValue(s[i]) < 0) {
            return false;
        }
    }
    return true;
}

}  // namespace horde
