/* t.h — the tiny assertion kit every C test uses.
 *
 * CHECK(cond) records a failure with file:line and keeps going; T_DONE()
 * prints "N passed, N failed" and returns the exit code ctest reads.
 */
#ifndef SHJ_T_H
#define SHJ_T_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int t_passed, t_failed;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (cond) {                                                                   \
            t_passed++;                                                               \
        } else {                                                                      \
            t_failed++;                                                               \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);  \
        }                                                                             \
    } while (0)

#define CHECK_EQ_I64(a, b)                                                            \
    do {                                                                              \
        long long t_a_ = (long long)(a), t_b_ = (long long)(b);                       \
        if (t_a_ == t_b_) {                                                           \
            t_passed++;                                                               \
        } else {                                                                      \
            t_failed++;                                                               \
            fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", __FILE__,       \
                    __LINE__, #a, #b, t_a_, t_b_);                                    \
        }                                                                             \
    } while (0)

#define CHECK_STR(a, b)                                                               \
    do {                                                                              \
        const char *t_a_ = (a), *t_b_ = (b);                                          \
        if (t_a_ && t_b_ && strcmp(t_a_, t_b_) == 0) {                                \
            t_passed++;                                                               \
        } else {                                                                      \
            t_failed++;                                                               \
            fprintf(stderr, "%s:%d: %s == %s failed: \"%s\" != \"%s\"\n", __FILE__,   \
                    __LINE__, #a, #b, t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)"); \
        }                                                                             \
    } while (0)

#define T_DONE()                                                                      \
    do {                                                                              \
        printf("%d passed, %d failed\n", t_passed, t_failed);                         \
        return t_failed ? 1 : 0;                                                      \
    } while (0)

#endif
