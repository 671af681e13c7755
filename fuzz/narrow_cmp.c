/*
 * The 1- and 2-byte comparison callbacks of -fsanitize-coverage=trace-cmp,
 * linked into the libFuzzer binaries in front of libFuzzer's own (ld
 * --wrap, fuzz/CMakeLists.txt).
 *
 * Why: libFuzzer keeps only 4- and 8-byte comparisons in its tables of
 * recent compares (TORC4/TORC8, the mutator's CMP feedback); a 1- or 2-byte
 * comparison only updates the value-profile map, which it reads with
 * -use_value_profile=1 alone.  The parser's lexer compares every input byte
 * with character constants, so __sanitizer_cov_trace_const_cmp1 alone was
 * 39% of the stream harness's instructions (callgrind, docs/FUZZING.md),
 * spent on data the campaigns threw away.  With -use_value_profile=1 (or
 * QMPK_FUZZ_VALUE_PROFILE=1 in the environment) every call goes through,
 * so nothing changes for a run that reads the map.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Never instrumented itself: a traced comparison here would recurse. */
#if defined(__clang__)
#define NARROW_API __attribute__((no_sanitize("coverage")))
#else
#define NARROW_API
#endif

void __real___sanitizer_cov_trace_cmp1(uint8_t a, uint8_t b);
void __real___sanitizer_cov_trace_cmp2(uint16_t a, uint16_t b);
void __real___sanitizer_cov_trace_const_cmp1(uint8_t a, uint8_t b);
void __real___sanitizer_cov_trace_const_cmp2(uint16_t a, uint16_t b);
void __wrap___sanitizer_cov_trace_cmp1(uint8_t a, uint8_t b);
void __wrap___sanitizer_cov_trace_cmp2(uint16_t a, uint16_t b);
void __wrap___sanitizer_cov_trace_const_cmp1(uint8_t a, uint8_t b);
void __wrap___sanitizer_cov_trace_const_cmp2(uint16_t a, uint16_t b);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static bool g_value_profile;

/* libFuzzer reads flags as -name=value with an integer value; "0" is off. */
NARROW_API static bool value_profile_flag(const char *arg)
{
    static const char flag[] = "-use_value_profile=";

    return strncmp(arg, flag, sizeof(flag) - 1) == 0 &&
           strtol(arg + sizeof(flag) - 1, NULL, 10) != 0;
}

NARROW_API int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *env = getenv("QMPK_FUZZ_VALUE_PROFILE");

    g_value_profile = env && strcmp(env, "0") != 0;
    for (int i = 1; i < *argc; i++) {
        g_value_profile = g_value_profile || value_profile_flag((*argv)[i]);
    }
    return 0;
}

NARROW_API void __wrap___sanitizer_cov_trace_cmp1(uint8_t a, uint8_t b)
{
    if (g_value_profile) {
        __real___sanitizer_cov_trace_cmp1(a, b);
    }
}

NARROW_API void __wrap___sanitizer_cov_trace_cmp2(uint16_t a, uint16_t b)
{
    if (g_value_profile) {
        __real___sanitizer_cov_trace_cmp2(a, b);
    }
}

NARROW_API void __wrap___sanitizer_cov_trace_const_cmp1(uint8_t a, uint8_t b)
{
    if (g_value_profile) {
        __real___sanitizer_cov_trace_const_cmp1(a, b);
    }
}

NARROW_API void __wrap___sanitizer_cov_trace_const_cmp2(uint16_t a, uint16_t b)
{
    if (g_value_profile) {
        __real___sanitizer_cov_trace_const_cmp2(a, b);
    }
}
