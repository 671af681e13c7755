/*
 * human-monitor-command and qom-set on the machine the engine simulates
 * (qemu-system-x86_64 -machine none: no CPUs, no devices, no -name).
 *
 * HMP: QEMU 7.2's monitor/hmp.c parser (command name up to a space or
 * '/', "info" looks its second word up in a sub-table), its texts for
 * unknown commands and extra arguments, and the commands whose answer the
 * engine knows.  Other commands that QEMU has are refused with a
 * GenericError naming them: the engine never pretends to run them.
 *
 * qom-set: qom/qom-qmp-cmds.c and qom/object.c path resolution over the
 * part of the composition tree the engine knows, with QEMU's errors.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Longest command-line the engine parses (QEMU's HMP has none, but every
 * answer the engine gives fits well below this). */
#define ENG_HMP_LINE_MAX 4096
#define HMP_NAME_MAX 256        /* QEMU's cmdname[256] */
/* Path components looked at: the modelled tree is 3 deep, so a path that
 * still resolves after 8 went below an object the engine does not model. */
#define QOM_DEPTH_MAX 8

/* ------------------------------------------------------------------ */
/* HMP                                                                  */

/* QEMU 7.2's top-level commands (`help`), aliases after '|' */
static const char *const hmp_names[] = {
    "announce_self", "balloon", "block_job_cancel", "block_job_complete", "block_job_pause",
    "block_job_resume", "block_job_set_speed", "block_resize", "block_set_io_throttle",
    "block_stream", "boot_set", "calc_dirty_rate", "cancel_vcpu_dirty_limit", "change",
    "chardev-add", "chardev-change", "chardev-remove", "chardev-send-break",
    "client_migrate_info", "closefd", "commit", "cont|c", "cpu", "delvm", "device_add",
    "device_del", "drive_add", "drive_backup", "drive_del", "drive_mirror",
    "dump-guest-memory", "dumpdtb", "eject", "exit_preconfig", "expire_password", "gdbserver",
    "getfd", "gpa2hpa", "gpa2hva", "gva2gpa", "help|?", "hostfwd_add", "hostfwd_remove", "i",
    "info", "loadvm", "log", "logfile", "mce", "memsave", "migrate", "migrate_cancel",
    "migrate_continue", "migrate_incoming", "migrate_pause", "migrate_recover",
    "migrate_set_capability", "migrate_set_parameter", "migrate_start_postcopy",
    "mouse_button", "mouse_move", "mouse_set", "nbd_server_add", "nbd_server_remove",
    "nbd_server_start", "nbd_server_stop", "netdev_add", "netdev_del", "nmi", "o",
    "object_add", "object_del", "pcie_aer_inject_error", "pmemsave", "print|p", "qemu-io",
    "qom-get", "qom-list", "qom-set", "quit|q", "replay_break", "replay_delete_break",
    "replay_seek", "ringbuf_read", "ringbuf_write", "savevm", "screendump", "sendkey",
    "set_link", "set_password", "set_vcpu_dirty_limit", "singlestep", "snapshot_blkdev",
    "snapshot_blkdev_internal", "snapshot_delete_blkdev_internal", "stopcapture", "stop|s",
    "sum", "sync-profile", "system_powerdown", "system_reset", "system_wakeup", "trace-event",
    "watchdog_action", "wavcapture", "x", "x_colo_lost_heartbeat", "xp", NULL,
};

/* QEMU 7.2's `info` sub-commands (`help info`) */
static const char *const hmp_info_names[] = {
    "balloon", "block", "block-jobs", "blockstats", "capture", "chardev", "cpus", "dirty_rate",
    "dump", "history", "hotpluggable-cpus", "iothreads", "irq", "jit", "kvm", "lapic", "mem",
    "memdev", "memory-devices", "memory_size_summary", "mice", "migrate",
    "migrate_capabilities", "migrate_parameters", "mtree", "name", "network", "numa",
    "opcount", "pci", "pic", "profile", "qdm", "qom-tree", "qtree", "ramblock", "rdma",
    "registers", "replay", "rocker", "rocker-of-dpa-flows", "rocker-of-dpa-groups",
    "rocker-ports", "roms", "sev", "sgx", "snapshots", "spice", "stats", "status",
    "sync-profile", "tlb", "tpm", "trace-events", "usb", "usbhost", "usernet", "uuid",
    "vcpu_dirty_limit", "version", "virtio", "virtio-queue-element", "virtio-queue-status",
    "virtio-status", "virtio-vhost-queue-status", "vm-generation-id", "vnc", NULL,
};

/* HMP's output: text with "\n" turned into "\r\n" as the monitor does. */
typedef struct hmp_out {
    char buf[ENG_HMP_LINE_MAX * 2 + 256];
    size_t len;
    bool quit;                  /* quit once the reply is out */
} hmp_out_t;

static void hmp_printf(hmp_out_t *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void hmp_printf(hmp_out_t *o, const char *fmt, ...)
{
    char tmp[ENG_HMP_LINE_MAX + 256];
    va_list ap;

    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    for (size_t i = 0; i < (size_t)n && i < sizeof tmp - 1 && o->len + 2 < sizeof o->buf; i++) {
        if (tmp[i] == '\n')
            o->buf[o->len++] = '\r';
        o->buf[o->len++] = tmp[i];
    }
}

static bool hmp_isspace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* compare_cmd(): name against "a|b" */
static bool hmp_name_matches(const char *entry, const char *name, size_t n)
{
    for (const char *p = entry;;) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0)
            return true;
        if (!bar)
            return false;
        p = bar + 1;
    }
}

static const char *hmp_lookup(const char *const *table, const char *name, size_t n)
{
    for (int i = 0; table[i]; i++) {
        if (hmp_name_matches(table[i], name, n))
            return table[i];
    }
    return NULL;
}

typedef struct hmp_parse {
    const char *line;           /* the whole command line */
    const char *p;              /* after the command (and following spaces) */
    const char *entry;          /* table entry ("stop|s"), NULL: unknown / empty */
    bool info;                  /* entry is an info sub-command */
} hmp_parse_t;

/* get_command_name(): skip spaces, a name ends at a space or '/'.
 * NULL at the end of the line. */
static const char *hmp_word(const char *p, const char **start, size_t *n)
{
    while (hmp_isspace(*p))
        p++;
    if (*p == '\0')
        return NULL;
    *start = p;
    while (*p != '\0' && *p != '/' && !hmp_isspace(*p))
        p++;
    *n = (size_t)(p - *start);
    if (*n > HMP_NAME_MAX - 1)
        *n = HMP_NAME_MAX - 1;  /* QEMU truncates the name it looks up */
    return p;
}

/* monitor_parse_command(): false with the reply text in o when nothing runs */
static bool hmp_parse(hmp_parse_t *ps, hmp_out_t *o)
{
    const char *start, *p;
    size_t n;

    ps->entry = NULL;
    ps->info = false;
    p = hmp_word(ps->line, &start, &n);
    if (!p)
        return false;   /* an empty line does nothing */
    ps->entry = hmp_lookup(hmp_names, start, n);
    for (;;) {
        if (!ps->entry) {
            hmp_printf(o, "unknown command: '%.*s'\n", (int)(p - ps->line), ps->line);
            return false;
        }
        while (hmp_isspace(*p))
            p++;
        ps->p = p;
        if (strcmp(ps->entry, "info") != 0 || ps->info || *p == '\0')
            return true;
        p = hmp_word(p, &start, &n);
        ps->entry = hmp_lookup(hmp_info_names, start, n);
        ps->info = true;
    }
}

/* Nothing may follow `at` (the end of the arguments): QEMU's text
 * otherwise, whose "help" part ends with the command name. */
static bool hmp_end_of_line(const hmp_parse_t *ps, const char *at, hmp_out_t *o)
{
    const char *end = ps->p;

    if (*at == '\0')
        return true;
    while (end > ps->line && hmp_isspace(end[-1]))
        end--;
    hmp_printf(o, "%s: extraneous characters at the end of line\n", ps->entry);
    hmp_printf(o, "Try \"help %.*s\" for more information\n", (int)(end - ps->line), ps->line);
    return false;
}

static void hmp_event(qmpk_engine_t *e, const char *name)
{
    qmpk_writer_t w;

    eng_event_begin(e, &w, name, false);
    eng_event_end(e, &w, false);
}

/* The job with the largest seq below `below`: query-block-jobs' order,
 * newest first. */
static const struct qmpk_eng_job *job_next_newest(const qmpk_engine_t *e, uint32_t below)
{
    const struct qmpk_eng_job *best = NULL;

    for (uint32_t i = 0; i < e->cfg.max_jobs; i++) {
        const struct qmpk_eng_job *j = &e->jobs[i];
        if (j->used && j->seq < below && (!best || j->seq > best->seq))
            best = j;
    }
    return best;
}

/* hmp_info_block_jobs(): stream has its own wording */
static void hmp_info_block_jobs(const qmpk_engine_t *e, hmp_out_t *o)
{
    const struct qmpk_eng_job *j = job_next_newest(e, UINT32_MAX);
    bool any = false;

    for (; j; j = job_next_newest(e, j->seq)) {
        if (j->type == JT_CREATE)       /* not a block job */
            continue;
        any = true;
        if (j->type == JT_STREAM)
            hmp_printf(o, "Streaming device %s: ", j->id);
        else
            hmp_printf(o, "Type %s, device %s: ", eng_job_type_name[j->type], j->id);
        hmp_printf(o, "Completed %llu of %llu bytes, speed limit %lld bytes/s\n",
                   (unsigned long long)j->offset, (unsigned long long)j->len, (long long)j->speed);
    }
    if (!any)
        hmp_printf(o, "No active jobs\n");
}

/* HMP quit is QMP quit: SHUTDOWN first, then the (empty) reply */
static void hmp_quit(qmpk_engine_t *e, hmp_out_t *o)
{
    eng_event_shutdown(e, "host-qmp-quit");
    o->quit = true;
}

/* print_block_info() of a node without BlockBackend, not verbose */
static void hmp_block_node(const qmpk_engine_t *e, const struct qmpk_eng_node *n, hmp_out_t *o)
{
    char fname[ENG_NODE_FILENAME_MAX];

    eng_node_filename(e, n, fname, sizeof fname);
    hmp_printf(o, "%s: %s (%s%s)\n", n->name, fname, eng_node_driver_name(n->driver),
               n->read_only ? ", read-only" : "");
    hmp_printf(o, "    Cache mode:       writeback\n");
    if (n->detect_zeroes != 0)
        hmp_printf(o, "    Detect zeroes:    %s\n", eng_detect_zeroes_name[n->detect_zeroes]);
}

/* info block [-n] [device]: there is no BlockBackend, so only the node
 * part prints, when -n or a device is given (-v is not simulated). */
static bool hmp_info_block(const qmpk_engine_t *e, const hmp_parse_t *ps, hmp_out_t *o)
{
    const char *p = ps->p, *dev = NULL;
    size_t dn = 0;
    bool nodes = false;

    if (p[0] == '-' && p[1] == 'n' && (p[2] == '\0' || hmp_isspace(p[2]))) {
        nodes = true;
        for (p += 2; hmp_isspace(*p); p++)
            ;
    }
    if (*p == '-' || *p == '"')
        return false;   /* -v, other options, quoted names */
    if (*p) {
        dev = p;
        while (*p && !hmp_isspace(*p))
            p++;
        dn = (size_t)(p - dev);
        while (hmp_isspace(*p))
            p++;
    }
    if (!hmp_end_of_line(ps, p, o) || (!nodes && !dev))
        return true;
    int first = eng_node_next_newest(e, UINT32_MAX);
    for (int i = first; i >= 0; i = eng_node_next_newest(e, e->nodes[i].seq)) {
        const struct qmpk_eng_node *n = &e->nodes[i];
        if (dev && (strlen(n->name) != dn || memcmp(n->name, dev, dn) != 0))
            continue;
        if (i != first)
            hmp_printf(o, "\n");
        hmp_block_node(e, n, o);
    }
    return true;
}

/* Run a parsed command the engine knows; false: not simulated. */
static bool hmp_run(eng_req_t *r, const hmp_parse_t *ps, hmp_out_t *o)
{
    qmpk_engine_t *e = r->e;
    const char *c = ps->entry;

    if (ps->info && strcmp(c, "block") == 0)
        return hmp_info_block(e, ps, o);
    bool known = ps->info ? (strcmp(c, "version") == 0 || strcmp(c, "status") == 0 ||
                             strcmp(c, "name") == 0 || strcmp(c, "uuid") == 0 ||
                             strcmp(c, "block-jobs") == 0)
                          : (strcmp(c, "stop|s") == 0 || strcmp(c, "cont|c") == 0 ||
                             strcmp(c, "quit|q") == 0);
    if (!known)
        return false;
    if (!hmp_end_of_line(ps, ps->p, o))
        return true;
    if (!ps->info && strcmp(c, "quit|q") == 0) {
        hmp_quit(e, o);
    } else if (!ps->info) {
        bool run = strcmp(c, "cont|c") == 0;
        if (e->vm_running != run) {
            e->vm_running = run;
            hmp_event(e, run ? "RESUME" : "STOP");
        }
    } else if (strcmp(c, "version") == 0) {
        hmp_printf(o, "%u.%u.%u%s\n", (unsigned)e->cfg.version_major,
                   (unsigned)e->cfg.version_minor, (unsigned)e->cfg.version_micro, e->package);
    } else if (strcmp(c, "status") == 0) {
        hmp_printf(o, "VM status: %s\n", e->vm_running ? "running" : "paused");
    } else if (strcmp(c, "uuid") == 0) {
        hmp_printf(o, "00000000-0000-0000-0000-000000000000\n");
    } else if (strcmp(c, "block-jobs") == 0) {
        hmp_info_block_jobs(e, o);
    }
    /* info name: no -name, nothing printed */
    return true;
}

static const arg_def_t args_hmp[] = {
    { "command-line", AT_STR, true, NULL, NULL },
    { "cpu-index", AT_INT, false, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};

void eng_cmd_human_monitor_command(eng_req_t *r)
{
    char line[ENG_HMP_LINE_MAX + 1];
    hmp_out_t o;
    hmp_parse_t ps;
    arg_vals_t v;
    size_t n;

    if (!eng_args(r, args_hmp, &v))
        return;
    if (v.tok[1] >= 0) {
        /* monitor_set_cpu() on a machine without CPUs */
        eng_reply_error(r, "GenericError", "Parameter 'cpu-index' expects a CPU number");
        return;
    }
    if (qmpk_str(r->msg, v.tok[0], line, sizeof line, &n) != QMPK_E_OK || n > ENG_HMP_LINE_MAX) {
        eng_reply_errorf(r, "GenericError", "command-line is longer than the engine's %u bytes",
                         (unsigned)ENG_HMP_LINE_MAX);
        return;
    }
    line[n] = '\0';     /* QEMU reads a C string: an embedded NUL ends it */
    o.len = 0;
    o.quit = false;
    ps.line = line;
    if (hmp_parse(&ps, &o) && !hmp_run(r, &ps, &o)) {
        const char *end = ps.p;
        while (end > line && hmp_isspace(end[-1]))
            end--;
        char what[ENG_ERR_MAX / 2];
        snprintf(what, sizeof what, "%.*s", (int)(end - line), line);
        eng_reply_errorf(r, "GenericError", "HMP command '%s' is not simulated by the engine",
                         what);
        return;
    }
    qmpk_writer_t w;
    eng_reply_begin(r, &w);
    qmpk_w_str_n(&w, o.buf, o.len);
    eng_reply_end(r, &w);
    if (o.quit)
        r->e->quit = true;
}

/* ------------------------------------------------------------------ */
/* QOM                                                                  */

typedef enum qom_ptype {
    QP_TYPE,        /* "type": never writable */
    QP_CHILD,       /* child<>: never writable */
    QP_BOOL, QP_STR, QP_INT,
    QP_LINK,        /* link<>: a path, to an object of a type the engine has none of */
    QP_ENCRYPTION,  /* memory-encryption: names an object under /objects */
    QP_OTHER,       /* a struct-typed property: not simulated */
} qom_ptype_t;

typedef struct qom_prop {
    const char *name;
    qom_ptype_t type;
} qom_prop_t;

/* Objects of the tree the engine knows.  Properties as `qom-list` shows
 * them on qemu-system-x86_64 7.2 -machine none. */
enum { QO_ROOT, QO_MACHINE, QO_PERIPHERAL, QO_PERIPHERAL_ANON, QO_UNATTACHED, QO_CHARDEVS,
       QO_SYSBUS, QO_IO, QO_SYSTEM, QO_CHARDEV, QO__COUNT };

typedef struct qom_obj {
    const char *name;       /* child name in its parent */
    int parent;             /* -1: root */
    const char *type;
    const qom_prop_t *props;    /* NULL: object exists, its properties are not modelled */
} qom_obj_t;

static const qom_prop_t props_container[] = { { "type", QP_TYPE }, { NULL, QP_OTHER } };
static const qom_prop_t props_root[] = {
    { "type", QP_TYPE }, { "machine", QP_CHILD }, { "chardevs", QP_CHILD }, { NULL, QP_OTHER } };
static const qom_prop_t props_unattached[] = {
    { "type", QP_TYPE }, { "io[0]", QP_CHILD }, { "system[0]", QP_CHILD },
    { "sysbus", QP_CHILD }, { NULL, QP_OTHER } };
static const qom_prop_t props_machine[] = {
    { "type", QP_TYPE }, { "kernel", QP_STR }, { "dt-compatible", QP_STR },
    { "boot", QP_OTHER }, { "memory", QP_OTHER }, { "initrd", QP_STR },
    { "confidential-guest-support", QP_LINK }, { "graphics", QP_BOOL }, { "usb", QP_BOOL },
    { "firmware", QP_STR }, { "memory-encryption", QP_ENCRYPTION }, { "smp", QP_OTHER },
    { "dump-guest-core", QP_BOOL }, { "phandle-start", QP_INT }, { "dumpdtb", QP_STR },
    { "memory-backend", QP_LINK }, { "dtb", QP_STR }, { "mem-merge", QP_BOOL },
    { "append", QP_STR }, { "suppress-vmdesc", QP_BOOL }, { "peripheral-anon", QP_CHILD },
    { "peripheral", QP_CHILD }, { "unattached", QP_CHILD }, { NULL, QP_OTHER } };

static const qom_obj_t qom_tree[QO__COUNT] = {
    [QO_ROOT] = { "", -1, "container", props_root },
    [QO_MACHINE] = { "machine", QO_ROOT, "none-machine", props_machine },
    [QO_PERIPHERAL] = { "peripheral", QO_MACHINE, "container", props_container },
    [QO_PERIPHERAL_ANON] = { "peripheral-anon", QO_MACHINE, "container", props_container },
    [QO_UNATTACHED] = { "unattached", QO_MACHINE, "container", props_unattached },
    [QO_CHARDEVS] = { "chardevs", QO_ROOT, "container", props_container },
    [QO_SYSBUS] = { "sysbus", QO_UNATTACHED, "System", NULL },
    [QO_IO] = { "io[0]", QO_UNATTACHED, "memory-region", NULL },
    [QO_SYSTEM] = { "system[0]", QO_UNATTACHED, "memory-region", NULL },
    [QO_CHARDEV] = { NULL, QO_CHARDEVS, "chardev-socket", NULL },   /* one per monitor */
};

typedef struct qom_ref {
    int obj;                /* QO_*, -1: not found */
    const struct qmpk_eng_mon *mon;     /* QO_CHARDEV: whose */
    bool below_unmodelled;  /* the path goes on below an object the engine does not model */
} qom_ref_t;

/* Component s[0..n) names child obj of parent? */
static bool qom_child_is(const qmpk_engine_t *e, int parent, const char *s, size_t n,
                         qom_ref_t *out)
{
    for (int i = 0; i < QO__COUNT; i++) {
        const qom_obj_t *o = &qom_tree[i];
        if (o->parent != parent)
            continue;
        if (i == QO_CHARDEV) {
            for (uint32_t k = 0; k < e->cfg.max_monitors; k++) {
                const struct qmpk_eng_mon *m = &e->mons[k];
                if (m->used && !m->gone && strlen(m->label) == n && memcmp(m->label, s, n) == 0) {
                    out->obj = i;
                    out->mon = m;
                    return true;
                }
            }
            continue;
        }
        if (strlen(o->name) == n && memcmp(o->name, s, n) == 0) {
            out->obj = i;
            return true;
        }
    }
    return false;
}

/* Split a path into components, skipping empty ones ("//machine/"); at
 * most cap of them. */
static int qom_split(const char *path, const char *comp[], size_t len[], int cap)
{
    int k = 0;

    for (const char *p = path; *p;) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        if (k == cap)
            return k;
        comp[k] = s;
        len[k++] = (size_t)(p - s);
    }
    return k;
}

/* Follow components [from, k) down from object start. */
static bool qom_walk(const qmpk_engine_t *e, int start, const char *comp[], const size_t len[],
                     int from, int k, qom_ref_t *out)
{
    out->obj = start;
    out->mon = NULL;
    out->below_unmodelled = false;
    for (int i = from; i < k; i++) {
        if (!qom_tree[out->obj].props) {
            out->below_unmodelled = true;  /* children of this object are unknown */
            return true;
        }
        if (!qom_child_is(e, out->obj, comp[i], len[i], out))
            return false;
    }
    return true;
}

/* object_resolve_path(): absolute from the root; a partial path matches
 * wherever its components name a chain of children, and only if exactly
 * one object matches (otherwise "not found"). */
static qom_ref_t qom_resolve(const qmpk_engine_t *e, const char *path)
{
    const char *comp[QOM_DEPTH_MAX];
    size_t len[QOM_DEPTH_MAX];
    qom_ref_t ref = { -1, NULL, false }, t;
    int k = qom_split(path, comp, len, QOM_DEPTH_MAX);

    if (path[0] == '/') {
        if (!qom_walk(e, QO_ROOT, comp, len, 0, k, &t))
            return ref;
        return t;
    }
    if (k == 0)
        return ref;     /* "" names nothing */
    int matches = 0;
    for (int s = 0; s < QO__COUNT; s++) {
        /* the first component is a child of s: try each object as the parent */
        if (qom_walk(e, s, comp, len, 0, k, &t) && t.obj != s && !t.below_unmodelled) {
            ref = t;
            matches++;
        }
    }
    if (matches != 1)
        ref.obj = -1;
    return ref;
}

static const qom_prop_t *qom_prop(const qom_obj_t *o, const char *name)
{
    for (const qom_prop_t *p = o->props; p->name; p++) {
        if (strcmp(p->name, name) == 0)
            return p;
    }
    return NULL;
}

/* A link's target path: link properties here take only objects the engine
 * never has (memory backends, confidential-guest-support). */
static void qom_set_link(eng_req_t *r, const char *name, const char *target_type, int value)
{
    char path[ENG_ID_MAX * 2];

    if (qmpk_type(r->msg, value) != QMPK_T_STRING) {
        eng_reply_errorf(r, "GenericError", "Invalid parameter type for '%s', expected: string",
                         name);
        return;
    }
    eng_arg_str(r, value, path, sizeof path);
    if (path[0] == '\0') {
        eng_reply_empty(r);     /* "" clears the link */
        return;
    }
    qom_ref_t t = qom_resolve(r->e, path);
    if (t.obj < 0 || t.below_unmodelled) {
        if (t.below_unmodelled) {
            eng_reply_errorf(r, "GenericError", "QOM path '%s' is not simulated by the engine",
                             path);
            return;
        }
        eng_reply_errorf(r, "DeviceNotFound", "Device '%s' not found", path);
        return;
    }
    eng_reply_errorf(r, "GenericError", "Invalid parameter type for '%s', expected: %s", name,
                     target_type);
}

/* The visitor's type check of the new value, then the (simple) setter. */
static void qom_set_value(eng_req_t *r, const qom_obj_t *o, const qom_prop_t *p, int value)
{
    qmpk_type_t ty = qmpk_type(r->msg, value);
    int64_t i;
    char s[ENG_ID_MAX];

    switch (p->type) {
    case QP_TYPE:
    case QP_CHILD:
        eng_reply_errorf(r, "GenericError", "Property '%s.%s' is not writable", o->type, p->name);
        return;
    case QP_BOOL:
        if (ty != QMPK_T_TRUE && ty != QMPK_T_FALSE)
            break;
        eng_reply_empty(r);
        return;
    case QP_STR:
        if (ty != QMPK_T_STRING)
            break;
        eng_reply_empty(r);
        return;
    case QP_INT:
        if (ty != QMPK_T_NUMBER || qmpk_int64(r->msg, value, &i) != QMPK_E_OK)
            break;
        eng_reply_empty(r);
        return;
    case QP_LINK:
        qom_set_link(r, p->name, strcmp(p->name, "memory-backend") == 0
                     ? "memory-backend" : "confidential-guest-support", value);
        return;
    case QP_ENCRYPTION:
        if (ty != QMPK_T_STRING)
            break;
        /* no object exists under /objects */
        eng_arg_str(r, value, s, sizeof s);
        eng_reply_errorf(r, "GenericError", "No such memory encryption object '%s'", s);
        return;
    case QP_OTHER:
        eng_reply_errorf(r, "GenericError", "Property '%s.%s' is not simulated by the engine",
                         o->type, p->name);
        return;
    }
    eng_reply_errorf(r, "GenericError", "Invalid parameter type for '%s', expected: %s", p->name,
                     p->type == QP_BOOL ? "boolean" : p->type == QP_INT ? "integer" : "string");
}

static const arg_def_t args_qom_set[] = {
    { "path", AT_STR, true, NULL, NULL },
    { "property", AT_STR, true, NULL, NULL },
    { "value", AT_ANY, true, NULL, NULL },
    { NULL, AT_ANY, false, NULL, NULL },
};

void eng_cmd_qom_set(eng_req_t *r)
{
    char path[ENG_HMP_LINE_MAX], prop[ENG_ID_MAX * 2];
    arg_vals_t v;

    if (!eng_args(r, args_qom_set, &v))
        return;
    eng_arg_str(r, v.tok[0], path, sizeof path);
    eng_arg_str(r, v.tok[1], prop, sizeof prop);
    qom_ref_t t = qom_resolve(r->e, path);
    if (t.obj < 0) {
        eng_reply_errorf(r, "DeviceNotFound", "Device '%s' not found", path);
        return;
    }
    const qom_obj_t *o = &qom_tree[t.obj];
    if (t.below_unmodelled || !o->props) {
        eng_reply_errorf(r, "GenericError", "QOM path '%s' is not simulated by the engine", path);
        return;
    }
    const qom_prop_t *p = qom_prop(o, prop);
    qom_ref_t c;
    if (!p && t.obj == QO_CHARDEVS && qom_child_is(r->e, QO_CHARDEVS, prop, strlen(prop), &c)) {
        /* a monitor's chardev: child<chardev-socket> */
        eng_reply_errorf(r, "GenericError", "Property 'container.%s' is not writable", prop);
        return;
    }
    if (!p) {
        eng_reply_errorf(r, "GenericError", "Property '%s.%s' not found", o->type, prop);
        return;
    }
    qom_set_value(r, o, p, v.tok[2]);
}
