// horded: the Horde server. Composition root: config → store → service → API → HTTP server.

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "api/api.hpp"
#include "common/random.hpp"
#include "http/server.hpp"
#include "service/horde_service.hpp"
#include "store/result_files.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "web/provider.hpp"

namespace {

struct Options {
    std::string bind = "0.0.0.0";
    uint16_t port = 7001;
    std::string data_dir = "./data";
    bool test_mode = false;
    // 0: one I/O thread per core. Writes do not hold a thread while their group commit runs (the
    // writer thread answers them), so more threads than cores only add context switches (bench
    // on 2 cores: durable intake 8.1k/s at 2 threads, 5.3k/s at 8).
    int threads = 0;
    std::string public_url;
    std::string admins;
    int max_body_mb = 32;
    std::string log_level = "info";
    int tick_ms = 1000;
    std::string web_dir = HORDE_DEFAULT_WEB_DIR;
    bool pseudonymous_registration = true;
    // OAuth providers (docs/web.md); each is enabled when its client id is set.
    std::string github_id, github_secret;
    std::string discord_id, discord_secret;
    std::string google_id, google_secret;
    std::string generic_name = "oidc", generic_display = "OpenID Connect", generic_issuer,
                generic_authorize_url, generic_token_url, generic_userinfo_url, generic_id,
                generic_secret, generic_scopes = "openid profile", generic_auth = "basic";
};

std::vector<horde::web::ProviderConfig> OAuthProviders(const Options& o) {
    std::vector<horde::web::ProviderConfig> out;
    if (!o.github_id.empty()) {
        out.push_back(horde::web::GitHubPreset(o.github_id, o.github_secret));
    }
    if (!o.discord_id.empty()) {
        out.push_back(horde::web::DiscordPreset(o.discord_id, o.discord_secret));
    }
    if (!o.google_id.empty()) {
        out.push_back(horde::web::GooglePreset(o.google_id, o.google_secret));
    }
    if (!o.generic_id.empty()) {
        horde::web::ProviderConfig p;
        p.id = o.generic_name;
        p.name = o.generic_display;
        p.kind = horde::web::ProviderKind::kOidc;
        p.issuer = o.generic_issuer;
        p.authorize_url = o.generic_authorize_url;
        p.token_url = o.generic_token_url;
        p.userinfo_url = o.generic_userinfo_url;
        p.client_id = o.generic_id;
        p.client_secret = o.generic_secret;
        p.scopes = o.generic_scopes;
        p.client_auth = o.generic_auth == "post" ? horde::web::ClientAuth::kPost
                                                 : horde::web::ClientAuth::kBasic;
        if (p.issuer.empty() &&
            (p.authorize_url.empty() || p.token_url.empty() || p.userinfo_url.empty())) {
            std::cerr << "horded: the generic OAuth provider needs --oauth-generic-issuer or all "
                         "of --oauth-generic-authorize-url, -token-url and -userinfo-url\n";
            std::exit(2);
        }
        out.push_back(std::move(p));
    }
    return out;
}

std::string LoadOrCreateSecret(const std::string& data_dir) {
    if (const char* env = std::getenv("HORDE_SECRET"); env != nullptr && *env != '\0') {
        return env;
    }
    const std::string path = data_dir + "/secret";
    std::ifstream in(path);
    std::string secret;
    if (in >> secret && secret.size() == 64) {
        return secret;
    }
    secret = horde::NewSecretHex();
    std::ofstream out(path, std::ios::trunc);
    out << secret << "\n";
    out.close();
    ::chmod(path.c_str(), 0600);
    return secret;
}

struct Runtime {
    std::unique_ptr<horde::store::SqliteStore> store;
    std::unique_ptr<horde::store::ResultFiles> files;
    std::unique_ptr<horde::OffsetClock> clock;
    std::unique_ptr<horde::service::HordeService> service;
};

Runtime Open(const Options& o) {
    std::error_code ec;
    std::filesystem::create_directories(o.data_dir, ec);
    if (ec) {
        std::cerr << "horded: cannot create data dir " << o.data_dir << ": " << ec.message()
                  << "\n";
        std::exit(2);
    }
    Runtime rt;
    auto store = horde::store::SqliteStore::Open(o.data_dir + "/horde.sqlite3");
    if (!store) {
        std::cerr << "horded: cannot open the store: " << store.error().message << "\n";
        std::exit(2);
    }
    rt.store = std::move(*store);
    rt.files = std::make_unique<horde::store::ResultFiles>(o.data_dir + "/results");
    if (auto s = rt.files->Init(); !s) {
        std::cerr << "horded: " << s.error().message << "\n";
        std::exit(2);
    }
    rt.clock = std::make_unique<horde::OffsetClock>();
    horde::service::ServiceSettings settings;
    settings.test_mode = o.test_mode;
    settings.secret = LoadOrCreateSecret(o.data_dir);
    rt.service =
        std::make_unique<horde::service::HordeService>(*rt.store, *rt.files, *rt.clock, settings);
    if (auto s = rt.service->Init(); !s) {
        std::cerr << "horded: cannot load the store: " << s.error().message << "\n";
        std::exit(2);
    }
    return rt;
}

std::set<std::string> SplitList(const std::string& s) {
    std::set<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ',')) {
        if (!item.empty()) {
            out.insert(item);
        }
    }
    return out;
}

int Serve(const Options& o) {
    spdlog::set_level(spdlog::level::from_str(o.log_level));
    auto rt = Open(o);
    horde::api::ApiSettings api_settings;
    api_settings.public_url = o.public_url;
    api_settings.test_mode = o.test_mode;
    api_settings.admins = SplitList(o.admins);
    api_settings.web_dir = o.web_dir;
    api_settings.oauth_providers = OAuthProviders(o);
    api_settings.pseudonymous_registration = o.pseudonymous_registration;
    for (const auto& p : api_settings.oauth_providers) {
        spdlog::info("login provider {} enabled", p.id);  // never the secret
    }
    horde::api::Api api(*rt.service, api_settings, o.test_mode ? rt.clock.get() : nullptr);
    horde::http::ServerSettings hs;
    hs.bind_address = o.bind;
    hs.port = o.port;
    hs.threads = o.threads > 0
                     ? o.threads
                     : static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
    hs.body_bytes_max = static_cast<uint64_t>(o.max_body_mb) * 1024 * 1024;
    horde::http::Server server(
        hs,
        {.handle = [&](horde::http::Request& r,
                       const horde::http::Reply& reply) { api.Dispatch(r, reply); },
         .transport_error =
             [&](int status, const std::string& why) { return api.TransportError(status, why); }});
    uint16_t port = 0;
    try {
        port = server.Start();
    } catch (const std::exception& e) {
        std::cerr << "horded: cannot listen on " << o.bind << ":" << o.port << ": " << e.what()
                  << "\n";
        return 2;
    }
    spdlog::info("horded listening on http://{}:{} (data in {}{})", o.bind, port, o.data_dir,
                 o.test_mode ? ", TEST MODE" : "");
    // Machine-readable line for scripts that start the server on port 0.
    std::cout << "LISTENING " << port << std::endl;
    std::atomic<bool> stop{false};
    std::thread ticker([&] {
        while (!stop) {
            for (int waited = 0; waited < o.tick_ms && !stop; waited += 50) {
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            }
            if (!stop) {
                rt.service->Tick();
            }
        }
    });
    server.WaitForSignal();
    stop = true;
    server.Stop(5000);
    ticker.join();
    rt.service->Flush();  // answers still owed are dropped while the server still exists
    spdlog::info("horded stopped");
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"horded: the Horde server (AI Horde v2 API). Without a subcommand it serves."};
    app.set_config("--config", "", "Read options from this TOML/INI file", false);
    Options o;
    app.add_option("--bind", o.bind, "Address to listen on")
        ->envname("HORDE_BIND")
        ->capture_default_str();
    app.add_option("--port", o.port, "TCP port to listen on (0 = any free port)")
        ->envname("HORDE_PORT")
        ->capture_default_str();
    app.add_option("--data-dir", o.data_dir,
                   "Folder for the SQLite store (horde.sqlite3), results/ and the secret")
        ->envname("HORDE_DATA_DIR")
        ->capture_default_str();
    app.add_flag("--test-mode", o.test_mode,
                 "Enable POST /api/v2/dev/test-user and /api/v2/dev/clock (loopback only). "
                 "Never on a public horde.")
        ->envname("HORDE_TEST_MODE");
    app.add_option("--threads", o.threads, "HTTP I/O threads; 0 = one per core (at least 2)")
        ->envname("HORDE_THREADS")
        ->check(CLI::Range(0, 256))
        ->capture_default_str();
    app.add_option("--public-url", o.public_url,
                   "Base URL clients and workers reach this server at (for result URLs); "
                   "default: from each request's Host header")
        ->envname("HORDE_PUBLIC_URL");
    app.add_option("--admins", o.admins, "Comma-separated aliases (name#id) with admin rights")
        ->envname("HORDE_ADMINS");
    app.add_option("--max-body-mb", o.max_body_mb, "Largest accepted request body, in MiB")
        ->envname("HORDE_MAX_BODY_MB")
        ->capture_default_str();
    app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error")
        ->envname("HORDE_LOG_LEVEL")
        ->capture_default_str();

    app.add_option("--web-dir", o.web_dir, "Folder of the web pages (empty = no pages)")
        ->envname("HORDE_WEB_DIR")
        ->capture_default_str();
    app.add_option("--pseudonymous-registration", o.pseudonymous_registration,
                   "Allow registering with just a name (true/false)")
        ->envname("HORDE_PSEUDONYMOUS_REGISTRATION")
        ->capture_default_str();
    struct Opt {
        const char* flag;
        std::string* target;
        const char* help;
    };
    for (const Opt& opt : std::initializer_list<Opt>{
             {"github-client-id", &o.github_id, "GitHub OAuth app client id"},
             {"github-client-secret", &o.github_secret, "GitHub OAuth app client secret"},
             {"discord-client-id", &o.discord_id, "Discord OAuth2 client id"},
             {"discord-client-secret", &o.discord_secret, "Discord OAuth2 client secret"},
             {"google-client-id", &o.google_id, "Google OAuth client id"},
             {"google-client-secret", &o.google_secret, "Google OAuth client secret"},
             {"generic-name", &o.generic_name,
              "Generic provider id (URL segment, oauth_id prefix)"},
             {"generic-display-name", &o.generic_display, "Generic provider name on the page"},
             {"generic-issuer", &o.generic_issuer,
              "Generic OpenID Connect issuer (discovery from /.well-known/openid-configuration)"},
             {"generic-authorize-url", &o.generic_authorize_url, "Generic authorize endpoint"},
             {"generic-token-url", &o.generic_token_url, "Generic token endpoint"},
             {"generic-userinfo-url", &o.generic_userinfo_url, "Generic user-info endpoint"},
             {"generic-client-id", &o.generic_id, "Generic provider client id"},
             {"generic-client-secret", &o.generic_secret, "Generic provider client secret"},
             {"generic-scopes", &o.generic_scopes, "Generic provider scopes"},
             {"generic-client-auth", &o.generic_auth, "Token endpoint client auth: basic or post"},
         }) {
        std::string env = std::string("HORDE_OAUTH_") + opt.flag;
        for (auto& c : env) {
            c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        }
        app.add_option(std::string("--oauth-") + opt.flag, *opt.target, opt.help)->envname(env);
    }

    auto* user_cmd = app.add_subcommand("user", "Manage users in the store (admin)");
    auto* create = user_cmd->add_subcommand("create", "Create a user and print its API key");
    std::string name;
    double kudos = 0;
    bool trusted = false;
    bool moderator = false;
    bool admin = false;
    create->add_option("--name", name, "Username")->required();
    create->add_option("--kudos", kudos, "Starting kudos")->capture_default_str();
    create->add_flag("--trusted", trusted, "Trusted user");
    create->add_flag("--moderator", moderator, "Moderator (implies trusted)");
    create->add_flag("--admin", admin, "Admin (implies moderator)");
    auto* reset = user_cmd->add_subcommand("reset-key", "Give a user a new API key and print it");
    int64_t user_id = -1;
    reset->add_option("--id", user_id, "User id (the number after # in name#id)")->required();
    auto* ledger_cmd = app.add_subcommand("ledger", "Kudos ledger tools");
    auto* check =
        ledger_cmd->add_subcommand("check", "Verify the ledger: sum and per-account drift");

    // Server options (--data-dir...) may also follow the subcommand.
    for (auto* sub : {user_cmd, create, reset, ledger_cmd, check}) {
        sub->fallthrough();
    }
    CLI11_PARSE(app, argc, argv);
    spdlog::set_level(spdlog::level::warn);
    if (create->parsed()) {
        auto rt = Open(o);
        auto u = rt.service->CreateUser(name, horde::Kudos::FromDouble(kudos), trusted, moderator,
                                        admin);
        if (!u) {
            std::cerr << "horded: " << u.error().message << "\n";
            return 1;
        }
        std::cout << "user " << u->user.username << "#" << u->user.id.value() << " api_key "
                  << u->api_key << std::endl;
        return 0;
    }
    if (reset->parsed()) {
        auto rt = Open(o);
        auto u = rt.service->ResetKey(horde::UserId(user_id));
        if (!u) {
            std::cerr << "horded: no such user " << user_id << "\n";
            return 1;
        }
        std::cout << "user " << u->user.username << "#" << u->user.id.value() << " api_key "
                  << u->api_key << std::endl;
        return 0;
    }
    if (check->parsed()) {
        auto rt = Open(o);
        auto c = rt.service->CheckLedger();
        if (!c) {
            std::cerr << "horded: " << c.error().message << "\n";
            return 1;
        }
        std::cout << "entries " << c->entries << "\npostings " << c->postings << "\nsum_milli "
                  << c->sum_milli << "\nunbalanced_entries " << c->unbalanced_entries
                  << "\ndrifting_accounts " << c->drift_milli.size() << "\n";
        for (const auto& [acct, drift] : c->drift_milli) {
            std::cout << "drift " << acct << " " << drift << "\n";
        }
        const bool ok = c->sum_milli == 0 && c->unbalanced_entries == 0 && c->drift_milli.empty();
        std::cout << (ok ? "OK" : "FAILED") << std::endl;
        return ok ? 0 : 1;
    }
    return Serve(o);
}
