#pragma once
// The `payload` object a worker receives from pop (api-contract.md §1.1, §1.2), built from a
// stored request, plus the seed conversion of §1.1.

#include <boost/json/object.hpp>
#include <cstdint>
#include <string_view>

#include "domain/entities.hpp"

namespace horde::protocol {

/// The image job payload: the request's normalized params (`steps` renamed to `ddim_steps`)
/// plus `prompt`, `n_iter` (jobs in this pop), `seed` (decimal text) and, only when true,
/// `use_nsfw_censor`. Unreadable stored params give a payload with just those fields. The
/// object lives in `sp` (the answer's, so that it moves into the answer without a copy).
boost::json::object ImagePopPayload(const domain::Request& request, int64_t seed, int n_iter,
                                    bool use_nsfw_censor, boost::json::storage_ptr sp = {});

/// The text job payload: the request's params plus `prompt` and `n: 1`.
boost::json::object TextPopPayload(const domain::Request& request,
                                   boost::json::storage_ptr sp = {});

/// The numeric seed for a request's seed text (§1.1): a string of ASCII digits is read as a
/// decimal number, any other text as its UTF-8 bytes in a little-endian integer; either is then
/// shifted right by 32 bits until it is below 2^32. So the result is in [0, 2^32). "" gives 0.
int64_t SeedToInt(std::string_view seed);

}  // namespace horde::protocol
