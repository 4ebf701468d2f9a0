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

static void start_day(sim_market *m, int64_t day) {
    while (weekday(day) == 0 || weekday(day) == 6) day++;
    int y, mo, d;
    clk_civil_from_days(day, &y, &mo, &d);
    m->day = day;
    m->day_base_ns = clk_taipei_to_utc_ns(y, mo, d, 0, 0, 0, 0);
    clk_taipei_date(m->day_base_ns, m->date);
    m->t_us = SIM_T_STK_PREOPEN;
    m->hms_sec = -1;
    m->seg = -1;
    m->pre_next_us = SIM_T_STK_PREOPEN;
    m->pre_cursor = 0;
    m->pre_phase = 0;
    for (size_t i = 0; i < m->n; i++) sim_fmt_prefix(&m->inst[i], m->date);
}

static void reset_session(sim_inst *in) {
    in->open = in->high = in->low = 0;
    in->vol_sum = in->amount_sum = in->bid_side_sum = in->ask_side_sum = 0;
    in->traded_today = 0;
}

static void next_day(sim_market *m) {
    for (size_t i = 0; i < m->n; i++) {
        sim_inst *in = &m->inst[i];
        if (in->traded_today) sim_set_reference(in, in->last);
        reset_session(in);
    }
    start_day(m, m->day + 1);
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

/* Session segments of the day and who trades continuously in each. */
enum { SEG_PRE = 0, SEG_FUT_ONLY_AM, SEG_ALL, SEG_FUT_ONLY_PM, SEG_CLOSED };

static int seg_of(int64_t t) {
    if (t < SIM_T_FUT_OPEN) return SEG_PRE;
    if (t < SIM_T_STK_OPEN) return SEG_FUT_ONLY_AM;
    if (t < SIM_T_STK_CLOSE) return SEG_ALL;
    if (t < SIM_T_FUT_CLOSE) return SEG_FUT_ONLY_PM;
    return SEG_CLOSED;
}

static int64_t seg_end(int seg) {
    static const int64_t ends[] = {SIM_T_FUT_OPEN, SIM_T_STK_OPEN, SIM_T_STK_CLOSE, SIM_T_FUT_CLOSE,
                                   SIM_T_FUT_CLOSE};
    return ends[seg];
}

static int trades_in(int cls, int seg) {
    if (sim_is_fop(cls)) return seg >= SEG_FUT_ONLY_AM && seg <= SEG_FUT_ONLY_PM;
    return seg == SEG_ALL;
}

static int rebuild_active(sim_market *m, int seg) {
    uint32_t total = 0;
    size_t pre = 0;
    for (size_t i = 0; i < m->n; i++) {
        pre += m->inst[i].cls == SIM_CLS_STK;
        if (trades_in(m->inst[i].cls, seg)) total += m->inst[i].weight;
    }
    if (total > m->act_cap) {
        uint32_t *slot = realloc(m->act_slot, total * sizeof *slot);
        if (!slot) return SHJ_ERR;
        m->act_slot = slot;
        m->act_cap = total;
    }
    uint32_t k = 0;
    for (size_t i = 0; i < m->n; i++) {
        if (!trades_in(m->inst[i].cls, seg)) continue;
        for (uint32_t w = 0; w < m->inst[i].weight; w++) m->act_slot[k++] = (uint32_t)i;
    }
    m->act_total = total;
    m->pre_n = pre;
    m->seg = seg;
    return SHJ_OK;
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

size_t sim_next(sim_market *m, int *tag, char *buf, size_t cap, int64_t *exch_ns) {
    if (!m || m->n == 0) return 0;
    if (cap < SIM_PAYLOAD_MAX) {
        shj_log(SHJ_LOG_ERROR, "sim_next: buffer of %zu bytes, need %d", cap, SIM_PAYLOAD_MAX);
        return 0;
    }
    for (;;) {
        int64_t t = m->t_us;
        if (t >= SIM_T_FUT_CLOSE) {
            next_day(m);
            continue;
        }
        int seg = seg_of(t);
        if (seg != m->seg && rebuild_active(m, seg) != SHJ_OK) {
            shj_log(SHJ_LOG_ERROR, "sim_next: out of memory");
            return 0;
        }
        int pre = t < SIM_T_STK_OPEN && m->pre_next_us < SIM_T_STK_OPEN && m->pre_n > 0;
        if (pre && m->pre_next_us <= t) {
            size_t len = emit_preopen(m, tag, buf);
            if (len) {
                advance(m, exch_ns);
                return len;
            }
            continue;
        }
        if (m->act_total) {
            uint64_t r = sim_rng_next(&m->rng);
            sim_inst *in = &m->inst[m->act_slot[sim_below((uint32_t)r, m->act_total)]];
            int tick;
            if ((in->kind_mask & (KIND_TICK_BIT | KIND_BIDASK_BIT)) ==
                (KIND_TICK_BIT | KIND_BIDASK_BIT))
                tick = sim_below((uint32_t)(r >> 32), 3) == 0; /* 1 tick : 2 bid/asks */
            else
                tick = (in->kind_mask & KIND_TICK_BIT) != 0;
            size_t len = tick ? emit_tick(m, in, 0, tag, buf) : emit_bidask(m, in, 0, tag, buf);
            advance(m, exch_ns);
            return len;
        }
        /* Nothing trades now: jump to the next opening or pre-open round. */
        int64_t next = seg_end(seg);
        if (pre && m->pre_next_us < next) next = m->pre_next_us;
        m->t_us = next;
    }
}

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
    if (!(nominal_rate > 0)) nominal_rate = SIM_DEFAULT_RATE;
    /* The one floating-point step: the configured rate becomes an integer
     * number of events per 1000 s; the clock is integer from here on. */
    double milli = nominal_rate * 1000.0 + 0.5;
    m->rate_milli = milli >= 1e15 ? 1000000000000000ULL : milli < 1 ? 1 : (uint64_t)milli;
    m->step_q = 1000000000ULL / m->rate_milli;
    m->step_r = 1000000000ULL % m->rate_milli;
    start_day(m, clk_days_from_civil(y, mo, d));
    return m;
}

void sim_free(sim_market *m) {
    if (!m) return;
    free(m->inst);
    free(m->act_slot);
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
    in->weight = sim_weight(in->code, in->code_len, in->cls);
    sim_price_inst(in);
    sim_set_reference(in, in->base_ref);
    sim_book_init(in, m->seed);
    reset_session(in);
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
