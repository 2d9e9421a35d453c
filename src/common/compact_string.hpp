#pragma once
// Strings in one pointer, for the many text fields of an in-memory request that are usually empty
// or drawn from a short list (std::string is 32 bytes even when empty; 100k queued requests carry
// a dozen of them each).
//
// CompactString: owns one heap block [uint32 length][bytes]; empty holds no block at all.
// InternedString: points at a process-wide copy shared by every equal value; for values checked
//   against a fixed list before they get here (samplers, source processing, control types), so the
//   pool stays as small as that list. Never intern free text a client chose.

#include <compare>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace horde {

class CompactString {
public:
    CompactString() noexcept = default;
    CompactString(std::string_view s) { Assign(s); }    // NOLINT(google-explicit-constructor)
    CompactString(const std::string& s) { Assign(s); }  // NOLINT(google-explicit-constructor)
    CompactString(const char* s) { Assign(s); }         // NOLINT(google-explicit-constructor)
    CompactString(const CompactString& o) { Assign(o.view()); }
    CompactString(CompactString&& o) noexcept : block_(std::exchange(o.block_, nullptr)) {}
    CompactString& operator=(const CompactString& o) {
        if (this != &o) {
            Assign(o.view());
        }
        return *this;
    }
    CompactString& operator=(CompactString&& o) noexcept {
        if (this != &o) {
            Release();
            block_ = std::exchange(o.block_, nullptr);
        }
        return *this;
    }
    CompactString& operator=(std::string_view s) {
        Assign(s);
        return *this;
    }
    CompactString& operator=(const std::string& s) {
        Assign(s);
        return *this;
    }
    CompactString& operator=(const char* s) {
        Assign(s);
        return *this;
    }
    ~CompactString() { Release(); }

    bool empty() const noexcept { return block_ == nullptr; }
    size_t size() const noexcept;
    const char* data() const noexcept { return block_ ? block_ + kHeader : ""; }
    std::string_view view() const noexcept { return {data(), size()}; }
    operator std::string_view() const noexcept { return view(); }  // NOLINT
    std::string str() const { return std::string(view()); }
    void clear() noexcept { Release(); }

    bool operator==(const CompactString& o) const noexcept { return view() == o.view(); }
    bool operator==(std::string_view o) const noexcept { return view() == o; }
    bool operator==(const std::string& o) const noexcept { return view() == o; }
    bool operator==(const char* o) const noexcept { return view() == o; }
    std::strong_ordering operator<=>(const CompactString& o) const noexcept {
        return view() <=> o.view();
    }
    friend std::ostream& operator<<(std::ostream& os, const CompactString& s) {
        return os << s.view();
    }

private:
    static constexpr size_t kHeader = sizeof(uint32_t);
    void Assign(std::string_view s);
    void Release() noexcept;

    char* block_ = nullptr;
};

class InternedString {
public:
    InternedString() noexcept = default;
    InternedString(std::string_view s);                                            // NOLINT
    InternedString(const std::string& s) : InternedString(std::string_view(s)) {}  // NOLINT
    InternedString(const char* s) : InternedString(std::string_view(s)) {}         // NOLINT

    bool empty() const noexcept { return value_ == nullptr; }
    size_t size() const noexcept { return value_ ? value_->size() : 0; }
    const char* data() const noexcept { return value_ ? value_->data() : ""; }
    std::string_view view() const noexcept { return value_ ? std::string_view(*value_) : ""; }
    operator std::string_view() const noexcept { return view(); }  // NOLINT
    const std::string& str() const noexcept;

    bool operator==(const InternedString& o) const noexcept {
        return value_ == o.value_;  // one copy per value
    }
    bool operator==(std::string_view o) const noexcept { return view() == o; }
    bool operator==(const std::string& o) const noexcept { return view() == o; }
    bool operator==(const char* o) const noexcept { return view() == o; }
    friend std::ostream& operator<<(std::ostream& os, const InternedString& s) {
        return os << s.view();
    }

private:
    const std::string* value_ = nullptr;
};

/// A short list of strings in one pointer: one heap block [uint32 count]([uint32 length][bytes])*,
/// none when empty. For a request's model names (usually one or two): a std::vector<std::string>
/// costs 24 bytes, a 32-byte string per entry and another block per name longer than 15.
/// Entries read as std::string_view; the list is replaced whole, never edited in place.
class CompactStringList {
public:
    class Iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = std::string_view;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = std::string_view;

        Iterator() = default;
        std::string_view operator*() const noexcept;
        Iterator& operator++() noexcept;
        Iterator operator++(int) noexcept {
            Iterator old = *this;
            ++*this;
            return old;
        }
        bool operator==(const Iterator& o) const noexcept { return at_ == o.at_; }

    private:
        friend class CompactStringList;
        explicit Iterator(const char* at) : at_(at) {}
        const char* at_ = nullptr;
    };

    CompactStringList() noexcept = default;
    CompactStringList(const std::vector<std::string>& values);  // NOLINT
    CompactStringList(std::initializer_list<std::string_view> values);
    CompactStringList(const CompactStringList& o);
    CompactStringList(CompactStringList&& o) noexcept : block_(std::exchange(o.block_, nullptr)) {}
    CompactStringList& operator=(const CompactStringList& o);
    CompactStringList& operator=(CompactStringList&& o) noexcept {
        if (this != &o) {
            Release();
            block_ = std::exchange(o.block_, nullptr);
        }
        return *this;
    }
    ~CompactStringList() { Release(); }

    bool empty() const noexcept { return block_ == nullptr; }
    void clear() noexcept { Release(); }
    size_t size() const noexcept;
    Iterator begin() const noexcept;
    Iterator end() const noexcept;
    std::string_view front() const noexcept { return *begin(); }
    /// Walks from the front: lists are short.
    std::string_view operator[](size_t i) const noexcept;
    bool contains(std::string_view value) const noexcept;
    std::vector<std::string> ToVector() const;

    bool operator==(const CompactStringList& o) const noexcept;
    friend std::ostream& operator<<(std::ostream& os, const CompactStringList& l);

private:
    static constexpr size_t kHeader = sizeof(uint32_t);
    template <typename Range>
    void Build(const Range& values);
    void Release() noexcept;
    size_t Bytes() const noexcept;

    char* block_ = nullptr;
};

/// How many distinct values have been interned (for tests and diagnostics).
size_t InternedCount();

}  // namespace horde
