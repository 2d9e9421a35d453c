#include "bridge/image_codec.hpp"

#include <gtest/gtest.h>

namespace horde::bridge {
namespace {

Rgba Gradient(int w, int h, bool alpha) {
    Rgba img;
    img.width = w;
    img.height = h;
    img.pixels.resize(static_cast<size_t>(w) * h * 4);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            const size_t i = (static_cast<size_t>(y) * w + x) * 4;
            img.pixels[i] = static_cast<char>(x * 255 / w);
            img.pixels[i + 1] = static_cast<char>(y * 255 / h);
            img.pixels[i + 2] = static_cast<char>(128);
            img.pixels[i + 3] = static_cast<char>(alpha && x < w / 2 ? 0 : 255);
        }
    }
    return img;
}

TEST(Base64, RoundTripsAndAcceptsVariants) {
    for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
        const auto enc = Base64Encode(s);
        EXPECT_EQ(enc.size() % 4, 0u);
        EXPECT_EQ(Base64Decode(enc).value(), s);
    }
    EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(Base64Decode("Zm9vYg").value(), "foob");  // no padding
    EXPECT_EQ(Base64Decode("Zm9v\nYmFy").value(), "foobar");
    EXPECT_EQ(Base64Decode("data:image/png;base64,Zm9v").value(), "foo");
    EXPECT_EQ(Base64Decode("-_8").value(), Base64Decode("+/8").value());  // url-safe
    EXPECT_FALSE(Base64Decode("Zm9v*").has_value());
}

TEST(ImageCodec, PngRoundTrip) {
    const Rgba img = Gradient(37, 21, true);
    const auto png = EncodePng(img);
    ASSERT_TRUE(png.has_value());
    EXPECT_EQ(SniffImage(*png), ImageFormat::kPng);
    const auto back = DecodePng(*png);
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->width, 37);
    EXPECT_EQ(back->height, 21);
    EXPECT_EQ(back->pixels, img.pixels);
}

TEST(ImageCodec, PngToWebpKeepsTheSize) {
    const auto png = EncodePng(Gradient(640, 384, false)).value();
    const auto webp = ToWebp(png, 90);
    ASSERT_TRUE(webp.has_value()) << webp.error().message;
    ASSERT_GE(webp->size(), 12u);
    EXPECT_EQ(webp->substr(0, 4), "RIFF");
    EXPECT_EQ(webp->substr(8, 4), "WEBP");
    const auto decoded = DecodeWebp(*webp);
    ASSERT_TRUE(decoded.has_value());
    EXPECT_EQ(decoded->width, 640);
    EXPECT_EQ(decoded->height, 384);
    EXPECT_FALSE(decoded->HasTransparency());
    // A lossy encoding of a smooth gradient stays close to it.
    const auto original = Gradient(640, 384, false);
    long long diff = 0;
    for (size_t i = 0; i < original.pixels.size(); i += 4) {
        diff += std::abs(static_cast<unsigned char>(original.pixels[i]) -
                         static_cast<unsigned char>(decoded->pixels[i]));
    }
    EXPECT_LT(diff / (640 * 384), 8);
}

TEST(ImageCodec, WebpKeepsAlphaOnlyWhenUsed) {
    const auto webp = EncodeWebp(Gradient(64, 64, true), 90).value();
    EXPECT_TRUE(DecodeWebp(webp)->HasTransparency());
    EXPECT_EQ(ToWebp(webp, 50).value(), webp);  // WebP passes through unchanged
}

TEST(ImageCodec, RejectsWhatItCannotRead) {
    EXPECT_EQ(SniffImage("\xff\xd8\xff\xe0 jpeg"), ImageFormat::kJpeg);
    EXPECT_FALSE(ToWebp("\xff\xd8\xff\xe0 jpeg", 90).has_value());
    EXPECT_FALSE(ToWebp("hello", 90).has_value());
    EXPECT_FALSE(DecodePng("\x89PNG\r\n\x1a\n garbage").has_value());
    EXPECT_FALSE(DecodeImage("").has_value());
    EXPECT_FALSE(EncodeWebp(Rgba{}, 90).has_value());
}

TEST(ImageCodec, MaskFromAlphaPaintsTransparentPixelsWhite) {
    const Rgba mask = MaskFromAlpha(Gradient(8, 2, true));
    EXPECT_EQ(static_cast<unsigned char>(mask.pixels[0]), 255);    // x=0: transparent
    EXPECT_EQ(static_cast<unsigned char>(mask.pixels[7 * 4]), 0);  // x=7: opaque
    EXPECT_FALSE(mask.HasTransparency());
    const Rgba black = SolidImage(4, 3, 0, 0, 0);
    EXPECT_EQ(black.pixels.size(), 48u);
    EXPECT_EQ(static_cast<unsigned char>(black.pixels[3]), 255);
}

}  // namespace
}  // namespace horde::bridge
