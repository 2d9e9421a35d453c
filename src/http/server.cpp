#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>
#include <chrono>
#include <csignal>
#include <fstream>
#include <functional>
#include <thread>
#include <vector>

#include "common/ascii.hpp"

namespace horde::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

Method ToMethod(bhttp::verb v) {
    switch (v) {
        case bhttp::verb::get:
            return Method::kGet;
        case bhttp::verb::post:
            return Method::kPost;
        case bhttp::verb::put:
            return Method::kPut;
        case bhttp::verb::patch:
            return Method::kPatch;
        case bhttp::verb::delete_:
            return Method::kDelete;
        case bhttp::verb::options:
            return Method::kOptions;
        case bhttp::verb::head:
            return Method::kHead;
        default:
            return Method::kOther;
    }
}

void FillTarget(std::string_view target, Request& req) {
    const auto q = target.find('?');
    req.path = std::string(target.substr(0, q));
    if (q == std::string_view::npos) {
        return;
    }
    auto parsed = boost::urls::parse_origin_form(target);
    if (!parsed) {
        return;
    }
    for (auto param : parsed->params()) {
        req.query[std::string(param.key)] = std::string(param.value);
    }
}

class Connection : public std::enable_shared_from_this<Connection> {
public:
    Connection(tcp::socket socket, const ServerSettings& settings, const ServerCallbacks& callbacks,
               std::atomic<int>& active, const std::atomic<bool>& closed)
        : socket_(std::move(socket)),
          timer_(socket_.get_executor()),
          settings_(settings),
          callbacks_(callbacks),
          active_(active),
          closed_(closed) {
        buffer_.reserve(16 * 1024);
    }

    void Start() {
        boost::system::error_code ec;
        auto ep = socket_.remote_endpoint(ec);
        if (!ec) {
            remote_ip_ = ep.address().to_string();
            if (remote_ip_.rfind("::ffff:", 0) == 0) {
                remote_ip_ = remote_ip_.substr(7);
            }
        }
        socket_.set_option(tcp::no_delay(true), ec);
        ArmIdleTimer();
        ReadHeader();
    }

    void Close() {
        asio::post(socket_.get_executor(), [self = shared_from_this()] {
            boost::system::error_code ec;
            self->socket_.shutdown(tcp::socket::shutdown_both, ec);
            self->socket_.close(ec);
            self->timer_.cancel();
        });
    }

private:
    void ArmIdleTimer() {
        last_activity_ = std::chrono::steady_clock::now();
        if (timer_armed_) {
            return;
        }
        timer_armed_ = true;
        timer_.expires_after(std::chrono::seconds(settings_.idle_timeout_s));
        timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            self->timer_armed_ = false;
            if (ec || !self->socket_.is_open()) {
                return;
            }
            const auto idle = std::chrono::steady_clock::now() - self->last_activity_;
            if (idle >= std::chrono::seconds(self->settings_.idle_timeout_s)) {
                boost::system::error_code ignored;
                self->socket_.close(ignored);
                return;
            }
            self->ArmIdleTimer();
        });
    }

    void ReadHeader() {
        parser_.emplace();
        parser_->header_limit(8 * 1024);
        parser_->body_limit(settings_.body_bytes_max);
        bhttp::async_read_header(
            socket_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
    }

    void OnHeader(beast::error_code ec) {
        if (ec) {
            return HandleReadError(ec);
        }
        ArmIdleTimer();
        auto& req = parser_->get();
        if (req[bhttp::field::expect] == "100-continue") {
            // Answer it ourselves: curl waits a second for this before sending large uploads.
            auto cont = std::make_shared<bhttp::response<bhttp::empty_body>>(
                bhttp::status::continue_, req.version());
            bhttp::async_write(socket_, *cont,
                               [self = shared_from_this(), cont](beast::error_code wec, size_t) {
                                   if (wec) {
                                       return;
                                   }
                                   self->ReadBody();
                               });
            return;
        }
        ReadBody();
    }

    void ReadBody() {
        bhttp::async_read(
            socket_, buffer_, *parser_,
            [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
    }

    void HandleReadError(beast::error_code ec) {
        if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
            ec == asio::error::operation_aborted || ec == asio::error::connection_reset) {
            return Shutdown();
        }
        if (ec == bhttp::error::body_limit) {
            return WriteError(413, "Request body too large");
        }
        if (ec == bhttp::error::header_limit) {
            return WriteError(431, "Request headers too large");
        }
        WriteError(400, "Malformed HTTP request");
    }

    void WriteError(int status, const std::string& why) {
        Response resp = callbacks_.transport_error(status, why);
        keep_alive_ = false;
        Write(std::move(resp), 11);
    }

    void OnRead(beast::error_code ec) {
        if (ec) {
            return HandleReadError(ec);
        }
        ArmIdleTimer();
        auto msg = parser_->release();
        Request req;
        req.method = ToMethod(msg.method());
        FillTarget(msg.target(), req);
        for (const auto& field : msg) {
            req.headers[AsciiLower(field.name_string())] = std::string(field.value());
        }
        req.body = std::move(msg.body());
        req.remote_ip = remote_ip_;
        keep_alive_ = msg.keep_alive();
        ++active_;
        Reply reply(std::make_shared<ConnectionReply>(shared_from_this(), msg.version(),
                                                      req.method == Method::kHead));
        try {
            callbacks_.handle(req, reply);
        } catch (const std::exception& e) {
            spdlog::error("unhandled exception in handler {}: {}", req.path, e.what());
            reply.Send(callbacks_.transport_error(500, "Internal Server Error"));
        }
    }

    /// Writes the answer to the request being served, on this connection's I/O thread.
    void Answer(Response resp, unsigned version, bool head) {
        asio::dispatch(socket_.get_executor(), [self = shared_from_this(), resp = std::move(resp),
                                                version, head]() mutable {
            --self->active_;
            self->Write(std::move(resp), version, head);
        });
    }

    void RunOnIoThread(std::function<void()> fn) {
        asio::post(socket_.get_executor(), std::move(fn));
    }

    const ServerCallbacks& callbacks() const { return callbacks_; }

    /// The Reply of one request: the first Send is written; none at all answers 500.
    class ConnectionReply final : public Reply::Target {
    public:
        ConnectionReply(std::shared_ptr<Connection> conn, unsigned version, bool head)
            : conn_(std::move(conn)), version_(version), head_(head) {}
        ~ConnectionReply() override {
            if (!Answerable()) {
                return;
            }
            try {
                conn_->Answer(conn_->callbacks().transport_error(500, "No answer was given"),
                              version_, head_);
            } catch (const std::exception& e) {
                spdlog::error("cannot answer a dropped request: {}", e.what());
            }
        }
        void Deliver(Response response) override {
            if (Answerable()) {
                conn_->Answer(std::move(response), version_, head_);
            }
        }
        void Post(std::function<void()> fn) override {
            if (!conn_->closed_) {
                conn_->RunOnIoThread(std::move(fn));
            }
        }

    private:
        /// True once: for the first answer, while the I/O threads still run.
        bool Answerable() { return !sent_.exchange(true) && !conn_->closed_; }

        std::shared_ptr<Connection> conn_;
        unsigned version_;
        bool head_;
        std::atomic<bool> sent_{false};
    };

    void Write(Response resp, unsigned version, bool head = false) {
        if (!resp.file_path.empty()) {
            bhttp::response<bhttp::file_body> out{bhttp::status(resp.status), version};
            beast::error_code ec;
            out.body().open(resp.file_path.c_str(), beast::file_mode::scan, ec);
            if (!ec) {
                SetHeaders(out, resp);
                out.prepare_payload();
                auto sp = std::make_shared<bhttp::response<bhttp::file_body>>(std::move(out));
                bhttp::async_write(socket_, *sp,
                                   [self = shared_from_this(), sp](beast::error_code wec, size_t) {
                                       self->OnWrite(wec);
                                   });
                return;
            }
            resp = callbacks_.transport_error(404, "Result file is gone");
        }
        auto out = std::make_shared<bhttp::response<bhttp::string_body>>(bhttp::status(resp.status),
                                                                         version);
        SetHeaders(*out, resp);
        if (!head) {
            out->body() = std::move(resp.body);
        }
        out->prepare_payload();
        bhttp::async_write(
            socket_, *out,
            [self = shared_from_this(), out](beast::error_code ec, size_t) { self->OnWrite(ec); });
    }

    template <typename Msg>
    void SetHeaders(Msg& out, const Response& resp) {
        out.set(bhttp::field::server, "horded");
        out.set(bhttp::field::content_type, resp.content_type);
        for (const auto& [k, v] : resp.headers) {
            // Set-Cookie may repeat (one cookie each); every other header is set once.
            if (beast::iequals(k, "set-cookie")) {
                out.insert(k, v);
                continue;
            }
            out.set(k, v);
        }
        out.keep_alive(keep_alive_);
    }

    void OnWrite(beast::error_code ec) {
        ArmIdleTimer();
        if (ec || !keep_alive_) {
            return Shutdown();
        }
        ReadHeader();
    }

    void Shutdown() {
        boost::system::error_code ec;
        socket_.shutdown(tcp::socket::shutdown_send, ec);
        socket_.close(ec);
        timer_.cancel();
    }

    tcp::socket socket_;
    asio::steady_timer timer_;
    bool timer_armed_ = false;
    std::chrono::steady_clock::time_point last_activity_;
    beast::flat_buffer buffer_;
    std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
    const ServerSettings& settings_;
    const ServerCallbacks& callbacks_;
    std::atomic<int>& active_;
    const std::atomic<bool>& closed_;  // the I/O threads are gone: late answers are dropped
    std::string remote_ip_;
    bool keep_alive_ = true;
};

}  // namespace

struct Server::Impl {
    ServerSettings settings;
    ServerCallbacks callbacks;
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> guards;
    std::unique_ptr<tcp::acceptor> acceptor;
    std::vector<std::thread> threads;
    std::atomic<int> active{0};
    std::atomic<size_t> next{0};
    std::atomic<bool> stopping{false};
    std::atomic<bool> closed{false};

    void Accept() {
        auto& ctx = *contexts[next++ % contexts.size()];
        acceptor->async_accept(ctx, [this](beast::error_code ec, tcp::socket socket) {
            if (stopping) {
                return;
            }
            if (!ec) {
                std::make_shared<Connection>(std::move(socket), settings, callbacks, active, closed)
                    ->Start();
            }
            Accept();
        });
    }
};

Server::Server(ServerSettings settings, ServerCallbacks callbacks)
    : impl_(std::make_unique<Impl>()) {
    impl_->settings = std::move(settings);
    impl_->callbacks = std::move(callbacks);
}

Server::~Server() { Stop(0); }

uint16_t Server::Start() {
    auto& s = impl_->settings;
    const int n = std::max(1, s.threads);
    for (int i = 0; i < n; ++i) {
        impl_->contexts.push_back(std::make_unique<asio::io_context>(1));
        impl_->guards.push_back(asio::make_work_guard(*impl_->contexts.back()));
    }
    auto address = asio::ip::make_address(s.bind_address);
    tcp::endpoint endpoint(address, s.port);
    impl_->acceptor = std::make_unique<tcp::acceptor>(*impl_->contexts[0]);
    impl_->acceptor->open(endpoint.protocol());
    impl_->acceptor->set_option(asio::socket_base::reuse_address(true));
    impl_->acceptor->bind(endpoint);
    impl_->acceptor->listen(asio::socket_base::max_listen_connections);
    const uint16_t bound = impl_->acceptor->local_endpoint().port();
    impl_->Accept();
    for (auto& ctx : impl_->contexts) {
        impl_->threads.emplace_back([c = ctx.get()] { c->run(); });
    }
    return bound;
}

void Server::Stop(int grace_ms) {
    if (!impl_ || impl_->threads.empty()) {
        return;
    }
    impl_->stopping = true;
    if (impl_->acceptor) {
        asio::post(impl_->contexts[0]->get_executor(), [this] {
            boost::system::error_code ec;
            impl_->acceptor->close(ec);
        });
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(grace_ms);
    while (impl_->active > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    impl_->closed = true;
    for (auto& g : impl_->guards) {
        g.reset();
    }
    for (auto& ctx : impl_->contexts) {
        ctx->stop();
    }
    for (auto& t : impl_->threads) {
        t.join();
    }
    impl_->threads.clear();
}

void Server::WaitForSignal() {
    asio::io_context sig_ctx;
    asio::signal_set signals(sig_ctx, SIGINT, SIGTERM);
    signals.async_wait(
        [](beast::error_code, int sig) { spdlog::info("received signal {}, shutting down", sig); });
    sig_ctx.run();
}

}  // namespace horde::http
