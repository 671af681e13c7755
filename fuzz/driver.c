/*
 * Standalone driver for the fuzz harnesses (the shape of c-ares's
 * test/ares-fuzz.c), so the same harness source builds three ways:
 *
 *   libFuzzer   clang -fsanitize=fuzzer: this file is not linked
 *   AFL++       afl-clang-fast: persistent mode through __AFL_LOOP, input
 *               from shared memory (run with no arguments under afl-fuzz)
 *   replay      any compiler: every file named on the command line, and
 *               every file under every directory named, is run once
 *
 * Each input is copied into a malloc of exactly its size, so ASan (or a
 * guard page from the allocator) catches a read one byte past the end.
 *
 * Replay options:
 *   --prefix HEX     prepend these bytes to every input (third-party
 *                    corpora hold plain JSON; the prefix is the harness's
 *                    configuration header)
 *   --skip-missing   a path that does not exist is reported and skipped;
 *                    when nothing at all was run the exit code is 77
 *                    (ctest SKIP_RETURN_CODE)
 *   -v               name each file before running it
 * Exit code: 0 when every input ran (a failing oracle aborts).
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SKIP_EXIT 77

struct replay {
    uint8_t prefix[64];
    size_t prefix_len;
    int verbose;
    unsigned long runs;
};

static void run_one(const uint8_t *data, size_t len)
{
    /* Exactly len bytes (malloc(0) may return NULL: keep a valid pointer). */
    uint8_t *copy = malloc(len ? len : 1);

    if (!copy) {
        fprintf(stderr, "driver: out of memory for %zu bytes\n", len);
        exit(2);
    }
    if (len) {
        memcpy(copy, data, len);
    }
    LLVMFuzzerTestOneInput(copy, len);
    free(copy);
}

static int replay_file(struct replay *r, const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    size_t cap = 4096, len;

    if (!f) {
        fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
        return -1;
    }
    buf = malloc(cap);
    if (!buf) {
        fclose(f);
        return -1;
    }
    memcpy(buf, r->prefix, r->prefix_len);
    len = r->prefix_len;
    for (;;) {
        size_t n;
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
        n = fread(buf + len, 1, cap - len, f);
        if (n == 0) {
            break;
        }
        len += n;
    }
    fclose(f);
    if (r->verbose) {
        fprintf(stderr, "driver: %s (%zu bytes)\n", path, len);
    }
    run_one(buf, len);
    free(buf);
    r->runs++;
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Files of a directory, sorted so every run replays in the same order. */
static int replay_path(struct replay *r, const char *path);

static int replay_dir(struct replay *r, const char *path)
{
    DIR *d = opendir(path);
    struct dirent *de;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int rc = 0;

    if (!d) {
        fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        size_t need;
        if (de->d_name[0] == '.') {
            continue;   /* ., .. and hidden files (README-like dotfiles) */
        }
        if (n == cap) {
            char **nn = realloc(names, (cap = cap ? cap * 2 : 64) * sizeof(*names));
            if (!nn) {
                rc = -1;
                break;
            }
            names = nn;
        }
        need = strlen(path) + strlen(de->d_name) + 2;
        names[n] = malloc(need);
        if (!names[n]) {
            rc = -1;
            break;
        }
        snprintf(names[n], need, "%s/%s", path, de->d_name);
        n++;
    }
    closedir(d);
    qsort(names, n, sizeof(*names), name_cmp);
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && replay_path(r, names[i]) != 0) {
            rc = -1;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

static int replay_path(struct replay *r, const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "driver: %s: %s\n", path, strerror(errno));
        return -1;
    }
    return S_ISDIR(st.st_mode) ? replay_dir(r, path) : replay_file(r, path);
}

static int parse_hex(struct replay *r, const char *hex)
{
    size_t n = strlen(hex);

    if (n % 2 || n / 2 > sizeof(r->prefix)) {
        return -1;
    }
    for (size_t i = 0; i < n / 2; i++) {
        unsigned v;
        if (sscanf(hex + 2 * i, "%2x", &v) != 1) {
            return -1;
        }
        r->prefix[i] = (uint8_t)v;
    }
    r->prefix_len = n / 2;
    return 0;
}

static int replay_main(int argc, char **argv)
{
    struct replay r = {0};
    int skip_missing = 0, failed = 0, missing = 0;

    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (strcmp(argv[i], "--prefix") == 0 && i + 1 < argc) {
            if (parse_hex(&r, argv[++i]) != 0) {
                fprintf(stderr, "driver: bad --prefix '%s' (hex, at most 64 bytes)\n", argv[i]);
                return 2;
            }
        } else if (strcmp(argv[i], "--skip-missing") == 0) {
            skip_missing = 1;
        } else if (strcmp(argv[i], "-v") == 0) {
            r.verbose = 1;
        } else if (skip_missing && stat(argv[i], &st) != 0) {
            fprintf(stderr, "driver: %s does not exist, skipped\n", argv[i]);
            missing++;
        } else if (replay_path(&r, argv[i]) != 0) {
            failed = 1;
        }
    }
    fprintf(stderr, "driver: %lu inputs run\n", r.runs);
    if (failed) {
        return 1;
    }
    return (r.runs == 0 && missing) ? SKIP_EXIT : 0;
}

#ifdef __AFL_FUZZ_TESTCASE_LEN
/* afl-clang-fast: persistent mode with shared-memory test cases (whose
 * macros fall back to read(2) without shared memory). */
#include <unistd.h>

__AFL_FUZZ_INIT();

int main(int argc, char **argv)
{
    if (argc > 1) {
        return replay_main(argc, argv);
    }
    __AFL_INIT();
    const uint8_t *buf = __AFL_FUZZ_TESTCASE_BUF;
    while (__AFL_LOOP(100000)) {
        run_one(buf, (size_t)__AFL_FUZZ_TESTCASE_LEN);
    }
    return 0;
}
#else
int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s [--prefix HEX] [--skip-missing] [-v] FILE|DIR...\n",
                argv[0]);
        return 2;
    }
    return replay_main(argc, argv);
}
#endif
