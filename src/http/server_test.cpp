#include "http/server.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "httpclient/http_client.hpp"

namespace horde::http {
namespace {

using namespace std::chrono_literals;

Response Text(int status, std::string body) {
    Response r;
    r.status = status;
    r.body = std::move(body);
    r.content_type = "text/plain";
    return r;
}

/// A real server on a free loopback port; `handle` answers each request.
class ServerTest : public ::testing::Test {
protected:
    void Start(std::function<void(Request&, Reply)> handle) {
        ServerSettings s;
        s.bind_address = "127.0.0.1";
        s.port = 0;
        s.threads = 2;
        server_ = std::make_unique<Server>(
            s, ServerCallbacks{.handle = std::move(handle),
                               .transport_error = [](int status, const std::string& why) {
                                   return Text(status, "transport: " + why);
                               }});
        port_ = server_->Start();
    }
    void TearDown() override {
        if (server_) {
            server_->Stop(1000);
        }
        for (auto& t : helpers_) {
            t.join();
        }
    }
    httpclient::Response Get(const std::string& path) {
        httpclient::Request req;
        req.url = "http://127.0.0.1:" + std::to_string(port_) + path;
        auto r = httpclient::Send(req);
        EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
        return r ? *r : httpclient::Response{};
    }
    /// Runs `fn` on a thread of the test's own (joined at the end).
    void Later(std::function<void()> fn) {
        std::lock_guard lock(helpers_mu_);  // handlers run on the server's I/O threads
        helpers_.emplace_back(std::move(fn));
    }

    std::unique_ptr<Server> server_;
    uint16_t port_ = 0;
    std::mutex helpers_mu_;
    std::vector<std::thread> helpers_;
};

// A handler may answer after it returned, from another thread; the connection then serves the
// next request (kept alive) and every answer goes to its own request.
TEST_F(ServerTest, AnswersSentLaterFromAnotherThreadGoToTheirRequests) {
    Start([this](Request& req, Reply reply) {
        Later([path = req.path, reply] {
            std::this_thread::sleep_for(20ms);
            reply.Send(Text(200, "answer to " + path));
        });
    });
    for (const std::string path : {"/a", "/b", "/c"}) {
        const auto r = Get(path);
        EXPECT_EQ(r.status, 200);
        EXPECT_EQ(r.body, "answer to " + path);
    }
}

TEST_F(ServerTest, AReplyDroppedWithoutAnAnswerIsAnswered500) {
    Start([](Request&, Reply) {});
    const auto r = Get("/x");
    EXPECT_EQ(r.status, 500);
    EXPECT_EQ(r.body, "transport: No answer was given");
    EXPECT_EQ(Get("/y").status, 500) << "the connection still serves";
}

TEST_F(ServerTest, OnlyTheFirstAnswerIsWritten) {
    Start([](Request& req, Reply reply) {
        reply.Send(Text(200, "first " + req.path));
        reply.Send(Text(201, "second " + req.path));
    });
    const auto a = Get("/a");
    EXPECT_EQ(a.status, 200);
    EXPECT_EQ(a.body, "first /a");
    const auto b = Get("/b");  // a second answer in the stream would show up here
    EXPECT_EQ(b.status, 200);
    EXPECT_EQ(b.body, "first /b");
}

TEST_F(ServerTest, PostRunsOnTheConnectionsIoThread) {
    Start([this](Request&, Reply reply) {
        const auto io_thread = std::this_thread::get_id();
        Later([reply, io_thread] {
            reply.Post([reply, io_thread] {
                reply.Send(Text(200, std::this_thread::get_id() == io_thread ? "same" : "other"));
            });
        });
    });
    EXPECT_EQ(Get("/").body, "same");
}

TEST_F(ServerTest, StopWaitsForAnAnswerStillOwed) {
    std::atomic<bool> started{false};
    Start([this, &started](Request&, Reply reply) {
        started = true;
        Later([reply] {
            std::this_thread::sleep_for(300ms);
            reply.Send(Text(200, "late but sent"));
        });
    });
    std::thread stopper([&] {
        while (!started) {
            std::this_thread::sleep_for(5ms);
        }
        server_->Stop(3000);
    });
    const auto r = Get("/slow");
    stopper.join();
    EXPECT_EQ(r.status, 200);
    EXPECT_EQ(r.body, "late but sent");
}

}  // namespace
}  // namespace horde::http
