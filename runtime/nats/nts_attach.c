/* nts_attach.c — the JetStream publisher plugged into the runtime (nts_route
 * in nts_pub.h): a BUS_BLOCK subscription that always takes every event
 * (nts_pub_push never refuses: what the ring cannot hold becomes a gap), rt
 * writer ops (status line, close at shutdown). Routes outlive their
 * publisher so that Lua can read the final stats.
 */
#include <stdio.h>
#include <string.h>

#include "core/shj_common.h"
#include "loop/bus.h"
#include "loop/rt.h"
#include "loop/source.h"
#include "nats/nts_pub.h"

#define NTS_MAX_ROUTES 16

typedef struct nts_route_t {
    nts_pub *p;
    bus_sub *sub;
    src_source *src;
    nts_pub_stats last;
} nts_route_t;

static nts_route_t routes[NTS_MAX_ROUTES];
static int n_routes;

static size_t deliver(void *ctx, const shj_event *evs, size_t n) {
    nts_route_t *r = ctx;
    if (!r->p) return n;
    uint16_t id = r->src->source_id;
    size_t i = 0;
    while (i < n) {
        if (evs[i].source_id != id) {
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && evs[j].source_id == id) j++;
        nts_pub_push(r->p, evs + i, j - i);
        i = j;
    }
    return n;
}

static void op_poll(void *w, int64_t now_mono_ns) {
    SHJ_UNUSED(w);
    SHJ_UNUSED(now_mono_ns);
}

static size_t op_status(void *w, char *buf, size_t cap) {
    nts_route_t *r = w;
    return r->p ? nts_pub_status(r->p, buf, cap) : 0;
}

static int op_close(void *w, char *err, size_t errlen) {
    nts_route_t *r = w;
    if (r->sub) {
        bus_unsubscribe(rt_bus(), r->sub);
        r->sub = NULL;
    }
    if (!r->p) return SHJ_OK;
    int rc = nts_pub_close(r->p, &r->last, err, errlen);
    r->p = NULL;
    return rc;
}

static const rt_writer_ops nts_rt_ops = {
    .type = "nats",
    .poll = op_poll,
    .status = op_status,
    .close = op_close,
};

int nts_route(src_source *src, const nts_pub_opts *opts, char *err, size_t errlen) {
    if (!src) return shj_fail(err, errlen, "nats: a route needs a source");
    if (rt_init(0) != SHJ_OK) return shj_fail(err, errlen, "runtime init failed");
    if (n_routes == NTS_MAX_ROUTES)
        return shj_fail(err, errlen, "too many NATS routes (max %d)", NTS_MAX_ROUTES);
    nts_route_t *r = &routes[n_routes];
    memset(r, 0, sizeof *r);
    r->src = src;
    nts_pub_opts o = *opts;
    if (!o.source || !*o.source) o.source = src->name;
    if (!(r->p = nts_pub_open(&o, err, errlen))) return SHJ_ERR;
    char name[40];
    snprintf(name, sizeof name, "nats %.30s", src->name);
    r->sub = bus_subscribe(rt_bus(), name, SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, deliver, r);
    if (!r->sub || rt_add_writer(name, &nts_rt_ops, r) != SHJ_OK) {
        if (r->sub) bus_unsubscribe(rt_bus(), r->sub);
        nts_pub_close(r->p, NULL, NULL, 0);
        r->p = NULL;
        return shj_fail(err, errlen, "cannot register the NATS publisher with the runtime");
    }
    return n_routes++;
}

int nts_route_stats(int route, nts_pub_stats *out) {
    if (route < 0 || route >= n_routes) return SHJ_ERR;
    nts_route_t *r = &routes[route];
    if (r->p) nts_pub_get_stats(r->p, out);
    else *out = r->last;
    return SHJ_OK;
}
