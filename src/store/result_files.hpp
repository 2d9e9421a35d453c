#pragma once
// Where generated images and uploaded source images live: a folder on local disk (one node).
// Names are "<uuid>.webp" style, validated by the caller. Safe for concurrent use (each call is
// an independent filesystem operation; writes go to a temp file and are renamed into place).

#include <string>

#include "common/result.hpp"

namespace horde::store {

class ResultFiles {
public:
    explicit ResultFiles(std::string dir);
    Status Init();
    Status Write(const std::string& name, std::string_view bytes);
    Result<std::string> Read(const std::string& name) const;
    bool Exists(const std::string& name) const;
    void Remove(const std::string& name);
    std::string PathOf(const std::string& name) const;
    const std::string& dir() const { return dir_; }

private:
    std::string dir_;
};

}  // namespace horde::store
