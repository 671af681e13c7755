#include "harness.h"

#include <stdio.h>
#include <string.h>

static int current_failures;
static const char *skip_reason;

bool qmpk_check(bool ok, const char *expr, const char *file, int line)
{
    if (!ok) {
        current_failures++;
        fprintf(stderr, "    %s:%d: check failed: %s\n", file, line, expr);
    }
    return ok;
}

static void print_escaped(const char *s, size_t n)
{
    for (size_t i = 0; i < n && i < 400; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c < 0x7F && c != '\\') {
            fputc(c, stderr);
        } else {
            fprintf(stderr, "\\x%02X", c);
        }
    }
    if (n > 400) {
        fprintf(stderr, "...(%zu bytes)", n);
    }
}

bool qmpk_check_str(const char *got, size_t got_len, const char *want,
                    size_t want_len, const char *expr, const char *file, int line)
{
    bool ok = got && got_len == want_len && memcmp(got, want, want_len) == 0;
    if (!ok) {
        current_failures++;
        fprintf(stderr, "    %s:%d: %s\n      got:  ", file, line, expr);
        if (got) print_escaped(got, got_len); else fputs("(null)", stderr);
        fputs("\n      want: ", stderr);
        print_escaped(want, want_len);
        fputc('\n', stderr);
    }
    return ok;
}

void qmpk_skip(const char *why)
{
    skip_reason = why;
}

int qmpk_failures(void)
{
    return current_failures;
}

static bool selected(const char *name, int argc, char **argv)
{
    if (argc < 2) {
        return true;
    }
    for (int i = 1; i < argc; i++) {
        if (strstr(name, argv[i])) {
            return true;
        }
    }
    return false;
}

int qmpk_run_tests(const qmpk_test_t *tests, size_t n, int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0;

    for (size_t i = 0; i < n; i++) {
        if (!selected(tests[i].name, argc, argv)) {
            continue;
        }
        current_failures = 0;
        skip_reason = NULL;
        tests[i].fn();
        if (current_failures) {
            failed++;
            printf("FAIL %s\n", tests[i].name);
        } else if (skip_reason) {
            skipped++;
            printf("SKIP %s (%s)\n", tests[i].name, skip_reason);
        } else {
            passed++;
            printf("ok   %s\n", tests[i].name);
        }
        fflush(stdout);
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    if (failed) {
        return 1;
    }
    return (passed == 0 && skipped > 0) ? QMPK_TEST_SKIP : 0;
}
