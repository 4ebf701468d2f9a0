/* sj_harness.h — shared pieces of the Shioaji source tests (test_shioaji*.c).
 *
 * Runs the stand-in server (tool_standin) as a child process, talks to its
 * control endpoint with a tiny blocking HTTP client, routes a raw archive to
 * a source, records what the bus publishes, drives a scenario step by step
 * from a loop timer, and compares the raw archive with the stand-in's log of
 * sent events (multisets of payload hashes: missing, duplicated, extra) or,
 * for the backfill tests, with the trades the stand-in generated.
 * Header-only (static functions) so that every test stays one program.
 * Assertions stay in the tests: these helpers return what the tests check.
 */
#ifndef SHJ_SJ_HARNESS_H
#define SHJ_SJ_HARNESS_H

#include <dirent.h>
#include <errno.h>
#include <ev.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include "archive/archive.h"
#include "loop/bus.h"
#include "core/clock.h"
#include "core/decimal.h"
#include "parse/parse.h"
#include "loop/rt.h"
#include "core/shj_common.h"
#include "shioaji/sj_json.h"
#include "loop/source.h"
#include "shioaji/sj_source.h"

/* Each test uses only some of these helpers. */
#pragma GCC diagnostic ignored "-Wunused-function"

/* Stand-in process ------------------------------------------------------------ */

typedef struct sh_standin {
    pid_t pid;
    int port;
    char unix_path[108];
    char log_path[512];
    char dir[256];          /* scratch directory of this test */
} sh_standin;

static const char *sh_build_dir(void) {
    const char *d = getenv("SHJ_BUILD_DIR");
    return d && *d ? d : ".";
}

/* The server version the stand-in speaks in this run: SHJ_STANDIN_API
 * ("1.5.0", or unset = the 1.7.x default). CMake registers every Shioaji
 * test a second time with SHJ_STANDIN_API=1.5.0 (the *_api150 tests). */
static const char *sh_api(void) {
    const char *v = getenv("SHJ_STANDIN_API");
    return v && *v ? v : "1.7";
}
static int sh_api150(void) { return strcmp(sh_api(), "1.5.0") == 0; }
/* What the stand-in's /api/v1/info says its version is. */
static const char *sh_api_version(void) { return sh_api150() ? "1.5.0-standin" : "1.7.2-standin"; }

static void sh_mkdtemp(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "/tmp/shj-%s-XXXXXX", name);
    if (!mkdtemp(out)) {
        perror("mkdtemp");
        exit(2);
    }
}

/* args: NULL-terminated extra arguments. unix_path: listen there instead of
 * on a TCP port. The log goes to dir/standin.log. */
static int sh_standin_start_at(sh_standin *si, const char *dir, const char *unix_path, const char *const *args) {
    memset(si, 0, sizeof *si);
    shj_strlcpy(si->dir, dir, sizeof si->dir);
    snprintf(si->log_path, sizeof si->log_path, "%s/standin.log", dir);
    int unix_mode = unix_path != NULL;
    if (unix_mode && shj_strlcpy(si->unix_path, unix_path, sizeof si->unix_path) >= sizeof si->unix_path)
        return -1; /* sun_path is short */
    char exe[512];
    snprintf(exe, sizeof exe, "%s/tool_standin", sh_build_dir());
    const char *argv[64];
    int n = 0;
    argv[n++] = exe;
    if (unix_mode) {
        argv[n++] = "--unix";
        argv[n++] = si->unix_path;
    } else {
        argv[n++] = "--port";
        argv[n++] = "0";
    }
    argv[n++] = "--log";
    argv[n++] = si->log_path;
    argv[n++] = "--api";
    argv[n++] = sh_api();
    for (int i = 0; args && args[i] && n < 62; i++) argv[n++] = args[i];
    argv[n] = NULL;
    int pfd[2];
    if (pipe(pfd) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        execv(exe, (char *const *)argv);
        fprintf(stderr, "exec %s: %s\n", exe, strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    si->pid = pid;
    char line[256];
    size_t got = 0;
    struct pollfd p = {pfd[0], POLLIN, 0};
    while (got < sizeof line - 1 && poll(&p, 1, 10000) > 0) {
        ssize_t r = read(pfd[0], line + got, 1);
        if (r <= 0 || line[got] == '\n') break;
        got++;
    }
    line[got] = '\0';
    close(pfd[0]);
    if (!unix_mode) {
        if (sscanf(line, "listening 127.0.0.1:%d", &si->port) != 1) {
            fprintf(stderr, "stand-in did not start: \"%s\"\n", line);
            return -1;
        }
    } else if (strncmp(line, "listening unix:", 15) != 0) {
        fprintf(stderr, "stand-in did not start: \"%s\"\n", line);
        return -1;
    }
    return 0;
}

/* unix_mode: listen on dir/sj.sock. */
static int sh_standin_start(sh_standin *si, const char *dir, int unix_mode, const char *const *args) {
    char path[300];
    snprintf(path, sizeof path, "%s/sj.sock", dir);
    return sh_standin_start_at(si, dir, unix_mode ? path : NULL, args);
}

static void sh_standin_stop(sh_standin *si) {
    if (si->pid <= 0) return;
    kill(si->pid, SIGTERM);
    int st;
    waitpid(si->pid, &st, 0);
    si->pid = 0;
}

/* The source's base URL for this stand-in. */
static void sh_url(const sh_standin *si, char *out, size_t cap) {
    if (si->unix_path[0])
        shj_strlcpy(out, "http://localhost", cap);
    else
        snprintf(out, cap, "http://127.0.0.1:%d", si->port);
}

static void sh_rmrf(const char *dir) {
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

/* Blocking HTTP/1.0-style request to the stand-in (tests only). Returns the status. */
static int sh_http(const sh_standin *si, const char *method, const char *path, const char *body,
                   char *out, size_t cap) {
    int fd;
    if (si->unix_path[0]) {
        struct sockaddr_un sa;
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        shj_strlcpy(sa.sun_path, si->unix_path, sizeof sa.sun_path);
        fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) return -1;
    } else {
        struct sockaddr_in sa;
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)si->port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) return -1;
    }
    char req[4096];
    size_t bl = body ? strlen(body) : 0;
    int n = snprintf(req, sizeof req,
                     "%s %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, bl, body ? body : "");
    if (write(fd, req, (size_t)n) != n) {
        close(fd);
        return -1;
    }
    char buf[65536];
    size_t got = 0;
    for (;;) {
        ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
        if (r <= 0) break;
        got += (size_t)r;
        buf[got] = '\0';
        const char *h = strstr(buf, "\r\n\r\n");
        const char *cl = strstr(buf, "Content-Length: ");
        if (h && cl && got >= (size_t)(h + 4 - buf) + strtoul(cl + 16, NULL, 10)) break;
    }
    close(fd);
    buf[got] = '\0';
    int status = 0;
    sscanf(buf, "HTTP/1.1 %d", &status);
    const char *b = strstr(buf, "\r\n\r\n");
    if (out && cap) shj_strlcpy(out, b ? b + 4 : "", cap);
    return status;
}

static int sh_fault(const sh_standin *si, const char *json) {
    char out[512];
    int st = sh_http(si, "POST", "/_standin/fault", json, out, sizeof out);
    if (st != 200) fprintf(stderr, "fault %s -> %d %s\n", json, st, out);
    return st;
}

static int64_t sh_stat(const sh_standin *si, const char *key) {
    char out[2048];
    if (sh_http(si, "GET", "/_standin/stats", NULL, out, sizeof out) != 200) return -1;
    int64_t v = -1;
    sj_json_get_i64(out, strlen(out), key, &v);
    return v;
}

/* Raw archive routed to a source --------------------------------------------------- */

static void sh_arc_poll(void *w, int64_t now) { arc_poll(w, now); }
static size_t sh_arc_status(void *w, char *buf, size_t cap) {
    arc_stats st;
    arc_get_stats(w, &st);
    int n = snprintf(buf, cap, "%llu rec", (unsigned long long)st.records);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}
static int sh_arc_close(void *w, char *err, size_t errlen) { return arc_close(w, err, errlen); }
static const rt_writer_ops sh_arc_ops = {"raw", sh_arc_poll, sh_arc_status, sh_arc_close};

static arc_writer *sh_route_raw(src_source *s, const char *dir) {
    arc_opts o;
    memset(&o, 0, sizeof o);
    o.dir = dir;
    o.source = s->name;
    o.fsync_ms = 50;
    o.compress = ARC_COMPRESS_LZ4;
    char err[256];
    arc_writer *w = arc_open(&o, err, sizeof err);
    if (!w) {
        fprintf(stderr, "arc_open: %s\n", err);
        exit(2);
    }
    s->raw = w;
    rt_add_writer("raw", &sh_arc_ops, w);
    return w;
}

/* What the bus published ----------------------------------------------------------- */

typedef struct sh_rec {
    shj_event *ev;
    size_t n, cap;
} sh_rec;

static size_t sh_rec_cb(void *ctx, const shj_event *evs, size_t n) {
    sh_rec *r = ctx;
    if (r->n + n > r->cap) {
        while (r->n + n > r->cap) r->cap = r->cap ? r->cap * 2 : 4096;
        r->ev = realloc(r->ev, r->cap * sizeof *r->ev);
    }
    memcpy(r->ev + r->n, evs, n * sizeof *evs);
    r->n += n;
    return n;
}

static size_t sh_count_status(const sh_rec *r, int status) {
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++) n += r->ev[i].kind == SHJ_KIND_STATUS && r->ev[i].status == status;
    return n;
}

/* Source under test ---------------------------------------------------------------- */

/* A Shioaji source named name for the stand-in si on a fresh rt (bus of bus_cap
 * events, 0 = rt's default; no status line), with a 50 ms first reconnect so
 * that fault scenarios stay short. stream_mode and heartbeat_timeout_s as for
 * sj_new. NULL (err says why) if it cannot be made. */
static src_source *sh_source_new(const sh_standin *si, size_t bus_cap, const char *name, const char *stream_mode,
                                 double heartbeat_timeout_s, char *err, size_t errlen) {
    char url[128];
    sh_url(si, url, sizeof url);
    rt_init(bus_cap);
    rt_set_status_interval(0);
    src_source *s = sj_new(name, url, NULL, stream_mode, heartbeat_timeout_s, err, errlen);
    if (s) sj_set(s, "backoff_initial_s", 0.05, err, errlen);
    return s;
}

/* Adds s to rt, archives its raw payloads under dir (unless NULL) and records
 * all the bus publishes into rec (unless NULL; a blocking subscriber, like a
 * writer, so the recording is complete). Returns rt_add_source's result. */
static int sh_wire(src_source *s, const char *dir, sh_rec *rec, char *err, size_t errlen) {
    int rc = rt_add_source(s, err, errlen);
    if (dir) sh_route_raw(s, dir);
    if (rec) bus_subscribe(rt_bus(), "test", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, sh_rec_cb, rec);
    return rc;
}

/* End of a test: frees the recording, shuts rt down (which closes the archive)
 * and removes the scratch directory. */
static void sh_teardown(sh_rec *rec, const char *dir) {
    free(rec->ev);
    memset(rec, 0, sizeof *rec);
    rt_shutdown();
    sh_rmrf(dir);
}

/* Scenario driver --------------------------------------------------------------------- */

typedef int (*sh_step_fn)(void *ctx, double elapsed_s);

typedef struct sh_driver {
    ev_timer tick;
    sh_step_fn fn;
    void *ctx;
    double timeout_s;
    int64_t t0;
    int timed_out;
    int done;
} sh_driver;

static void sh_tick_cb(struct ev_loop *loop, ev_timer *w, int revents) {
    (void)loop;
    (void)revents;
    sh_driver *d = (sh_driver *)w;
    if (d->done) return;
    double el = (double)(clk_mono_ns() - d->t0) / 1e9;
    if (el > d->timeout_s) {
        d->timed_out = 1;
        d->done = 1;
        fprintf(stderr, "scenario timed out after %.1f s\n", el);
        rt_stop("test timeout");
        return;
    }
    if (d->fn(d->ctx, el)) {
        d->done = 1;
        rt_stop("scenario done");
    }
}

/* What the last sh_run ended with: rt_run's error ("" when it returned
 * SHJ_OK), whether the scenario timed out, and how long it ran. */
static char sh_last_err[512];
static int sh_last_timed_out;
static double sh_last_elapsed_s;

/* Runs rt until fn returns 1 (or the timeout). Returns 0 on success. */
static int sh_run(sh_step_fn fn, void *ctx, double timeout_s) {
    static sh_driver d;
    memset(&d, 0, sizeof d);
    d.fn = fn;
    d.ctx = ctx;
    d.timeout_s = timeout_s;
    d.t0 = clk_mono_ns();
    ev_timer_init(&d.tick, sh_tick_cb, 0.02, 0.02);
    ev_timer_start(rt_loop(), &d.tick);
    char err[512] = "";
    int rc = rt_run(err, sizeof err);
    ev_timer_stop(rt_loop(), &d.tick);
    if (rc != SHJ_OK) fprintf(stderr, "rt_run: %s\n", err);
    shj_strlcpy(sh_last_err, rc == SHJ_OK ? "" : err, sizeof sh_last_err);
    sh_last_timed_out = d.timed_out;
    sh_last_elapsed_s = (double)(clk_mono_ns() - d.t0) / 1e9;
    return rc == SHJ_OK && !d.timed_out ? 0 : -1;
}

/* Steps that end a scenario --------------------------------------------------------------- */

/* The usual last act: once more than n payloads arrived after mark, pause the
 * stand-in's market so that the source can catch up with all it sent.
 * Returns 1 once the pause was asked for. */
static int sh_pause_after(const sh_standin *si, const src_source *s, uint64_t mark, uint64_t n) {
    if (s->counters.payloads <= mark + n) return 0;
    sh_fault(si, "{\"fault\":\"pause\"}");
    return 1;
}

/* Wait (inside a step) until the source has every payload the stand-in sent. */
static int sh_caught_up(const sh_standin *si, const src_source *s, int64_t *sent_out) {
    int64_t sent = sh_stat(si, "sent");
    if (sent_out) *sent_out = sent;
    return sent >= 0 && (int64_t)s->counters.payloads >= sent;
}

/* The same for a source that also backfills: its live payloads (all but the
 * backfilled ones) reached what the stand-in sent, and that was something. */
static int sh_caught_up_live(const sh_standin *si, const src_source *s) {
    int64_t sent = sh_stat(si, "sent");
    return sent > 0 && (int64_t)(s->counters.payloads - sj_counter(s, "backfilled")) >= sent;
}

/* Archive vs. stand-in log ------------------------------------------------------------------ */

typedef struct sh_item {
    uint64_t hash;
    uint64_t seq;
    int64_t recv_ns;
    uint8_t tag;
    char *data;
    uint32_t len;
} sh_item;

typedef struct sh_items {
    sh_item *v;
    size_t n, cap;
} sh_items;

static void sh_items_add(sh_items *x, const sh_item *it) {
    if (x->n == x->cap) {
        x->cap = x->cap ? x->cap * 2 : 4096;
        x->v = realloc(x->v, x->cap * sizeof *x->v);
    }
    x->v[x->n++] = *it;
}

static void sh_items_free(sh_items *x) {
    for (size_t i = 0; i < x->n; i++) free(x->v[i].data);
    free(x->v);
    memset(x, 0, sizeof *x);
}

static int sh_cmp_seq(const void *a, const void *b) {
    const sh_item *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Every record of every .shjraw file under dir/source, in sequence order. */
static int sh_read_archive(const char *dir, const char *source, sh_items *out) {
    char sub[512];
    snprintf(sub, sizeof sub, "%s/%s", dir, source);
    DIR *d = opendir(sub);
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t nl = strlen(e->d_name);
        if (nl < 7 || strcmp(e->d_name + nl - 7, ".shjraw") != 0) continue;
        char path[1024], err[256];
        snprintf(path, sizeof path, "%s/%s", sub, e->d_name);
        arc_reader *r = arc_reader_open(path, err, sizeof err);
        if (!r) {
            fprintf(stderr, "arc_reader_open: %s\n", err);
            closedir(d);
            return -1;
        }
        arc_record rec;
        int rc;
        while ((rc = arc_reader_next(r, &rec)) == 1) {
            sh_item it = {XXH64(rec.data, rec.len, 0), rec.seq, rec.recv_ns, rec.tag, malloc(rec.len + 1), rec.len};
            memcpy(it.data, rec.data, rec.len);
            it.data[rec.len] = '\0';
            sh_items_add(out, &it);
        }
        if (rc < 0) fprintf(stderr, "archive %s: %s\n", path, arc_reader_error(r));
        arc_reader_close(r);
        if (rc < 0) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    qsort(out->v, out->n, sizeof *out->v, sh_cmp_seq);
    return 0;
}

/* "S seq conn tag code len xxh64 [payload]" lines of the stand-in log. */
static int sh_read_log(const char *path, sh_items *out) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, f) > 0) {
        if (line[0] != 'S') continue;
        unsigned long long seq, h;
        int conn;
        char tag[32], code[32];
        size_t len;
        int off = 0;
        if (sscanf(line, "S %llu %d %31s %31s %zu %llx%n", &seq, &conn, tag, code, &len, &h, &off) != 6) continue;
        sh_item it = {h, seq, 0, 0, NULL, (uint32_t)len};
        if (line[off] == ' ') {
            it.data = malloc(len + 1);
            memcpy(it.data, line + off + 1, len);
            it.data[len] = '\0';
        }
        sh_items_add(out, &it);
    }
    free(line);
    fclose(f);
    return 0;
}

static int sh_cmp_hash(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Multiset comparison of payload hashes: what the stand-in sent vs. what we archived. */
static void sh_compare(const sh_items *sent, const sh_items *archived, size_t *missing,
                       size_t *duplicated, size_t *extra) {
    uint64_t *a = malloc((sent->n + 1) * sizeof *a), *b = malloc((archived->n + 1) * sizeof *b);
    for (size_t i = 0; i < sent->n; i++) a[i] = sent->v[i].hash;
    for (size_t i = 0; i < archived->n; i++) b[i] = archived->v[i].hash;
    qsort(a, sent->n, sizeof *a, sh_cmp_hash);
    qsort(b, archived->n, sizeof *b, sh_cmp_hash);
    size_t i = 0, j = 0;
    *missing = *duplicated = *extra = 0;
    while (i < sent->n || j < archived->n) {
        if (j == archived->n || (i < sent->n && a[i] < b[j])) {
            (*missing)++;
            i++;
        } else if (i == sent->n || b[j] < a[i]) {
            /* an archived payload the stand-in did not send at that count */
            if (i > 0 && a[i - 1] == b[j])
                (*duplicated)++;
            else
                (*extra)++;
            j++;
        } else {
            i++;
            j++;
        }
    }
    free(a);
    free(b);
}

/* Sent vs. archived, as the stream and fault tests check it. */
typedef struct sh_diff {
    sh_items sent;   /* what the stand-in(s) logged as sent */
    sh_items arch;   /* the raw archive, in sequence order */
    size_t missing, duplicated, extra;
} sh_diff;

/* Adds one stand-in's log of sent payloads to d (once per stand-in).
 * 0, or -1 if it cannot be read. */
static int sh_diff_log(sh_diff *d, const char *log_path) { return sh_read_log(log_path, &d->sent); }

/* Reads the raw archive of source under dir into d, compares it with the logs
 * added so far (sh_compare) and prints the counts. 0, or -1 if the archive
 * cannot be read (the comparison is made with what was read). */
static int sh_diff_archive(sh_diff *d, const char *dir, const char *source) {
    int rc = sh_read_archive(dir, source, &d->arch);
    sh_compare(&d->sent, &d->arch, &d->missing, &d->duplicated, &d->extra);
    fprintf(stderr, "stand-in sent %zu, archive holds %zu: missing %zu duplicated %zu extra %zu\n", d->sent.n,
            d->arch.n, d->missing, d->duplicated, d->extra);
    return rc;
}

static void sh_diff_free(sh_diff *d) {
    sh_items_free(&d->sent);
    sh_items_free(&d->arch);
}

/* Gap bounds ------------------------------------------------------------------------------ */

/* Checks every GAP status in r against the archive (sorted by seq):
 *  - a DISCONNECTED with the same gap_start precedes it;
 *  - gap_start is the receive time of the last payload archived before the
 *    loss (one stream), or not after it (several streams);
 *  - no payload archived after the GAP was received before gap_end;
 *  - gap_end > gap_start.
 * Returns the number of GAP events that failed; *n_gaps gets how many were seen. */
static size_t sh_check_gaps(const sh_rec *r, const sh_items *arch, int one_stream, size_t *n_gaps) {
    size_t bad = 0, gaps = 0;
    for (size_t i = 0; i < r->n; i++) {
        const shj_event *ev = &r->ev[i];
        if (ev->kind != SHJ_KIND_STATUS || ev->status != SHJ_STATUS_GAP) continue;
        gaps++;
        /* The loss this gap heals: the latest DISCONNECTED with the same start
         * (with several streams, others may have been lost in between). */
        const shj_event *disc = NULL;
        for (size_t k = i; k-- > 0;) {
            const shj_event *d = &r->ev[k];
            if (d->kind == SHJ_KIND_STATUS && d->status == SHJ_STATUS_DISCONNECTED &&
                d->gap_start_ns == ev->gap_start_ns) {
                disc = d;
                break;
            }
        }
        int ok = disc && ev->gap_end_ns > ev->gap_start_ns;
        int64_t last_before = 0, first_after = INT64_MAX;
        for (size_t k = 0; k < arch->n; k++) {
            if (disc && arch->v[k].seq <= disc->seq && arch->v[k].recv_ns > last_before)
                last_before = arch->v[k].recv_ns;
            if (arch->v[k].seq > ev->seq && arch->v[k].recv_ns < first_after) first_after = arch->v[k].recv_ns;
        }
        /* One stream: gap_start is exactly the receive time of the last payload
         * before the loss. Several streams: the lost one's last payload may be
         * older than another stream's. */
        if (one_stream)
            ok = ok && last_before > 0 && ev->gap_start_ns == last_before;
        else
            ok = ok && ev->gap_start_ns <= last_before;
        ok = ok && first_after >= ev->gap_end_ns;
        if (!ok) {
            bad++;
            fprintf(stderr, "gap %s [%lld, %lld] vs last before %lld first after %lld (disc %p)\n", ev->code,
                    (long long)ev->gap_start_ns, (long long)ev->gap_end_ns, (long long)last_before,
                    (long long)first_after, (const void *)disc);
        }
    }
    *n_gaps = gaps;
    return bad;
}

/* Payload times, computed without the runtime's clock code ------------------------------- */

static int64_t sh_days_civil(int y, int m, int d) { /* days since 1970-01-01 */
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* UTC ns of a payload's Taipei date + time, -1 if it has none. */
static int64_t sh_payload_utc(const char *payload, size_t len) {
    char date[16], tm[24];
    if (sj_json_get_str(payload, len, "date", date, sizeof date) != 1 ||
        sj_json_get_str(payload, len, "time", tm, sizeof tm) != 1)
        return -1;
    int y, mo, d, h, mi, s;
    long us = 0;
    if (sscanf(date, "%d-%d-%d", &y, &mo, &d) != 3 || sscanf(tm, "%d:%d:%d.%ld", &h, &mi, &s, &us) < 3) return -1;
    return ((sh_days_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) - 8 * 3600) * 1000000000LL + us * 1000LL;
}

/* Generated vs. archived trades (the backfill tests) ---------------------------------------- */

/* A trade as both sides state it: the archive's JSON payload and the
 * stand-in's "G" log line (--log-generated: every trade, sent or not). */
typedef struct sh_trade {
    char code[16];
    int64_t ts;       /* exchange time, ns UTC */
    int64_t close;    /* price × SHJ_PRICE_SCALE */
    int32_t volume;
    int backfill;     /* archive only: the payload came from the ticks endpoint */
} sh_trade;

/* Orders by code, time, price, volume; backfill is not part of a trade's identity. */
static int sh_cmp_trade(const void *a, const void *b) {
    const sh_trade *x = a, *y = b;
    int c = strcmp(x->code, y->code);
    if (c) return c;
    if (x->ts != y->ts) return x->ts < y->ts ? -1 : 1;
    if (x->close != y->close) return x->close < y->close ? -1 : 1;
    return (x->volume > y->volume) - (x->volume < y->volume);
}

static int sh_code_index(const char *code, const char *const *codes, int ncodes) {
    for (int k = 0; k < ncodes; k++)
        if (!strcmp(code, codes[k])) return k;
    return -1;
}

/* The archived payloads whose tag is in tag_mask (bits 1u << PSR_TAG_*) as
 * trades, read straight from the JSON (not through the parser). calloc'd. */
static sh_trade *sh_archived_trades(const sh_items *arch, uint32_t tag_mask, size_t *n) {
    sh_trade *at = calloc(arch->n + 1, sizeof *at);
    size_t na = 0;
    for (size_t i = 0; i < arch->n; i++) {
        const sh_item *it = &arch->v[i];
        if (!(tag_mask & (1u << it->tag))) continue;
        sh_trade *t = &at[na++];
        char close[32] = "";
        sj_json_get_str(it->data, it->len, "code", t->code, sizeof t->code);
        sj_json_get_str(it->data, it->len, "close", close, sizeof close);
        dec_parse(close, strlen(close), &t->close);
        int64_t v = 0;
        sj_json_get_i64(it->data, it->len, "volume", &v);
        t->volume = (int32_t)v;
        t->ts = sh_payload_utc(it->data, it->len);
        sj_json_get_bool(it->data, it->len, "backfill", &t->backfill);
    }
    *n = na;
    return at;
}

/* The trades of the stand-in's log ("G code ts close volume" lines) of
 * instrument codes[k] within [lo[k], hi[k]]. Returns a malloc'd array (empty
 * if the log cannot be read: *log_read then is 0). */
static sh_trade *sh_generated_trades(const char *log_path, const char *const *codes, int ncodes, const int64_t *lo,
                                     const int64_t *hi, size_t *n, int *log_read) {
    FILE *f = fopen(log_path, "r");
    *log_read = f != NULL;
    size_t ng = 0, capg = 4096;
    sh_trade *gt = calloc(capg, sizeof *gt);
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        if (line[0] != 'G') continue;
        sh_trade t;
        memset(&t, 0, sizeof t);
        char close[32];
        long long ts;
        if (sscanf(line, "G %15s %lld %31s %d", t.code, &ts, close, &t.volume) != 4) continue;
        t.ts = ts;
        dec_parse(close, strlen(close), &t.close);
        int k = sh_code_index(t.code, codes, ncodes);
        if (k < 0 || t.ts < lo[k] || t.ts > hi[k]) continue;
        if (ng == capg) gt = realloc(gt, (capg *= 2) * sizeof *gt);
        gt[ng++] = t;
    }
    if (f) fclose(f);
    *n = ng;
    return gt;
}

/* What the backfill tests check. */
typedef struct sh_trade_diff {
    int archive_read, log_read;   /* both sides could be read */
    size_t archived;              /* trades in the archive (of the tags asked for) */
    size_t archived_backfill;     /* of which flagged backfill */
    size_t generated;             /* generated trades within the archive's span */
    size_t missing, extra;        /* generated not archived / archived not generated */
} sh_trade_diff;

/* Compares, per instrument of codes and over the span the archive covers for
 * it, the trades the stand-in generated (log_path) with the trades archived
 * for source under dir (tags in tag_mask): each generated trade must be
 * archived exactly once, live or backfilled, and nothing else. */
static void sh_diff_trades(sh_trade_diff *d, const char *dir, const char *source, uint32_t tag_mask,
                           const char *log_path, const char *const *codes, int ncodes) {
    memset(d, 0, sizeof *d);
    sh_items arch = {0};
    d->archive_read = sh_read_archive(dir, source, &arch) == 0;
    size_t na = 0, ng = 0;
    sh_trade *at = sh_archived_trades(&arch, tag_mask, &na);
    int64_t *lo = malloc(((size_t)ncodes + 1) * sizeof *lo), *hi = malloc(((size_t)ncodes + 1) * sizeof *hi);
    for (int k = 0; k < ncodes; k++) lo[k] = INT64_MAX, hi[k] = INT64_MIN;
    for (size_t i = 0; i < na; i++) {
        d->archived_backfill += at[i].backfill != 0;
        int k = sh_code_index(at[i].code, codes, ncodes);
        if (k < 0) continue;
        if (at[i].ts < lo[k]) lo[k] = at[i].ts;
        if (at[i].ts > hi[k]) hi[k] = at[i].ts;
    }
    sh_trade *gt = sh_generated_trades(log_path, codes, ncodes, lo, hi, &ng, &d->log_read);
    qsort(at, na, sizeof *at, sh_cmp_trade);
    qsort(gt, ng, sizeof *gt, sh_cmp_trade);
    size_t i = 0, j = 0;
    while (i < ng || j < na) {
        int c = i == ng ? 1 : j == na ? -1 : sh_cmp_trade(&gt[i], &at[j]);
        if (c < 0) {
            d->missing++;
            i++;
        } else if (c > 0) {
            d->extra++;
            j++;
        } else {
            i++;
            j++;
        }
    }
    d->archived = na;
    d->generated = ng;
    free(lo);
    free(hi);
    free(at);
    free(gt);
    sh_items_free(&arch);
}

static void sh_print_trades(const sh_trade_diff *d, uint64_t backfilled) {
    fprintf(stderr, "generated trades in span %zu, archived trades %zu (%llu backfilled): missing %zu extra %zu\n",
            d->generated, d->archived, (unsigned long long)backfilled, d->missing, d->extra);
}

#endif
