/* ops_notify.c — systemd's notify protocol (see ops_notify.h). */
#include "ops/ops_notify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/shj_common.h"
#include "loop/rt.h"
#include "loop/source.h"

#ifdef SHJ_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

static struct {
    int registered;        /* an rt writer for this runtime */
    int ready, stopping;   /* READY=1 / STOPPING=1 sent */
    uint64_t wd_period_us; /* WATCHDOG=1 period (WATCHDOG_USEC / 4), 0 = none */
    int64_t last_wd_mono, last_status_mono;
} opn;

static void notify(const char *msg) {
#ifdef SHJ_HAVE_SYSTEMD
    int rc = sd_notify(0, msg);
    if (rc < 0) shj_log(SHJ_LOG_WARN, "sd_notify: %s", strerror(-rc));
#else
    SHJ_UNUSED(msg);
#endif
}

int ops_notify_active(void) {
#ifdef SHJ_HAVE_SYSTEMD
    const char *s = getenv("NOTIFY_SOCKET");
    return s && *s;
#else
    return 0;
#endif
}

uint64_t ops_notify_watchdog_period_us(void) { return opn.wd_period_us; }

/* Every source running (or paused by back-pressure) and heard from. */
static int sources_ready(void) {
    size_t n = rt_source_count();
    if (n == 0) return 0;
    for (size_t i = 0; i < n; i++) {
        const src_source *s = rt_source_at(i);
        if ((s->state != SRC_RUNNING && s->state != SRC_PAUSED) || s->counters.events == 0) return 0;
    }
    return 1;
}

static void send_status(const char *prefix, int64_t now) {
    char buf[512];
    size_t len = (size_t)snprintf(buf, sizeof buf, "%sSTATUS=%s: %llu events", prefix,
                                  rt_stopping() ? "stopping" : opn.ready ? "recording" : "starting",
                                  (unsigned long long)rt_events_published());
    for (size_t i = 0; i < rt_source_count() && len < sizeof buf - 64; i++) {
        const src_source *s = rt_source_at(i);
        static const char *st[] = {"new", "running", "paused", "stopped", "done"};
        len += (size_t)snprintf(buf + len, sizeof buf - len, "; %s %s", s->name,
                                (unsigned)s->state < 5 ? st[s->state] : "?");
    }
    opn.last_status_mono = now;
    notify(buf);
}

/* rt's poll, every ~5 ms on the loop: the loop's heartbeat. */
static void opn_poll(void *w, int64_t now) {
    SHJ_UNUSED(w);
    if (!opn.stopping && rt_stopping()) {
        opn.stopping = 1;
        notify("STOPPING=1\nSTATUS=stopping: sources stop, bus drains, writers flush");
    }
    if (!opn.ready && !opn.stopping && sources_ready()) {
        opn.ready = 1;
        send_status("READY=1\n", now);
        shj_log(SHJ_LOG_INFO, "systemd: READY=1 (every source is running and has published)%s",
                opn.wd_period_us ? "; WATCHDOG=1 pings from the loop" : "");
    }
    if (opn.wd_period_us && now - opn.last_wd_mono >= (int64_t)opn.wd_period_us * 1000) {
        opn.last_wd_mono = now;
        notify("WATCHDOG=1");
    }
    if (!opn.stopping && now - opn.last_status_mono >= (int64_t)OPN_STATUS_MS * 1000000) send_status("", now);
}

/* Closed last (registered first): the process is about to exit. */
static int opn_close(void *w, char *err, size_t errlen) {
    SHJ_UNUSED(w);
    SHJ_UNUSED(err);
    SHJ_UNUSED(errlen);
    if (!opn.stopping) notify("STOPPING=1");
    memset(&opn, 0, sizeof opn);
    return SHJ_OK;
}

static const rt_writer_ops opn_ops = {.type = "systemd", .poll = opn_poll, .status = NULL, .close = opn_close};

int ops_notify_start(void) {
    if (!ops_notify_active() || opn.registered) return SHJ_OK;
    memset(&opn, 0, sizeof opn);
#ifdef SHJ_HAVE_SYSTEMD
    uint64_t usec = 0;
    /* unset_environment 0: a child (a restore job) keeps nothing of it anyway. */
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        /* systemd's advice is half the timeout; a quarter leaves room for a
         * slow turn of the loop without a false kill. */
        opn.wd_period_us = usec / 4 ? usec / 4 : 1;
    }
#endif
    if (rt_init(0) != SHJ_OK || rt_add_writer("systemd", &opn_ops, &opn) != SHJ_OK) return SHJ_ERR;
    opn.registered = 1;
    opn.last_wd_mono = opn.last_status_mono = clk_mono_ns();
    if (opn.wd_period_us) notify("WATCHDOG=1"); /* the first ping before any source starts */
    return SHJ_OK;
}
