#include "client/horde_client.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <mutex>
#include <thread>

#include "client/base64.hpp"

namespace horde::client {
namespace {

/// A scripted horde: answers requests from a queue of canned responses per "METHOD path"
/// prefix, records every request. Safe for concurrent use.
class FakeHorde {
public:
    struct Canned {
        int status = 200;
        std::string body;
        std::map<std::string, std::string> headers;
    };

    /// Queues `c` as an answer to requests starting with `key` ("GET /path"); the last queued
    /// answer repeats.
    void Add(const std::string& key, Canned c) {
        std::lock_guard lock(mu_);
        script_[key].push_back(std::move(c));
    }
    Transport transport() {
        return [this](const httpclient::Request& r) -> Result<httpclient::Response> {
            std::lock_guard lock(mu_);
            seen_.push_back(r);
            const std::string path = r.url.substr(r.url.find("/api/v2") == std::string::npos
                                                      ? r.url.find("://") + 3
                                                      : r.url.find("/api/v2") + 7);
            for (auto& [key, queue] : script_) {
                if ((r.method + " " + path).starts_with(key) && !queue.empty()) {
                    Canned c = queue.front();
                    if (queue.size() > 1) {
                        queue.pop_front();
                    }
                    httpclient::Response resp;
                    resp.status = c.status;
                    resp.body = c.body;
                    resp.headers = c.headers;
                    return resp;
                }
            }
            return MakeError(ErrorCode::kNetwork, "Couldn't connect to server");
        };
    }
    std::vector<httpclient::Request> seen() {
        std::lock_guard lock(mu_);
        return seen_;
    }
    int Count(const std::string& prefix) {
        int n = 0;
        for (const auto& r : seen()) {
            const auto at = r.url.find("/api/v2");
            const std::string path = at == std::string::npos ? r.url : r.url.substr(at + 7);
            n += (r.method + " " + path).starts_with(prefix) ? 1 : 0;
        }
        return n;
    }

private:
    std::mutex mu_;
    std::map<std::string, std::deque<Canned>> script_;
    std::vector<httpclient::Request> seen_;
};

std::string Header(const httpclient::Request& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
        if (k == name) {
            return v;
        }
    }
    return {};
}

constexpr const char* kWaiting =
    R"({"finished":0,"processing":0,"restarted":0,"waiting":1,"done":false,"faulted":false,)"
    R"("wait_time":5,"queue_position":1,"kudos":0,"is_possible":true})";
constexpr const char* kDone =
    R"({"finished":1,"processing":0,"restarted":0,"waiting":0,"done":true,"faulted":false,)"
    R"("wait_time":0,"queue_position":0,"kudos":10.0,"is_possible":true})";
constexpr const char* kFaulted =
    R"({"finished":0,"processing":0,"restarted":3,"waiting":0,"done":true,"faulted":true,)"
    R"("wait_time":0,"queue_position":0,"kudos":0,"is_possible":true})";

class ClientTest : public ::testing::Test {
protected:
    HordeClient Client(std::string key = "secret-key") {
        ClientSettings s;
        s.base_url = "http://horde.test:7001/";
        s.api_key = std::move(key);
        s.client_agent = "test:1:me";
        s.min_poll_interval_ms = 1;
        s.transport = fake_.transport();
        return HordeClient(s);
    }
    WaitOptions Fast() {
        WaitOptions o;
        o.poll_interval_ms = 1;
        return o;
    }
    FakeHorde fake_;
};

TEST(ApiBase, Normalises) {
    EXPECT_EQ(ApiBaseOf("http://h:1"), "http://h:1/api/v2");
    EXPECT_EQ(ApiBaseOf("http://h:1/"), "http://h:1/api/v2");
    EXPECT_EQ(ApiBaseOf("https://aihorde.net/api/v2/"), "https://aihorde.net/api/v2");
    EXPECT_EQ(ApiBaseOf("https://aihorde.net/api"), "https://aihorde.net/api/v2");
    EXPECT_EQ(ApiBaseOf("localhost:7001"), "http://localhost:7001/api/v2");
    EXPECT_EQ(PercentEncode("a b/c#1"), "a%20b%2Fc%231");
}

TEST_F(ClientTest, SubmitSendsKeyAgentAndBody) {
    fake_.Add("POST /generate/async", {202, R"({"id":"r1","kudos":11.0})", {}});
    ImageRequest req;
    req.prompt = "a cat";
    req.params.steps = 10;
    auto r = Client().SubmitImage(req);
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->id, "r1");
    auto seen = fake_.seen();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].url, "http://horde.test:7001/api/v2/generate/async");
    EXPECT_EQ(Header(seen[0], "apikey"), "secret-key");
    EXPECT_EQ(Header(seen[0], "Client-Agent"), "test:1:me");
    EXPECT_EQ(Header(seen[0], "Content-Type"), "application/json");
    EXPECT_EQ(seen[0].body, R"({"prompt":"a cat","params":{"steps":10}})");
}

TEST_F(ClientTest, ErrorsCarryStatusRcAndMessage) {
    fake_.Add("GET /find_user",
              {401, R"({"message":"No user matching sent API Key.","rc":"InvalidAPIKey"})", {}});
    auto r = Client().FindUser();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::kAuth);
    EXPECT_EQ(r.error().http_status, 401);
    EXPECT_EQ(r.error().rc, "InvalidAPIKey");
    EXPECT_EQ(r.error().message, "No user matching sent API Key.");
    EXPECT_EQ(r.error().ToString(), "InvalidAPIKey (HTTP 401): No user matching sent API Key.");
}

TEST_F(ClientTest, FindUserWithAnUnknownKeyIsAnAuthError) {
    fake_.Add("GET /find_user",
              {404, R"({"message":"User with api_key 'x' not found.","rc":"UserNotFound"})", {}});
    auto r = Client("x").FindUser();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::kAuth);
    EXPECT_EQ(r.error().http_status, 404);
    EXPECT_EQ(r.error().rc, "UserNotFound");
}

TEST_F(ClientTest, NetworkErrorIsKindNetwork) {
    auto r = Client().GetHeartbeat();  // nothing scripted: the fake refuses
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::kNetwork);
    EXPECT_EQ(r.error().http_status, 0);
    EXPECT_NE(r.error().message.find("Couldn't connect"), std::string::npos);
}

TEST_F(ClientTest, RateLimitIsRetriedAfterRetryAfter) {
    fake_.Add("GET /status/heartbeat", {429, R"({"message":"Too many"})", {{"retry-after", "0"}}});
    fake_.Add("GET /status/heartbeat", {200, R"({"message":"OK","version":"1"})", {}});
    auto r = Client().GetHeartbeat();
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->message, "OK");
    EXPECT_EQ(fake_.Count("GET /status/heartbeat"), 2);
}

TEST_F(ClientTest, RateLimitGivesUpAfterMaxRetries) {
    fake_.Add("GET /status/heartbeat", {429, "", {{"retry-after", "0"}}});
    auto r = Client().GetHeartbeat();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::kRateLimited);
    EXPECT_EQ(fake_.Count("GET /status/heartbeat"), 4);  // 1 + max_retries
}

TEST_F(ClientTest, TooManyPromptsOnSubmitIsNotRetried) {
    fake_.Add("POST /generate/text/async",
              {429,
               R"({"message":"Parallel requests exceeded","rc":"TooManyPrompts"})",
               {{"retry-after", "0"}}});
    TextRequest req;
    req.prompt = "x";
    auto r = Client().SubmitText(req);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().rc, "TooManyPrompts");
    EXPECT_EQ(fake_.Count("POST /generate/text/async"), 1);
}

TEST_F(ClientTest, WaitImagePollsCheckThenFetchesStatusOnce) {
    fake_.Add("POST /generate/async", {202, R"({"id":"r1","kudos":11.0})", {}});
    fake_.Add("GET /generate/check/r1", {200, kWaiting, {}});
    fake_.Add("GET /generate/check/r1", {200, kWaiting, {}});
    fake_.Add("GET /generate/check/r1", {200, kDone, {}});
    fake_.Add("GET /generate/status/r1",
              {200,
               R"({"done":true,"finished":1,"kudos":10.0,"generations":[{"img":"aGVsbG8=",)"
               R"("seed":"42","id":"g1","model":"sd"}]})",
               {}});
    std::vector<int> positions;
    std::string submitted;
    auto opts = Fast();
    opts.on_progress = [&](const Progress& p) { positions.push_back(p.status.queue_position); };
    opts.on_submitted = [&](const AsyncResponse& a) { submitted = a.id; };
    ImageRequest req;
    req.prompt = "a cat";
    auto client = Client();
    auto r = client.GenerateImage(req, opts);
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(submitted, "r1");
    EXPECT_EQ(r->id, "r1");
    EXPECT_EQ(positions, (std::vector<int>{1, 1, 0}));
    EXPECT_EQ(fake_.Count("GET /generate/status/r1"), 1);
    ASSERT_EQ(r->generations.size(), 1u);
    auto bytes = client.FetchImage(r->generations[0]);
    ASSERT_TRUE(bytes);
    EXPECT_EQ(*bytes, "hello");
}

TEST_F(ClientTest, WaitTextUsesTheStatusItPolled) {
    fake_.Add("GET /generate/text/status/t1", {200, kWaiting, {}});
    fake_.Add("GET /generate/text/status/t1",
              {200,
               R"({"done":true,"finished":1,"generations":[{"text":"The end.","seed":0,)"
               R"("model":"m","state":"ok"}]})",
               {}});
    auto r = Client().WaitText("t1", Fast());
    ASSERT_TRUE(r) << r.error().ToString();
    ASSERT_EQ(r->generations.size(), 1u);
    EXPECT_EQ(r->generations[0].text, "The end.");
    EXPECT_EQ(fake_.Count("GET /generate/text/status/t1"), 2);
}

TEST_F(ClientTest, FaultedRequestIsAnError) {
    fake_.Add("GET /generate/check/r1", {200, kFaulted, {}});
    auto r = Client().WaitImage("r1", Fast());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::kFaulted);
    EXPECT_EQ(fake_.Count("DELETE"), 0);
}

TEST_F(ClientTest, StopCancelsOnTheServer) {
    fake_.Add("GET /generate/check/r1", {200, kWaiting, {}});
    fake_.Add("DELETE /generate/status/r1", {200, kWaiting, {}});
    std::stop_source stop;
    auto opts = Fast();
    opts.poll_interval_ms = 50;
    opts.stop = stop.get_token();
    int polls = 0;
    opts.on_progress = [&](const Progress&) {
        if (++polls == 2) {
            stop.request_stop();
        }
    };
    auto r = Client().WaitImage("r1", opts);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::kCancelled);
    EXPECT_EQ(fake_.Count("DELETE /generate/status/r1"), 1);
}

TEST_F(ClientTest, TimeoutCancelsOnTheServer) {
    fake_.Add("GET /generate/text/status/t1", {200, kWaiting, {}});
    fake_.Add("DELETE /generate/text/status/t1", {200, kWaiting, {}});
    auto opts = Fast();
    opts.poll_interval_ms = 20;
    opts.timeout_s = 0.1;
    auto r = Client().WaitText("t1", opts);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::kTimeout);
    EXPECT_EQ(fake_.Count("DELETE /generate/text/status/t1"), 1);
}

TEST_F(ClientTest, TransientPollFailuresAreTolerated) {
    fake_.Add("GET /generate/check/r1", {503, "busy", {}});
    fake_.Add("GET /generate/check/r1", {200, kDone, {}});
    fake_.Add("GET /generate/status/r1", {200, kDone, {}});
    auto r = Client().WaitImage("r1", Fast());
    ASSERT_TRUE(r) << r.error().ToString();
}

TEST_F(ClientTest, NotFoundDuringWaitIsReturned) {
    fake_.Add("GET /generate/check/r1",
              {404,
               R"({"message":"Image Waiting Prompt (Check) with ID 'r1' not found.",)"
               R"("rc":"RequestNotFound"})",
               {}});
    auto r = Client().WaitImage("r1", Fast());
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().kind, ErrorKind::kNotFound);
    EXPECT_EQ(r.error().rc, "RequestNotFound");
}

TEST_F(ClientTest, FutureVariant) {
    fake_.Add("POST /generate/text/async", {202, R"({"id":"t1","kudos":0})", {}});
    fake_.Add("GET /generate/text/status/t1",
              {200, R"({"done":true,"finished":1,"generations":[{"text":"hi"}]})", {}});
    TextRequest req;
    req.prompt = "x";
    auto future = Client().GenerateTextAsync(req, Fast());
    auto r = future.get();
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_EQ(r->generations.at(0).text, "hi");
}

TEST_F(ClientTest, DownloadsNeverCarryTheApiKey) {
    fake_.Add("GET r2.example/img.webp", {200, "RIFFdata", {}});
    ImageGeneration g;
    g.img = "https://r2.example/img.webp?sig=x";
    auto bytes = Client().FetchImage(g);
    ASSERT_TRUE(bytes) << bytes.error().ToString();
    EXPECT_EQ(*bytes, "RIFFdata");
    auto seen = fake_.seen();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(Header(seen[0], "apikey"), "");
}

TEST_F(ClientTest, TransferSendsIdempotencyKey) {
    fake_.Add("POST /kudos/transfer", {200, R"({"transferred":25})", {}});
    auto r = Client().TransferKudos("bob#2", 25, "key-1");
    ASSERT_TRUE(r) << r.error().ToString();
    EXPECT_DOUBLE_EQ(r->transferred, 25);
    auto seen = fake_.seen();
    EXPECT_EQ(Header(seen[0], "Idempotency-Key"), "key-1");
    EXPECT_EQ(seen[0].body, R"({"username":"bob#2","amount":25})");
    auto auto_key = Client().TransferKudos("bob#2", 1);
    ASSERT_TRUE(auto_key);
    EXPECT_EQ(Header(fake_.seen()[1], "Idempotency-Key").size(), 36u);
}

TEST_F(ClientTest, AnonymousByDefaultAndUsableFromManyThreads) {
    fake_.Add("GET /find_user", {200, R"({"username":"Anonymous#0","id":0})", {}});
    auto client = Client("");
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 8; ++i) {
        threads.emplace_back([&] {
            for (int j = 0; j < 20; ++j) {
                ok += client.FindUser().has_value() ? 1 : 0;
            }
        });
    }
    for (auto& t : threads) {
        t.join();
    }
    EXPECT_EQ(ok.load(), 160);
    EXPECT_EQ(Header(fake_.seen()[0], "apikey"), kAnonymousApiKey);
}

TEST(Base64, RoundTripAndVariants) {
    for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
        auto d = Base64Decode(Base64Encode(s));
        ASSERT_TRUE(d);
        EXPECT_EQ(*d, s);
    }
    EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(*Base64Decode("Zm9v\nYg"), "foob");
    EXPECT_EQ(*Base64Decode("data:image/webp;base64,Zm9v"), "foo");
    EXPECT_EQ(*Base64Decode("-_8="), "\xfb\xff");
    EXPECT_FALSE(Base64Decode("Zm9v!"));
    EXPECT_FALSE(Base64Decode("Z"));
}

}  // namespace
}  // namespace horde::client
