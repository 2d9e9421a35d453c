#pragma once
// Browser-side account entities: login sessions and invite links. Both are known to the server
// only by the keyed hash of their random token (the token itself lives in a cookie or a link).

#include <cstdint>
#include <string>

#include "common/clock.hpp"
#include "common/ids.hpp"

namespace horde::domain {

/// A logged-in browser. Sliding expiry: `expires` moves forward while the session is used.
struct WebSession {
    std::string token_hash;  // hex, keyed BLAKE2b of the cookie's token
    UserId user;
    TimePoint created;
    TimePoint expires;
};

/// A single-use invite link created by a moderator; accepting it lets the account run workers
/// while the horde is invite-only.
struct Invite {
    std::string token_hash;  // hex, keyed BLAKE2b of the link's token
    UserId created_by;
    TimePoint created;
    TimePoint expires;
    int64_t accepted_by = -1;  // user id, −1 while unused
};

}  // namespace horde::domain
