#pragma once
// HORDE_CHECK: always-on assertion for programmer errors (never for client input).

#include <cstdio>
#include <cstdlib>

#define HORDE_CHECK(cond, msg)                                                                   \
    do {                                                                                         \
        if (!(cond)) [[unlikely]] {                                                              \
            std::fprintf(stderr, "HORDE_CHECK failed: %s (%s) at %s:%d\n", #cond, msg, __FILE__, \
                         __LINE__);                                                              \
            std::abort();                                                                        \
        }                                                                                        \
    } while (false)
