#pragma once
// The v2 REST API: the route table and thin handlers (decode → one service call → encode).
//
// Thread-safety: const after construction; Dispatch is called concurrently from I/O threads.

#include <boost/json/value.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "http/message.hpp"
#include "http/reply.hpp"
#include "http/router.hpp"
#include "service/horde_service.hpp"
#include "web/oauth_client.hpp"
#include "web/provider.hpp"

namespace horde::api {

struct ApiSettings {
    std::string public_url;  // e.g. "https://horde.example.org"; empty = from the Host header
    bool test_mode = false;
    std::string version = "0.1.0";
    std::string node_name = "horded";
    std::set<std::string> admins;  // aliases "name#id" with admin rights
    // Browser pages and login (docs/web.md)
    std::string web_dir;  // folder of the static pages; empty = no pages
    std::vector<web::ProviderConfig> oauth_providers;
    bool pseudonymous_registration = true;
};

class Api;

/// Where the answer of a handler that waits for a commit goes (copyable; any thread): Send adds
/// the headers every answer carries and writes it; Resume runs work on the connection's I/O
/// thread.
class Responder {
public:
    Responder(const Api& api, http::Reply reply) : api_(&api), reply_(std::move(reply)) {}
    void Send(http::Response response) const;
    service::Resume Resume() const;

private:
    const Api* api_;
    http::Reply reply_;
};

class Api {
public:
    Api(service::HordeService& service, ApiSettings settings, OffsetClock* test_clock);

    /// Routes one request: CORS, preflight, JSON 404/405, error mapping, the Horde-Node header.
    /// The answer goes to `reply`, at once, or (new requests, pops, submits) from the I/O thread
    /// once their writes are stored.
    void Dispatch(http::Request& request, const http::Reply& reply) const;
    /// A transport-level failure (bad HTTP, body too large) as a JSON error.
    http::Response TransportError(int status, const std::string& why) const;
    /// `response` with the headers every answer carries (CORS, Horde-Node).
    http::Response Decorated(http::Response response) const;

private:
    using H = http::Response (Api::*)(http::Request&) const;
    using AsyncH = void (Api::*)(http::Request&, const Responder&) const;
    void Add(http::Method m, const std::string& path, H handler);
    void Add(http::Method m, const std::string& path, AsyncH handler);

    // generation
    void ImageAsync(http::Request& req, const Responder& out) const;
    void TextAsync(http::Request& req, const Responder& out) const;
    http::Response ImageCheck(http::Request& req) const;
    http::Response ImageStatus(http::Request& req) const;
    http::Response ImageCancel(http::Request& req) const;
    http::Response TextStatus(http::Request& req) const;
    http::Response TextCancel(http::Request& req) const;
    // workers
    void ImagePop(http::Request& req, const Responder& out) const;
    void TextPop(http::Request& req, const Responder& out) const;
    void ImageSubmit(http::Request& req, const Responder& out) const;
    void TextSubmit(http::Request& req, const Responder& out) const;
    http::Response ResultPut(http::Request& req) const;
    http::Response ResultGet(http::Request& req) const;
    // accounts and workers
    http::Response FindUser(http::Request& req) const;
    http::Response Users(http::Request& req) const;
    http::Response UserById(http::Request& req) const;
    http::Response Workers(http::Request& req) const;
    http::Response WorkerById(http::Request& req) const;
    http::Response WorkerByName(http::Request& req) const;
    http::Response WorkerModify(http::Request& req) const;
    http::Response WorkerDelete(http::Request& req) const;
    http::Response ModesPut(http::Request& req) const;
    http::Response UserModify(http::Request& req) const;
    http::Response KudosTransfer(http::Request& req) const;
    http::Response KudosAward(http::Request& req) const;
    // status
    http::Response Heartbeat(http::Request& req) const;
    http::Response Models(http::Request& req) const;
    http::Response ModelByName(http::Request& req) const;
    http::Response Performance(http::Request& req) const;
    http::Response ModesGet(http::Request& req) const;
    // test mode
    http::Response DevTestUser(http::Request& req) const;
    http::Response DevClock(http::Request& req) const;
    // browser pages, sessions and login (web_*.cpp; docs/web.md)
    http::Response WebSession(http::Request& req) const;
    http::Response WebConfig(http::Request& req) const;
    http::Response WebRegister(http::Request& req) const;
    http::Response WebLogout(http::Request& req) const;
    http::Response WebKey(http::Request& req) const;
    http::Response WebInvite(http::Request& req) const;
    http::Response WebInviteAccept(http::Request& req) const;
    http::Response AuthLogin(http::Request& req) const;
    http::Response AuthCallback(http::Request& req) const;
    /// A static page or file for GET/HEAD of a non-API path; JSON 404 otherwise.
    http::Response StaticFile(const http::Request& req) const;
    /// Cookie sessions on /api/: checks CSRF on changes and lets CallerOf see the session.
    /// Returns an error answer to send instead, or nullopt to go on.
    std::optional<http::Response> AttachSession(http::Request& req) const;
    bool SecureCookies(const http::Request& req) const;
    /// The caller of a /api/web/ change: an apikey header, or the session cookie + CSRF header.
    Result<service::Caller> WebCaller(const http::Request& req) const;
    std::string CsrfTokenFor(const std::string& session_hash) const;

    // helpers shared by handlers
    Result<service::Caller> CallerOf(const http::Request& req, bool key_required) const;
    std::string BaseUrl(const http::Request& req) const;
    std::string SignedResultUrl(const http::Request& req, const std::string& name,
                                const std::string& purpose) const;
    bool IsAdmin(const domain::User& u) const;
    boost::json::object EncodeRequestView(const http::Request& req, const service::RequestView& v,
                                          bool full) const;
    http::Response Status(domain::GenKind kind, http::Request& req, bool full, bool cancel) const;
    void Pop(domain::GenKind kind, http::Request& req, const Responder& out) const;
    http::Response PopResponse(domain::GenKind kind, const http::Request& req,
                               const Result<service::PopOutcome>& out) const;
    void Submit(domain::GenKind kind, http::Request& req, const Responder& out) const;
    void Async(domain::GenKind kind, http::Request& req, const Responder& out) const;
    http::Response WorkerResponse(const http::Request& req,
                                  const std::function<Result<service::WorkerView>()>& lookup) const;

    service::HordeService& service_;
    ApiSettings settings_;
    OffsetClock* test_clock_;  // non-null only in test mode
    http::Router router_;
    std::unique_ptr<web::OAuthClient> oauth_;  // its discovery cache is internally locked
};

/// The `apikey` value that stands for a browser session: this prefix + the session token. API
/// keys never contain ':'.
inline constexpr std::string_view kSessionKeyPrefix = "session:";

/// `maintenance_msg` of a PUT /status/modes body (web_session_handlers.cpp).
Result<std::optional<std::string>> MaintenanceMessageInput(std::string_view body);

/// JSON text with doubles written plainly ("7.61", "10.0") instead of Boost's "7.61E0".
std::string SerializeJson(const boost::json::value& v);
std::string SerializeJson(const boost::json::object& o);
std::string SerializeJson(const boost::json::array& a);

/// A JSON response with `status`.
http::Response JsonResponse(int status, const boost::json::value& body);
http::Response JsonResponse(int status, const boost::json::object& body);
http::Response JsonResponse(int status, const boost::json::array& body);

}  // namespace horde::api
