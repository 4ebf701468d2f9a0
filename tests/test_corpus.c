/* test_corpus.c — Sinopac's published SSE samples through the real ingest path.
 *
 * tests/fixtures/sinopac/sse/ holds every SSE market-data sample of Sinopac's
 * docs (one file per sample, the payload as published) and MANIFEST gives,
 * per sample, its provenance and the exact text of every field it maps to.
 * This test:
 *  1. delivers each fixture through src_deliver (the path live data takes:
 *     sequence -> raw archive -> parse -> bus), collects what the bus
 *     publishes and checks, per fixture: the result (events / malformed /
 *     control / other), each expected event's kind, code, time, flags and
 *     every listed field by formatting the event's value back to decimal
 *     text (so the check does not depend on SHJ_PRICE_SCALE), and that every
 *     field MANIFEST does not list is 0 (nothing invented, nothing dropped);
 *     quotes publish their book as a second event with the same seq;
 *  2. replays the raw archive it wrote (parsed on the loop, and by read-ahead
 *     workers) and gets exactly the live events, and the same counters;
 *  3. frames all fixtures as one SSE stream (multi-line data for the
 *     pretty-printed ones) and feeds it to the SSE parser whole, one byte at a
 *     time and in random chunks: every framing gives the payloads back
 *     byte for byte, and parsing them gives the live events.
 * A value with more decimals than SHJ_PRICE_DECIMALS is expected as 0 with
 * SHJ_FLAG_FIELD_LOST (parse.h): decided from the text, so the test holds at
 * any scale. On a mismatch it prints fixture, event and field.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive/archive.h"
#include "core/clock.h"
#include "core/decimal.h"
#include "core/session.h"
#include "core/shj_common.h"
#include "loop/bus.h"
#include "loop/rt.h"
#include "loop/source.h"
#include "lua/raw_route.h"
#include "lua/shj_api.h"
#include "parse/parse.h"
#include "parse/sse.h"
#include "replay/replay.h"
#include "t.h"
#include "t_file.h"

#define MAX_FIX 128
#define MAX_EV_PER_FIX 2
#define MAX_LINES 40
#define MAX_EVENTS 4096

typedef struct {
    char key[32];
    char val[160];
} kv;

typedef struct {
    kv f[MAX_LINES];
    int n;
} exp_event;

typedef struct {
    char file[128], tag[32], source[300], result[16];
    exp_event ev[MAX_EV_PER_FIX];
    int n_ev;
    char *data;
    size_t len;
    uint64_t seq; /* the sequence src_deliver gave it */
} fixture;

static fixture fx[MAX_FIX];
static int n_fx;
static char dir[900];

/* ------------------------------------------------------------ manifest */

static char *slurp(const char *path, size_t *len) { return t_slurp(path, len); }

static int load_manifest(void) {
    char path[1200];
    snprintf(path, sizeof path, "%.900s/MANIFEST", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    char line[1024];
    fixture *cur = NULL;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#') continue;
        char key[32] = "", *val = NULL;
        int indented = line[0] == ' ';
        char *p = line + strspn(line, " ");
        size_t kl = strcspn(p, " ");
        if (kl >= sizeof key) kl = sizeof key - 1;
        memcpy(key, p, kl);
        key[kl] = '\0';
        val = p[kl] ? p + kl + 1 : p + kl;
        if (!strcmp(key, "fixture") && !indented) {
            if (n_fx == MAX_FIX) break;
            cur = &fx[n_fx++];
            memset(cur, 0, sizeof *cur);
            shj_strlcpy(cur->file, val, sizeof cur->file);
            continue;
        }
        if (!cur) continue;
        if (indented) {
            if (cur->n_ev == 0 || cur->ev[cur->n_ev - 1].n == MAX_LINES) continue;
            exp_event *e = &cur->ev[cur->n_ev - 1];
            shj_strlcpy(e->f[e->n].key, key, sizeof e->f[0].key);
            shj_strlcpy(e->f[e->n].val, val, sizeof e->f[0].val);
            e->n++;
        } else if (!strcmp(key, "tag")) {
            shj_strlcpy(cur->tag, val, sizeof cur->tag);
        } else if (!strcmp(key, "source")) {
            shj_strlcpy(cur->source, val, sizeof cur->source);
        } else if (!strcmp(key, "result")) {
            shj_strlcpy(cur->result, val, sizeof cur->result);
        } else if (!strcmp(key, "event") && cur->n_ev < MAX_EV_PER_FIX) {
            cur->n_ev++;
        }
    }
    fclose(f);
    for (int i = 0; i < n_fx; i++) {
        snprintf(path, sizeof path, "%.900s/%.128s", dir, fx[i].file);
        fx[i].data = slurp(path, &fx[i].len);
        if (!fx[i].data) {
            fprintf(stderr, "cannot read fixture %s\n", path);
            return -1;
        }
    }
    return 0;
}

static const char *exp_get(const exp_event *e, const char *key) {
    for (int i = 0; i < e->n; i++)
        if (!strcmp(e->f[i].key, key)) return e->f[i].val;
    return NULL;
}

/* ----------------------------------------------------- event -> text */

enum { D, I64, I32, I8, AD, AI };
typedef struct {
    const char *name;
    int type;
    size_t off;
} fdesc;
#define AT(m) offsetof(shj_event, m)
static const fdesc TRADE_F[] = {
    {"open", D, AT(open)}, {"high", D, AT(high)}, {"low", D, AT(low)}, {"close", D, AT(close)},
    {"avg_price", D, AT(avg_price)}, {"diff_price", D, AT(diff_price)},
    {"diff_rate", D, AT(diff_rate)}, {"amount", D, AT(amount)}, {"amount_sum", D, AT(amount_sum)},
    {"underlying_price", D, AT(underlying_price)}, {"vol_sum", I64, AT(vol_sum)},
    {"bid_side_vol_sum", I64, AT(bid_side_vol_sum)}, {"ask_side_vol_sum", I64, AT(ask_side_vol_sum)},
    {"bar_start_ns", I64, AT(bar_start_ns)}, {"volume", I32, AT(volume)},
    {"period_s", I32, AT(period_s)}, {"trades", I32, AT(trades)}, {"tick_type", I8, AT(tick_type)},
    {"chg_type", I8, AT(chg_type)}};
static const fdesc BOOK_F[] = {
    {"bid_price", AD, AT(bid_price)}, {"ask_price", AD, AT(ask_price)},
    {"bid_volume", AI, AT(bid_volume)}, {"ask_volume", AI, AT(ask_volume)},
    {"diff_bid_vol", AI, AT(diff_bid_vol)}, {"diff_ask_vol", AI, AT(diff_ask_vol)}};

static size_t fmt_field(const shj_event *ev, const fdesc *d, char *out, size_t cap) {
    const char *b = (const char *)ev + d->off;
    int64_t v;
    int32_t v32;
    int8_t v8;
    size_t n = 0;
    char tmp[32];
    switch (d->type) {
    case D: memcpy(&v, b, 8); dec_format(v, tmp); return (size_t)snprintf(out, cap, "%s", tmp);
    case I64: memcpy(&v, b, 8); return (size_t)snprintf(out, cap, "%lld", (long long)v);
    case I32: memcpy(&v32, b, 4); return (size_t)snprintf(out, cap, "%d", v32);
    case I8: memcpy(&v8, b, 1); return (size_t)snprintf(out, cap, "%d", v8);
    case AD:
        for (int i = 0; i < 5; i++) {
            memcpy(&v, b + 8 * i, 8);
            dec_format(v, tmp);
            n += (size_t)snprintf(out + n, cap - n, "%s%s", i ? "," : "", tmp);
        }
        return n;
    default:
        for (int i = 0; i < 5; i++) {
            memcpy(&v32, b + 4 * i, 4);
            n += (size_t)snprintf(out + n, cap - n, "%s%d", i ? "," : "", v32);
        }
        return n;
    }
}

/* "YYYY-MM-DD HH:MM:SS[.ffffff|.fffffffff]" in Taipei (UTC+8) from UTC ns. */
static void fmt_time(int64_t ns, char *out, size_t cap) {
    int64_t t = ns + 8 * 3600 * 1000000000LL;
    int64_t days = t / 86400000000000LL, rem = t % 86400000000000LL;
    if (rem < 0) rem += 86400000000000LL, days--;
    /* civil_from_days (H. Hinnant) */
    int64_t z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    int64_t s = rem / 1000000000LL, frac = rem % 1000000000LL;
    int n = snprintf(out, cap, "%04lld-%02lld-%02lld %02lld:%02lld:%02lld", (long long)y,
                     (long long)m, (long long)d, (long long)(s / 3600), (long long)(s / 60 % 60),
                     (long long)(s % 60));
    if (frac && frac % 1000 == 0)
        snprintf(out + n, cap - (size_t)n, ".%06lld", (long long)(frac / 1000));
    else if (frac)
        snprintf(out + n, cap - (size_t)n, ".%09lld", (long long)frac);
}

static const char *kind_name(int k) {
    static const char *const n[] = {"none", "tick", "bidask", "status", "bar", "quote"};
    return k >= 0 && k < 6 ? n[k] : "?";
}
static const char *sec_name(int s) {
    static const char *const n[] = {"unknown", "stk", "fut", "opt", "ind"};
    return s >= 0 && s < 5 ? n[s] : "?";
}
static const char *ex_name(int e) {
    static const char *const n[] = {"unknown", "tse", "otc", "oes", "taifex"};
    return e >= 0 && e < 5 ? n[e] : "?";
}

static const struct {
    uint32_t bit;
    const char *name;
} FLAG_NAMES[] = {{SHJ_FLAG_SIMTRADE, "simtrade"},   {SHJ_FLAG_SUSPENDED, "suspended"},
                  {SHJ_FLAG_ODDLOT, "oddlot"},       {SHJ_FLAG_BACKFILL, "backfill"},
                  {SHJ_FLAG_REPLAY, "replay"},       {SHJ_FLAG_SIMULATED, "simulated"},
                  {SHJ_FLAG_FIELD_LOST, "field_lost"}};

static void fmt_flags(uint32_t flags, char *out, size_t cap) {
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof FLAG_NAMES / sizeof *FLAG_NAMES; i++)
        if (flags & FLAG_NAMES[i].bit)
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "," : "", FLAG_NAMES[i].name);
    if (!n) snprintf(out, cap, "-");
}

static uint32_t parse_flags(const char *text) {
    uint32_t f = 0;
    for (size_t i = 0; i < sizeof FLAG_NAMES / sizeof *FLAG_NAMES; i++) {
        const char *at = strstr(text, FLAG_NAMES[i].name);
        size_t l = strlen(FLAG_NAMES[i].name);
        if (at && (at == text || at[-1] == ',') && (at[l] == ',' || at[l] == '\0')) f |= FLAG_NAMES[i].bit;
    }
    return f;
}

/* More fractional digits (beyond trailing zeros) than the scale holds, in
 * any entry of a comma list. */
static int too_precise(const char *text) {
    const char *p = text;
    while (*p) {
        const char *e = p + strcspn(p, ",");
        const char *dot = memchr(p, '.', (size_t)(e - p));
        if (dot) {
            const char *last = e - 1;
            while (last > dot && *last == '0') last--;
            if (last - dot > SHJ_PRICE_DECIMALS) return 1;
        }
        p = *e ? e + 1 : e;
    }
    return 0;
}

/* An expected list entry-wise: entries too precise for the scale become 0. */
static void at_scale(const char *want, char *out, size_t cap) {
    size_t n = 0;
    const char *p = want;
    out[0] = '\0';
    while (*p && n < cap) {
        size_t l = strcspn(p, ",");
        char one[64];
        snprintf(one, sizeof one, "%.*s", (int)l, p);
        n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "," : "", too_precise(one) ? "0" : one);
        p += l + (p[l] == ',');
    }
}

static int mismatches;

static void diff(const fixture *f, int k, const char *field, const char *got, const char *want) {
    mismatches++;
    fprintf(stderr, "  MISMATCH %s event %d field %s: got \"%s\" want \"%s\"\n    (%s %s)\n",
            f->file, k + 1, field, got, want, f->tag, f->source);
}

/* Check one published event against its MANIFEST block. */
static void check_event(const fixture *f, int k, const shj_event *ev) {
    const exp_event *e = &f->ev[k];
    char got[400], want[400];
    const char *w;
    int lost = 0;
    if ((w = exp_get(e, "kind")) && strcmp(kind_name(ev->kind), w)) diff(f, k, "kind", kind_name(ev->kind), w);
    if ((w = exp_get(e, "code")) && strcmp(ev->code, w)) diff(f, k, "code", ev->code, w);
    if ((w = exp_get(e, "sec_type")) && strcmp(sec_name(ev->sec_type), w)) diff(f, k, "sec_type", sec_name(ev->sec_type), w);
    if ((w = exp_get(e, "exchange")) && strcmp(ex_name(ev->exchange), w)) diff(f, k, "exchange", ex_name(ev->exchange), w);
    if ((w = exp_get(e, "payload_tag")) && strcmp(psr_tag_name(ev->payload_tag), w))
        diff(f, k, "payload_tag", psr_tag_name(ev->payload_tag), w);
    fmt_time(ev->ts_exch_ns, got, sizeof got);
    if ((w = exp_get(e, "time")) && strcmp(got, w)) diff(f, k, "time", got, w);
    if (ev->seq != f->seq) {
        char a[32], b[32];
        snprintf(a, sizeof a, "%llu", (unsigned long long)ev->seq);
        snprintf(b, sizeof b, "%llu", (unsigned long long)f->seq);
        diff(f, k, "seq", a, b);
    }
    int book = ev->kind == SHJ_KIND_BIDASK;
    const fdesc *fs = book ? BOOK_F : TRADE_F;
    size_t nf = book ? sizeof BOOK_F / sizeof *BOOK_F : sizeof TRADE_F / sizeof *TRADE_F;
    for (size_t i = 0; i < nf; i++) {
        fmt_field(ev, &fs[i], got, sizeof got);
        w = exp_get(e, fs[i].name);
        if (!w) /* not in the payload: must be 0 */
            w = fs[i].type >= AD ? "0,0,0,0,0" : "0";
        at_scale(w, want, sizeof want);
        if (strcmp(want, w)) lost = 1;
        if (strcmp(got, want)) diff(f, k, fs[i].name, got, want);
    }
    /* the union beyond the kind's part, and the tail: zero */
    size_t part_end = book ? AT(diff_ask_vol) + sizeof ev->diff_ask_vol : AT(chg_type) + 1;
    size_t union_end = AT(reserved_tail);
    for (size_t b = part_end; b < union_end; b++)
        if (((const unsigned char *)ev)[b]) {
            snprintf(got, sizeof got, "byte %zu set", b);
            diff(f, k, "(union beyond its part)", got, "0");
            break;
        }
    for (size_t b = 0; b < sizeof ev->reserved_tail; b++)
        if (ev->reserved_tail[b]) {
            diff(f, k, "reserved_tail", "non-zero", "0");
            break;
        }
    uint32_t wf = parse_flags((w = exp_get(e, "flags")) ? w : "-");
    if (lost) wf |= SHJ_FLAG_FIELD_LOST;
    char gf[128], xf[128];
    fmt_flags(ev->flags, gf, sizeof gf);
    fmt_flags(wf, xf, sizeof xf);
    if (strcmp(gf, xf)) diff(f, k, "flags", gf, xf);
}

/* ------------------------------------------------------- the ingest */

typedef struct {
    shj_event *ev;
    size_t n;
} collector;

static size_t collect(void *ctx, const shj_event *evs, size_t n) {
    collector *c = ctx;
    for (size_t i = 0; i < n; i++) {
        if (evs[i].kind == SHJ_KIND_STATUS) continue;
        if (c->n < MAX_EVENTS) c->ev[c->n++] = evs[i];
    }
    return n;
}

static int manual_start(src_source *s, char *err, size_t errlen) {
    SHJ_UNUSED(err);
    SHJ_UNUSED(errlen);
    s->state = SRC_RUNNING;
    return SHJ_OK;
}
static void manual_stop(src_source *s) { s->state = SRC_STOPPED; }
static const src_ops manual_ops = {.type = "manual", .start = manual_start, .stop = manual_stop};

static collector live;
static src_counters live_counts;
static char tmpdir[256], archive_file[16][1200];
static int n_archive_files;

/* Stable order by seq of events (a quote's two events share one): the
 * archive files are trading days (core/session), so replaying them in file
 * order is the live order per day, not overall. */
static const shj_event *sort_base;
static int by_seq(const void *a, const void *b) {
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    uint64_t x = sort_base[i].seq, y = sort_base[j].seq;
    return x < y ? -1 : x > y ? 1 : (i > j) - (i < j);
}
static void sort_by_seq(shj_event *ev, size_t n) {
    size_t *idx = malloc(n * sizeof *idx);
    shj_event *copy = malloc(n * sizeof *copy);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    memcpy(copy, ev, n * sizeof *ev);
    sort_base = copy;
    qsort(idx, n, sizeof *idx, by_seq);
    for (size_t i = 0; i < n; i++) ev[i] = copy[idx[i]];
    free(idx);
    free(copy);
}
static int cmp_path(const void *a, const void *b) { return strcmp(a, b); }

static void test_live(void) {
    char err[512];
    CHECK(rt_init(0) == SHJ_OK);
    static src_source s;
    src_init(&s, &manual_ops, "corpus");
    CHECK(rt_add_source(&s, err, sizeof err) == SHJ_OK);
    char raw[512];
    snprintf(raw, sizeof raw, "%s/raw", tmpdir);
    CHECK(shj_route_raw(&s, raw, 10, 0, 1, err, sizeof err) == SHJ_OK);
    live.ev = calloc(MAX_EVENTS, sizeof *live.ev);
    CHECK(bus_subscribe(rt_bus(), "corpus", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, collect, &live) != NULL);
    uint64_t want_events = 0, want_other = 0, want_control = 0, want_bad = 0;
    for (int i = 0; i < n_fx; i++) {
        fixture *f = &fx[i];
        int tag = psr_tag_from_name(f->tag, strlen(f->tag));
        size_t before = live.n;
        src_counters k0 = s.counters;
        CHECK(src_deliver(&s, tag, f->data, f->len, 1000 + i) == SHJ_OK);
        f->seq = s.next_seq;
        bus_dispatch(rt_bus());
        size_t got = live.n - before;
        if (!strcmp(f->result, "event")) {
            want_events += (uint64_t)f->n_ev;
            if (got != (size_t)f->n_ev) {
                char a[16], b[16];
                snprintf(a, sizeof a, "%zu", got);
                snprintf(b, sizeof b, "%d", f->n_ev);
                diff(f, 0, "(events published)", a, b);
            }
            for (int k = 0; k < f->n_ev && before + (size_t)k < live.n; k++)
                check_event(f, k, &live.ev[before + (size_t)k]);
        } else {
            const char *what = s.counters.malformed > k0.malformed ? "malformed"
                               : s.counters.control > k0.control ? "control"
                               : s.counters.other > k0.other     ? "other"
                                                                 : "event";
            if (got != 0 || strcmp(what, f->result)) diff(f, 0, "(result)", what, f->result);
            want_other += !strcmp(f->result, "other");
            want_control += !strcmp(f->result, "control");
            want_bad += !strcmp(f->result, "malformed");
        }
    }
    CHECK_EQ_I64(mismatches, 0);
    CHECK_EQ_I64(s.counters.payloads, (uint64_t)n_fx);
    CHECK_EQ_I64(s.counters.events, want_events);
    CHECK_EQ_I64(s.counters.other, want_other);
    CHECK_EQ_I64(s.counters.control, want_control);
    CHECK_EQ_I64(s.counters.malformed, want_bad);
    CHECK(want_events >= 40); /* the corpus is really there */
    live_counts = s.counters;
    rt_shutdown();

    char sub[700];
    snprintf(sub, sizeof sub, "%s/corpus", raw);
    DIR *d = opendir(sub);
    struct dirent *de;
    n_archive_files = 0;
    while (d && (de = readdir(d)))
        if (strstr(de->d_name, ".shjraw") && n_archive_files < 16)
            snprintf(archive_file[n_archive_files++], sizeof archive_file[0], "%s/%s", sub, de->d_name);
    if (d) closedir(d);
    qsort(archive_file, (size_t)n_archive_files, sizeof archive_file[0], cmp_path);
    /* the fixtures carry their own dates: one file per trading day */
    CHECK(n_archive_files >= 1);
    /* every payload is in the archive, byte for byte, bad ones included, in
     * the file of its exchange time's trading day (receive time without one) */
    int n = 0, same = 0, right_file = 0;
    for (int k = 0; k < n_archive_files; k++) {
        arc_reader *r = arc_reader_open(archive_file[k], err, sizeof err);
        CHECK(r != NULL);
        arc_record rec;
        while (r && arc_reader_next(r, &rec) == 1) {
            for (int i = 0; i < n_fx; i++)
                if (rec.seq == fx[i].seq && rec.len == fx[i].len && memcmp(rec.data, fx[i].data, rec.len) == 0)
                    same++;
            shj_event ev;
            char perr[200], day[11];
            int prc = psr_parse(rec.tag, rec.data, rec.len, &ev, perr, sizeof perr);
            clk_day_text(ses_trading_day(prc == PSR_EVENT && ev.ts_exch_ns ? ev.ts_exch_ns : rec.recv_ns), day);
            right_file += strstr(archive_file[k], day) != NULL;
            n++;
        }
        if (r) arc_reader_close(r);
    }
    CHECK_EQ_I64(n, n_fx);
    CHECK_EQ_I64(same, n_fx);
    CHECK_EQ_I64(right_file, n_fx);
}

/* Replay the archive: exactly the live events (source_id aside). */
static void test_replay(void) {
    static const int workers[] = {-1, 2};
    for (size_t w = 0; w < 2; w++) {
        char err[512];
        CHECK(rt_init(0) == SHJ_OK);
        const char *all[16];
        for (int k = 0; k < n_archive_files; k++) all[k] = archive_file[k];
        rpl_opts o = {.files = all, .n_files = (size_t)n_archive_files, .progress = 0, .workers = workers[w]};
        src_source *s = rpl_new("replay", &o, err, sizeof err);
        CHECK(s != NULL);
        if (!s) {
            rt_shutdown();
            return;
        }
        CHECK(shj_rt_add_source(s, err, sizeof err) == SHJ_OK);
        collector c = {calloc(MAX_EVENTS, sizeof(shj_event)), 0};
        CHECK(bus_subscribe(rt_bus(), "corpus", SHJ_MASK_ALL, NULL, 0, BUS_BLOCK, collect, &c) != NULL);
        rt_set_status_interval(0);
        CHECK(rt_run(err, sizeof err) == SHJ_OK);
        CHECK_EQ_I64(c.n, live.n);
        sort_by_seq(c.ev, c.n);
        size_t differ = 0;
        for (size_t i = 0; i < c.n && i < live.n; i++) {
            shj_event a = c.ev[i], b = live.ev[i];
            a.source_id = b.source_id = 0;
            if (memcmp(&a, &b, sizeof a) != 0 && differ++ < 3)
                fprintf(stderr, "  replay (workers %d) event %zu (seq %llu, %s) differs from live\n",
                        workers[w], i, (unsigned long long)b.seq, kind_name(b.kind));
        }
        CHECK_EQ_I64(differ, 0);
        CHECK_EQ_I64(s->counters.malformed, live_counts.malformed);
        CHECK_EQ_I64(s->counters.other, live_counts.other);
        CHECK_EQ_I64(s->counters.control, live_counts.control);
        CHECK_EQ_I64(s->counters.field_lost, live_counts.field_lost);
        rt_shutdown();
        free(c.ev);
    }
}

/* ---------------------------------------------------- the SSE framing */

typedef struct {
    int idx, bad;
} sse_check;

static int on_sse(void *ctx, const sse_event *ev) {
    sse_check *c = ctx;
    if (c->idx >= n_fx) {
        c->bad++;
        return 0;
    }
    const fixture *f = &fx[c->idx++];
    if (ev->name_len != strlen(f->tag) || memcmp(ev->name, f->tag, ev->name_len) ||
        ev->data_len != f->len || memcmp(ev->data, f->data, f->len)) {
        if (c->bad++ < 3) fprintf(stderr, "  SSE framing changed %s\n", f->file);
    }
    return 0;
}

/* All fixtures as one SSE stream: one data: line per payload line. */
static char *sse_stream(size_t *len) {
    size_t cap = 1 << 20, n = 0;
    char *b = malloc(cap);
    for (int i = 0; i < n_fx; i++) {
        n += (size_t)snprintf(b + n, cap - n, "event: %s\n", fx[i].tag);
        const char *p = fx[i].data, *e = p + fx[i].len;
        while (p <= e) {
            const char *nl = memchr(p, '\n', (size_t)(e - p));
            const char *le = nl ? nl : e;
            n += (size_t)snprintf(b + n, cap - n, "data: %.*s\n", (int)(le - p), p);
            if (!nl) break;
            p = nl + 1;
        }
        n += (size_t)snprintf(b + n, cap - n, "\n");
    }
    *len = n;
    return b;
}

static void test_sse_framing(void) {
    size_t len;
    char *stream = sse_stream(&len);
    srand(77);
    for (int mode = 0; mode < 3; mode++) { /* whole, byte by byte, random chunks */
        for (int round = 0; round < (mode == 2 ? 20 : 1); round++) {
            sse_parser p;
            sse_check c = {0, 0};
            sse_init(&p, on_sse, &c);
            size_t at = 0;
            while (at < len) {
                size_t k = mode == 0 ? len - at : mode == 1 ? 1 : 1 + (size_t)rand() % 300;
                if (k > len - at) k = len - at;
                char *chunk = malloc(k); /* exact-size: ASan sees any read past it */
                memcpy(chunk, stream + at, k);
                CHECK(sse_feed(&p, chunk, k) == SHJ_OK);
                free(chunk);
                at += k;
            }
            CHECK_EQ_I64(c.idx, n_fx);
            CHECK_EQ_I64(c.bad, 0);
            sse_free(&p);
        }
    }
    free(stream);
    /* and the payloads parse to the live events (psr_parse + psr_parse_book,
     * what src_deliver does), ts_recv/seq/source aside */
    size_t li = 0, differ = 0;
    for (int i = 0; i < n_fx; i++) {
        int tag = psr_tag_from_name(fx[i].tag, strlen(fx[i].tag));
        shj_event ev[2];
        char err[256];
        int n = 0;
        if (psr_parse(tag, fx[i].data, fx[i].len, &ev[0], err, sizeof err) == PSR_EVENT) {
            n = 1;
            if (psr_tag_has_book(tag) &&
                psr_parse_book(tag, fx[i].data, fx[i].len, &ev[1], err, sizeof err) == PSR_EVENT)
                n = 2;
        }
        for (int k = 0; k < n; k++, li++) {
            if (li >= live.n) {
                differ++;
                continue;
            }
            shj_event a = ev[k], b = live.ev[li];
            a.seq = b.seq, a.ts_recv_ns = b.ts_recv_ns, a.source_id = b.source_id;
            if (memcmp(&a, &b, sizeof a) != 0) differ++;
        }
    }
    CHECK_EQ_I64(li, live.n);
    CHECK_EQ_I64(differ, 0);
}

int main(void) {
    const char *src = getenv("SHJ_SOURCE_DIR");
    snprintf(dir, sizeof dir, "%.800s/tests/fixtures/sinopac/sse", src ? src : ".");
    snprintf(tmpdir, sizeof tmpdir, "/tmp/shj-corpus-XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    shj_log_set_level(SHJ_LOG_ERROR); /* the malformed samples would log once each */
    CHECK(load_manifest() == 0);
    CHECK(n_fx >= 40);
    if (n_fx) {
        test_live();
        test_replay();
        test_sse_framing();
    }
    for (int i = 0; i < n_fx; i++) free(fx[i].data);
    free(live.ev);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "cleanup failed\n");
    if (mismatches) fprintf(stderr, "%d field mismatches (see above)\n", mismatches);
    T_DONE();
}
