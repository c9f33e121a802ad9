/* A tiny test harness: CHECK counts a pass or a failure and prints the failures with file and line.
 * Each test program ends with `return test_summary("name");`, which prints "name: N passed, M failed". */
#ifndef MACHE_TEST_HARNESS_H
#define MACHE_TEST_HARNESS_H
#include <stdio.h>

extern int test_passed, test_failed;

#define CHECK(cond, ...) do {                                            \
    if (cond) test_passed++;                                              \
    else { test_failed++;                                                 \
           fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);            \
           fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); }            \
} while (0)

/* |a - b| <= atol + rtol * |b| */
int test_close(double a, double b, double rtol, double atol);
int test_summary(const char *name);
/* Runs fn(arg) in a child process and returns 1 if it stopped the program (mc_fatal, a signal), with what
 * it wrote to stderr in msg: for the programming errors that must stop with a message. */
int test_dies(void (*fn)(void *), void *arg, char *msg, size_t n);

#endif
