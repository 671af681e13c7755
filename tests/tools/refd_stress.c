/*
 * Stress tests that run the real qmp-refd binary:
 *   refd_stress QMP_REFD churn    1000 monitors (or what RLIMIT_NOFILE
 *                                 allows) connect, negotiate, run a command
 *                                 and disconnect, five rounds; the server's
 *                                 fd count returns to its baseline and its
 *                                 memory stays flat; one monitor beyond the
 *                                 limit is refused without harming others
 *   refd_stress QMP_REFD held     input the server had to hold back (the
 *                                 monitor's output was not yet flushed) is
 *                                 taken once the output drains, with no
 *                                 further event on any socket; several
 *                                 commands in one write are all answered
 *   refd_stress QMP_REFD hostile  0xFF floods, a 64 MiB message, garbage, a
 *                                 disconnect mid-message and a client that
 *                                 never reads, while a good monitor keeps
 *                                 getting prompt replies
 * Exit 0 pass, 1 fail (with the reason), 77 skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char g_dir[64], g_sock[100];
static pid_t g_pid;

__attribute__((format(printf, 1, 2), noreturn))
static void fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (g_pid > 0)
        kill(g_pid, SIGKILL);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int try_connect(void)
{
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", g_sock);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void start_refd(const char *bin, const char *const *extra)
{
    snprintf(g_dir, sizeof(g_dir), "/tmp/refd-stress.XXXXXX");
    if (!mkdtemp(g_dir))
        fail("mkdtemp: %s", strerror(errno));
    snprintf(g_sock, sizeof(g_sock), "%s/qmp.sock", g_dir);
    const char *argv[32] = {bin, "--socket", g_sock, "--quiet"};
    int n = 4;
    while (extra && *extra && n < 30)
        argv[n++] = *extra++;
    argv[n] = NULL;
    g_pid = fork();
    if (g_pid == 0) {
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    for (int i = 0; i < 3000; i++) {   /* 30 s: sanitizers on a busy machine */
        int st, fd = try_connect();
        if (fd >= 0) {
            close(fd);
            return;
        }
        if (waitpid(g_pid, &st, WNOHANG) == g_pid) {
            g_pid = 0;
            fail("qmp-refd exited (status %d) instead of listening", st);
        }
        sleep_ms(10);
    }
    fail("qmp-refd did not start listening on %s", g_sock);
}

static int stop_refd(void)
{
    int st = 0;
    kill(g_pid, SIGTERM);
    for (int i = 0; i < 500 && waitpid(g_pid, &st, WNOHANG) == 0; i++)
        sleep_ms(10);
    if (waitpid(g_pid, &st, WNOHANG) == 0) {
        kill(g_pid, SIGKILL);
        waitpid(g_pid, &st, 0);
        fail("qmp-refd did not exit within 5 s of SIGTERM");
    }
    g_pid = 0;
    struct stat sb;
    if (stat(g_sock, &sb) == 0)
        fail("the socket file %s is still there after exit", g_sock);
    rmdir(g_dir);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Read what the server sends until it ends a line (one or more messages,
 * whole: the server writes each message in one piece); -1 on EOF/timeout. */
static int read_line(int fd, char *buf, size_t cap, double timeout)
{
    size_t n = 0;
    double until = now_s() + timeout;
    while (n + 1 < cap) {
        struct pollfd p = {fd, POLLIN, 0};
        int ms = (int)((until - now_s()) * 1000);
        if (ms <= 0 || poll(&p, 1, ms) <= 0)
            return -1;
        ssize_t r = read(fd, buf + n, cap - 1 - n);
        if (r <= 0)
            return -1;
        n += (size_t)r;
        if (buf[n - 1] == '\n')
            break;
    }
    buf[n] = '\0';
    return (int)n;
}

static void send_str(int fd, const char *s)
{
    size_t n = strlen(s);
    if (write(fd, s, n) != (ssize_t)n)
        fail("write to the server: %s", strerror(errno));
}

/* Send a command and wait for a reply line (skipping events). */
static void roundtrip(int fd, const char *cmd, double timeout, const char *who)
{
    char line[4096];
    send_str(fd, cmd);
    for (;;) {
        if (read_line(fd, line, sizeof(line), timeout) < 0)
            fail("%s: no reply to %s within %.1f s", who, cmd, timeout);
        if (strstr(line, "\"return\"") || strstr(line, "\"error\""))
            return;
    }
}

static long count_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    long n = 0;
    if (!d)
        return -1;
    while (readdir(d))
        n++;
    closedir(d);
    return n - 2;
}

static long rss_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

static int raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 256;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    getrlimit(RLIMIT_NOFILE, &rl);
    return rl.rlim_cur > 100000 ? 100000 : (int)rl.rlim_cur;
}

static void churn_round(int n, int *fds, int round)
{
    char line[4096], who[64];
    for (int i = 0; i < n; i++) {
        fds[i] = try_connect();
        if (fds[i] < 0)
            fail("round %d: connection %d refused: %s", round, i, strerror(errno));
    }
    for (int i = 0; i < n; i++) {
        snprintf(who, sizeof(who), "round %d monitor %d", round, i);
        if (read_line(fds[i], line, sizeof(line), 10) < 0 || !strstr(line, "\"QMP\""))
            fail("%s: no greeting", who);
        send_str(fds[i], "{\"execute\": \"qmp_capabilities\"}\n");
    }
    for (int i = 0; i < n; i++) {
        snprintf(who, sizeof(who), "round %d monitor %d", round, i);
        if (read_line(fds[i], line, sizeof(line), 10) < 0 || !strstr(line, "return"))
            fail("%s: negotiation failed: %s", who, line);
        roundtrip(fds[i], "{\"execute\": \"query-status\", \"id\": 7}\n", 10, who);
    }
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

static int test_churn(const char *bin)
{
    int lim = raise_nofile();
    int n = lim - 64 < 1000 ? lim - 64 : 1000;
    if (n < 100) {
        fprintf(stderr, "SKIP: RLIMIT_NOFILE allows only %d descriptors\n", lim);
        return 77;
    }
    char maxmon[16];
    snprintf(maxmon, sizeof(maxmon), "%d", n);
    const char *extra[] = {"--max-monitors", maxmon, "--out-bytes", "65536",
                           "--msg-bytes", "4096", NULL};
    start_refd(bin, extra);
    int *fds = calloc((size_t)n + 1, sizeof(int));
    if (!fds)
        fail("out of memory");
    sleep_ms(100);
    long fd0 = count_fds(g_pid), rss1 = 0;
    double t0 = now_s();
    for (int round = 1; round <= 5; round++) {
        churn_round(n, fds, round);
        sleep_ms(200);   /* let the server see every close */
        long fdn = count_fds(g_pid), rss = rss_kb(g_pid);
        printf("round %d: %d monitors, server fds %ld (baseline %ld), RSS %ld kB\n",
               round, n, fdn, fd0, rss);
        if (fdn != fd0)
            fail("round %d: the server holds %ld fds, %ld before", round, fdn, fd0);
        if (round == 2)
            rss1 = rss;
        if (round == 5 && rss > rss1 + 4096)
            fail("server memory grew from %ld kB to %ld kB over 3 rounds", rss1, rss);
    }
    printf("5 rounds of %d monitors in %.2f s\n", n, now_s() - t0);
    /* one beyond the limit: refused, the others unaffected */
    char line[4096];
    for (int i = 0; i < n; i++)
        if ((fds[i] = try_connect()) < 0 || read_line(fds[i], line, sizeof(line), 10) < 0)
            fail("connection %d of %d got no greeting", i, n);
    int extra_fd = try_connect();
    if (extra_fd >= 0 && read_line(extra_fd, line, sizeof(line), 5) >= 0)
        fail("connection %d beyond --max-monitors %d was greeted: %s", n + 1, n, line);
    send_str(fds[0], "{\"execute\": \"qmp_capabilities\"}\n");
    roundtrip(fds[0], "{\"execute\": \"query-status\"}\n", 5, "monitor 0 at the limit");
    if (extra_fd >= 0)
        close(extra_fd);
    for (int i = 0; i < n; i++)
        close(fds[i]);
    free(fds);
    int rc = stop_refd();
    if (rc != 0)
        fail("qmp-refd exited with %d after SIGTERM", rc);
    return 0;
}

/* One monitor whose output buffer is exactly one reply (--out-bytes below
 * the default reply size makes reply_bytes = out_bytes): after each reply
 * the rest of the client's write must wait in the server until the reply
 * is written.  Nothing else happens on any socket, so a server that forgets
 * the held bytes never answers. */
static int test_held(const char *bin)
{
    const char *extra[] = {"--out-bytes", "65536", NULL};
    char line[4096];
    start_refd(bin, extra);
    int fd = try_connect();
    if (fd < 0 || read_line(fd, line, sizeof(line), 5) < 0 || !strstr(line, "\"QMP\""))
        fail("no greeting");
    /* the newline after the message is held while the reply is queued */
    send_str(fd, "{\"execute\": \"qmp_capabilities\"}\n");
    if (read_line(fd, line, sizeof(line), 5) < 0 || !strstr(line, "return"))
        fail("negotiation failed");
    roundtrip(fd, "{\"execute\": \"query-status\", \"id\": 1}\n", 5,
              "command after a held newline");
    /* three commands in one write: two of them wait for a flush each */
    send_str(fd, "{\"execute\": \"query-name\", \"id\": 2}\n"
                 "{\"execute\": \"query-version\", \"id\": 3}\n"
                 "{\"execute\": \"query-status\", \"id\": 4}\n");
    char all[16384] = "";
    size_t used = 0;
    while (!strstr(all, "\"id\": 4")) {
        int r = read_line(fd, all + used, sizeof(all) - used, 5);
        if (r < 0)
            fail("three commands in one write: got only %s", all);
        used += (size_t)r;
    }
    if (!strstr(all, "\"id\": 2") || !strstr(all, "\"id\": 3"))
        fail("three commands in one write: replies missing in %s", all);
    close(fd);
    int rc = stop_refd();
    if (rc != 0)
        fail("qmp-refd exited with %d after SIGTERM", rc);
    printf("held input is taken after each flush\n");
    return 0;
}

/* Write as much of data as the socket takes now; returns bytes written. */
static size_t push(int fd, const char *data, size_t n)
{
    ssize_t w = send(fd, data, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    return w > 0 ? (size_t)w : 0;
}

/* Events cannot wait: once the non-reader's buffer is full they are lost
 * for it, and the server disconnects it rather than let it miss them. */
static void expect_nonreader_dropped(int good, int stall)
{
    long fds = count_fds(g_pid);
    int events = 0;
    /* until the server has closed one connection: the non-reader's */
    while (count_fds(g_pid) >= fds && events < 40000) {
        for (int i = 0; i < 200; i++, events++)
            roundtrip(good, i % 2 ? "{\"execute\": \"cont\"}\n" : "{\"execute\": \"stop\"}\n",
                      2, "good monitor raising events");
    }
    bool gone = false;
    double until = now_s() + 10;
    while (!gone && now_s() < until) {
        char sink[65536];
        struct pollfd p = {stall, POLLIN, 0};
        ssize_t r = poll(&p, 1, 1000) > 0 ? read(stall, sink, sizeof(sink)) : 1;
        gone = r == 0 || (r < 0 && errno == ECONNRESET);
    }
    if (!gone)
        fail("a monitor that never read and lost events was not disconnected");
    printf("the monitor that never read was disconnected once events for it were "
           "lost (after %d events)\n", events);
}

static int test_hostile(const char *bin)
{
    const char *extra[] = {"--max-monitors", "16", NULL};
    start_refd(bin, extra);
    int good = try_connect(), ff = try_connect(), big = try_connect();
    int junk = try_connect(), stall = try_connect(), half = try_connect();
    char line[4096];
    if (good < 0 || ff < 0 || big < 0 || junk < 0 || stall < 0 || half < 0)
        fail("cannot connect six monitors");
    read_line(good, line, sizeof(line), 5);
    roundtrip(good, "{\"execute\": \"qmp_capabilities\"}\n", 5, "good");
    send_str(stall, "{\"execute\": \"qmp_capabilities\"}\n");
    send_str(half, "{\"execute\": \"query-sta");
    close(half);                               /* gone mid-message */
    size_t bigsz = 64u << 20, bigoff = 0, stalled = 0;
    char *bigmsg = malloc(bigsz);
    char *ffs = malloc(65536), *garbage = malloc(65536);
    if (!bigmsg || !ffs || !garbage)
        fail("out of memory");
    memset(bigmsg, 'a', bigsz);
    memcpy(bigmsg, "{\"execute\": \"x\", \"arguments\": {\"a\": \"", 37);
    memcpy(bigmsg + bigsz - 4, "\"}}\n", 4);
    memset(ffs, 0xff, 65536);
    srand(1);
    for (int i = 0; i < 65536; i++)
        garbage[i] = (char)(rand() & 0xff);
    const char *cmd = "{\"execute\": \"query-status\"}\n";
    double worst = 0, t_end = now_s() + 4;
    int trips = 0;
    while (now_s() < t_end || bigoff < bigsz) {
        push(ff, ffs, 65536);
        push(junk, garbage, 65536);
        if (bigoff < bigsz)
            bigoff += push(big, bigmsg + bigoff, bigsz - bigoff);
        stalled += push(stall, cmd, strlen(cmd)) ? 1 : 0;
        double t = now_s();
        roundtrip(good, cmd, 2, "good monitor beside hostile ones");
        if (now_s() - t > worst)
            worst = now_s() - t;
        trips++;
        if (now_s() > t_end + 60)
            fail("could not deliver the 64 MiB message within 60 s (%zu sent)", bigoff);
    }
    printf("good monitor: %d round trips, slowest %.1f ms, beside a 0xFF flood, "
           "garbage, a 64 MiB message and a client that sent %zu commands "
           "without reading\n", trips, worst * 1000, stalled);
    if (worst > 1.0)
        fail("a round trip took %.2f s", worst);
    expect_nonreader_dropped(good, stall);
    close(ff);
    close(big);
    close(junk);
    close(stall);
    roundtrip(good, cmd, 2, "good monitor after the others left");
    free(bigmsg);
    free(ffs);
    free(garbage);
    send_str(good, "{\"execute\": \"quit\"}\n");
    for (int i = 0; i < 10 && read_line(good, line, sizeof(line), 5) >= 0; i++)
        ;
    close(good);
    int st = 0;
    for (int i = 0; i < 500 && waitpid(g_pid, &st, WNOHANG) == 0; i++)
        sleep_ms(10);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
        fail("qmp-refd did not exit 0 after quit");
    g_pid = 0;
    struct stat sb;
    if (stat(g_sock, &sb) == 0)
        fail("socket file left behind after quit");
    rmdir(g_dir);
    return 0;
}

/* A client that writes commands and does not read: its replies fill its
 * output bound, then the server stops reading it (it is suspended, not
 * dropped: no event was lost), other monitors are served meanwhile, and
 * once it reads, every reply arrives in order and it is served again. */
static int test_stalled(const char *bin)
{
    const char *extra[] = {"--out-bytes", "1048576", NULL};
    char line[4096];
    start_refd(bin, extra);
    int good = try_connect(), slow = try_connect();
    if (good < 0 || slow < 0)
        fail("cannot connect two monitors");
    read_line(good, line, sizeof(line), 5);
    read_line(slow, line, sizeof(line), 5);
    roundtrip(good, "{\"execute\": \"qmp_capabilities\"}\n", 5, "good");
    roundtrip(slow, "{\"execute\": \"qmp_capabilities\"}\n", 5, "slow");
    char cmd[128];
    size_t off = 0, len = 0;
    long sent = 0;
    double idle_since = now_s(), worst = 0;
    /* write until the server has taken nothing for a second */
    while (now_s() - idle_since < 1.0) {
        if (off == len) {
            len = (size_t)snprintf(cmd, sizeof(cmd),
                                   "{\"execute\": \"query-version\", \"id\": %ld}\n", sent + 1);
            off = 0;
        }
        size_t w = push(slow, cmd + off, len - off);
        if (w > 0) {
            idle_since = now_s();
            off += w;
            if (off == len)
                sent++;
            continue;
        }
        double t = now_s();
        roundtrip(good, "{\"execute\": \"query-status\"}\n", 2, "good beside a stalled reader");
        if (now_s() - t > worst)
            worst = now_s() - t;
        if (now_s() - idle_since > 0.9 && sent < 1000)
            fail("the server stopped reading after only %ld commands", sent);
        if (sent > 2000000)
            fail("the server never stopped reading a client that does not read");
    }
    printf("stalled reader: the server stopped reading it after %ld commands; the other "
           "monitor's slowest round trip meanwhile %.1f ms\n", sent, worst * 1000);
    if (worst > 1.0)
        fail("a round trip beside the stalled reader took %.2f s", worst);
    /* it drains: every reply, in order, none lost, and its input is read again */
    long next = 1;
    size_t fill = 0;
    static char buf[1 << 16];
    while (next <= sent) {
        struct pollfd p = {slow, POLLIN, 0};
        if (off < len) {
            off += push(slow, cmd + off, len - off);
            if (off == len)
                sent++;
        }
        if (poll(&p, 1, 5000) <= 0)
            fail("the stalled reader got %ld of %ld replies, then nothing", next - 1, sent);
        ssize_t r = read(slow, buf + fill, sizeof(buf) - fill - 1);
        if (r <= 0)
            fail("the stalled reader was disconnected after %ld of %ld replies", next - 1, sent);
        fill += (size_t)r;
        buf[fill] = '\0';
        char *p0 = buf, *nl;
        while ((nl = strstr(p0, "\r\n")) != NULL) {
            char want[64];
            snprintf(want, sizeof(want), "\"id\": %ld}", next);
            *nl = '\0';
            if (!strstr(p0, want))
                fail("reply %ld out of order or missing: %.200s", next, p0);
            next++;
            p0 = nl + 2;
        }
        fill = (size_t)(buf + fill - p0);
        memmove(buf, p0, fill);
    }
    roundtrip(slow, "{\"execute\": \"query-status\", \"id\": \"after\"}\n", 5,
              "the stalled reader after draining");
    printf("after draining it received all %ld replies in order and is served again\n", sent);
    close(slow);
    close(good);
    int rc = stop_refd();
    if (rc != 0)
        fail("qmp-refd exited with %d after SIGTERM", rc);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    if (argc != 3) {
        fprintf(stderr, "usage: refd_stress QMP_REFD churn|held|hostile|stalled\n");
        return 2;
    }
    if (strcmp(argv[2], "churn") == 0)
        return test_churn(argv[1]);
    if (strcmp(argv[2], "held") == 0)
        return test_held(argv[1]);
    if (strcmp(argv[2], "stalled") == 0)
        return test_stalled(argv[1]);
    if (strcmp(argv[2], "hostile") == 0)
        return test_hostile(argv[1]);
    fprintf(stderr, "unknown test '%s'\n", argv[2]);
    return 2;
}
