/*
 * case: the conformance case-file reader (tools/qmp-conform/casefile.c),
 * which also reads case files people send in.
 *
 * Input: the bytes of one .qmpt file.  The reader only takes a path
 * (cf_suite_load), so the input is written to one scratch file per process,
 * created once and rewritten in place for each input (no create and unlink
 * per execution; docs/notes/fuzz-needs.md asks for an in-memory entry
 * point).  Oracles:
 * no crash, leak or undefined behaviour (sanitizers); every loaded case is
 * well formed (an id, at least one monitor, each step of a known kind on a
 * monitor in range, SEND steps with their decoded bytes, patterns present
 * where the step kind needs them, and when the file loaded cleanly, pause
 * and quiet lengths within 1..CF_PAUSE_MAX_MS); cf_decode_bytes() on each
 * line of the input either fails with a message or gives bytes within its
 * room, never both.
 */
#include "fuzz_util.h"

#include <fcntl.h>
#include <unistd.h>

#include "conform.h"

/* ok: the suite loaded without a complaint, so every value is in range too */
static void check_case(const cf_case_t *c, bool ok)
{
    FUZZ_CHECK(c->id != NULL && c->nmon >= 1 && c->nsteps >= 0);
    FUZZ_CHECK(c->level >= CF_MUST && c->level <= CF_INFO);
    FUZZ_CHECK(cf_level_name(c->level) != NULL);
    for (int i = 0; i < c->nsteps; i++) {
        const cf_step_t *st = &c->steps[i];
        FUZZ_CHECK(st->mon >= 0 && st->mon < c->nmon);
        FUZZ_CHECK(st->kind >= CF_SEND && st->kind <= CF_QUIET);
        if (ok && (st->kind == CF_PAUSE || st->kind == CF_QUIET)) {
            FUZZ_CHECK(st->timeout_ms >= 1 && st->timeout_ms <= CF_PAUSE_MAX_MS);
        }
        if (st->kind == CF_SEND) {
            FUZZ_CHECK(st->bytes != NULL || st->nbytes == 0);
        }
        if (st->kind == CF_EXPECT || st->kind == CF_EVENTUALLY) {
            FUZZ_CHECK(st->npats == 1 && st->pats && st->pats[0]);
        }
        for (int k = 0; k < st->npats; k++) {
            FUZZ_CHECK(st->pats[k] != NULL);
        }
    }
}

static void decode_lines(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), *p, *nl;
    char err[128];
    size_t left = CF_DECODED_MAX_BYTES;     /* one budget for all lines, as the reader has */

    FUZZ_CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    for (p = text; p < text + size; p = nl + 1) {
        cf_buf_t out = {0};
        nl = strchr(p, '\n');
        if (!nl) {
            nl = text + size;
        }
        *nl = '\0';
        err[0] = '\0';
        if (!cf_decode_bytes(p, left, &out, err, sizeof(err))) {
            FUZZ_CHECK(err[0] != '\0');
        } else {
            FUZZ_CHECK(out.len <= left);
            left -= out.len;
        }
        cf_buf_free(&out);
    }
    free(text);
}

static char g_path[64];

static void remove_scratch(void)
{
    unlink(g_path);
}

/* The scratch file holding exactly data[0..size); its path. */
static const char *scratch(const uint8_t *data, size_t size)
{
    static int fd = -1;

    if (fd < 0) {
        snprintf(g_path, sizeof(g_path), "/tmp/qmpk-fuzz-case-%ld.qmpt", (long)getpid());
        fd = open(g_path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        FUZZ_CHECK(fd >= 0);
        atexit(remove_scratch);
    }
    FUZZ_CHECK(ftruncate(fd, 0) == 0);
    FUZZ_CHECK(size == 0 || pwrite(fd, data, size, 0) == (ssize_t)size);
    return g_path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static FILE *devnull;
    cf_suite_t suite = {0};
    const char *path;

    if (size > (1u << 16)) {
        return 0;
    }
    path = scratch(data, size);
    if (!devnull) {
        devnull = fopen("/dev/null", "w");
        FUZZ_CHECK(devnull != NULL);
    }
    /* stderr would fill with the reader's complaints about bad files */
    FILE *saved = stderr;
    stderr = devnull;
    bool ok = cf_suite_load(&suite, path);
    stderr = saved;
    for (int i = 0; i < suite.ncases; i++) {
        check_case(suite.cases[i], ok);
    }
    cf_suite_free(&suite);
    decode_lines(data, size);
    return 0;
}
