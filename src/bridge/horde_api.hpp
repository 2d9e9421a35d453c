#pragma once
// The worker's side of the horde API: pop, submit, result upload, source download. An interface
// so that the job loop can be tested against a fake horde.
//
// Thread-safety: implementations are safe for concurrent use.

#include <string>

#include "bridge/backend_http.hpp"
#include "bridge/json_read.hpp"
#include "bridge/settings.hpp"
#include "common/result.hpp"

namespace horde::bridge {

/// An HTTP answer of the horde: status, JSON body (null when not JSON) and, for errors, the
/// `rc` and `message` of the body.
struct ApiReply {
    int status = 0;
    json::value body;
    std::string rc;
    std::string message;

    bool Ok() const { return status >= 200 && status < 300; }
};

class HordeApi {
public:
    virtual ~HordeApi() = default;
    /// POST /generate[/text]/pop. Transport failures are kNetwork errors.
    virtual Result<ApiReply> Pop(JobKind kind, const json::object& body) = 0;
    /// POST /generate[/text]/submit.
    virtual Result<ApiReply> Submit(JobKind kind, const json::object& body) = 0;
    /// PUT of the result bytes to a presigned r2_upload URL.
    virtual Result<HttpReply> Upload(const std::string& url, const std::string& bytes) = 0;
    /// GET of a source image URL.
    virtual Result<std::string> Download(const std::string& url) = 0;
};

/// The real horde over HTTP (libcurl, keep-alive per thread).
class HttpHordeApi final : public HordeApi {
public:
    /// `horde_url` with or without "/api/v2".
    HttpHordeApi(std::string horde_url, std::string api_key);
    Result<ApiReply> Pop(JobKind kind, const json::object& body) override;
    Result<ApiReply> Submit(JobKind kind, const json::object& body) override;
    Result<HttpReply> Upload(const std::string& url, const std::string& bytes) override;
    Result<std::string> Download(const std::string& url) override;

    const std::string& api_base() const { return api_base_; }

private:
    Result<ApiReply> Post(const std::string& path, const json::object& body, int timeout_ms);

    std::string api_base_;  // ".../api/v2"
    std::string api_key_;
};

/// "http://h:7001", "http://h:7001/", "http://h:7001/api/v2/" -> "http://h:7001/api/v2".
std::string ApiBase(std::string horde_url);

}  // namespace horde::bridge
