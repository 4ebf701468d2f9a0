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
#include <unistd.h>

#include "core/decimal.h"
#include "core/event_json.h"
#include "core/instrument.h"
#include "core/names.h"
#include "core/resolved.h"
#include "loop/rt.h"
#include "core/shj_common.h"
#include "core/shj_event.h"
#include "loop/source.h"

int shj_abi_version(void) { return SHJ_ABI_VERSION; }
const char *shj_version(void) { return SHJ_VERSION; }

/* $SHIJIM_HOME; else an installed layout next to the executable
 * (<prefix>/bin/shijim -> <prefix>/share/shijim, what `cmake --install`
 * lays out), so an installed shijim works from any directory and after the
 * source tree is gone; else the tree it was built from. */
const char *shj_home(void) {
    const char *env = getenv("SHIJIM_HOME");
    if (env && *env) return env;
    static char installed[4096];
    static int looked;
    if (!looked) {
        looked = 1;
        char exe[3000]; /* leaves room for the suffixes below */
        ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
        if (n > 0) {
            exe[n] = '\0';
            char *slash = strrchr(exe, '/');
            if (slash) {
                *slash = '\0';
                char probe[4200];
                snprintf(installed, sizeof installed, "%s/../share/shijim", exe);
                snprintf(probe, sizeof probe, "%s/scripts/shijim/init.lua", installed);
                if (access(probe, R_OK) != 0) installed[0] = '\0';
            }
        }
    }
    return installed[0] ? installed : SHJ_HOME_DEFAULT;
}

int shj_rt_init(size_t bus_capacity) { return rt_init(bus_capacity); }
int shj_rt_add_source(src_source *s, char *err, size_t errlen) { return rt_add_source(s, err, errlen); }
void shj_rt_set_status_interval(int interval_ms) { rt_set_status_interval(interval_ms); }
void shj_rt_set_limits(double duration_s, uint64_t max_events) { rt_set_limits(duration_s, max_events); }
uint64_t shj_rt_events_published(void) { return rt_events_published(); }

const char *shj_src_name(const src_source *s) { return s->name; }
const char *shj_src_type(const src_source *s) { return s->ops->type; }

static int parse_sec_type(const char *text, int *out, char *err, size_t errlen) {
    *out = SHJ_SEC_UNKNOWN;
    if (!text || !*text) return SHJ_OK;
    int v = nm_sec_type_of(text, strlen(text));
    if (v <= 0) return shj_fail(err, errlen, "unknown security_type \"%s\" (use STK, FUT, OPT, IND)", text);
    *out = v;
    return SHJ_OK;
}

static int parse_exchange(const char *text, int *out, char *err, size_t errlen) {
    *out = SHJ_EX_UNKNOWN;
    if (!text || !*text) return SHJ_OK;
    int v = nm_exchange_of(text, strlen(text));
    if (v <= 0) return shj_fail(err, errlen, "unknown exchange \"%s\" (use TSE, OTC, OES, TAIFEX)", text);
    *out = v;
    return SHJ_OK;
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
    /* a continuous alias the source resolved now: the process-wide map (core/resolved.h) */
    if (s->last_resolved[0]) rsv_note(code, s->last_resolved, req.exchange, req.sec_type, s->source_id);
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

/* Small helpers ------------------------------------------------------------ */

uint32_t shj_inst_intern(const char *code) {
    return inst_intern(code, strlen(code), SHJ_EX_UNKNOWN, SHJ_SEC_UNKNOWN);
}

const char *shj_decimal(int64_t scaled, char *buf) {
    dec_format(scaled, buf);
    return buf;
}

size_t shj_event_json(const void *ev, char *buf, size_t cap) { return evj_format(ev, buf, cap); }

int shj_isatty(int fd) { return isatty(fd); }
