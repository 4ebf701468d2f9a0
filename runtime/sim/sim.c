/* sim.c — the simulated Taiwan market: instruments, calendar, exchange clock
 * and the order in which payloads come out (see sim.h).
 *
 * Guarantees:
 *  - Deterministic: one xoshiro256** stream seeded from the seed drives every
 *    choice, and each instrument's starting book comes from the seed and its
 *    code, so (seed, date, rate, instruments added in order) -> the same bytes.
 *  - Exchange time never goes backwards. Each payload is stamped with the
 *    clock, which then advances by 1/rate s in integer microseconds (quotient
 *    + remainder accumulator, so e.g. rate 3 gives 333333, 333333, 333334 us).
 *  - Sessions: board-lot stocks trial-match (simtrade=true, one tick + one
 *    bid/ask per stock per minute) 08:30-09:00 and trade 09:00-13:30; odd
 *    lots trade 09:00-13:30; TAIFEX futures 08:45-13:45. When nothing is open
 *    the clock jumps to the next opening; after 13:45 it moves to 08:30 of the
 *    next weekday (holidays are not modelled), and each instrument's reference
 *    becomes the previous session's last trade.
 *  - Interleaving: continuous trading picks an instrument by weight per event
 *    (2330 and TXF busiest) and then a kind: 1 tick for 2 bid/asks when both
 *    are wanted.
 *  - Instruments: stocks/ETFs by number (odd-lot board on request), TAIFEX
 *    futures "TXFL6" and aliases "TXFR1"/"TXFR2", and TAIFEX index options
 *    "TXO23000L6" (strike + month letter, A-L calls, M-X puts + year digit).
 *    Adding a contract again widens its kinds; sim_remove takes the code or
 *    the alias it was added by and removes every board of it.
 *
 * Futures months: aliases resolve by core/contract.h's calendar (TXFR1 on
 * 2026-11-25 is TXFL6). A contract added by alias keeps its resolved code for
 * the life of the market.
 */
#include "sim/sim.h"

#include <math.h>
#include <stdlib.h>

#include "core/clock.h"
#include "core/contract.h"
#include "parse/parse.h"
#include "core/shj_common.h"
#include "core/shj_event.h"
#include "sim/sim_internal.h"

#define SIM_DEFAULT_RATE 2000.0
#define KIND_TICK_BIT (1u << SHJ_KIND_TICK)
#define KIND_BIDASK_BIT (1u << SHJ_KIND_BIDASK)

/* ---- calendar ---- */

/* Codes, aliases and the futures calendar are core/contract.h's; dates and
 * weekdays core/clock.h's. */
static void today_taipei(char out[11]) { clk_taipei_date(clk_now_ns(), out); }
static int weekday(int64_t days) { return clk_weekday(days); }
static int is_alnum(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* ---- the clock ---- */

static int trades_on(int64_t day) { return weekday(day) >= 1 && weekday(day) <= 5; }

/* Move the clock to calendar day `day` (t_us is left to the caller). */
static void enter_day(sim_market *m, int64_t day) {
    int y, mo, d;
    clk_civil_from_days(day, &y, &mo, &d);
    m->day = day;
    m->day_base_ns = clk_taipei_to_utc_ns(y, mo, d, 0, 0, 0, 0);
    clk_taipei_date(m->day_base_ns, m->date);
    m->hms_sec = -1;
    m->seg = -1;
    for (size_t i = 0; i < m->n; i++) sim_fmt_prefix(&m->inst[i], m->date);
}

static void reset_session(sim_inst *in) {
    in->open = in->high = in->low = 0;
    in->vol_sum = in->amount_sum = in->bid_side_sum = in->ask_side_sum = 0;
    in->traded_today = 0;
}

static inline void advance(sim_market *m, int64_t *exch_ns) {
    *exch_ns = m->day_base_ns + m->t_us * CLK_NS_PER_US;
    uint64_t step = m->step_q;
    m->step_acc += m->step_r;
    if (m->step_acc >= m->rate_milli) {
        m->step_acc -= m->rate_milli;
        step++;
    }
    m->t_us += (int64_t)step;
}

/* Session segments of a calendar day and who trades continuously in each.
 * The hours are core/session.h's (SIM_T_*); TAIFEX's night session runs
 * from 15:00 of a weekday to 05:00 of the next calendar day. */
enum { SEG_CLOSED = 0, SEG_NIGHT_TAIL, SEG_PRE, SEG_FUT_AM, SEG_ALL, SEG_FUT_PM, SEG_NIGHT };

static int seg_at(const sim_market *m, int64_t t, int64_t *end) {
    int today = trades_on(m->day), tail = m->night && trades_on(m->day - 1);
    if (tail && t < SIM_T_NIGHT_CLOSE) {
        *end = SIM_T_NIGHT_CLOSE;
        return SEG_NIGHT_TAIL;
    }
    if (today) {
        static const int64_t ends[] = {SIM_T_STK_PREOPEN, SIM_T_FUT_OPEN, SIM_T_STK_OPEN,
                                       SIM_T_STK_CLOSE, SIM_T_FUT_CLOSE};
        static const int segs[] = {SEG_CLOSED, SEG_PRE, SEG_FUT_AM, SEG_ALL, SEG_FUT_PM};
        for (int i = 0; i < 5; i++) {
            if (t < ends[i]) {
                *end = ends[i];
                return segs[i];
            }
        }
        if (m->night) {
            if (t < SIM_T_NIGHT_OPEN) {
                *end = SIM_T_NIGHT_OPEN;
                return SEG_CLOSED;
            }
            *end = SIM_T_DAY;
            return SEG_NIGHT;
        }
    }
    *end = SIM_T_DAY;
    return SEG_CLOSED;
}

static int grp_of(int cls) { return sim_is_fop(cls) ? SIM_GRP_FOP : SIM_GRP_STK; }

static int trades_in(int grp, int seg) {
    if (grp == SIM_GRP_FOP) return seg == SEG_NIGHT_TAIL || (seg >= SEG_FUT_AM && seg <= SEG_NIGHT);
    return seg == SEG_ALL;
}

/* The day session of trading day T (= calendar day) for a group, market us. */
static void day_window(int grp, int64_t T, int64_t *start, int64_t *end) {
    *start = T * SIM_T_DAY + (grp == SIM_GRP_FOP ? SIM_T_FUT_OPEN : SIM_T_STK_OPEN);
    *end = T * SIM_T_DAY + (grp == SIM_GRP_FOP ? SIM_T_FUT_CLOSE : SIM_T_STK_CLOSE);
}

/* The night session that opens on the evening of calendar day `day`. */
static void night_window(int64_t day, int64_t *start, int64_t *end) {
    *start = day * SIM_T_DAY + SIM_T_NIGHT_OPEN;
    *end = (day + 1) * SIM_T_DAY + SIM_T_NIGHT_CLOSE;
}

/* Set one instrument up for the session being simulated (m->cur_T, cur_night). */
static void inst_session(sim_market *m, sim_inst *in) {
    int64_t s, e;
    int grp = grp_of(in->cls), night = m->cur_night && grp == SIM_GRP_FOP;
    if (night) {
        int64_t eve = m->cur_T - 1;
        while (!trades_on(eve)) eve--;
        night_window(eve, &s, &e);
    } else {
        day_window(grp, m->cur_T, &s, &e);
    }
    sim_model_session(m, in, m->cur_T, night, s, e);
    reset_session(in);
}

/* Sessions are set up from (seed, trading day) alone: what was simulated
 * before never shows in them (sim_model.c). */
static void reseed(sim_market *m, int64_t T, uint64_t purpose) {
    uint64_t x = m->seed ^ ((uint64_t)T * 0x9e3779b97f4a7c15ULL) ^ (purpose << 56);
    sim_rng_seed(&m->rng, sim_splitmix64(&x));
}

static void day_reset(sim_market *m) {
    m->day_reset = m->day;
    m->cur_T = m->day;
    m->cur_night = 0;
    reseed(m, m->day, 'D');
    for (size_t i = 0; i < m->n; i++) inst_session(m, &m->inst[i]);
    m->pre_next_us = SIM_T_STK_PREOPEN;
    m->pre_cursor = 0;
    m->pre_phase = 0;
}

static void night_reset(sim_market *m) {
    m->night_reset = m->day;
    m->cur_T = sim_next_weekday(m->day);
    m->cur_night = 1;
    reseed(m, m->cur_T, 'N');
    for (size_t i = 0; i < m->n; i++) {
        if (sim_is_fop(m->inst[i].cls)) inst_session(m, &m->inst[i]);
    }
}

/* Candidates of a segment: per group, cumulative payload rates. */
static int rebuild_active(sim_market *m, int seg, int64_t end) {
    if (m->n > m->act_cap) {
        size_t cap = m->n;
        for (int g = 0; g < 2; g++) {
            double *c = realloc(m->act_cum[g], cap * sizeof *c);
            if (c) m->act_cum[g] = c;
            uint32_t *x = realloc(m->act_idx[g], cap * sizeof *x);
            if (x) m->act_idx[g] = x;
            if (!c || !x) return SHJ_ERR;
        }
        m->act_cap = cap;
    }
    size_t pre = 0;
    for (int g = 0; g < 2; g++) {
        m->act_n[g] = 0;
        m->act_w[g] = 0;
    }
    for (size_t i = 0; i < m->n; i++) {
        sim_inst *in = &m->inst[i];
        pre += in->cls == SIM_CLS_STK;
        int g = grp_of(in->cls);
        if (!trades_in(g, seg) || in->ev_rate <= 0) continue;
        m->act_w[g] += in->ev_rate;
        m->act_cum[g][m->act_n[g]] = m->act_w[g];
        m->act_idx[g][m->act_n[g]++] = (uint32_t)i;
    }
    /* Activity windows of this segment's sessions. */
    day_window(SIM_GRP_STK, m->day, &m->grp_start[SIM_GRP_STK], &m->grp_end[SIM_GRP_STK]);
    m->grp_night[SIM_GRP_STK] = 0;
    m->grp_night[SIM_GRP_FOP] = seg == SEG_NIGHT || seg == SEG_NIGHT_TAIL;
    if (seg == SEG_NIGHT)
        night_window(m->day, &m->grp_start[SIM_GRP_FOP], &m->grp_end[SIM_GRP_FOP]);
    else if (seg == SEG_NIGHT_TAIL)
        night_window(m->day - 1, &m->grp_start[SIM_GRP_FOP], &m->grp_end[SIM_GRP_FOP]);
    else
        day_window(SIM_GRP_FOP, m->day, &m->grp_start[SIM_GRP_FOP], &m->grp_end[SIM_GRP_FOP]);
    m->pre_n = pre;
    m->seg = seg;
    m->seg_end_t = end;
    return SHJ_OK;
}

/* An instrument of group g, picked in proportion to its rate (u in [0, 1)). */
static sim_inst *pick(sim_market *m, int g, double u) {
    double x = u * m->act_w[g];
    size_t lo = 0, hi = m->act_n[g] - 1;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (m->act_cum[g][mid] > x) hi = mid;
        else lo = mid + 1;
    }
    return &m->inst[m->act_idx[g][lo]];
}

/* ---- payloads ---- */

static int64_t underlying_of(const sim_inst *in, uint32_t bits32) {
    const sim_book *b = &in->book;
    int64_t jitter = (int64_t)sim_below(bits32, 21) - 10;
    if (in->cls == SIM_CLS_OPT) return in->und + jitter * 100;
    int64_t mid = b->bid_px[0] + (b->ask_px[0] - b->bid_px[0]) / 2;
    return mid - in->basis + jitter;
}

static int32_t trade_volume(const sim_inst *in, uint64_t r, int *block) {
    const sim_volmodel *vm = in->vm;
    uint32_t u = (uint32_t)(r >> 32) & 1023, b = (uint32_t)(r >> 42);
    *block = 0;
    if (vm->block_q32 && (uint32_t)r < vm->block_q32) {
        *block = 1;
        return vm->block_min + (int32_t)(b % (uint32_t)vm->block_span);
    }
    if (in->cls == SIM_CLS_ODD) { /* shares */
        if (u < 600) return 1 + (int32_t)(b % 99);
        if (u < 900) return 100 + (int32_t)(b % 400);
        return 500 + (int32_t)(b % 499);
    }
    if (sim_is_fop(in->cls)) {
        if (u < 700) return 1;
        if (u < 900) return 2 + (int32_t)(b % 4);
        return 5 + (int32_t)(b % 10);
    }
    if (u < 600) return 1;                     /* lots: mostly one */
    if (u < 800) return 2;
    if (u < 900) return 3 + (int32_t)(b % 3);
    if (u < 1000) return 5 + (int32_t)(b % 16);
    return 20 + (int32_t)(b % 60);
}

static void set_ohl(sim_inst *in, int which, const sim_trade *tr) {
    memcpy(in->ohl_txt[which], tr->px_txt, SIM_PX_TXT);
    in->ohl_len[which] = (uint8_t)tr->px_len;
}

static size_t emit_tick(sim_market *m, sim_inst *in, int simtrade, int *tag, char *buf) {
    sim_book *b = &in->book;
    uint64_t r = sim_rng_next(&m->rng), r2 = sim_rng_next(&m->rng);
    sim_trade tr;
    int buy = simtrade ? (int)(r2 & 1) : sim_pick_up(in, (uint32_t)r2);
    int side = buy ? 1 : 0, block;
    int32_t vol = trade_volume(in, r, &block);
    int32_t touch = buy ? b->ask_vol[0] : b->bid_vol[0];
    if (!block && !simtrade && vol > touch) vol = touch; /* blocks take the level whole */
    tr.price = buy ? b->ask_px[0] : b->bid_px[0];
    tr.px_txt = b->px_txt[side][0];
    tr.px_len = b->px_len[side][0];
    tr.volume = vol;
    tr.simtrade = simtrade;
    tr.tick_type = simtrade ? 0 : buy ? 1 : 2;
    tr.underlying = underlying_of(in, (uint32_t)(r2 >> 32));
    if (!simtrade) {
        if (!in->traded_today) {
            in->traded_today = 1;
            in->open = in->high = in->low = tr.price;
            set_ohl(in, 0, &tr);
            set_ohl(in, 1, &tr);
            set_ohl(in, 2, &tr);
        } else if (tr.price > in->high) {
            in->high = tr.price;
            set_ohl(in, 1, &tr);
        } else if (tr.price < in->low) {
            in->low = tr.price;
            set_ohl(in, 2, &tr);
        }
        in->last = tr.price;
        in->vol_sum += vol;
        in->amount_sum += tr.price * vol * in->vm->mult;
        if (buy) in->ask_side_sum += vol;
        else in->bid_side_sum += vol;
    }
    *tag = sim_is_fop(in->cls) ? PSR_TAG_TICK_FOP : PSR_TAG_TICK_STK;
    /* Format first: the text points into the book, which the trade may move. */
    size_t len = sim_fmt_tick(m, in, &tr, buf);
    if (!simtrade) sim_book_consume(in, buy, vol, sim_rng_next(&m->rng));
    return len;
}

static size_t emit_bidask(sim_market *m, sim_inst *in, int simtrade, int *tag, char *buf) {
    sim_book_flow(in, &m->rng);
    int64_t und = 0;
    if (sim_is_fop(in->cls)) {
        und = underlying_of(in, (uint32_t)sim_rng_next(&m->rng));
        *tag = PSR_TAG_BIDASK_FOP;
    } else {
        *tag = PSR_TAG_BIDASK_STK;
    }
    return sim_fmt_bidask(m, in, simtrade, und, buf);
}

/* One step of the pre-open round: the cursor stock's simtrade tick, then its
 * bid/ask. Returns 0 (and schedules the next round) when the round is done. */
static size_t emit_preopen(sim_market *m, int *tag, char *buf) {
    while (m->pre_cursor < m->n) {
        sim_inst *in = &m->inst[m->pre_cursor];
        if (in->cls != SIM_CLS_STK) {
            m->pre_cursor++;
            m->pre_phase = 0;
            continue;
        }
        if (m->pre_phase == 0) {
            m->pre_phase = 1;
            if (in->kind_mask & KIND_TICK_BIT) return emit_tick(m, in, 1, tag, buf);
        }
        m->pre_phase = 0;
        m->pre_cursor++;
        if (in->kind_mask & KIND_BIDASK_BIT) return emit_bidask(m, in, 1, tag, buf);
    }
    m->pre_cursor = 0;
    m->pre_phase = 0;
    m->pre_next_us += SIM_PREOPEN_STEP_US;
    return 0;
}

/* One continuous-trading payload of in at the current time. */
static size_t emit_continuous(sim_market *m, sim_inst *in, uint64_t r, int *tag, char *buf) {
    sim_model_step(in, sim_abs_us(m));
    int tick;
    if ((in->kind_mask & (KIND_TICK_BIT | KIND_BIDASK_BIT)) == (KIND_TICK_BIT | KIND_BIDASK_BIT))
        tick = sim_below((uint32_t)(r >> 32), 3) == 0; /* 1 tick : 2 bid/asks */
    else
        tick = (in->kind_mask & KIND_TICK_BIT) != 0;
    return tick ? emit_tick(m, in, 0, tag, buf) : emit_bidask(m, in, 0, tag, buf);
}

/* Both groups' activity-weighted rates now (payloads per second). */
static double rates_now(const sim_market *m, double *w_stk) {
    int64_t now = sim_abs_us(m);
    double w[2] = {0, 0};
    for (int g = 0; g < 2; g++) {
        if (m->act_w[g] <= 0) continue;
        w[g] = m->act_w[g];
        if (m->realistic) w[g] *= sim_activity(m->grp_night[g], m->grp_start[g], m->grp_end[g], now);
    }
    *w_stk = w[SIM_GRP_STK];
    return w[0] + w[1];
}

size_t sim_next(sim_market *m, int *tag, char *buf, size_t cap, int64_t *exch_ns) {
    if (!m || m->n == 0) return 0;
    if (cap < SIM_PAYLOAD_MAX) {
        shj_log(SHJ_LOG_ERROR, "sim_next: buffer of %zu bytes, need %d", cap, SIM_PAYLOAD_MAX);
        return 0;
    }
    for (;;) {
        int64_t t = m->t_us;
        if (t >= SIM_T_DAY) {
            m->t_us -= SIM_T_DAY;
            enter_day(m, m->day + 1);
            continue;
        }
        if (m->seg < 0 || t >= m->seg_end_t) {
            int64_t end;
            int seg = seg_at(m, t, &end);
            if (seg >= SEG_PRE && seg <= SEG_FUT_PM && m->day_reset != m->day) day_reset(m);
            if (seg == SEG_NIGHT && m->night_reset != m->day) night_reset(m);
            if (rebuild_active(m, seg, end) != SHJ_OK) {
                shj_log(SHJ_LOG_ERROR, "sim_next: out of memory");
                return 0;
            }
        }
        int seg = m->seg;
        int pre = (seg == SEG_PRE || seg == SEG_FUT_AM) && m->pre_next_us < SIM_T_STK_OPEN && m->pre_n > 0;
        if (pre && m->pre_next_us <= t) {
            size_t len = emit_preopen(m, tag, buf);
            if (len) {
                if (m->realistic) {
                    *exch_ns = m->day_base_ns + m->t_us * CLK_NS_PER_US;
                    m->t_us += 1000; /* a trial-match round: one payload per ms */
                } else {
                    advance(m, exch_ns);
                }
                return len;
            }
            continue;
        }
        int64_t boundary = m->seg_end_t;
        if (pre && m->pre_next_us < boundary) boundary = m->pre_next_us;
        double w_stk, lam = rates_now(m, &w_stk);
        if (lam <= 0) {
            m->t_us = boundary; /* nothing trades now: jump to the next opening or round */
            continue;
        }
        uint64_t r = sim_rng_next(&m->rng), r2 = sim_rng_next(&m->rng);
        if (m->realistic) {
            /* Poisson arrivals at the activity-weighted rate: the gap to the
             * next payload is exponential (memoryless, so a gap crossing a
             * boundary is simply drawn again from there). */
            double dt = -log(1.0 - sim_unit(r2)) / lam * (double)SIM_US_PER_S;
            if ((double)t + dt >= (double)boundary) {
                m->t_us = boundary;
                continue;
            }
            m->t_us = t + (dt < 1 ? 1 : (int64_t)dt);
            r2 = sim_rng_next(&m->rng);
        }
        double x = sim_unit(r2) * lam;
        int g = x < w_stk ? SIM_GRP_STK : SIM_GRP_FOP;
        double u = g == SIM_GRP_STK ? x / w_stk : (x - w_stk) / (lam - w_stk);
        if (u >= 1) u = 0.999999999;
        sim_inst *in = pick(m, g, u);
        size_t len = emit_continuous(m, in, r, tag, buf);
        if (m->realistic)
            *exch_ns = m->day_base_ns + m->t_us * CLK_NS_PER_US;
        else
            advance(m, exch_ns);
        return len;
    }
}

int64_t sim_trading_day(const sim_market *m) { return m ? m->cur_T : 0; }

/* ---- lifecycle ---- */

sim_market *sim_new(uint64_t seed, const char *date, double nominal_rate) {
    char today[11];
    if (!date) {
        today_taipei(today);
        date = today;
    }
    int y, mo, d;
    if (clk_parse_date(date, &y, &mo, &d) != 0) {
        shj_log(SHJ_LOG_ERROR, "sim_new: bad date \"%.16s\" (want YYYY-MM-DD)", date);
        return NULL;
    }
    sim_market *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->seed = seed;
    sim_rng_seed(&m->rng, seed);
    m->realistic = !(nominal_rate > 0);
    m->night = m->realistic;
    double rate = m->realistic ? SIM_DEFAULT_RATE : nominal_rate;
    /* The one floating-point step of the uniform clock: the configured rate
     * becomes an integer number of events per 1000 s. */
    double milli = rate * 1000.0 + 0.5;
    m->rate_milli = milli >= 1e15 ? 1000000000000000ULL : milli < 1 ? 1 : (uint64_t)milli;
    m->step_q = 1000000000ULL / m->rate_milli;
    m->step_r = 1000000000ULL % m->rate_milli;
    int64_t T = clk_days_from_civil(y, mo, d);
    while (!trades_on(T)) T++;
    m->day_reset = m->night_reset = -1;
    m->cur_T = T;
    if (m->night) {
        /* Trading day T begins with its night session: 15:00 of the weekday before. */
        int64_t eve = T - 1;
        while (!trades_on(eve)) eve--;
        enter_day(m, eve);
        m->t_us = SIM_T_NIGHT_OPEN;
        m->cur_night = 1;
    } else {
        enter_day(m, T);
        m->t_us = SIM_T_STK_PREOPEN;
    }
    m->pre_next_us = SIM_T_STK_PREOPEN;
    return m;
}

void sim_free(sim_market *m) {
    if (!m) return;
    free(m->inst);
    for (int g = 0; g < 2; g++) {
        free(m->act_cum[g]);
        free(m->act_idx[g]);
    }
    free(m);
}

size_t sim_count(const sim_market *m) { return m ? m->n : 0; }

/* Decide class, ladder, exchange and security type of a (resolved) code. */
static int classify(const char *code, int exchange, int sec_type, int odd_lot, sim_inst *in,
                    char *err, size_t errlen) {
    int fut = ctr_is_future(code), opt = ctr_is_option(code), stk = ctr_is_stock(code);
    int cls;
    switch (sec_type) {
    case SHJ_SEC_FUT:
        if (!fut) return shj_fail(err, errlen, "sim: %s: not a futures code (want e.g. TXFL6 or TXFR1)", code);
        cls = SIM_CLS_FUT;
        break;
    case SHJ_SEC_OPT:
        if (!opt) return shj_fail(err, errlen, "sim: %s: not an options code (want e.g. TXO23000L6)", code);
        cls = SIM_CLS_OPT;
        break;
    case SHJ_SEC_STK:
        if (!stk) return shj_fail(err, errlen, "sim: %s: not a stock code (want e.g. 2330)", code);
        cls = SIM_CLS_STK;
        break;
    case SHJ_SEC_UNKNOWN:
        if (fut) cls = SIM_CLS_FUT;
        else if (opt) cls = SIM_CLS_OPT;
        else if (stk && exchange != SHJ_EX_TAIFEX) cls = SIM_CLS_STK;
        else return shj_fail(err, errlen, "sim: %s: unknown contract", code);
        break;
    case SHJ_SEC_IND:
        return shj_fail(err, errlen, "sim: %s: indexes are not simulated", code);
    default:
        return shj_fail(err, errlen, "sim: %s: unknown security type %d", code, sec_type);
    }
    if (sim_is_fop(cls)) {
        if (exchange != SHJ_EX_UNKNOWN && exchange != SHJ_EX_TAIFEX)
            return shj_fail(err, errlen, "sim: %s: trades on TAIFEX, not exchange %d", code, exchange);
        if (odd_lot) return shj_fail(err, errlen, "sim: %s: odd lots exist for stocks only", code);
        in->cls = (uint8_t)cls;
        in->ladder = cls == SIM_CLS_FUT ? SIM_LADDER_FUT : SIM_LADDER_OPT;
        in->exchange = SHJ_EX_TAIFEX;
        in->sec_type = cls == SIM_CLS_FUT ? SHJ_SEC_FUT : SHJ_SEC_OPT;
        return SHJ_OK;
    }
    if (exchange == SHJ_EX_TAIFEX) return shj_fail(err, errlen, "sim: %s: stocks do not trade on TAIFEX", code);
    if (exchange < SHJ_EX_UNKNOWN || exchange > SHJ_EX_TAIFEX)
        return shj_fail(err, errlen, "sim: %s: unknown exchange %d", code, exchange);
    in->cls = odd_lot ? SIM_CLS_ODD : SIM_CLS_STK;
    in->ladder = (code[0] == '0' && code[1] == '0') ? SIM_LADDER_ETF : SIM_LADDER_STK;
    in->exchange = (uint8_t)(exchange ? exchange : SHJ_EX_TSE);
    in->sec_type = SHJ_SEC_STK;
    in->odd_lot = odd_lot ? 1 : 0;
    return SHJ_OK;
}

int sim_add(sim_market *m, const char *code, int exchange, int sec_type, uint32_t kind_mask,
            int odd_lot, char resolved[16], char *err, size_t errlen) {
    if (!m || !code) return shj_fail(err, errlen, "sim: no market or code");
    size_t n = strlen(code);
    if (n == 0 || n > 15) return shj_fail(err, errlen, "sim: code \"%.20s\": length 1..15", code);
    for (size_t i = 0; i < n; i++) {
        if (!is_alnum(code[i]))
            return shj_fail(err, errlen, "sim: code \"%.20s\": only letters and digits", code);
    }
    kind_mask &= KIND_TICK_BIT | KIND_BIDASK_BIT;
    if (!kind_mask)
        return shj_fail(err, errlen, "sim: %s: kind_mask asks for neither ticks nor bid/asks", code);
    char real[16];
    ctr_resolve_alias(m->date, code, real);
    sim_inst tmp;
    memset(&tmp, 0, sizeof tmp);
    if (classify(real, exchange, sec_type, odd_lot, &tmp, err, errlen) != SHJ_OK) return SHJ_ERR;
    if (resolved) memcpy(resolved, real, 16);
    /* A second subscription of the same contract (another quote type) widens it. */
    for (size_t i = 0; i < m->n; i++) {
        sim_inst *in = &m->inst[i];
        if (strcmp(in->code, real) == 0 && in->odd_lot == tmp.odd_lot) {
            in->kind_mask |= kind_mask;
            in->ev_rate = sim_model_rate(in);
            m->seg = -1;
            return SHJ_OK;
        }
    }
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        sim_inst *inst = realloc(m->inst, cap * sizeof *inst);
        if (!inst) return shj_fail(err, errlen, "sim: %s: out of memory", code);
        m->inst = inst;
        m->cap = cap;
    }
    sim_inst *in = &m->inst[m->n];
    *in = tmp;
    memcpy(in->code, real, 16);
    in->code_len = (uint8_t)strlen(real);
    if (strcmp(real, code) != 0) shj_strlcpy(in->alias, code, sizeof in->alias);
    in->kind_mask = kind_mask;
    in->vm = sim_volmodel_of(in->cls);
    in->ref_day = -1;
    sim_model_profile(in);
    in->ev_rate = sim_model_rate(in);
    inst_session(m, in); /* a day is set up again when its session opens */
    sim_fmt_prefix(in, m->date);
    m->n++;
    m->seg = -1;
    return SHJ_OK;
}

int sim_remove(sim_market *m, const char *code) {
    if (!m || !code) return SHJ_ERR;
    size_t k = 0;
    for (size_t i = 0; i < m->n; i++) {
        sim_inst *in = &m->inst[i];
        if (strcmp(in->code, code) == 0 || strcmp(in->alias, code) == 0) continue;
        if (k != i) m->inst[k] = *in;
        k++;
    }
    if (k == m->n) return SHJ_ERR;
    m->n = k;
    m->seg = -1;
    if (m->pre_cursor > m->n) m->pre_cursor = m->n;
    return SHJ_OK;
}

int sim_contract_at(const sim_market *m, size_t i, sim_contract *out) {
    if (!m || !out || i >= m->n) return SHJ_ERR;
    const sim_inst *in = &m->inst[i];
    memset(out, 0, sizeof *out);
    memcpy(out->code, in->code, 16);
    memcpy(out->alias, in->alias, 16);
    out->exchange = in->exchange;
    out->sec_type = in->sec_type;
    /* cents -> SHJ_PRICE_SCALE */
    out->reference = in->ref * (SHJ_PRICE_SCALE / 100);
    out->limit_up = in->limit_up * (SHJ_PRICE_SCALE / 100);
    out->limit_down = in->limit_down * (SHJ_PRICE_SCALE / 100);
    return SHJ_OK;
}
