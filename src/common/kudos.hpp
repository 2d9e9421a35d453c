#pragma once
// Kudos are exact: integer thousandths of a kudos ("milli-kudos"). Conversions to and from the
// wire (numbers with at most 2 decimals) happen only at the edges.

#include <cmath>
#include <compare>
#include <cstdint>

namespace horde {

class Kudos {
public:
    constexpr Kudos() = default;
    static constexpr Kudos FromMilli(int64_t milli) { return Kudos(milli); }
    static constexpr Kudos FromWhole(int64_t whole) { return Kudos(whole * 1000); }
    /// Rounds a floating-point amount of kudos to the nearest thousandth (half away from zero).
    static Kudos FromDouble(double kudos) { return Kudos(std::llround(kudos * 1000.0)); }
    /// Rounds to hundredths (the precision the reference's formulas round to), stored exactly.
    static Kudos FromDoubleCents(double kudos) { return Kudos(std::llround(kudos * 100.0) * 10); }

    constexpr int64_t milli() const { return milli_; }
    double ToDouble() const { return static_cast<double>(milli_) / 1000.0; }
    /// The wire form: a number with at most 2 decimals.
    double ToWire() const { return static_cast<double>(std::llround(milli_ / 10.0)) / 100.0; }

    constexpr Kudos operator+(Kudos o) const { return Kudos(milli_ + o.milli_); }
    constexpr Kudos operator-(Kudos o) const { return Kudos(milli_ - o.milli_); }
    constexpr Kudos operator-() const { return Kudos(-milli_); }
    constexpr Kudos& operator+=(Kudos o) {
        milli_ += o.milli_;
        return *this;
    }
    constexpr Kudos& operator-=(Kudos o) {
        milli_ -= o.milli_;
        return *this;
    }
    constexpr Kudos operator*(int64_t k) const { return Kudos(milli_ * k); }
    constexpr auto operator<=>(const Kudos&) const = default;

private:
    constexpr explicit Kudos(int64_t milli) : milli_(milli) {}
    int64_t milli_ = 0;
};

}  // namespace horde
