/*
 * qmp-refd: the reference QMP server.  Serves qmpkit's engine on unix
 * sockets, TCP (only when asked) or stdio, from one poll() thread.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "refd.h"

static void usage(FILE *f)
{
    fprintf(f,
"usage: qmp-refd [--socket PATH]... [--tcp HOST:PORT]... [--stdio] [options]\n"
"       qmp-refd --replay TRACE\n"
"\n"
"Serves qmpkit's reference QMP engine (QEMU 7.2 behaviour) to any number of\n"
"monitors at once, until 'quit', SIGINT or SIGTERM.\n"
"\n"
"  -s, --socket PATH      listen on a unix socket (repeatable)\n"
"      --socket-mode MODE permissions of socket files (octal, default 0600)\n"
"      --tcp HOST:PORT    listen on TCP (repeatable; HOST defaults to 127.0.0.1)\n"
"      --stdio            serve one monitor on stdin/stdout (greets without oob,\n"
"                         as QEMU does on stdio; exits when stdin closes)\n"
"  -p, --profile NAME     qemu-7.2 (default) or extended (async extension)\n"
"      --clock KIND       real (default) or manual: time moves only through\n"
"                         the command x-clock-step {\"ms\": N}\n"
"      --clock-start SEC  manual clock's start time (default 0)\n"
"      --time-scale F     real clock: engine time runs F times as fast, so\n"
"                         jobs finish F times sooner (default 1)\n"
"      --max-monitors N   monitors connected at once (default 64)\n"
"      --out-bytes N      output buffer per monitor (default engine's)\n"
"      --reply-bytes N    largest single reply or event (default engine's,\n"
"                         or --out-bytes when that is smaller)\n"
"      --msg-bytes N      largest request (default engine's)\n"
"      --msg-tokens N     most JSON tokens in one request (default engine's)\n"
"      --package TEXT     version 'package' string (default empty)\n"
"  -t, --trace FILE       record every byte in and out as JSON lines\n"
"      --replay FILE      run a trace through a fresh engine and check that\n"
"                         it produces the same bytes (exit 0 same, 1 differs)\n"
"  -q, --quiet            no messages on stderr except errors\n"
"  -h, --help             this text\n"
"\n"
"A client that stops reading is suspended (its input is no longer read) once\n"
"--out-bytes of output wait for it; if events for it are then lost, it is\n"
"disconnected.  Other monitors are never held up.\n"
"\n"
"Exit status: 0 after quit or a signal, 1 on a runtime failure or a replay\n"
"mismatch, 2 on a usage error or when a socket cannot be opened.\n");
}

enum { O_MODE = 256, O_TCP, O_STDIO, O_CLOCK, O_CLOCK_START, O_SCALE,
       O_MAXMON, O_OUT, O_REPLY, O_MSG, O_TOKENS, O_PACKAGE, O_REPLAY };

static int parse_num(const char *s, const char *what, double lo, double hi,
                     double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (!end || *end || end == s || v < lo || v > hi) {
        fprintf(stderr, "qmp-refd: %s must be a number from %.15g to %.15g, "
                "not '%s'\n", what, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Octal permission bits only: "999" or "rw" must not become a socket
 * nobody can connect to. */
static int parse_mode(const char *s, unsigned *out)
{
    unsigned long v = strtoul(s, NULL, 8);
    if (!*s || strspn(s, "01234567") != strlen(s) || v > 0777) {
        fprintf(stderr, "qmp-refd: --socket-mode must be octal permission "
                "bits from 0 to 0777 (e.g. 0600, 0660), not '%s'\n", s);
        return -1;
    }
    if ((v & 0600) != 0600)
        fprintf(stderr, "qmp-refd: warning: --socket-mode %04lo leaves the "
                "owner without read and write permission; the owner cannot "
                "connect\n", v);
    *out = (unsigned)v;
    return 0;
}

static int bad_choice(const char *opt, const char *arg, const char *choices)
{
    fprintf(stderr, "qmp-refd: %s must be %s, not '%s'\n", opt, choices, arg);
    return -1;
}

static int set_opt(refd_opts_t *o, int ch, const char *arg)
{
    double v = 0;
    switch (ch) {
    case 's':
    case O_TCP: {
        bool u = ch == 's';
        int *n = u ? &o->nsockets : &o->ntcps;
        if (*n == REFD_MAX_LISTENERS) {
            fprintf(stderr, "qmp-refd: at most %d --socket and %d --tcp\n",
                    REFD_MAX_LISTENERS, REFD_MAX_LISTENERS);
            return -1;
        }
        (u ? o->sockets : o->tcps)[(*n)++] = arg;
        return 0;
    }
    case O_MODE: return parse_mode(arg, &o->socket_mode);
    case O_STDIO: o->use_stdio = true; o->cfg.no_oob = true; return 0;
    case 'p':
        if (strcmp(arg, "qemu-7.2") == 0)
            o->cfg.profile = QMPK_PROFILE_QEMU72;
        else if (strcmp(arg, "extended") == 0)
            o->cfg.profile = QMPK_PROFILE_EXTENDED;
        else
            return bad_choice("--profile", arg, "qemu-7.2 or extended");
        return 0;
    case O_CLOCK:
        if (strcmp(arg, "real") != 0 && strcmp(arg, "manual") != 0)
            return bad_choice("--clock", arg, "real or manual");
        o->cfg.manual_clock = strcmp(arg, "manual") == 0;
        return 0;
    case O_CLOCK_START:
        if (parse_num(arg, "--clock-start", 0, 1e10, &v) < 0)
            return -1;
        o->cfg.clock_start_ns = (uint64_t)(v * 1e9);
        return 0;
    case O_SCALE:
        return parse_num(arg, "--time-scale", 1e-3, 1e6, &o->time_scale);
    case O_MAXMON:
        if (parse_num(arg, "--max-monitors", 1, QMPK_ENGINE_MAX_MONITORS, &v) < 0)
            return -1;
        o->cfg.max_monitors = (uint32_t)v;
        return 0;
    case O_OUT:
        if (parse_num(arg, "--out-bytes", 1024, 1 << 30, &v) < 0)
            return -1;
        o->cfg.out_bytes = (uint32_t)v;
        return 0;
    case O_REPLY:
        if (parse_num(arg, "--reply-bytes", QMPK_ENGINE_MIN_REPLY_BYTES, 1 << 30, &v) < 0)
            return -1;
        o->cfg.reply_bytes = (uint32_t)v;
        return 0;
    case O_MSG:
        if (parse_num(arg, "--msg-bytes", QMPK_ENGINE_MIN_MSG_BYTES, 1 << 30, &v) < 0)
            return -1;
        o->cfg.msg_bytes = (uint32_t)v;
        return 0;
    case O_TOKENS:
        if (parse_num(arg, "--msg-tokens", QMPK_ENGINE_MIN_MSG_TOKENS, 1 << 26, &v) < 0)
            return -1;
        o->cfg.msg_tokens = (uint32_t)v;
        return 0;
    case O_PACKAGE: o->cfg.package = arg; return 0;
    case 't': o->trace = arg; return 0;
    case O_REPLAY: o->replay = arg; return 0;
    case 'q': o->quiet = true; return 0;
    default: return -1;
    }
}

static int parse_args(int argc, char **argv, refd_opts_t *o)
{
    static const struct option lo[] = {
        {"socket", 1, 0, 's'}, {"socket-mode", 1, 0, O_MODE}, {"tcp", 1, 0, O_TCP},
        {"stdio", 0, 0, O_STDIO}, {"profile", 1, 0, 'p'}, {"clock", 1, 0, O_CLOCK},
        {"clock-start", 1, 0, O_CLOCK_START}, {"time-scale", 1, 0, O_SCALE},
        {"max-monitors", 1, 0, O_MAXMON}, {"out-bytes", 1, 0, O_OUT},
        {"reply-bytes", 1, 0, O_REPLY},
        {"msg-bytes", 1, 0, O_MSG}, {"msg-tokens", 1, 0, O_TOKENS}, {"package", 1, 0, O_PACKAGE},
        {"trace", 1, 0, 't'}, {"replay", 1, 0, O_REPLAY}, {"quiet", 0, 0, 'q'},
        {"help", 0, 0, 'h'}, {0, 0, 0, 0},
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "s:p:t:qh", lo, NULL)) != -1) {
        if (ch == 'h') {
            usage(stdout);
            exit(0);
        }
        if (ch == '?' || set_opt(o, ch, optarg) < 0)
            return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "qmp-refd: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    uint32_t reply = o->cfg.reply_bytes ? o->cfg.reply_bytes
                                        : QMPK_ENGINE_DEFAULT_REPLY_BYTES;
    if (o->cfg.out_bytes && o->cfg.out_bytes < reply) {
        if (o->cfg.reply_bytes) {
            fprintf(stderr, "qmp-refd: --out-bytes (%u) must be at least "
                    "--reply-bytes (%u)\n", o->cfg.out_bytes, reply);
            return -1;
        }
        o->cfg.reply_bytes = o->cfg.out_bytes;
    }
    if (!o->replay && o->nsockets + o->ntcps == 0 && !o->use_stdio) {
        fprintf(stderr, "qmp-refd: nothing to serve: give --socket PATH, "
                "--tcp HOST:PORT or --stdio\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    refd_opts_t o;
    memset(&o, 0, sizeof(o));
    qmpk_engine_config_default(&o.cfg);
    o.cfg.max_monitors = 64;
    o.socket_mode = 0600;
    o.time_scale = 1.0;
    if (parse_args(argc, argv, &o) < 0) {
        fprintf(stderr, "Try 'qmp-refd --help' for the options.\n");
        return 2;
    }
    if (o.replay)
        return refd_replay(o.replay, o.quiet);
    server_t s;
    int rc = 2;
    if (server_start(&s, &o) == 0)
        rc = server_run(&s);
    server_free(&s);
    return rc;
}
