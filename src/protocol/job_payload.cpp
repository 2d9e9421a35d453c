#include "protocol/job_payload.hpp"

#include <boost/json/parse.hpp>
#include <string>
#include <utility>
#include <vector>

namespace horde::protocol {

namespace {

namespace json = boost::json;

/// The stored params object, with room for `extra` more keys; the store is outside our control,
/// so bad text gives {}.
json::object ParamsObject(std::string_view params_json, size_t extra, json::storage_ptr sp) {
    boost::system::error_code ec;
    json::value value = json::parse(params_json, ec, sp);
    json::object out = ec || !value.is_object() ? json::object(sp) : std::move(value.as_object());
    out.reserve(out.size() + extra);
    return out;
}

bool IsAsciiDigits(std::string_view text) {
    if (text.empty()) {
        return false;
    }
    for (const char c : text) {
        if (c < '0' || c > '9') {
            return false;
        }
    }
    return true;
}

/// A big unsigned integer as base-2^32 limbs, least significant first, folded by `>> 32` until
/// it is below 2^32: that leaves exactly its most significant non-zero limb.
int64_t FoldLimbs(const std::vector<uint32_t>& limbs) {
    for (auto it = limbs.rbegin(); it != limbs.rend(); ++it) {
        if (*it != 0) {
            return static_cast<int64_t>(*it);
        }
    }
    return 0;
}

std::vector<uint32_t> DecimalToLimbs(std::string_view digits) {
    std::vector<uint32_t> limbs;
    for (const char c : digits) {
        uint64_t carry = static_cast<uint64_t>(c - '0');
        for (uint32_t& limb : limbs) {
            const uint64_t product = static_cast<uint64_t>(limb) * 10U + carry;
            limb = static_cast<uint32_t>(product);
            carry = product >> 32U;
        }
        if (carry != 0) {
            limbs.push_back(static_cast<uint32_t>(carry));
        }
    }
    return limbs;
}

std::vector<uint32_t> BytesToLimbs(std::string_view text) {
    std::vector<uint32_t> limbs((text.size() + 3) / 4, 0);
    for (size_t i = 0; i < text.size(); ++i) {
        const auto byte = static_cast<uint32_t>(static_cast<unsigned char>(text[i]));
        limbs[i / 4] |= byte << (8U * (i % 4));
    }
    return limbs;
}

}  // namespace

json::object ImagePopPayload(const domain::Request& request, int64_t seed, int n_iter,
                             bool use_nsfw_censor, json::storage_ptr sp) {
    json::object payload = ParamsObject(request.params_json, 8, std::move(sp));
    // Workers read the step count as `ddim_steps`; the payload model has no `steps`.
    payload.erase("steps");
    payload["ddim_steps"] = request.image.steps;
    // The request's shape is authoritative: an upfront-kudos downgrade may have shrunk it.
    payload["width"] = request.image.width;
    payload["height"] = request.image.height;
    payload["prompt"] = request.prompt.view();
    payload["n_iter"] = n_iter;
    payload["seed"] = std::to_string(seed);
    if (use_nsfw_censor) {
        payload["use_nsfw_censor"] = true;
    }
    return payload;
}

json::object TextPopPayload(const domain::Request& request, json::storage_ptr sp) {
    json::object payload = ParamsObject(request.params_json, 4, std::move(sp));
    payload["prompt"] = request.prompt.view();
    payload["n"] = 1;
    payload["max_length"] = request.text.max_length;
    payload["max_context_length"] = request.text.max_context_length;
    return payload;
}

int64_t SeedToInt(std::string_view seed) {
    if (IsAsciiDigits(seed)) {
        return FoldLimbs(DecimalToLimbs(seed));
    }
    return FoldLimbs(BytesToLimbs(seed));
}

}  // namespace horde::protocol
