/* ch_attach.c — the ClickHouse writer plugged into the runtime (see
 * chw_route in ch_writer.h): bus subscription, rt writer ops, and what a
 * FAILED writer does to the rest of the process.
 *
 * A route outlives its writer: rt frees the writer at shutdown, but Lua may
 * still ask for the final stats, so routes live in a small static table.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ev.h>

#include "archive/archive.h"
#include "loop/bus.h"
#include "clickhouse/ch_reconcile.h"
#include "clickhouse/ch_writer.h"
#include "loop/rt.h"
#include "core/shj_common.h"
#include "loop/source.h"

#define CHW_MAX_ROUTES 16

typedef struct chw_route_t {
    chw_writer *w;
    bus_sub *sub;
    src_source *src;   /* NULL: every source */
    int stop_on_fatal;
    chw_stats last;    /* stats at close */
    int closed;
    char arc_path[4096]; /* the archive's day file as last seen (kept after the archive closed) */
    uint64_t reconciled;
} chw_route_t;

static chw_route_t routes[CHW_MAX_ROUTES];
static int n_routes;

/* Bus delivery: only this route's source; events of other sources are
 * skipped (taken). A partial take by the writer ends the delivery there. */
static size_t deliver(void *ctx, const shj_event *evs, size_t n) {
    chw_route_t *r = ctx;
    if (!r->w) return n;
    if (!r->src) return chw_push(r->w, evs, n);
    uint16_t id = r->src->source_id;
    size_t i = 0;
    while (i < n) {
        if (evs[i].source_id != id) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && evs[j].source_id == id) j++;
        size_t took = chw_push(r->w, evs + i, j - i);
        if (took < j - i) return i + took;
        i = j;
    }
    return n;
}

static void on_fatal(void *ctx, chw_writer *w, const char *why) {
    SHJ_UNUSED(w);
    chw_route_t *r = ctx;
    /* a FAILED writer takes nothing: leaving it subscribed would block the bus */
    if (r->sub) {
        bus_unsubscribe(rt_bus(), r->sub);
        r->sub = NULL;
    }
    if (r->stop_on_fatal) {
        char reason[160];
        snprintf(reason, sizeof reason, "clickhouse writer failed: %.120s", why);
        rt_stop(reason);
    }
}

static void op_poll(void *w, int64_t now_mono_ns) {
    SHJ_UNUSED(now_mono_ns);
    chw_route_t *r = w;
    if (r->w) chw_poll(r->w);
}

static size_t op_status(void *w, char *buf, size_t cap) {
    chw_route_t *r = w;
    return r->w ? chw_status(r->w, buf, cap) : 0;
}

static int op_close(void *w, char *err, size_t errlen) {
    chw_route_t *r = w;
    if (r->sub) {
        bus_unsubscribe(rt_bus(), r->sub);
        r->sub = NULL;
    }
    if (!r->w) return SHJ_OK;
    int rc = chw_close_stats(r->w, &r->last, err, errlen);
    r->w = NULL;
    r->closed = 1;
    return rc;
}

/* The source's raw archive, as the writer sees it (chw_archive_ops). The
 * archive may close before the writer does (rt closes in order): then every
 * record is fsynced, and the day file is the one last seen. */
static uint64_t arc_durable(void *ctx) {
    chw_route_t *r = ctx;
    if (!r->src->raw) return UINT64_MAX;
    arc_stats st;
    arc_get_stats(r->src->raw, &st);
    return st.durable_seq;
}

static const char *arc_path(void *ctx) {
    chw_route_t *r = ctx;
    if (r->src->raw) {
        const char *p = arc_current_path(r->src->raw);
        if (p && *p) shj_strlcpy(r->arc_path, p, sizeof r->arc_path);
    }
    return r->arc_path;
}

static const chw_archive_ops arc_ops = {arc_durable, arc_path};

/* Before the writer opens: replay into ClickHouse what the archive holds
 * beyond the watermarks (a kill -9, rows neither ClickHouse nor the fallback
 * took), and continue the source's sequence after the archive's highest so
 * that one number splits done from to-do in every day file. */
static void reconcile(chw_route_t *r, const chw_opts *opts, chrc_result *res) {
    char err[600];
    int rc = chrc_run(opts->archive_dir, r->src->name, chw_row_source(opts, r->src->source_id), opts->dsn, opts->create_schema, res, err,
                      sizeof err);
    if (res->max_seq > r->src->next_seq) r->src->next_seq = res->max_seq;
    if (rc == SHJ_ERR) {
        shj_log(SHJ_LOG_ERROR, "clickhouse reconcile of %s/%s: %s", opts->archive_dir, r->src->name, err);
        return;
    }
    if (res->records_replayed && rc == SHJ_OK)
        shj_log(SHJ_LOG_INFO,
                "clickhouse reconcile of %s/%s: %llu records beyond the watermark replayed from the archive "
                "(%llu rows inserted; rows already there collapse under FINAL)",
                opts->archive_dir, r->src->name, (unsigned long long)res->records_replayed,
                (unsigned long long)res->rows_inserted);
    if (rc == SHJ_AGAIN) {
        char ranges[200];
        shj_log(SHJ_LOG_WARN,
                "clickhouse reconcile of %s/%s: %llu records wait in the archive (seq %s): %s; kept in the "
                "watermark, retried at the next start",
                opts->archive_dir, r->src->name, (unsigned long long)chm_unsaved_count(&res->pending),
                chm_ranges_text(&res->pending, ranges, sizeof ranges), res->error);
    }
    r->reconciled = res->rows_inserted;
}

static const rt_writer_ops chw_rt_ops = {
    .type = "clickhouse",
    .poll = op_poll,
    .status = op_status,
    .close = op_close,
};

int chw_route(src_source *src, const chw_opts *opts, int stop_on_fatal, char *err, size_t errlen) {
    if (rt_init(0) != SHJ_OK) return shj_fail(err, errlen, "runtime init failed");
    if (n_routes == CHW_MAX_ROUTES) return shj_fail(err, errlen, "too many ClickHouse routes (max %d)", CHW_MAX_ROUTES);
    chw_route_t *r = &routes[n_routes];
    memset(r, 0, sizeof *r);
    r->src = src;
    r->stop_on_fatal = stop_on_fatal;
    chrc_result *res = NULL;
    if (opts->archive_dir && src) {
        if (!(res = malloc(sizeof *res))) return shj_fail(err, errlen, "out of memory");
        reconcile(r, opts, res);
        ev_now_update(rt_loop()); /* the loop's clock stood still while it blocked */
    }
    if (!(r->w = chw_open(rt_loop(), opts, err, errlen))) {
        free(res);
        return SHJ_ERR;
    }
    chw_set_fatal_cb(r->w, on_fatal, r);
    if (res) chw_set_archive(r->w, &arc_ops, r, src->next_seq, &res->pending);
    free(res);
    uint32_t mask = shj_kind_bit(SHJ_KIND_TICK) | shj_kind_bit(SHJ_KIND_QUOTE) | shj_kind_bit(SHJ_KIND_BIDASK);
    char name[40];
    snprintf(name, sizeof name, "clickhouse%s%.24s", src ? " " : "", src ? src->name : "");
    r->sub = bus_subscribe(rt_bus(), name, mask, NULL, 0, BUS_BLOCK, deliver, r);
    if (!r->sub || rt_add_writer(name, &chw_rt_ops, r) != SHJ_OK) {
        if (r->sub) bus_unsubscribe(rt_bus(), r->sub);
        chw_close(r->w, NULL, 0);
        return shj_fail(err, errlen, "cannot register the ClickHouse writer with the runtime");
    }
    return n_routes++;
}

int chw_route_stats(int route, chw_stats *out) {
    if (route < 0 || route >= n_routes) return SHJ_ERR;
    chw_route_t *r = &routes[route];
    if (r->w) chw_get_stats(r->w, out);
    else *out = r->last;
    out->reconciled_rows = r->reconciled;
    return SHJ_OK;
}
