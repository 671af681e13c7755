/*
 * A small test harness.  Test names are sentences; CHECK records a failure
 * with its line and carries on (it never returns or jumps: see STYLE.md).
 * Tests that cannot go on after a failure test CHECK's value themselves.
 */
#ifndef QMPK_TEST_HARNESS_H
#define QMPK_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct qmpk_test {
    const char *name;
    void (*fn)(void);
} qmpk_test_t;

/* Exit code for "skipped" (ctest SKIP_RETURN_CODE). */
#define QMPK_TEST_SKIP 77

bool qmpk_check(bool ok, const char *expr, const char *file, int line);
bool qmpk_check_str(const char *got, size_t got_len, const char *want,
                    size_t want_len, const char *expr, const char *file, int line);
#define CHECK(cond) qmpk_check((cond), #cond, __FILE__, __LINE__)
#define CHECK_EQ_STR(got, got_len, want) \
    qmpk_check_str((got), (got_len), (want), strlen(want), #got, __FILE__, __LINE__)

/* Runs the tests named on the command line (substring match), or all;
 * prints one line per test and a closing "N passed, N failed" line. */
int qmpk_run_tests(const qmpk_test_t *tests, size_t n, int argc, char **argv);
/* Marks the current test as skipped with a reason. */
void qmpk_skip(const char *why);
/* Number of failed checks so far in the current test. */
int qmpk_failures(void);

#define QMPK_NTESTS(a) (sizeof(a) / sizeof((a)[0]))

#endif
