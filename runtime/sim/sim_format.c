/* sim_format.c — the text of the simulated market's payloads.
 *
 * Owns: the four Shioaji SSE payload layouts (tick_stk, tick_fop,
 * bidask_stk, bidask_fop) in two spellings: Shioaji 1.7.x (the default;
 * names, key order and the keys present as Sinopac publishes them,
 * Sinotrade.github.io@4c63dd4 tutor/market_data/streaming/stocks/index.md:
 * 296-327, :616-630, futures/index.md:201-223, :365-384) and Shioaji 1.5.0
 * (sim_config.payload_v150: vol_sum, diff_price, diff_rate, amount_sum,
 * trade_bid_vol_sum, target_kind_price ..., docs/shioaji-payloads.md) —
 * and the integer/decimal/time formatting they need.
 *
 * Every payload ends with "simulated":true (see put_end) unless
 * sim_config.plain.
 *
 * Guarantees: valid JSON; prices, amounts and rates are decimal strings in
 * their shortest exact form ("1025", "180.5", "-0.05"); volumes are JSON
 * integers; time is "HH:MM:SS.ffffff". No snprintf and no floating point: this
 * is the hot path of the end-to-end benchmark, so every number is written by
 * hand with a two-digits-at-a-time table, the per-day "code + date" prefix and
 * the book's price arrays are cached text, and the "HH:MM:SS." part is reused
 * while the second does not change.
 */
#include "core/shj_event.h"
#include "sim/sim_internal.h"

#define PUT(p, lit) (memcpy((p), (lit), sizeof(lit) - 1), (p) + sizeof(lit) - 1)

static const char dig2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

static inline int digits_u64(uint64_t v) {
    int n = 1;
    while (v >= 10000) {
        v /= 10000;
        n += 4;
    }
    return n + (v >= 10) + (v >= 100) + (v >= 1000);
}

/* Written back to front straight into p: no temporary, no variable memcpy. */
char *sim_fmt_u64(char *p, uint64_t v) {
    if (v < 10) {
        *p = (char)('0' + v);
        return p + 1;
    }
    if (v < 100) {
        memcpy(p, dig2 + 2 * v, 2);
        return p + 2;
    }
    char *e = p + digits_u64(v), *q = e;
    while (v >= 100) {
        uint64_t d = v / 100;
        unsigned r = (unsigned)(v - d * 100);
        v = d;
        q -= 2;
        memcpy(q, dig2 + 2 * r, 2);
    }
    if (v >= 10) memcpy(q - 2, dig2 + 2 * v, 2);
    else q[-1] = (char)('0' + v);
    return e;
}

char *sim_fmt_i64(char *p, int64_t v) {
    if (v < 0) {
        *p++ = '-';
        return sim_fmt_u64(p, -(uint64_t)v);
    }
    return sim_fmt_u64(p, (uint64_t)v);
}

/* Level volumes (mostly 1-4 digits) dominate bid/ask payloads. */
static inline char *fmt_small(char *p, uint32_t v) {
    if (v < 10) {
        *p = (char)('0' + v);
        return p + 1;
    }
    if (v < 100) {
        memcpy(p, dig2 + 2 * v, 2);
        return p + 2;
    }
    if (v < 1000) {
        *p = (char)('0' + v / 100);
        memcpy(p + 1, dig2 + 2 * (v % 100), 2);
        return p + 3;
    }
    if (v < 10000) {
        memcpy(p, dig2 + 2 * (v / 100), 2);
        memcpy(p + 2, dig2 + 2 * (v % 100), 2);
        return p + 4;
    }
    return sim_fmt_u64(p, v);
}

/* c hundredths -> shortest exact decimal: 102500 -> "1025", 18050 -> "180.5". */
char *sim_fmt_cents(char *p, int64_t c) {
    uint64_t u;
    if (c < 0) {
        *p++ = '-';
        u = -(uint64_t)c;
    } else {
        u = (uint64_t)c;
    }
    uint64_t ip = u / 100;
    unsigned f = (unsigned)(u - ip * 100);
    p = sim_fmt_u64(p, ip);
    if (f) {
        *p++ = '.';
        *p++ = (char)('0' + f / 10);
        if (f % 10) *p++ = (char)('0' + f % 10);
    }
    return p;
}

/* m millionths -> shortest exact decimal: 40461608055000 -> "40461.608055",
 * 1025500000 -> "1025.5". */
char *sim_fmt_micros(char *p, int64_t m) {
    uint64_t u;
    if (m < 0) {
        *p++ = '-';
        u = -(uint64_t)m;
    } else {
        u = (uint64_t)m;
    }
    uint64_t ip = u / SIM_MICROS;
    unsigned f = (unsigned)(u - ip * SIM_MICROS);
    p = sim_fmt_u64(p, ip);
    if (f) {
        char d[SIM_WIRE_DECIMALS];
        int n = SIM_WIRE_DECIMALS;
        for (int i = SIM_WIRE_DECIMALS - 1; i >= 0; i--, f /= 10) d[i] = (char)('0' + f % 10);
        while (d[n - 1] == '0') n--; /* f != 0: some digit is not */
        *p++ = '.';
        memcpy(p, d, (size_t)n);
        p += n;
    }
    return p;
}

void sim_fmt_prefix(sim_inst *in, const char *date) {
    char *p = in->prefix;
    p = PUT(p, "{\"code\":\"");
    memcpy(p, in->code, in->code_len);
    p += in->code_len;
    p = PUT(p, "\",\"date\":\"");
    memcpy(p, date, 10);
    p += 10;
    p = PUT(p, "\",\"time\":\"");
    in->prefix_len = (uint8_t)(p - in->prefix);
}

/* prefix + "HH:MM:SS.ffffff" + closing quote. */
static char *put_head(sim_market *m, sim_inst *in, char *p) {
    memcpy(p, in->prefix, 64); /* fixed-size copy: cheaper than a variable one */
    p += in->prefix_len;
    int64_t t = m->t_us;
    int64_t sec = t / SIM_US_PER_S;
    if (sec != m->hms_sec) {
        m->hms_sec = sec;
        memcpy(m->hms, dig2 + 2 * (sec / 3600), 2);
        m->hms[2] = ':';
        memcpy(m->hms + 3, dig2 + 2 * (sec / 60 % 60), 2);
        m->hms[5] = ':';
        memcpy(m->hms + 6, dig2 + 2 * (sec % 60), 2);
        m->hms[8] = '.';
    }
    memcpy(p, m->hms, 9);
    p += 9;
    unsigned us = (unsigned)(t - sec * SIM_US_PER_S);
    memcpy(p, dig2 + 2 * (us / 10000), 2);
    memcpy(p + 2, dig2 + 2 * (us / 100 % 100), 2);
    memcpy(p + 4, dig2 + 2 * (us % 100), 2);
    p += 6;
    *p++ = '"';
    return p;
}

static inline char *put_str_px(char *p, const char *txt, int len) {
    *p++ = '"';
    memcpy(p, txt, SIM_PX_TXT); /* fixed-size copy; the tail is overwritten */
    p += len;
    *p++ = '"';
    return p;
}

static inline char *put_bool(char *p, int v) {
    if (v) return PUT(p, "true");
    return PUT(p, "false");
}

/* The closing brace, after the "simulated":true marker: the parser maps it
 * to SHJ_FLAG_SIMULATED (parse.c), so the raw archive itself says the data
 * is simulated and every replay of it, by any reader, knows. Shioaji never
 * sends the key; sim_config.plain leaves it out (the Shioaji stand-in). */
static inline char *put_end(const sim_market *m, char *p) {
    if (!m->cfg.plain) p = PUT(p, ",\"simulated\":true");
    *p++ = '}';
    return p;
}

/* Round half away from zero of num / den (den > 0). */
static int64_t div_round(int64_t num, int64_t den) {
    if (num >= 0) return (num + den / 2) / den;
    return -((-num + den / 2) / den);
}

/* div_round(amount_sum * SIM_MICROS_PER_CENT, n) for amount_sum >= 0, n > 0,
 * without the product: a long fast simulated session can pass the
 * 9.2e14 cents that it would overflow at; the remainder part stays < n x 10^4. */
static int64_t avg_micros(int64_t amount_sum, int64_t n) {
    int64_t q = amount_sum / n, r = amount_sum % n;
    return q * SIM_MICROS_PER_CENT + div_round(r * SIM_MICROS_PER_CENT, n);
}

/* Shioaji chg_type: 1 limit up, 2 up, 3 unchanged, 4 down, 5 limit down. */
static int chg_type(const sim_inst *in, int64_t close) {
    if (close >= in->limit_up) return 1;
    if (close > in->ref) return 2;
    if (close == in->ref) return 3;
    if (close <= in->limit_down) return 5;
    return 4;
}

void sim_configure(sim_market *m, const sim_config *cfg) { m->cfg = *cfg; }

/* The Shioaji 1.5.0 tick layout (sim_config.payload_v150). */
static size_t fmt_tick_v150(sim_market *m, sim_inst *in, const sim_trade *tr, char *buf) {
    char *p = put_head(m, in, buf);
    const int64_t mult = in->vm->mult;
    const int64_t amount = tr->price * tr->volume * mult;
    int64_t vol_sum, amount_sum, bid_sum, ask_sum;
    if (tr->simtrade) {
        /* A trial match is a world of its own: it never enters the session. */
        vol_sum = tr->volume;
        amount_sum = amount;
        bid_sum = ask_sum = 0;
        p = PUT(p, ",\"open\":");
        p = put_str_px(p, tr->px_txt, tr->px_len);
        p = PUT(p, ",\"close\":");
        p = put_str_px(p, tr->px_txt, tr->px_len);
        p = PUT(p, ",\"high\":");
        p = put_str_px(p, tr->px_txt, tr->px_len);
        p = PUT(p, ",\"low\":");
        p = put_str_px(p, tr->px_txt, tr->px_len);
    } else {
        vol_sum = in->vol_sum;
        amount_sum = in->amount_sum;
        bid_sum = in->bid_side_sum;
        ask_sum = in->ask_side_sum;
        p = PUT(p, ",\"open\":");
        p = put_str_px(p, in->ohl_txt[0], in->ohl_len[0]);
        p = PUT(p, ",\"close\":");
        p = put_str_px(p, tr->px_txt, tr->px_len);
        p = PUT(p, ",\"high\":");
        p = put_str_px(p, in->ohl_txt[1], in->ohl_len[1]);
        p = PUT(p, ",\"low\":");
        p = put_str_px(p, in->ohl_txt[2], in->ohl_len[2]);
    }
    /* avg_price: volume-weighted, 6 decimals as Shioaji sends, rounded half up in integers. */
    p = PUT(p, ",\"avg_price\":\"");
    p = sim_fmt_micros(p, avg_micros(amount_sum, vol_sum * mult));
    p = PUT(p, "\",\"amount\":\"");
    p = sim_fmt_cents(p, amount);
    p = PUT(p, "\",\"amount_sum\":\"");
    p = sim_fmt_cents(p, amount_sum);
    p = PUT(p, "\",\"volume\":");
    p = sim_fmt_i64(p, tr->volume);
    p = PUT(p, ",\"vol_sum\":");
    p = sim_fmt_i64(p, vol_sum);
    p = PUT(p, ",\"tick_type\":");
    *p++ = (char)('0' + tr->tick_type);
    const int64_t diff = tr->price - in->ref;
    if (!sim_is_fop(in->cls)) {
        p = PUT(p, ",\"chg_type\":");
        *p++ = (char)('0' + chg_type(in, tr->price));
    }
    p = PUT(p, ",\"diff_price\":\"");
    p = sim_fmt_cents(p, diff);
    /* diff_rate: percent with 6 decimals (Shioaji's pct_chg) = diff * 100 / ref, in micros. */
    p = PUT(p, "\",\"diff_rate\":\"");
    p = sim_fmt_micros(p, div_round(diff * 100 * (int64_t)SIM_MICROS, in->ref));
    if (sim_is_fop(in->cls)) {
        p = PUT(p, "\",\"target_kind_price\":\"");
        p = sim_fmt_cents(p, tr->underlying);
    }
    p = PUT(p, "\",\"trade_bid_vol_sum\":");
    p = sim_fmt_i64(p, bid_sum);
    p = PUT(p, ",\"trade_ask_vol_sum\":");
    p = sim_fmt_i64(p, ask_sum);
    p = PUT(p, ",\"simtrade\":");
    p = put_bool(p, tr->simtrade);
    if (!sim_is_fop(in->cls)) {
        p = PUT(p, ",\"suspend\":false,\"intraday_odd\":");
        p = put_bool(p, in->odd_lot);
    }
    p = put_end(m, p);
    return (size_t)(p - buf);
}

/* The Shioaji 1.7.x tick layouts (the default). Keys in Sinopac's order;
 * the keys the simulator has no model for are present with the values a
 * regular-session sample shows (trade counts 0, the closing odd-lot keys
 * null/"0", fixed-price trade 0: stocks/index.md:314-323; on the odd-lot
 * board null as :389-397). The numbers are those of the 1.5.0 layout
 * (avg_price and futures pct_chg with 6 places), except stock pct_chg: an integer in hundredths of a percent, truncated
 * as Sinopac's samples are (price_chg 0.1 on a 29.8 reference = 0.336 %
 * -> 33, stocks/index.md:311-312). */
static size_t fmt_tick_v17(sim_market *m, sim_inst *in, const sim_trade *tr, char *buf) {
    char *p = put_head(m, in, buf);
    const int64_t mult = in->vm->mult;
    const int64_t amount = tr->price * tr->volume * mult;
    const int fop = sim_is_fop(in->cls);
    int64_t vol_sum, amount_sum, bid_sum, ask_sum;
    const char *o_txt, *h_txt, *l_txt;
    int o_len, h_len, l_len;
    if (tr->simtrade) { /* a trial match never enters the session (as fmt_tick_v150) */
        vol_sum = tr->volume;
        amount_sum = amount;
        bid_sum = ask_sum = 0;
        o_txt = h_txt = l_txt = tr->px_txt;
        o_len = h_len = l_len = tr->px_len;
    } else {
        vol_sum = in->vol_sum;
        amount_sum = in->amount_sum;
        bid_sum = in->bid_side_sum;
        ask_sum = in->ask_side_sum;
        o_txt = in->ohl_txt[0], h_txt = in->ohl_txt[1], l_txt = in->ohl_txt[2];
        o_len = in->ohl_len[0], h_len = in->ohl_len[1], l_len = in->ohl_len[2];
    }
    const int64_t diff = tr->price - in->ref;
    p = PUT(p, ",\"open\":");
    p = put_str_px(p, o_txt, o_len);
    if (fop) {
        p = PUT(p, ",\"underlying_price\":\"");
        p = sim_fmt_cents(p, tr->underlying);
        p = PUT(p, "\",\"bid_side_total_vol\":");
        p = sim_fmt_i64(p, bid_sum);
        p = PUT(p, ",\"ask_side_total_vol\":");
        p = sim_fmt_i64(p, ask_sum);
    }
    p = PUT(p, ",\"avg_price\":\""); /* 6 places, as fmt_tick_v150 */
    p = sim_fmt_micros(p, avg_micros(amount_sum, vol_sum * mult));
    p = PUT(p, "\",\"close\":");
    p = put_str_px(p, tr->px_txt, tr->px_len);
    p = PUT(p, ",\"high\":");
    p = put_str_px(p, h_txt, h_len);
    p = PUT(p, ",\"low\":");
    p = put_str_px(p, l_txt, l_len);
    p = PUT(p, ",\"amount\":\"");
    p = sim_fmt_cents(p, amount);
    p = PUT(p, "\",\"total_amount\":\"");
    p = sim_fmt_cents(p, amount_sum);
    p = PUT(p, "\",\"volume\":");
    p = sim_fmt_i64(p, tr->volume);
    p = PUT(p, ",\"total_volume\":");
    p = sim_fmt_i64(p, vol_sum);
    p = PUT(p, ",\"tick_type\":");
    *p++ = (char)('0' + tr->tick_type);
    p = PUT(p, ",\"chg_type\":");
    *p++ = (char)('0' + chg_type(in, tr->price));
    p = PUT(p, ",\"price_chg\":\"");
    p = sim_fmt_cents(p, diff);
    if (fop) { /* percent, a decimal string (futures/index.md:220) */
        p = PUT(p, "\",\"pct_chg\":\"");
        p = sim_fmt_micros(p, div_round(diff * 100 * (int64_t)SIM_MICROS, in->ref));
        p = PUT(p, "\",\"simtrade\":");
        p = put_bool(p, tr->simtrade);
        p = put_end(m, p);
        return (size_t)(p - buf);
    }
    p = PUT(p, "\",\"pct_chg\":");
    p = sim_fmt_i64(p, diff * 10000 / in->ref); /* hundredths of a percent, truncated */
    p = PUT(p, ",\"bid_side_total_vol\":");
    p = sim_fmt_i64(p, bid_sum);
    p = PUT(p, ",\"ask_side_total_vol\":");
    p = sim_fmt_i64(p, ask_sum);
    if (in->odd_lot)
        p = PUT(p, ",\"bid_side_total_cnt\":0,\"ask_side_total_cnt\":0,\"closing_oddlot_shares\":0,"
                   "\"closing_oddlot_close\":null,\"closing_oddlot_amount\":null,"
                   "\"closing_oddlot_bid_price\":null,\"closing_oddlot_ask_price\":null,"
                   "\"fixed_trade_vol\":0,\"fixed_trade_amount\":null,\"suspend\":false,\"simtrade\":");
    else
        p = PUT(p, ",\"bid_side_total_cnt\":0,\"ask_side_total_cnt\":0,\"closing_oddlot_shares\":0,"
                   "\"closing_oddlot_close\":null,\"closing_oddlot_amount\":\"0\","
                   "\"closing_oddlot_bid_price\":null,\"closing_oddlot_ask_price\":null,"
                   "\"fixed_trade_vol\":0,\"fixed_trade_amount\":\"0\",\"suspend\":false,\"simtrade\":");
    p = put_bool(p, tr->simtrade);
    p = PUT(p, ",\"intraday_odd\":");
    p = put_bool(p, in->odd_lot);
    p = put_end(m, p);
    return (size_t)(p - buf);
}

size_t sim_fmt_tick(sim_market *m, sim_inst *in, const sim_trade *tr, char *buf) {
    return m->cfg.payload_v150 ? fmt_tick_v150(m, in, tr, buf) : fmt_tick_v17(m, in, tr, buf);
}

/* "...volume":[v0,..,v4],"diff_...":[d0,..,d4] for one side: the level
 * volumes and their change since the last snapshot, which they replace. */
static inline char *put_side(char *p, sim_book *b, int side, const char *mid, size_t midlen) {
    const int32_t *v = side ? b->ask_vol : b->bid_vol;
    int32_t *pub = side ? b->pub_ask_vol : b->pub_bid_vol;
    int changed = 0;
    for (int i = 0; i < SIM_LEVELS; i++) changed |= v[i] != pub[i];
    char *vt = b->vol_txt[side];
    if (changed || b->vol_len[side] == 0) {
        char *q = vt;
        *q++ = '[';
        for (int i = 0; i < SIM_LEVELS; i++) {
            q = fmt_small(q, (uint32_t)v[i]);
            *q++ = ',';
        }
        q[-1] = ']';
        b->vol_len[side] = (uint8_t)(q - vt);
    }
    memcpy(p, vt, sizeof b->vol_txt[side]);
    p += b->vol_len[side];
    memcpy(p, mid, midlen);
    p += midlen;
    if (!changed) return PUT(p, "[0,0,0,0,0]");
    *p++ = '[';
    for (int i = 0; i < SIM_LEVELS; i++) {
        int32_t d = v[i] - pub[i];
        pub[i] = v[i];
        if (d == 0) {
            *p++ = '0';
        } else if (d > 0) {
            p = fmt_small(p, (uint32_t)d);
        } else {
            *p++ = '-';
            p = fmt_small(p, (uint32_t) - (int64_t)d);
        }
        *p++ = ',';
    }
    p[-1] = ']';
    return p;
}

static char *put_arr(char *p, const sim_book *b, int side) {
    memcpy(p, b->arr_txt[side], SIM_ARR_TXT);
    return p + b->arr_len[side];
}

size_t sim_fmt_bidask(sim_market *m, sim_inst *in, int simtrade, int64_t underlying, char *buf) {
    sim_book *b = &in->book;
    char *p = put_head(m, in, buf);
    const int fut = sim_is_fop(in->cls);
    if (fut) {
        int64_t bt = 0, at = 0;
        for (int i = 0; i < SIM_LEVELS; i++) {
            bt += b->bid_vol[i];
            at += b->ask_vol[i];
        }
        p = PUT(p, ",\"bid_total_vol\":");
        p = sim_fmt_i64(p, bt);
        p = PUT(p, ",\"ask_total_vol\":");
        p = sim_fmt_i64(p, at);
    }
    p = PUT(p, ",\"bid_price\":");
    p = put_arr(p, b, 0);
    static const char bid_mid[] = ",\"diff_bid_vol\":", ask_mid[] = ",\"diff_ask_vol\":";
    p = PUT(p, ",\"bid_volume\":");
    p = put_side(p, b, 0, bid_mid, sizeof bid_mid - 1);
    p = PUT(p, ",\"ask_price\":");
    p = put_arr(p, b, 1);
    p = PUT(p, ",\"ask_volume\":");
    p = put_side(p, b, 1, ask_mid, sizeof ask_mid - 1);
    if (fut) {
        p = PUT(p, ",\"first_derived_bid_price\":\"0\",\"first_derived_ask_price\":\"0\","
                   "\"first_derived_bid_vol\":0,\"first_derived_ask_vol\":0,\"underlying_price\":\"");
        p = sim_fmt_cents(p, underlying);
        p = PUT(p, "\",\"simtrade\":");
        p = put_bool(p, simtrade);
    } else {
        p = PUT(p, ",\"suspend\":false,\"simtrade\":");
        p = put_bool(p, simtrade);
        p = PUT(p, ",\"intraday_odd\":");
        p = put_bool(p, in->odd_lot);
    }
    p = put_end(m, p);
    return (size_t)(p - buf);
}
