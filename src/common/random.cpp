#include "common/random.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstring>

#include "common/check.hpp"

namespace horde {
namespace {

void EnsureSodium() {
    static const bool ready = sodium_init() >= 0;
    HORDE_CHECK(ready, "libsodium failed to initialise");
}

}  // namespace

namespace {

std::string FormatUuid(std::array<unsigned char, 16>& b, unsigned char version) {
    b[6] = static_cast<unsigned char>((b[6] & 0x0F) | (version << 4));
    b[8] = static_cast<unsigned char>((b[8] & 0x3F) | 0x80);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(36);
    for (size_t i = 0; i < b.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) {
            out.push_back('-');
        }
        out.push_back(kHex[b[i] >> 4]);
        out.push_back(kHex[b[i] & 0x0F]);
    }
    return out;
}

}  // namespace

std::string NewUuid() {
    EnsureSodium();
    std::array<unsigned char, 16> b{};
    randombytes_buf(b.data(), b.size());
    return FormatUuid(b, 4);
}

namespace {

/// Random bytes for values that are not secrets (job ids: only their worker's key submits them;
/// seeds and choices: RandomBelow), taken from a per-thread block of the system's random bytes,
/// so a pop does not make a getrandom call per job id (1.3 % of a pop's CPU). Each byte is
/// handed out once and wiped.
void PublicIdBytes(unsigned char* out, size_t n) {
    struct Block {
        std::array<unsigned char, 512> bytes{};
        size_t used = 512;
        ~Block() { sodium_memzero(bytes.data(), bytes.size()); }
    };
    thread_local Block block;
    HORDE_CHECK(n <= block.bytes.size(), "too many bytes at once");
    if (block.used + n > block.bytes.size()) {
        randombytes_buf(block.bytes.data(), block.bytes.size());
        block.used = 0;
    }
    unsigned char* from = block.bytes.data() + block.used;
    std::copy(from, from + n, out);
    sodium_memzero(from, n);
    block.used += n;
}

}  // namespace

std::string NewUuidV7(int64_t unix_ms) {
    EnsureSodium();
    std::array<unsigned char, 16> b{};
    PublicIdBytes(b.data() + 6, b.size() - 6);  // the first 6 hold the time
    const auto ms = static_cast<uint64_t>(unix_ms < 0 ? 0 : unix_ms);
    for (int i = 0; i < 6; ++i) {
        b[static_cast<size_t>(i)] = static_cast<unsigned char>(ms >> (8 * (5 - i)));
    }
    return FormatUuid(b, 7);
}

std::string NewToken(size_t length) {
    EnsureSodium();
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out;
    out.reserve(length);
    for (size_t i = 0; i < length; ++i) {
        out.push_back(kAlphabet[randombytes_uniform(64)]);
    }
    return out;
}

uint32_t RandomBelow(uint32_t upper) {
    EnsureSodium();
    if (upper < 2) {
        return 0;
    }
    // Rejection as randombytes_uniform does it, from the per-thread block instead of a
    // getrandom call per draw (a pop drew an unseeded image job's seed this way).
    const uint32_t min = static_cast<uint32_t>(-upper) % upper;  // 2^32 mod upper
    for (;;) {
        uint32_t r = 0;
        unsigned char bytes[sizeof r];
        PublicIdBytes(bytes, sizeof bytes);
        std::memcpy(&r, bytes, sizeof r);
        if (r >= min) {
            return r % upper;
        }
    }
}

std::string NewSecretHex() {
    EnsureSodium();
    std::array<unsigned char, 32> b{};
    randombytes_buf(b.data(), b.size());
    std::array<char, 65> hex{};
    sodium_bin2hex(hex.data(), hex.size(), b.data(), b.size());
    return std::string(hex.data());
}

}  // namespace horde
