// Browser accounts: sessions, OAuth login upsert, pseudonymous registration, invites, and the
// horde-mode checks the intake and pop paths call.

#include <sodium.h>

#include <algorithm>
#include <array>
#include <mutex>
#include <optional>
#include <string_view>

#include "common/random.hpp"
#include "service/horde_service.hpp"
#include "service/secret_keys.hpp"
#include "service/state.hpp"

namespace horde::service {

namespace {

constexpr auto kSessionLifetime = std::chrono::hours(24 * 30);
constexpr auto kSessionRefreshAfter = std::chrono::hours(24);
constexpr auto kPendingKeyLifetime = std::chrono::minutes(10);
constexpr auto kInviteLifetime = std::chrono::hours(24 * 7);
constexpr size_t kSessionTokenChars = 43;  // 258 random bits, url-safe
constexpr size_t kInviteTokenChars = 32;
constexpr size_t kTokenMaxChars = 128;
constexpr size_t kUsernameMinChars = 3;
constexpr size_t kUsernameMaxChars = 30;
constexpr size_t kMaintenanceMsgMaxChars = 500;
constexpr const char* kMaintenanceMsgKey = "maintenance_msg";

size_t CodePoints(std::string_view s) {
    size_t n = 0;
    for (const char c : s) {
        n += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
    }
    return n;
}

/// The first `max` code points of `s`.
std::string TruncateCodePoints(std::string_view s, size_t max) {
    size_t n = 0;
    size_t i = 0;
    for (; i < s.size(); ++i) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
            if (n == max) {
                break;
            }
            ++n;
        }
    }
    return std::string(s.substr(0, i));
}

std::string_view Trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
        s.remove_suffix(1);
    }
    return s;
}

/// Name characters: no ASCII control characters and no '#' (it separates name and id).
bool HasForbiddenChars(std::string_view s) {
    for (const char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F || c == '#') {
            return true;
        }
    }
    return false;
}

Result<std::string> CheckUsername(std::string_view raw) {
    const std::string_view name = Trim(raw);
    const size_t len = CodePoints(name);
    if (len < kUsernameMinChars) {
        return MakeError(ErrorCode::kValidationFailed, "username must be at least 3 characters",
                         "username");
    }
    if (len > kUsernameMaxChars) {
        return MakeError(ErrorCode::kTooLongUserName);
    }
    if (HasForbiddenChars(name)) {
        return MakeError(ErrorCode::kValidationFailed,
                         "username may not contain '#' or control characters", "username");
    }
    return std::string(name);
}

/// A usable account name from whatever the provider calls the person.
std::string NameFromProvider(std::string_view raw) {
    std::string cleaned;
    for (const char c : raw) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u != 0x7F && c != '#') {
            cleaned.push_back(c);
        }
    }
    std::string name = TruncateCodePoints(Trim(cleaned), kUsernameMaxChars);
    if (CodePoints(name) < kUsernameMinChars) {
        name = "user";
    }
    return name;
}

void ApplyWebMutations(HordeService::State& st, const store::Batch& b) {
    for (const auto& m : b.mutations) {
        if (const auto* ps = std::get_if<store::PutSession>(&m)) {
            st.web_sessions[ps->session.token_hash] = ps->session;
        } else if (const auto* ds = std::get_if<store::DeleteSession>(&m)) {
            st.web_sessions.erase(ds->token_hash);
        } else if (const auto* pi = std::get_if<store::PutInvite>(&m)) {
            st.invites[pi->invite.token_hash] = pi->invite;
        }
    }
}

bool SameHash(std::string_view a, std::string_view b) {
    return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

/// A session cookie is "<id>.<binding>": the random id (the store keeps only its hash) and a MAC
/// over the id and the account's API-key hash, so that a key reset ends every session made
/// before it.
struct SessionParts {
    std::string_view id;
    std::string_view binding;
};

std::optional<SessionParts> SplitSessionToken(std::string_view token) {
    const size_t dot = token.find('.');
    if (token.size() > kTokenMaxChars || dot != kSessionTokenChars || dot + 1 >= token.size()) {
        return std::nullopt;
    }
    return SessionParts{token.substr(0, dot), token.substr(dot + 1)};
}

std::string SessionBinding(const HordeService& svc, std::string_view id,
                           std::string_view api_key_hash) {
    std::string msg(id);
    msg.push_back('\n');
    msg.append(api_key_hash);
    return svc.WebMac("session", msg);
}

}  // namespace

void LoadWebAccounts(HordeService::State& st, const store::Snapshot& snap) {
    for (const auto& s : snap.sessions) {
        st.web_sessions[s.token_hash] = s;
    }
    for (const auto& i : snap.invites) {
        st.invites[i.token_hash] = i;
    }
}

Result<std::string> HordeService::CreateSession(UserId user) {
    std::unique_lock lock(mu_);
    auto& st = *state_;
    auto it = st.users.find(user.value());
    if (it == st.users.end() || it->second.anonymous || it->second.deleted) {
        return MakeError(ErrorCode::kUserNotFound);
    }
    const auto now = clock_.Now();
    const std::string id = NewToken(kSessionTokenChars);
    const std::string token = id + "." + SessionBinding(*this, id, it->second.api_key_hash);
    store::Batch b;
    // Purge expired sessions while here: logins are rare, so this costs little.
    for (const auto& [hash, s] : st.web_sessions) {
        if (s.expires <= now) {
            b.Add(store::DeleteSession{hash});
        }
    }
    b.Add(store::PutSession{domain::WebSession{.token_hash = HashKey(id),
                                               .user = user,
                                               .created = now,
                                               .expires = now + kSessionLifetime}});
    HORDE_TRY_STATUS(Commit(b));
    ApplyWebMutations(st, b);
    return token;
}

Result<HordeService::SessionInfo> HordeService::ResolveSession(std::string_view token) {
    const auto parts = SplitSessionToken(token);
    if (!parts) {
        return MakeError(ErrorCode::kSessionExpired);
    }
    const std::string hash = HashKey(parts->id);
    const auto now = clock_.Now();
    SessionInfo info;
    bool refresh = false;
    {
        std::shared_lock lock(mu_);
        const auto& st = *state_;
        auto it = st.web_sessions.find(hash);
        if (it == st.web_sessions.end() || !SameHash(it->second.token_hash, hash)) {
            return MakeError(ErrorCode::kSessionExpired);
        }
        auto user = st.users.find(it->second.user.value());
        const bool expired = it->second.expires <= now;
        // A binding made with another API-key hash: the key was reset since, the session is over.
        if (!expired && user != st.users.end() && !user->second.deleted &&
            SameHash(parts->binding, SessionBinding(*this, parts->id, user->second.api_key_hash))) {
            info.user = user->second;
            info.token_hash = hash;
            refresh = it->second.expires - now < kSessionLifetime - kSessionRefreshAfter;
            if (!refresh) {
                return info;
            }
        }
    }
    std::unique_lock lock(mu_);
    auto& st = *state_;
    auto it = st.web_sessions.find(hash);
    if (it == st.web_sessions.end()) {
        return MakeError(ErrorCode::kSessionExpired);
    }
    store::Batch b;
    if (!refresh) {
        // Expired, its user is gone or its key was reset: purge it.
        b.Add(store::DeleteSession{hash});
        HORDE_TRY_STATUS(Commit(b));
        ApplyWebMutations(st, b);
        return MakeError(ErrorCode::kSessionExpired);
    }
    domain::WebSession s = it->second;
    s.expires = now + kSessionLifetime;
    b.Add(store::PutSession{s});
    HORDE_TRY_STATUS(Commit(b));
    ApplyWebMutations(st, b);
    return info;
}

Status HordeService::EndSession(std::string_view token) {
    const auto parts = SplitSessionToken(token);
    if (!parts) {
        return Ok();
    }
    const std::string hash = HashKey(parts->id);
    std::unique_lock lock(mu_);
    auto& st = *state_;
    if (!st.web_sessions.contains(hash)) {
        return Ok();
    }
    store::Batch b;
    b.Add(store::DeleteSession{hash});
    HORDE_TRY_STATUS(Commit(b));
    ApplyWebMutations(st, b);
    return Ok();
}

Result<HordeService::WebLogin> HordeService::LoginWithOAuth(const std::string& oauth_id,
                                                            const std::string& display_name) {
    if (oauth_id.empty() || oauth_id.size() > 300) {
        return MakeError(ErrorCode::kOAuthFailed, "The provider sent no usable user id.");
    }
    WebLogin login;
    {
        std::unique_lock lock(mu_);
        auto& st = *state_;
        const domain::User* found = nullptr;
        for (const auto& [id, u] : st.users) {
            if (!u.anonymous && u.oauth_id == oauth_id) {
                found = &u;
                break;
            }
        }
        if (found != nullptr) {
            if (found->deleted) {
                return MakeError(ErrorCode::kDeletedUser);
            }
            login.user = *found;
        } else {
            domain::User u;
            u.username = NameFromProvider(display_name);
            u.oauth_id = oauth_id;
            u.pseudonymous = IsUuid(oauth_id);  // never for "<provider>_<subject>"
            HORDE_TRY_STATUS(CommitNewWebAccount(std::move(u), login));
        }
    }
    HORDE_TRY(login.session_token, CreateSession(login.user.id));
    if (login.created) {
        std::unique_lock lock(mu_);
        auto& pending = state_->pending_api_keys;
        const auto now = clock_.Now();
        std::erase_if(pending, [&](const auto& kv) { return kv.second.second <= now; });
        const auto parts = SplitSessionToken(login.session_token);
        if (parts) {
            pending[HashKey(parts->id)] = {login.api_key, now + kPendingKeyLifetime};
        }
    }
    return login;
}

Status HordeService::CommitNewWebAccount(domain::User u, WebLogin& login) {
    const auto now = clock_.Now();
    u.id = UserId(state_->next_user_id);
    u.created = now;
    u.last_active = now;
    login.api_key = NewToken(22);
    u.api_key_hash = HashKey(login.api_key);
    store::Batch b;
    b.Add(store::PutUser{u});
    HORDE_TRY_STATUS(Commit(b));
    login.user = std::move(u);
    login.created = true;
    return Ok();
}

std::string HordeService::TakePendingApiKey(const std::string& session_hash) {
    {
        std::shared_lock lock(mu_);
        if (state_->pending_api_keys.empty()) {
            return {};
        }
    }
    std::unique_lock lock(mu_);
    auto& pending = state_->pending_api_keys;
    auto it = pending.find(session_hash);
    if (it == pending.end()) {
        return {};
    }
    std::string key = it->second.second > clock_.Now() ? it->second.first : std::string();
    pending.erase(it);
    return key;
}

Result<HordeService::WebLogin> HordeService::RegisterPseudonymous(const std::string& username) {
    HORDE_TRY(const std::string name, CheckUsername(username));
    if (GetModes().raid) {
        return MakeError(ErrorCode::kRegistrationClosed);
    }
    WebLogin login;
    {
        std::unique_lock lock(mu_);
        domain::User u;
        u.username = name;
        // As in the reference: a UUID login id means no OAuth provider, i.e. pseudonymous.
        u.oauth_id = NewUuid();
        u.pseudonymous = true;
        HORDE_TRY_STATUS(CommitNewWebAccount(std::move(u), login));
    }
    HORDE_TRY(login.session_token, CreateSession(login.user.id));
    return login;
}

Result<HordeService::InviteLink> HordeService::CreateInvite(const domain::User& caller) {
    if (!caller.moderator) {
        return MakeError(ErrorCode::kNotModerator);
    }
    const auto now = clock_.Now();
    InviteLink link{.token = NewToken(kInviteTokenChars), .expires = now + kInviteLifetime};
    std::unique_lock lock(mu_);
    store::Batch b;
    b.Add(store::PutInvite{domain::Invite{.token_hash = HashKey(link.token),
                                          .created_by = caller.id,
                                          .created = now,
                                          .expires = link.expires,
                                          .accepted_by = -1}});
    HORDE_TRY_STATUS(Commit(b));
    ApplyWebMutations(*state_, b);
    return link;
}

Result<domain::User> HordeService::InviteUser(const domain::User& caller,
                                              const std::string& alias) {
    if (!caller.moderator) {
        return MakeError(ErrorCode::kNotModerator);
    }
    std::unique_lock lock(mu_);
    const domain::User* target = FindUserByAlias(alias);
    if (target == nullptr || target->anonymous || target->deleted) {
        return MakeError(ErrorCode::kUserNotFound, "User '" + alias + "' not found.");
    }
    domain::User u = *target;
    u.worker_invited = std::max(u.worker_invited, 1);
    store::Batch b;
    b.Add(store::PutUser{u});
    HORDE_TRY_STATUS(Commit(b));
    return u;
}

Result<domain::User> HordeService::AcceptInvite(const domain::User& user, std::string_view token) {
    if (user.anonymous) {
        return MakeError(ErrorCode::kAnonForbidden);
    }
    if (token.empty() || token.size() > kTokenMaxChars) {
        return MakeError(ErrorCode::kInvalidInvite);
    }
    const std::string hash = HashKey(token);
    const auto now = clock_.Now();
    std::unique_lock lock(mu_);
    auto& st = *state_;
    auto it = st.invites.find(hash);
    if (it == st.invites.end() || !SameHash(it->second.token_hash, hash) ||
        it->second.expires <= now ||
        (it->second.accepted_by >= 0 && it->second.accepted_by != user.id.value())) {
        return MakeError(ErrorCode::kInvalidInvite);
    }
    auto u_it = st.users.find(user.id.value());
    if (u_it == st.users.end()) {
        return MakeError(ErrorCode::kUserNotFound);
    }
    domain::User u = u_it->second;
    u.worker_invited = std::max(u.worker_invited, 1);
    domain::Invite inv = it->second;
    inv.accepted_by = u.id.value();
    store::Batch b;
    b.Add(store::PutUser{u});
    b.Add(store::PutInvite{inv});
    HORDE_TRY_STATUS(Commit(b));
    ApplyWebMutations(st, b);
    return u;
}

std::string HordeService::WebMac(std::string_view purpose, std::string_view message) const {
    std::string msg;
    msg.reserve(purpose.size() + 1 + message.size());
    msg.append(purpose).push_back('\n');
    msg.append(message);
    std::array<unsigned char, crypto_auth_BYTES> mac{};
    crypto_auth(mac.data(), reinterpret_cast<const unsigned char*>(msg.data()), msg.size(),
                keys_->web_mac.data());
    std::string out(sodium_base64_ENCODED_LEN(mac.size(), sodium_base64_VARIANT_URLSAFE_NO_PADDING),
                    '\0');
    sodium_bin2base64(out.data(), out.size(), mac.data(), mac.size(),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    out.resize(out.size() - 1);
    return out;
}

Status HordeService::CheckMaintenance() const {
    if (!GetModes().maintenance) {
        return Ok();
    }
    const std::string msg = MaintenanceMessage();
    return msg.empty() ? MakeError(ErrorCode::kMaintenanceMode)
                       : MakeError(ErrorCode::kMaintenanceMode, msg);
}

Status HordeService::CheckWorkerInvited(const domain::User& owner) const {
    if (GetModes().invite_only && owner.worker_invited <= 0 && !owner.moderator) {
        return MakeError(ErrorCode::kWorkerInviteOnly);
    }
    return Ok();
}

Status HordeService::SetMaintenanceMessage(const domain::User& caller, const std::string& message) {
    if (!caller.admin) {
        return MakeError(ErrorCode::kNotAdmin);
    }
    const bool control = std::any_of(message.begin(), message.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 && c != '\n';
    });
    if (CodePoints(message) > kMaintenanceMsgMaxChars || control) {
        return MakeError(ErrorCode::kValidationFailed,
                         "'maintenance_msg' must be at most 500 printable characters",
                         "maintenance_msg");
    }
    std::unique_lock lock(mu_);
    store::Batch b;
    b.Add(store::PutSetting{kMaintenanceMsgKey, message});
    return Commit(b);
}

std::string HordeService::MaintenanceMessage() const {
    std::shared_lock lock(mu_);
    auto it = state_->settings.find(kMaintenanceMsgKey);
    return it == state_->settings.end() ? std::string() : it->second;
}

}  // namespace horde::service
