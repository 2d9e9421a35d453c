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

uint32_t ReadU32(const char* at) noexcept {
    uint32_t v = 0;
    std::memcpy(&v, at, sizeof(v));
    return v;
}

void WriteU32(char* at, size_t v) {
    if (v > std::numeric_limits<uint32_t>::max()) {
        throw std::length_error("CompactStringList: longer than 4 GiB");
    }
    const auto n = static_cast<uint32_t>(v);
    std::memcpy(at, &n, sizeof(n));
}

}  // namespace

std::string_view CompactStringList::Iterator::operator*() const noexcept {
    return {at_ + kHeader, ReadU32(at_)};
}

CompactStringList::Iterator& CompactStringList::Iterator::operator++() noexcept {
    at_ += kHeader + ReadU32(at_);
    return *this;
}

template <typename Range>
void CompactStringList::Build(const Range& values) {
    size_t count = 0;
    size_t bytes = kHeader;
    for (const auto& v : values) {
        ++count;
        bytes += kHeader + std::string_view(v).size();
    }
    char* block = nullptr;
    if (count > 0) {
        block = new char[bytes];
        WriteU32(block, count);
        char* at = block + kHeader;
        for (const auto& v : values) {
            const std::string_view sv(v);
            WriteU32(at, sv.size());
            std::memcpy(at + kHeader, sv.data(), sv.size());
            at += kHeader + sv.size();
        }
    }
    Release();
    block_ = block;
}

CompactStringList::CompactStringList(const std::vector<std::string>& values) { Build(values); }
CompactStringList::CompactStringList(std::initializer_list<std::string_view> values) {
    Build(values);
}
CompactStringList::CompactStringList(const CompactStringList& o) {
    if (o.block_ != nullptr) {
        const size_t bytes = o.Bytes();
        block_ = new char[bytes];
        std::memcpy(block_, o.block_, bytes);
    }
}

CompactStringList& CompactStringList::operator=(const CompactStringList& o) {
    if (this != &o) {
        CompactStringList copy(o);
        *this = std::move(copy);
    }
    return *this;
}

void CompactStringList::Release() noexcept {
    delete[] block_;
    block_ = nullptr;
}

size_t CompactStringList::size() const noexcept { return block_ ? ReadU32(block_) : 0; }

CompactStringList::Iterator CompactStringList::begin() const noexcept {
    return Iterator(block_ ? block_ + kHeader : nullptr);
}

CompactStringList::Iterator CompactStringList::end() const noexcept {
    return Iterator(block_ ? block_ + Bytes() : nullptr);
}

size_t CompactStringList::Bytes() const noexcept {
    if (block_ == nullptr) {
        return 0;
    }
    const char* at = block_ + kHeader;
    for (uint32_t i = 0, n = ReadU32(block_); i < n; ++i) {
        at += kHeader + ReadU32(at);
    }
    return static_cast<size_t>(at - block_);
}

std::string_view CompactStringList::operator[](size_t i) const noexcept {
    auto it = begin();
    for (; i > 0; --i) {
        ++it;
    }
    return *it;
}

bool CompactStringList::contains(std::string_view value) const noexcept {
    for (const std::string_view v : *this) {
        if (v == value) {
            return true;
        }
    }
    return false;
}

std::vector<std::string> CompactStringList::ToVector() const {
    std::vector<std::string> out;
    out.reserve(size());
    for (const std::string_view v : *this) {
        out.emplace_back(v);
    }
    return out;
}

bool CompactStringList::operator==(const CompactStringList& o) const noexcept {
    const size_t a = Bytes();
    return a == o.Bytes() && (a == 0 || std::memcmp(block_, o.block_, a) == 0);
}

std::ostream& operator<<(std::ostream& os, const CompactStringList& l) {
    os << '[';
    const char* sep = "";
    for (const std::string_view v : l) {
        os << sep << '"' << v << '"';
        sep = ", ";
    }
    return os << ']';
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
