#include "store/result_files.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace horde::store {

namespace fs = std::filesystem;

ResultFiles::ResultFiles(std::string dir) : dir_(std::move(dir)) {}

Status ResultFiles::Init() {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) {
        return MakeError(ErrorCode::kStoreUnavailable,
                         "cannot create " + dir_ + ": " + ec.message());
    }
    return Ok();
}

std::string ResultFiles::PathOf(const std::string& name) const { return dir_ + "/" + name; }

Status ResultFiles::Write(const std::string& name, std::string_view bytes) {
    const std::string final_path = PathOf(name);
    const std::string tmp = final_path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
        out.flush();
        if (!out) {
            return MakeError(ErrorCode::kStoreUnavailable, "cannot write " + tmp);
        }
    }
    std::error_code ec;
    fs::rename(tmp, final_path, ec);
    if (ec) {
        return MakeError(ErrorCode::kStoreUnavailable, "cannot rename " + tmp);
    }
    return Ok();
}

Result<std::string> ResultFiles::Read(const std::string& name) const {
    std::ifstream in(PathOf(name), std::ios::binary);
    if (!in) {
        return MakeError(ErrorCode::kNotFound, "no such result");
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool ResultFiles::Exists(const std::string& name) const {
    std::error_code ec;
    return fs::exists(PathOf(name), ec);
}

void ResultFiles::Remove(const std::string& name) {
    std::error_code ec;
    fs::remove(PathOf(name), ec);
}

}  // namespace horde::store
