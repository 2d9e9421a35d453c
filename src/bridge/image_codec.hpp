#pragma once
// Image bytes in and out of the worker: base64, format sniffing, PNG (libpng) and WebP (libwebp).
// Backends return PNG; the horde wants WebP. Pure functions, safe for concurrent use.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.hpp"

namespace horde::bridge {

std::string Base64Encode(std::string_view bytes);
/// Accepts standard and url-safe alphabets, missing padding, whitespace and a leading
/// "data:...;base64," prefix. Fails on any other character.
Result<std::string> Base64Decode(std::string_view text);

enum class ImageFormat { kUnknown, kPng, kWebp, kJpeg };
ImageFormat SniffImage(std::string_view bytes);
const char* ImageFormatName(ImageFormat format);

/// 8-bit RGBA pixels, row-major, no padding.
struct Rgba {
    int width = 0;
    int height = 0;
    std::string pixels;  // width * height * 4 bytes

    bool HasTransparency() const;
};

Result<Rgba> DecodePng(std::string_view bytes);
Result<Rgba> DecodeWebp(std::string_view bytes);
/// PNG or WebP (whatever SniffImage says).
Result<Rgba> DecodeImage(std::string_view bytes);

Result<std::string> EncodePng(const Rgba& image);
/// Lossy WebP at `quality` (0..100); the alpha channel is kept only when some pixel uses it.
Result<std::string> EncodeWebp(const Rgba& image, int quality);

/// A backend's result as WebP: PNG is re-encoded, WebP passes through unchanged.
Result<std::string> ToWebp(std::string_view bytes, int quality);

/// The inpainting mask hidden in an image's alpha channel: transparent pixels become white
/// (paint here), opaque ones black, as A1111 and ComfyUI expect of a separate mask.
Rgba MaskFromAlpha(const Rgba& image);

/// A single-colour image (the placeholder sent instead of a censored result).
Rgba SolidImage(int width, int height, uint8_t r, uint8_t g, uint8_t b);

}  // namespace horde::bridge
