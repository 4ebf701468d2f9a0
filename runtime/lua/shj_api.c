/* shj_api.c — the flat FFI entry points of shj_api.h.
 *
 * Thin on purpose: text arguments from Lua are validated and mapped to enum
 * values here, then handed to rt, sources and the archive. Errors come back
 * as SHJ_ERR with a message naming the argument, for Lua to raise.
 */
#include "lua/shj_api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "archive/archive.h"
#include "core/clock.h"
#include "core/decimal.h"
#include "core/event_json.h"
#include "core/instrument.h"
#include "loop/rt.h"
#include "core/shj_common.h"
#include "core/shj_event.h"
#include "loop/source.h"

int shj_abi_version(void) { return SHJ_ABI_VERSION; }
const char *shj_version(void) { return SHJ_VERSION; }

const char *shj_home(void) {
    const char *env = getenv("SHIJIM_HOME");
    return env && *env ? env : SHJ_HOME_DEFAULT;
}

int shj_rt_init(size_t bus_capacity) { return rt_init(bus_capacity); }
int shj_rt_add_source(src_source *s, char *err, size_t errlen) { return rt_add_source(s, err, errlen); }
void shj_rt_stop(const char *reason) { rt_stop(reason); }
void shj_rt_set_status_interval(int interval_ms) { rt_set_status_interval(interval_ms); }
void shj_rt_set_limits(double duration_s, uint64_t max_events) { rt_set_limits(duration_s, max_events); }
uint64_t shj_rt_events_published(void) { return rt_events_published(); }

const char *shj_src_name(const src_source *s) { return s->name; }
const char *shj_src_type(const src_source *s) { return s->ops->type; }

static int parse_sec_type(const char *text, int *out, char *err, size_t errlen) {
    static const char *names[] = {"", "STK", "FUT", "OPT", "IND"};
    *out = SHJ_SEC_UNKNOWN;
    if (!text || !*text) return SHJ_OK;
    for (int i = 1; i < 5; i++)
        if (strcasecmp(text, names[i]) == 0) {
            *out = i;
            return SHJ_OK;
        }
    return shj_fail(err, errlen, "unknown security_type \"%s\" (use STK, FUT, OPT, IND)", text);
}

static int parse_exchange(const char *text, int *out, char *err, size_t errlen) {
    static const char *names[] = {"", "TSE", "OTC", "OES", "TAIFEX"};
    *out = SHJ_EX_UNKNOWN;
    if (!text || !*text) return SHJ_OK;
    for (int i = 1; i < 5; i++)
        if (strcasecmp(text, names[i]) == 0) {
            *out = i;
            return SHJ_OK;
        }
    return shj_fail(err, errlen, "unknown exchange \"%s\" (use TSE, OTC, OES, TAIFEX)", text);
}

static int build_request(src_sub_req *req, const char *code, const char *security_type,
                         const char *exchange, const char *kinds, int odd_lot, char *err,
                         size_t errlen) {
    memset(req, 0, sizeof *req);
    if (!code || !*code || strlen(code) >= SHJ_CODE_MAX)
        return shj_fail(err, errlen, "bad instrument code \"%s\" (1..15 characters)", code ? code : "");
    req->code = code;
    req->odd_lot = odd_lot;
    if (parse_sec_type(security_type, &req->sec_type, err, errlen) != SHJ_OK) return SHJ_ERR;
    if (parse_exchange(exchange, &req->exchange, err, errlen) != SHJ_OK) return SHJ_ERR;
    req->kind_mask = src_kinds_from_text(kinds && *kinds ? kinds : "tick,bidask", err, errlen);
    return req->kind_mask ? SHJ_OK : SHJ_ERR;
}

int shj_src_subscribe(src_source *s, const char *code, const char *security_type,
                      const char *exchange, const char *kinds, int odd_lot, char *resolved,
                      char *err, size_t errlen) {
    src_sub_req req;
    if (build_request(&req, code, security_type, exchange, kinds, odd_lot, err, errlen) != SHJ_OK)
        return SHJ_ERR;
    if (!s->ops->subscribe) return shj_fail(err, errlen, "source %s cannot subscribe", s->name);
    s->last_resolved[0] = '\0';
    if (s->ops->subscribe(s, &req, err, errlen) != SHJ_OK) return SHJ_ERR;
    if (resolved) /* sources that resolve aliases say so in last_resolved */
        shj_strlcpy(resolved, s->last_resolved[0] ? s->last_resolved : code, SHJ_CODE_MAX);
    return SHJ_OK;
}

int shj_src_unsubscribe(src_source *s, const char *code, const char *security_type,
                        const char *exchange, const char *kinds, int odd_lot, char *err,
                        size_t errlen) {
    src_sub_req req;
    if (build_request(&req, code, security_type, exchange, kinds, odd_lot, err, errlen) != SHJ_OK)
        return SHJ_ERR;
    if (!s->ops->unsubscribe) return shj_fail(err, errlen, "source %s cannot unsubscribe", s->name);
    return s->ops->unsubscribe(s, &req, err, errlen);
}

uint64_t shj_src_counter(const src_source *s, const char *name) {
    const src_counters *k = &s->counters;
    if (!strcmp(name, "payloads")) return k->payloads;
    if (!strcmp(name, "events")) return k->events;
    if (!strcmp(name, "tick")) return k->per_kind[SHJ_KIND_TICK];
    if (!strcmp(name, "bidask")) return k->per_kind[SHJ_KIND_BIDASK];
    if (!strcmp(name, "quote")) return k->per_kind[SHJ_KIND_QUOTE];
    if (!strcmp(name, "status")) return k->per_kind[SHJ_KIND_STATUS];
    if (!strcmp(name, "bar")) return k->per_kind[SHJ_KIND_BAR];
    if (!strcmp(name, "malformed")) return k->malformed;
    if (!strcmp(name, "unknown")) return k->unknown;
    if (!strcmp(name, "other")) return k->other;
    if (!strcmp(name, "field_lost")) return k->field_lost;
    if (!strcmp(name, "control")) return k->control;
    if (!strcmp(name, "pauses")) return k->pauses;
    if (!strcmp(name, "last_seq")) return s->next_seq;
    return 0;
}

void shj_src_free(src_source *s) {
    if (!s) return;
    if (s->state != SRC_STOPPED && s->state != SRC_NEW && s->loop && s->ops->stop) s->ops->stop(s);
    if (s->ops->free) s->ops->free(s);
}

/* Raw archive as an rt writer ----------------------------------------------- */

typedef struct raw_route {
    arc_writer *w;
    src_source *src;
    int64_t last_mono;
    uint64_t last_bytes;
} raw_route;

static void raw_poll(void *p, int64_t now_mono_ns) {
    raw_route *r = p;
    arc_poll(r->w, now_mono_ns);
}

static size_t raw_status(void *p, char *buf, size_t cap) {
    raw_route *r = p;
    arc_stats st;
    arc_get_stats(r->w, &st);
    int64_t now = clk_mono_ns();
    double dt = (double)(now - r->last_mono) / 1e9;
    double mbs = dt > 0 ? (double)(st.bytes_written - r->last_bytes) / dt / 1e6 : 0;
    r->last_mono = now;
    r->last_bytes = st.bytes_written;
    double ratio = st.bytes_written ? (double)st.bytes_raw / (double)st.bytes_written : 0;
    int n = snprintf(buf, cap, "%.1f MB/s, %.1fx, durable %llu%s", mbs, ratio,
                     (unsigned long long)st.durable_records, st.failed ? " FAILED" : "");
    return n < 0 ? 0 : ((size_t)n >= cap ? cap - 1 : (size_t)n);
}

static int raw_close(void *p, char *err, size_t errlen) {
    raw_route *r = p;
    arc_stats st;
    arc_get_stats(r->w, &st);
    int rc = arc_close(r->w, err, errlen);
    r->src->raw = NULL;
    if (rc == SHJ_OK)
        shj_log(SHJ_LOG_INFO, "raw archive %s: %llu records fsynced", r->src->name,
                (unsigned long long)st.records);
    free(r);
    return rc;
}

static const rt_writer_ops raw_ops = {
    .type = "raw", .poll = raw_poll, .status = raw_status, .close = raw_close};

int shj_route_raw(src_source *s, const char *dir, int fsync_ms, int fsync_records, int compress,
                  char *err, size_t errlen) {
    if (s->raw) return shj_fail(err, errlen, "source %s already has a raw archive", s->name);
    arc_opts o = {.dir = dir,
                  .source = s->name,
                  .fsync_ms = fsync_ms,
                  .fsync_records = fsync_records,
                  .compress = compress};
    arc_writer *w = arc_open(&o, err, errlen);
    if (!w) return SHJ_ERR;
    raw_route *r = calloc(1, sizeof *r);
    if (!r) {
        arc_close(w, NULL, 0);
        return shj_fail(err, errlen, "out of memory");
    }
    r->w = w;
    r->src = s;
    r->last_mono = clk_mono_ns();
    s->raw = w;
    char name[40];
    snprintf(name, sizeof name, "raw %s", s->name);
    return rt_add_writer(name, &raw_ops, r);
}

/* Small helpers ------------------------------------------------------------ */

uint32_t shj_inst_id(const char *code) { return inst_find(code, strlen(code)); }
uint32_t shj_inst_intern(const char *code) {
    return inst_intern(code, strlen(code), SHJ_EX_UNKNOWN, SHJ_SEC_UNKNOWN);
}

const char *shj_decimal(int64_t scaled, char *buf) {
    dec_format(scaled, buf);
    return buf;
}

size_t shj_event_json(const void *ev, char *buf, size_t cap) { return evj_format(ev, buf, cap); }

const char *shj_taipei_text(int64_t utc_ns, char *buf) {
    char d[11], t[16];
    clk_taipei_date(utc_ns, d);
    clk_taipei_time(utc_ns, t);
    snprintf(buf, 32, "%s %s", d, t);
    return buf;
}

int64_t shj_now_ns(void) { return clk_now_ns(); }
