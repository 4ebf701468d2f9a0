/* source.c — the one ingest path every source uses (see source.h).
 *
 * Order per payload: sequence -> parse (into an unpublished slot: the
 * exchange time picks the archive file) -> raw archive -> bus. Archiving
 * before publishing means a payload we could not parse (or that crashed nothing but was odd) is
 * still on disk exactly as delivered, and replay sees the same bytes.
 */
#include "loop/source.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "archive/archive.h"
#include "loop/bus.h"
#include "core/clock.h"
#include "core/session.h"
#include "core/names.h"
#include "parse/parse.h"
#include "core/shj_common.h"

void src_init(src_source *s, const src_ops *ops, const char *name) {
    memset(s, 0, sizeof *s);
    s->ops = ops;
    shj_strlcpy(s->name, name && *name ? name : ops->type, sizeof s->name);
    s->state = SRC_NEW;
}

int src_ready(const src_source *s, size_t len) {
    /* bus_claim is the O(1) room check (a claimed, uncommitted slot is just
     * handed out again); bus_free_slots would walk the subscribers. */
    if (!s->bus || bus_claim(s->bus) == NULL) return 0;
    if (s->raw && !arc_ready(s->raw, len)) return 0;
    return 1;
}

/* Log a bad payload once per tag: a flood of identical warnings would hide
 * everything else, and the counters keep the exact number. */
static void log_bad_once(src_source *s, int tag, const char *what, const char *data, size_t len) {
    uint32_t bit = 1u << (tag & 31);
    if (s->logged_bad_tags & bit) return;
    s->logged_bad_tags |= bit;
    int show = len > 300 ? 300 : (int)len;
    shj_log(SHJ_LOG_WARN, "source %s: %s (seq %llu, logged once per event kind): %.*s%s", s->name,
            what, (unsigned long long)s->next_seq, show, data, len > 300 ? "..." : "");
}

/* ev: the slot the caller claimed, holding the parser's result rc (err
 * says why when it is not an event): count it, and commit it if it is one. */
static int publish(src_source *s, shj_event *ev, int rc, const char *err, int tag,
                   const char *data, size_t len, int64_t recv_ns, uint64_t seq,
                   uint32_t extra_flags) {
    if (rc == PSR_CONTROL) {
        s->counters.control++;
        return SHJ_OK; /* slot not committed: it is reused by the next claim */
    }
    if (rc == PSR_OTHER) {
        s->counters.other++;
        if (tag == PSR_TAG_UNKNOWN) s->counters.unknown++;
        return SHJ_OK;
    }
    if (rc != PSR_EVENT) {
        if (tag == PSR_TAG_UNKNOWN)
            s->counters.unknown++;
        else
            s->counters.malformed++;
        log_bad_once(s, tag, err, data, len);
        return SHJ_OK;
    }
    ev->seq = seq;
    ev->ts_recv_ns = recv_ns;
    ev->source_id = s->source_id;
    ev->flags |= extra_flags;
    bus_commit(s->bus);
    s->counters.events++;
    if (ev->kind < SHJ_KIND_MAX) s->counters.per_kind[ev->kind]++;
    if (ev->flags & SHJ_FLAG_FIELD_LOST) s->counters.field_lost++;
    return SHJ_OK;
}

/* A quote's second event, its book, right after the QUOTE (rc is the
 * QUOTE's result); room for it was checked with has_room. */
static void publish_book(src_source *s, int rc, int tag, const char *data, size_t len,
                         int64_t recv_ns, uint64_t seq, uint32_t extra_flags) {
    if (rc != PSR_EVENT || !psr_tag_has_book(tag)) return;
    shj_event *ev = bus_claim(s->bus);
    char err[200];
    int brc = psr_parse_book(tag, data, len, ev, err, sizeof err);
    if (brc == PSR_CONTROL) return; /* no book in this quote; not a heartbeat */
    publish(s, ev, brc, err, tag, data, len, recv_ns, seq, extra_flags);
}

/* Room on the bus for what tag publishes (a quote: two events). */
static int has_room(const src_source *s, int tag) {
    if (!s->bus || bus_claim(s->bus) == NULL) return 0;
    return !psr_tag_has_book(tag) || bus_free_slots(s->bus) >= 2;
}

/* ev: the slot the caller claimed (src_ready / src_deliver_recorded made sure
 * there is one). */
static int parse_and_publish(src_source *s, shj_event *ev, int tag, const char *data, size_t len,
                             int64_t recv_ns, uint64_t seq, uint32_t extra_flags) {
    char err[200];
    int rc = psr_parse(tag, data, len, ev, err, sizeof err);
    int r = publish(s, ev, rc, err, tag, data, len, recv_ns, seq, extra_flags);
    publish_book(s, rc, tag, data, len, recv_ns, seq, extra_flags);
    return r;
}

int src_deliver(src_source *s, int tag, const char *data, size_t len, int64_t recv_ns) {
    return src_deliver_flags(s, tag, data, len, recv_ns, 0);
}

int src_deliver_flags(src_source *s, int tag, const char *data, size_t len, int64_t recv_ns,
                      uint32_t extra_flags) {
    if (!src_ready(s, len) || !has_room(s, tag)) {
        s->counters.pauses++;
        return SHJ_AGAIN;
    }
    uint64_t seq = s->next_seq + 1;
    /* Parsed into the claimed (uncommitted) slot before archiving: the
     * payload's trading day comes from its exchange time (core/session), and
     * only the parser knows it. A retry after SHJ_AGAIN parses again (the
     * parser is pure; its memo is a cache), and nothing is published until
     * the payload is on its way to disk. */
    shj_event *ev = bus_claim(s->bus);
    char err[200];
    int prc = psr_parse(tag, data, len, ev, err, sizeof err);
    if (s->raw) {
        int64_t t = prc == PSR_EVENT && ev->ts_exch_ns ? ev->ts_exch_ns : recv_ns;
        int rc = arc_append_day(s->raw, (uint8_t)tag, data, (uint32_t)len, recv_ns, seq,
                                ses_trading_day(t));
        if (rc == SHJ_AGAIN) {
            s->counters.pauses++;
            return SHJ_AGAIN;
        }
        if (rc != SHJ_OK) {
            shj_log(SHJ_LOG_ERROR, "source %s: raw archive failed: %s", s->name, arc_error(s->raw));
            return SHJ_ERR;
        }
    }
    s->next_seq = seq;
    s->counters.payloads++;
    int r = publish(s, ev, prc, err, tag, data, len, recv_ns, seq, extra_flags);
    publish_book(s, prc, tag, data, len, recv_ns, seq, extra_flags);
    return r;
}

int src_deliver_recorded(src_source *s, int tag, const char *data, size_t len, int64_t recv_ns,
                         uint64_t seq, uint32_t extra_flags) {
    if (!has_room(s, tag)) {
        s->counters.pauses++;
        return SHJ_AGAIN;
    }
    shj_event *ev = bus_claim(s->bus);
    s->next_seq = seq;
    s->counters.payloads++;
    return parse_and_publish(s, ev, tag, data, len, recv_ns, seq, extra_flags);
}

int src_deliver_parsed(src_source *s, const shj_event *parsed, int tag, const char *data,
                       size_t len, int64_t recv_ns, uint64_t seq, uint32_t extra_flags) {
    if (!has_room(s, tag)) {
        s->counters.pauses++;
        return SHJ_AGAIN;
    }
    shj_event *ev = bus_claim(s->bus);
    s->next_seq = seq;
    s->counters.payloads++;
    *ev = *parsed;
    char err[200];
    int rc = psr_resolve(ev, err, sizeof err);
    int r = publish(s, ev, rc, err, tag, data, len, recv_ns, seq, extra_flags);
    /* The book half is parsed here, on the loop: same event as live. */
    publish_book(s, rc, tag, data, len, recv_ns, seq, extra_flags);
    return r;
}

int src_publish_status(src_source *s, int status, const char *code, int64_t gap_start_ns,
                       int64_t gap_end_ns, int http_status, const char *detail) {
    shj_event *ev = s->bus ? bus_claim(s->bus) : NULL;
    if (!ev) return SHJ_AGAIN;
    memset(ev, 0, sizeof *ev);
    ev->kind = SHJ_KIND_STATUS;
    ev->source_id = s->source_id;
    ev->ts_recv_ns = ev->ts_exch_ns = clk_now_ns();
    ev->seq = s->next_seq; /* the last payload before the status: orders it in the stream */
    shj_strlcpy(ev->code, code ? code : "", sizeof ev->code);
    ev->status = status;
    ev->http_status = http_status;
    ev->gap_start_ns = gap_start_ns;
    ev->gap_end_ns = gap_end_ns;
    shj_strlcpy(ev->detail, detail ? detail : "", sizeof ev->detail);
    bus_commit(s->bus);
    s->counters.events++;
    s->counters.per_kind[SHJ_KIND_STATUS]++;
    return SHJ_OK;
}

uint32_t src_kinds_from_text(const char *text, char *err, size_t errlen) {
    uint32_t mask = 0;
    const char *p = text ? text : "";
    while (*p) {
        while (*p == ',' || *p == ' ') p++;
        const char *start = p;
        while (*p && *p != ',' && *p != ' ') p++;
        size_t n = (size_t)(p - start);
        if (!n) break;
        int kind = nm_kind_of(start, n); /* "none" is no kind to subscribe */
        if (kind > SHJ_KIND_NONE) mask |= shj_kind_bit(kind);
        else {
            shj_fail(err, errlen, "unknown event kind \"%.*s\" (use tick, bidask, quote)", (int)n,
                     start);
            return 0;
        }
    }
    if (!mask) shj_fail(err, errlen, "no event kind given (use tick, bidask, quote)");
    return mask;
}
