#include "bridge/image_codec.hpp"

#include <png.h>
#include <webp/decode.h>
#include <webp/encode.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace horde::bridge {

namespace {

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
/// The largest image we decode: 64 megapixels (a 8192x8192 result is already absurd).
constexpr int64_t kPixelsMax = 8192LL * 8192LL;

int Base64Value(char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
}

Error ImageError(std::string message) {
    return MakeError(ErrorCode::kInvalidPayload, std::move(message));
}

}  // namespace

std::string Base64Encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= bytes.size(); i += 3) {
        const uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16U |
                           static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8U |
                           static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
        out.push_back(kBase64Alphabet[(v >> 18U) & 63U]);
        out.push_back(kBase64Alphabet[(v >> 12U) & 63U]);
        out.push_back(kBase64Alphabet[(v >> 6U) & 63U]);
        out.push_back(kBase64Alphabet[v & 63U]);
    }
    const size_t rest = bytes.size() - i;
    if (rest > 0) {
        uint32_t v = static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << 16U;
        if (rest == 2) {
            v |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8U;
        }
        out.push_back(kBase64Alphabet[(v >> 18U) & 63U]);
        out.push_back(kBase64Alphabet[(v >> 12U) & 63U]);
        out.push_back(rest == 2 ? kBase64Alphabet[(v >> 6U) & 63U] : '=');
        out.push_back('=');
    }
    return out;
}

Result<std::string> Base64Decode(std::string_view text) {
    if (text.starts_with("data:")) {
        const size_t comma = text.find(',');
        if (comma == std::string_view::npos) {
            return ImageError("a data URI without a comma");
        }
        text.remove_prefix(comma + 1);
    }
    std::string out;
    out.reserve(text.size() / 4 * 3);
    uint32_t acc = 0;
    int bits = 0;
    for (const char c : text) {
        if (c == '=' || c == '\n' || c == '\r' || c == ' ' || c == '\t') {
            continue;
        }
        const int v = Base64Value(c);
        if (v < 0) {
            return ImageError("not base64");
        }
        acc = (acc << 6U) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> static_cast<uint32_t>(bits)) & 0xFFU));
        }
    }
    return out;
}

ImageFormat SniffImage(std::string_view b) {
    if (b.size() >= 8 && b.substr(0, 8) == std::string_view("\x89PNG\r\n\x1a\n", 8)) {
        return ImageFormat::kPng;
    }
    if (b.size() >= 12 && b.substr(0, 4) == "RIFF" && b.substr(8, 4) == "WEBP") {
        return ImageFormat::kWebp;
    }
    if (b.size() >= 3 && b.substr(0, 3) == std::string_view("\xff\xd8\xff", 3)) {
        return ImageFormat::kJpeg;
    }
    return ImageFormat::kUnknown;
}

const char* ImageFormatName(ImageFormat format) {
    switch (format) {
        case ImageFormat::kPng:
            return "PNG";
        case ImageFormat::kWebp:
            return "WebP";
        case ImageFormat::kJpeg:
            return "JPEG";
        case ImageFormat::kUnknown:
            return "unknown";
    }
    return "unknown";
}

bool Rgba::HasTransparency() const {
    for (size_t i = 3; i < pixels.size(); i += 4) {
        if (static_cast<unsigned char>(pixels[i]) != 255) {
            return true;
        }
    }
    return false;
}

Result<Rgba> DecodePng(std::string_view bytes) {
    png_image image;
    std::memset(&image, 0, sizeof(image));
    image.version = PNG_IMAGE_VERSION;
    if (png_image_begin_read_from_memory(&image, bytes.data(), bytes.size()) == 0) {
        return ImageError(std::string("PNG: ") + image.message);
    }
    if (static_cast<int64_t>(image.width) * image.height > kPixelsMax) {
        png_image_free(&image);
        return ImageError("PNG: image too large");
    }
    image.format = PNG_FORMAT_RGBA;
    Rgba out;
    out.width = static_cast<int>(image.width);
    out.height = static_cast<int>(image.height);
    out.pixels.resize(PNG_IMAGE_SIZE(image));
    if (png_image_finish_read(&image, nullptr, out.pixels.data(), 0, nullptr) == 0) {
        const std::string message = image.message;
        png_image_free(&image);
        return ImageError("PNG: " + message);
    }
    return out;
}

Result<Rgba> DecodeWebp(std::string_view bytes) {
    const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
    int width = 0;
    int height = 0;
    if (WebPGetInfo(data, bytes.size(), &width, &height) == 0) {
        return ImageError("WebP: not a WebP image");
    }
    if (static_cast<int64_t>(width) * height > kPixelsMax) {
        return ImageError("WebP: image too large");
    }
    Rgba out;
    out.width = width;
    out.height = height;
    out.pixels.resize(static_cast<size_t>(width) * static_cast<size_t>(height) * 4);
    const int stride = width * 4;
    if (WebPDecodeRGBAInto(data, bytes.size(), reinterpret_cast<uint8_t*>(out.pixels.data()),
                           out.pixels.size(), stride) == nullptr) {
        return ImageError("WebP: cannot decode");
    }
    return out;
}

Result<Rgba> DecodeImage(std::string_view bytes) {
    switch (SniffImage(bytes)) {
        case ImageFormat::kPng:
            return DecodePng(bytes);
        case ImageFormat::kWebp:
            return DecodeWebp(bytes);
        case ImageFormat::kJpeg:
            return ImageError("JPEG images cannot be decoded by this worker");
        case ImageFormat::kUnknown:
            break;
    }
    return ImageError("not a PNG or WebP image");
}

Result<std::string> EncodePng(const Rgba& image) {
    png_image png;
    std::memset(&png, 0, sizeof(png));
    png.version = PNG_IMAGE_VERSION;
    png.width = static_cast<png_uint_32>(image.width);
    png.height = static_cast<png_uint_32>(image.height);
    png.format = PNG_FORMAT_RGBA;
    png_alloc_size_t size = 0;
    if (png_image_write_to_memory(&png, nullptr, &size, 0, image.pixels.data(), 0, nullptr) == 0) {
        return ImageError(std::string("PNG encode: ") + png.message);
    }
    std::string out(size, '\0');
    if (png_image_write_to_memory(&png, out.data(), &size, 0, image.pixels.data(), 0, nullptr) ==
        0) {
        return ImageError(std::string("PNG encode: ") + png.message);
    }
    out.resize(size);
    return out;
}

Result<std::string> EncodeWebp(const Rgba& image, int quality) {
    if (image.width <= 0 || image.height <= 0 ||
        image.pixels.size() !=
            static_cast<size_t>(image.width) * static_cast<size_t>(image.height) * 4) {
        return ImageError("WebP encode: bad image dimensions");
    }
    if (image.width > WEBP_MAX_DIMENSION || image.height > WEBP_MAX_DIMENSION) {
        return ImageError("WebP encode: image wider or taller than 16383 pixels");
    }
    const auto q = static_cast<float>(std::clamp(quality, 0, 100));
    const auto* rgba = reinterpret_cast<const uint8_t*>(image.pixels.data());
    uint8_t* output = nullptr;
    size_t size = 0;
    if (image.HasTransparency()) {
        size = WebPEncodeRGBA(rgba, image.width, image.height, image.width * 4, q, &output);
    } else {
        std::string rgb(static_cast<size_t>(image.width) * static_cast<size_t>(image.height) * 3,
                        '\0');
        for (size_t src = 0, dst = 0; src < image.pixels.size(); src += 4, dst += 3) {
            rgb[dst] = image.pixels[src];
            rgb[dst + 1] = image.pixels[src + 1];
            rgb[dst + 2] = image.pixels[src + 2];
        }
        size = WebPEncodeRGB(reinterpret_cast<const uint8_t*>(rgb.data()), image.width,
                             image.height, image.width * 3, q, &output);
    }
    if (size == 0 || output == nullptr) {
        WebPFree(output);
        return ImageError("WebP encode failed");
    }
    std::string out(reinterpret_cast<const char*>(output), size);
    WebPFree(output);
    return out;
}

Result<std::string> ToWebp(std::string_view bytes, int quality) {
    const ImageFormat format = SniffImage(bytes);
    if (format == ImageFormat::kWebp) {
        return std::string(bytes);
    }
    if (format != ImageFormat::kPng) {
        return ImageError(std::string("the backend returned a ") + ImageFormatName(format) +
                          " image; PNG or WebP is needed");
    }
    HORDE_TRY(const Rgba image, DecodePng(bytes));
    return EncodeWebp(image, quality);
}

Rgba MaskFromAlpha(const Rgba& image) {
    Rgba mask;
    mask.width = image.width;
    mask.height = image.height;
    mask.pixels.resize(image.pixels.size());
    for (size_t i = 0; i + 3 < image.pixels.size(); i += 4) {
        const auto alpha = static_cast<unsigned char>(image.pixels[i + 3]);
        const char v = alpha < 128 ? static_cast<char>(255) : static_cast<char>(0);
        mask.pixels[i] = v;
        mask.pixels[i + 1] = v;
        mask.pixels[i + 2] = v;
        mask.pixels[i + 3] = static_cast<char>(255);
    }
    return mask;
}

Rgba SolidImage(int width, int height, uint8_t r, uint8_t g, uint8_t b) {
    Rgba out;
    out.width = width;
    out.height = height;
    out.pixels.resize(static_cast<size_t>(width) * static_cast<size_t>(height) * 4);
    for (size_t i = 0; i < out.pixels.size(); i += 4) {
        out.pixels[i] = static_cast<char>(r);
        out.pixels[i + 1] = static_cast<char>(g);
        out.pixels[i + 2] = static_cast<char>(b);
        out.pixels[i + 3] = static_cast<char>(255);
    }
    return out;
}

}  // namespace horde::bridge
