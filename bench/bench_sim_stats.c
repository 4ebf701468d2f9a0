/* bench_sim_stats.c — is the simulated market like the real one?
 *
 * Runs the simulated market (realistic clock, sim.h) over N trading days for
 * 2330, 2317, 0050, TXFR1 and MXFR1 (tick + bidask), reads every payload back
 * through the real parser, and prints per instrument: trade prints per day,
 * contracts/lots per day, the day-session range in % of the reference, the
 * mean spread in ticks and in basis points, the share of day-session volume
 * in its first and last 30 minutes, TAIFEX night-session volume relative to
 * the day session, and how many days RSI(14) on 5-minute bars went below 30
 * and above 70. Next to each: the published figure and the band the
 * simulator is calibrated to (sources in runtime/sim/sim_model.c and
 * docs/simulator.md), and "ok" or "OUT".
 *
 * Usage: bench_sim_stats [days [seed [from-date]]]   (default 20 42 2026-11-23)
 * Exit status 0 when every figure is inside its band, 1 otherwise.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/shj_event.h"
#include "parse/parse.h"
#include "sim/sim.h"
#include "sim/sim_internal.h"

#define MAX_DAYS 64
#define CENT (SHJ_PRICE_SCALE / 100)

typedef struct day_stats {
    long trades, night_trades;
    int64_t volume, night_volume, first30, last30;
    int64_t high, low, ref;    /* day session, cents */
    /* 5-minute bars of the day session -> RSI(14) */
    int64_t bar_close[80];
    int nbars;
    int64_t bar_id;
} day_stats;

typedef struct inst_stats {
    const char *code;
    int fop, ladder;
    day_stats d[MAX_DAYS];
    double spread_ticks, spread_bp;
    long spreads;
} inst_stats;

static int minute_of(int64_t ns) {
    int64_t s = ns / CLK_NS_PER_SEC + CLK_TAIPEI_OFFSET_S;
    return (int)((s % 86400) / 60);
}

static double rsi_extreme(const day_stats *d, int low) {
    /* Wilder's RSI(14) over the day's 5-minute closes; min or max of it. */
    double ag = 0, al = 0, best = low ? 100 : 0;
    for (int i = 1; i < d->nbars; i++) {
        double ch = (double)(d->bar_close[i] - d->bar_close[i - 1]);
        double g = ch > 0 ? ch : 0, l = ch < 0 ? -ch : 0;
        if (i <= 14) {
            ag += g / 14;
            al += l / 14;
            if (i < 14) continue;
        } else {
            ag = (ag * 13 + g) / 14;
            al = (al * 13 + l) / 14;
        }
        double rsi = al == 0 ? 100 : 100 - 100 / (1 + ag / al);
        if (low ? rsi < best : rsi > best) best = rsi;
    }
    return best;
}

static int check(const char *what, double v, double lo, double hi, const char *published) {
    int ok = v >= lo && v <= hi;
    printf("  %-34s %12.2f   band [%g, %g]   %-3s  published: %s\n", what, v, lo, hi, ok ? "ok" : "OUT",
           published);
    return ok;
}

int main(int argc, char **argv) {
    int days = argc > 1 ? atoi(argv[1]) : 20;
    uint64_t seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 42;
    const char *from = argc > 3 ? argv[3] : "2026-11-23";
    if (days < 1 || days > MAX_DAYS) {
        fprintf(stderr, "bench_sim_stats: days must be 1..%d\n", MAX_DAYS);
        return 2;
    }
    sim_market *m = sim_new(seed, from, 0);
    if (!m) return 2;
    static const char *const codes[] = {"2330", "2317", "0050", "TXFR1", "MXFR1"};
    enum { NI = sizeof codes / sizeof codes[0] };
    static inst_stats st[NI];
    char resolved[NI][16], err[160];
    for (int i = 0; i < NI; i++) {
        if (sim_add(m, codes[i], 0, 0, (1u << SHJ_KIND_TICK) | (1u << SHJ_KIND_BIDASK), 0, resolved[i], err,
                    sizeof err) != 0) {
            fprintf(stderr, "bench_sim_stats: %s\n", err);
            return 2;
        }
        st[i].code = codes[i];
        st[i].fop = codes[i][0] == 'T' || codes[i][0] == 'M';
        st[i].ladder = st[i].fop ? SIM_LADDER_FUT : (codes[i][0] == '0' && codes[i][1] == '0') ? SIM_LADDER_ETF
                                                                                              : SIM_LADDER_STK;
        for (int d = 0; d < MAX_DAYS; d++) st[i].d[d].low = INT64_MAX, st[i].d[d].bar_id = -1;
    }
    int64_t first_T = -1;
    long payloads = 0, flagged = 0, events = 0, bad = 0;
    char buf[2048];
    for (;;) {
        int tag;
        int64_t exch;
        size_t len = sim_next(m, &tag, buf, sizeof buf, &exch);
        if (!len) break;
        int64_t T = sim_trading_day(m);
        if (first_T < 0) first_T = T;
        /* trading-day index (weekdays) */
        int di = 0;
        for (int64_t k = first_T; k < T; k++) di += clk_weekday(k) >= 1 && clk_weekday(k) <= 5;
        if (di >= days) break;
        payloads++;
        shj_event ev;
        if (psr_parse(tag, buf, len, &ev, err, sizeof err) != PSR_EVENT) {
            bad++;
            continue;
        }
        events++;
        if (ev.flags & SHJ_FLAG_SIMULATED) flagged++;
        int i;
        for (i = 0; i < NI; i++) {
            if (strcmp(ev.code, resolved[i]) == 0) break;
        }
        if (i == NI) continue;
        inst_stats *s = &st[i];
        day_stats *d = &s->d[di];
        int min = minute_of(ev.ts_exch_ns);
        int open_min = s->fop ? SES_TAIFEX_DAY_OPEN_MIN : SES_TWSE_OPEN_MIN;
        int close_min = s->fop ? SES_TAIFEX_DAY_CLOSE_MIN : SES_TWSE_CLOSE_MIN;
        int in_day = min >= open_min && min < close_min;
        if (ev.kind == SHJ_KIND_BIDASK) {
            if (!in_day) continue;
            int64_t b = ev.bid_price[0] / CENT, a = ev.ask_price[0] / CENT;
            s->spread_ticks += (double)(a - b) / (double)sim_tick_at(s->ladder, b);
            s->spread_bp += 1e4 * (double)(a - b) / (double)b;
            s->spreads++;
            continue;
        }
        if (ev.kind != SHJ_KIND_TICK || (ev.flags & SHJ_FLAG_SIMTRADE)) continue;
        int64_t px = ev.close / CENT;
        if (!in_day) {
            d->night_trades++;
            d->night_volume += ev.volume;
            continue;
        }
        d->trades++;
        d->volume += ev.volume;
        if (min < open_min + 30) d->first30 += ev.volume;
        if (min >= close_min - 30) d->last30 += ev.volume;
        if (px > d->high) d->high = px;
        if (px < d->low) d->low = px;
        d->ref = px - ev.diff_price / CENT;
        int64_t bar = (min - open_min) / 5;
        if (bar != d->bar_id && d->nbars < 80) {
            d->bar_id = bar;
            d->nbars++;
        }
        if (d->nbars) d->bar_close[d->nbars - 1] = px;
    }
    sim_free(m);

    printf("bench_sim_stats: seed %llu, %d trading days from %s, %ld payloads (%ld events, %ld unparsed), "
           "%ld flagged SHJ_FLAG_SIMULATED\n",
           (unsigned long long)seed, days, from, payloads, events, bad, flagged);
    int all_ok = bad == 0 && flagged == events;
    for (int i = 0; i < NI; i++) {
        inst_stats *s = &st[i];
        double trades = 0, vol = 0, range = 0, f30 = 0, l30 = 0, night = 0, nvol = 0;
        int rsi_lo = 0, rsi_hi = 0, nd = 0;
        for (int d = 0; d < days; d++) {
            day_stats *x = &s->d[d];
            if (!x->trades) continue;
            nd++;
            trades += (double)x->trades;
            vol += (double)x->volume;
            range += 100.0 * (double)(x->high - x->low) / (double)x->ref;
            f30 += (double)x->first30 / (double)x->volume;
            l30 += (double)x->last30 / (double)x->volume;
            night += (double)x->night_trades;
            nvol += (double)x->night_volume;
            rsi_lo += rsi_extreme(x, 1) < 30;
            rsi_hi += rsi_extreme(x, 0) > 70;
        }
        if (!nd) {
            printf("%s: no trading days\n", s->code);
            all_ok = 0;
            continue;
        }
        printf("%s (%s, %d days): %.0f %s/day, RSI(14) on 5-min bars < 30 on %d days, > 70 on %d days\n",
               s->code, resolved[i], nd, vol / nd, s->fop ? "contracts" : "lots", rsi_lo, rsi_hi);
        int ok = 1;
        if (!strcmp(s->code, "2330")) {
            ok &= check("trade prints per day", trades / nd, 10000, 30000,
                        "order of 1e4-3e4 (TWSE STOCK_DAY transactions)");
            ok &= check("day range % of reference", range / nd, 0.8, 2.5, "~1-2 %");
        } else if (!strcmp(s->code, "TXFR1")) {
            ok &= check("trade prints per day (day session)", trades / nd, 30000, 150000,
                        "order of 1e5 (TAIFEX daily report)");
            ok &= check("contracts per day (day session)", vol / nd, 50000, 300000, "order of 1e5");
            ok &= check("day range % of reference", range / nd, 0.5, 1.8, "~1 %");
            ok &= check("night / day volume", nvol / vol, 0.2, 0.6, "after-hours ~30-50 % of regular");
            printf("  night session: %.0f trade prints/day (%.2f of the day session's)\n", night / nd, night / trades);
        } else {
            ok &= check("trade prints per day", trades / nd, 1000, 100000, "(no published band; sanity)");
            ok &= check("day range % of reference", range / nd, 0.3, 4.0, "(sanity)");
        }
        ok &= check("mean spread, ticks", s->spread_ticks / (double)s->spreads, 1.0, 1.5,
                    "1 tick on liquid names");
        printf("  %-34s %12.2f\n", "mean spread, bp", s->spread_bp / (double)s->spreads);
        ok &= check("volume share first 30 min, %", 100 * f30 / nd, 15, 35, "U-shape: ~20 % (uniform 10-11 %)");
        ok &= check("volume share last 30 min, %", 100 * l30 / nd, 11.5, 30, "U-shape: above uniform");
        if (!strcmp(s->code, "2330") || !strcmp(s->code, "TXFR1")) {
            ok &= check("days with RSI<30 and days with RSI>70", (double)(rsi_lo > 0) + (rsi_hi > 0), 2, 2,
                        "strategies need both");
        }
        all_ok &= ok;
    }
    printf("bench_sim_stats: %s\n", all_ok ? "every figure inside its band" : "SOME FIGURES OUTSIDE THEIR BAND");
    return all_ok ? 0 : 1;
}
