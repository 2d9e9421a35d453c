#include "common/compact_string.hpp"

#include <cstring>
#include <functional>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <unordered_set>

namespace horde {

size_t CompactString::size() const noexcept {
    if (block_ == nullptr) {
        return 0;
    }
    uint32_t n = 0;
    std::memcpy(&n, block_, kHeader);
    return n;
}

void CompactString::Assign(std::string_view s) {
    if (s.size() > std::numeric_limits<uint32_t>::max()) {
        throw std::length_error("CompactString: longer than 4 GiB");
    }
    char* block = nullptr;
    if (!s.empty()) {
        block = new char[kHeader + s.size()];
        const auto n = static_cast<uint32_t>(s.size());
        std::memcpy(block, &n, kHeader);
        std::memcpy(block + kHeader, s.data(), s.size());
    }
    Release();
    block_ = block;
}

void CompactString::Release() noexcept {
    delete[] block_;
    block_ = nullptr;
}

namespace {

struct Pool {
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const noexcept {
            return std::hash<std::string_view>{}(s);
        }
    };
    std::mutex mu;
    std::unordered_set<std::string, Hash, std::equal_to<>> values;
};

Pool& ThePool() {
    static Pool* pool = new Pool();  // never destroyed: interned values outlive static teardown
    return *pool;
}

}  // namespace

InternedString::InternedString(std::string_view s) {
    if (s.empty()) {
        return;
    }
    auto& pool = ThePool();
    std::lock_guard lock(pool.mu);
    auto it = pool.values.find(s);
    if (it == pool.values.end()) {
        it = pool.values.emplace(s).first;
    }
    value_ = &*it;
}

const std::string& InternedString::str() const noexcept {
    static const std::string kEmpty;
    return value_ ? *value_ : kEmpty;
}

size_t InternedCount() {
    auto& pool = ThePool();
    std::lock_guard lock(pool.mu);
    return pool.values.size();
}

}  // namespace horde
