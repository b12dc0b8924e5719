/* tests/check.h: the tiny assertion helper every test program uses.
 *
 * A test program defines functions `static void test_x(void)` and runs them
 * with RUN(test_x) from main, then returns check_summary(). Each RUN prints
 * "ok - name" or "not ok - name"; tests/run.sh counts those lines across all
 * programs into the "N passed, N failed" summary. A CHECK failure prints
 * where and why and marks the current test failed (the test goes on, so one
 * run shows every broken assertion). */
#ifndef DUET_TESTS_CHECK_H
#define DUET_TESTS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_cur_failed_;
static int check_n_passed_, check_n_failed_;

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "  %s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            check_cur_failed_ = 1;                                            \
        }                                                                     \
    } while (0)

#define CHECK_MSG(cond, ...)                                                  \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "  %s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                     \
            fputc('\n', stderr);                                              \
            check_cur_failed_ = 1;                                            \
        }                                                                     \
    } while (0)

/* |a - b| <= tol */
#define CHECK_NEAR(a, b, tol)                                                 \
    do {                                                                      \
        double ca_ = (double)(a), cb_ = (double)(b), ct_ = (double)(tol);     \
        if (!(fabs(ca_ - cb_) <= ct_)) {                                      \
            fprintf(stderr, "  %s:%d: CHECK_NEAR failed: %s = %.9g, %s = %.9g, tol %.3g\n", \
                    __FILE__, __LINE__, #a, ca_, #b, cb_, ct_);               \
            check_cur_failed_ = 1;                                            \
        }                                                                     \
    } while (0)

/* Stop the current test function (after a failed precondition). */
#define REQUIRE(cond)                                                         \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "  %s:%d: REQUIRE failed: %s\n", __FILE__, __LINE__, #cond); \
            check_cur_failed_ = 1;                                            \
            return;                                                           \
        }                                                                     \
    } while (0)

#define RUN(fn)                                                               \
    do {                                                                      \
        check_cur_failed_ = 0;                                                \
        fn();                                                                 \
        if (check_cur_failed_) {                                              \
            check_n_failed_++;                                                \
            printf("not ok - %s\n", #fn);                                     \
        } else {                                                              \
            check_n_passed_++;                                                \
            printf("ok - %s\n", #fn);                                         \
        }                                                                     \
        fflush(stdout);                                                       \
    } while (0)

static inline int check_summary(void)
{
    fprintf(stderr, "# %d passed, %d failed\n", check_n_passed_, check_n_failed_);
    return check_n_failed_ ? 1 : 0;
}

/* Path to a file under fixtures/ (tests run from the repository root). */
#define FIXTURE(name) ("fixtures/" name)

/* Largest |a[i]-b[i]| over n floats. */
static inline double check_max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || d != d) m = d != d ? INFINITY : d;
    }
    return m;
}

#endif
