// generate_text: asks a horde for text with the C++ client library, showing progress.
//
//   HORDE_URL=http://127.0.0.1:7001 HORDE_API_KEY=... ./generate_text "Once upon a time"
//
// Prints the generated text. Ctrl-C is not handled here (see apps/horde for that); the wait is
// bounded by a timeout instead, and the request is cancelled on the horde when it runs out.

#include <cstdlib>
#include <iostream>

#include "client/horde_client.hpp"

int main(int argc, char** argv) {
    namespace hc = horde::client;

    hc::ClientSettings settings;
    if (const char* url = std::getenv("HORDE_URL")) {
        settings.base_url = url;
    }
    if (const char* key = std::getenv("HORDE_API_KEY")) {
        settings.api_key = key;
    }
    settings.client_agent = "horde-cpp-example:1.0:unknown";
    const hc::HordeClient horde(settings);

    hc::TextRequest request;
    request.prompt = argc > 1 ? argv[1] : "Once upon a time";
    request.params.max_length = 80;
    request.params.temperature = 0.7;

    hc::WaitOptions options;
    options.timeout_s = 600;
    options.on_submitted = [](const hc::AsyncResponse& accepted) {
        std::cerr << "request " << accepted.id << " queued\n";
    };
    options.on_progress = [](const hc::Progress& p) {
        std::cerr << "queue " << p.status.queue_position << ", eta " << p.status.wait_time_s
                  << "s, " << p.status.finished << " done\n";
    };

    // The future runs the whole submit-and-wait on its own thread; the caller could go on
    // with a game loop and check `done.wait_for(0s)` every frame instead of blocking here.
    auto done = horde.GenerateTextAsync(request, options);
    auto result = done.get();
    if (!result) {
        std::cerr << "failed: " << result.error().ToString() << "\n";
        return 1;
    }
    for (const auto& generation : result->generations) {
        std::cout << generation.text << "\n";
        std::cerr << "(model " << generation.model << ", worker " << generation.worker_name << ", "
                  << result->kudos << " kudos)\n";
    }
    return 0;
}
