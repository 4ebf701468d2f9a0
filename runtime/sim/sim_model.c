/* sim_model.c — where the simulated market's prices go, and how busy it is.
 *
 * Owns: each instrument's calibration (activity and volatility), the daily
 * reference price, the open gap, the intraday fair-value path with its
 * regimes, and the intraday activity curves (U-shaped day sessions, TAIFEX's
 * night session). The book (sim_book.c) follows the fair value tick by tick;
 * the clock (sim.c) draws arrivals from the activity curves.
 *
 * Guarantees:
 *  - A session is a pure function of (seed, code, trading day, day/night):
 *    the reference, open gap, regimes and every model draw come from streams
 *    seeded by those alone, so the same date reproduces exactly whatever was
 *    simulated before it, and different dates differ.
 *  - The reference of trading day T is a seeded daily random walk (with a
 *    weak pull toward the profile's base price, so years of dates stay
 *    plausible) evaluated from a fixed epoch; a day session starts at the
 *    reference moved by the day's open gap and ends near the next trading
 *    day's reference (a Brownian bridge over its last 40 %), so close(T) is
 *    about ref(T+1) and the next open gaps from there. A TAIFEX night
 *    session (the one that belongs to T: 15:00 of the previous weekday to
 *    05:00) starts at ref(T) and ends near T's day open: futures make the gap
 *    overnight, stocks at 09:00.
 *  - The fair value stays 8 ticks inside the daily limits.
 *  - Doubles are model state only; every price leaving the simulator is the
 *    book's integer on the ladder. Exact reproduction assumes the same libm
 *    (exp/log/sqrt of the same inputs), i.e. the same build and platform.
 *
 * DESIGN: intraday, log fair value = Brownian motion whose variance rate
 * follows activity (busy minutes move more), plus one regime at a time:
 * RANDOM (nothing more), TREND (a drift worth 0.5-1.2 session sds over
 * 20-90 minutes) or MEANREV (an Ornstein-Uhlenbeck pull, 5-15 minutes, toward
 * the level where the regime began). Trends and reversals are what RSI and
 * breakout rules on 5-minute bars react to; gap opens are what
 * opening-range rules do.
 *
 * CALIBRATION (published figures; docs/simulator.md has the table and
 * bench/bench_sim_stats.c prints simulated vs band):
 *  - TSMC 2330 on TWSE: order of 10^4-3x10^4 trade prints per day (TWSE
 *    daily per-stock trading statistics, "Transaction" count, STOCK_DAY
 *    report, twse.com.tw); typical day range 1-2 % of the price. Target
 *    20,000 prints, session sd 0.95 % (-> mean range ~1.5 %).
 *  - TXF (TAIEX futures, near month) on TAIFEX: regular-session volume of the
 *    order of 10^5 contracts with trade prints of the same order (TAIFEX
 *    Daily Market Report, taifex.com.tw); day range ~1 %. Target 60,000
 *    prints (x ~2.3 contracts each), session sd 0.7 %. After-hours (night)
 *    session volume ~30-50 % of the regular session's.
 *  - Intraday activity is U-shaped on both exchanges (busiest after the
 *    open, again before the close): about a fifth of a TWSE day's volume in
 *    its first 30 minutes.
 *  - Tick sizes: TWSE's ladder (sim_internal.h sim_tick_at), TXF/MXF 1 point.
 * Other stocks: a few thousand prints per day by size; unknown codes 1,500
 * to 4,500 by code hash.
 */
#include <math.h>

#include "core/clock.h"
#include "core/shj_event.h"
#include "sim/sim_internal.h"

/* ---- calibration ---- */

typedef struct sim_profile {
    const char *code;
    int64_t base_ref;      /* cents, on the ladder, at the walk's epoch */
    double trades_per_day; /* regular day-session trade prints */
    double sigma_sess;     /* sd of the intraday log-price path over one day session */
} sim_profile;

/* Prices around late 2025 / 2026 levels, each on its ladder. */
static const sim_profile profiles[] = {
    {"2330", 102500, 20000, 0.0050}, {"2317", 18050, 9000, 0.008},  {"0050", 19000, 6000, 0.008},
    {"2454", 130000, 9000, 0.013},   {"2603", 6000, 7000, 0.016},   {"2412", 12500, 2000, 0.005},
    {"2881", 8500, 5000, 0.009},     {"2882", 6000, 5000, 0.009},   {"2303", 5000, 6000, 0.012},
    {"0056", 3600, 4000, 0.006},     {"00878", 2200, 5000, 0.005},  {"2308", 38000, 5000, 0.014},
    {"2891", 3000, 4000, 0.008},     {"2002", 2500, 3000, 0.009},   {"3008", 240000, 2000, 0.015},
};
#define SIM_INDEX_BASE 2300000   /* TAIEX ~23,000 points (cents) at the epoch */
#define SIM_INDEX_SIGMA 0.0050   /* TXF session sd */
#define SIM_TXF_TRADES 60000.0
#define SIM_MXF_TRADES 40000.0
#define SIM_FUT_TRADES 5000.0    /* other months / products */
#define SIM_OPT_TRADES 1500.0
#define SIM_OPT_SIGMA 0.12       /* premiums swing ~10 %+ a day */
#define SIM_ODD_TRADES 3000.0    /* intraday odd-lot board */
#define SIM_STK_SIGMA 0.011      /* unknown stocks */

/* Close-to-close sd of the reference walk, relative to the session sd:
 * overnight news adds to the intraday path. */
#define SIM_CC_OVER_SESSION 1.25
/* Night-session sd relative to the day session's. */
#define SIM_NIGHT_SIGMA 0.7
/* Epoch of the reference walk: its value there is the profile's base. */
#define SIM_EPOCH_Y 2026
#define SIM_EPOCH_M 1
#define SIM_EPOCH_D 5
/* Per weekday pull of the log reference back toward the base (keeps a
 * decade of dates inside a plausible band). */
#define SIM_WALK_PULL 0.01
/* Share of the day session after which the close is bridged to its target. */
#define SIM_BRIDGE_FROM 0.6

#define MIN_US (60 * SIM_US_PER_S)

/* Standard normal from four uniforms (Irwin-Hall, sd scaled to 1): only
 * arithmetic, so every platform draws the same numbers. */
static double normal(sim_rng *r) {
    uint64_t a = sim_rng_next(r), b = sim_rng_next(r);
    double s = (double)(a & 0xffffffffu) + (double)(a >> 32) + (double)(b & 0xffffffffu) +
               (double)(b >> 32);
    return (s * (1.0 / 4294967296.0) - 2.0) * 1.7320508075688772;
}

static double uniform(sim_rng *r) { return sim_unit(sim_rng_next(r)); }

/* A stream for one (seed, key, day, purpose). */
static void seed_stream(sim_rng *r, uint64_t seed, uint64_t key, int64_t day, uint64_t purpose) {
    uint64_t x = seed ^ 0x5348494a494d5349ULL; /* "SHIJIMSI" */
    uint64_t a = sim_splitmix64(&x) ^ key;
    uint64_t b = sim_splitmix64(&a) ^ (uint64_t)day;
    uint64_t c = sim_splitmix64(&b) ^ purpose;
    sim_rng_seed(r, c);
}

int64_t sim_next_weekday(int64_t day) {
    do day++;
    while (clk_weekday(day) == 0 || clk_weekday(day) == 6);
    return day;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

void sim_model_profile(sim_inst *in) {
    uint64_t h = sim_hash(in->code, in->code_len);
    in->basis = 0;
    in->und = 0;
    if (in->cls == SIM_CLS_FUT) {
        int txf = memcmp(in->code, "TXF", 3) == 0, mxf = memcmp(in->code, "MXF", 3) == 0;
        /* The near month (R1) is where the volume is; later months trade far less. */
        in->trades_per_day = txf ? SIM_TXF_TRADES : mxf ? SIM_MXF_TRADES : SIM_FUT_TRADES;
        in->sigma_sess = SIM_INDEX_SIGMA;
        in->basis = (int64_t)(h % 6001) - 1000; /* futures - index: -10 .. +50 points */
        in->base_ref = SIM_INDEX_BASE + in->basis;
        return;
    }
    if (in->cls == SIM_CLS_OPT) {
        in->trades_per_day = SIM_OPT_TRADES;
        in->sigma_sess = SIM_OPT_SIGMA;
        in->base_ref = 0; /* from the index, per day */
        return;
    }
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
        if (strcmp(profiles[i].code, in->code) == 0) {
            in->base_ref = profiles[i].base_ref;
            in->trades_per_day = profiles[i].trades_per_day;
            in->sigma_sess = profiles[i].sigma_sess;
            if (in->cls == SIM_CLS_ODD) in->trades_per_day = SIM_ODD_TRADES;
            return;
        }
    }
    in->base_ref = sim_floor_to_tick(in->ladder, 1000 + (int64_t)(h % 59000)); /* 10-600 */
    in->trades_per_day = in->cls == SIM_CLS_ODD ? SIM_ODD_TRADES : 1500.0 + (double)(h % 3001);
    in->sigma_sess = SIM_STK_SIGMA;
}

/* ---- activity ---- */

/* Activity at share x of a day session: U-shaped, 5x the midday level at the
 * open and 3.5x at the close (time constant 6 % of the session). */
static double u_day(double x) { return 1.0 + 4.0 * exp(-x / 0.06) + 2.5 * exp(-(1.0 - x) / 0.06); }
/* The night session (15:00-05:00): quiet, a burst at its open and one
 * around the U.S. open (22:30 Taipei). */
#define SIM_NIGHT_SCALE 0.12
static double u_night(double x) {
    const double xus = 7.5 / 14.0;
    return SIM_NIGHT_SCALE * (1.0 + 3.0 * exp(-x / 0.03) + 4.0 * exp(-fabs(x - xus) / 0.04));
}
/* Their means over the session (closed forms of the integrals). */
static double u_mean(int night) {
    if (!night) return 1.0 + 0.06 * 6.5 * (1.0 - exp(-1.0 / 0.06));
    const double xus = 7.5 / 14.0;
    return SIM_NIGHT_SCALE *
           (1.0 + 0.09 * (1.0 - exp(-1.0 / 0.03)) + 0.16 * (2.0 - exp(-xus / 0.04) - exp(-(1.0 - xus) / 0.04)));
}

double sim_activity(int night, int64_t start_us, int64_t end_us, int64_t now_us) {
    if (end_us <= start_us) return 0;
    double x = (double)(now_us - start_us) / (double)(end_us - start_us);
    if (x < 0) x = 0;
    if (x > 1) x = 1;
    return night ? u_night(x) : u_day(x);
}

double sim_model_rate(const sim_inst *in) {
    int64_t len_min = sim_is_fop(in->cls) ? SES_TAIFEX_DAY_CLOSE_MIN - SES_TAIFEX_DAY_OPEN_MIN
                                          : SES_TWSE_CLOSE_MIN - SES_TWSE_OPEN_MIN;
    double ticks_per_s = in->trades_per_day / ((double)len_min * 60.0 * u_mean(0));
    int kinds = ((in->kind_mask >> SHJ_KIND_TICK) & 1) + 2 * (int)((in->kind_mask >> SHJ_KIND_BIDASK) & 1);
    return ticks_per_s * (double)kinds; /* 1 tick : 2 bid/asks when both are wanted */
}

/* ---- references ---- */

/* The seeded daily walk of log(price / base) at trading day T. */
static double walk(uint64_t seed, uint64_t key, double sigma_cc, int64_t T) {
    int64_t e = clk_days_from_civil(SIM_EPOCH_Y, SIM_EPOCH_M, SIM_EPOCH_D);
    double x = 0;
    sim_rng r;
    if (T >= e) {
        for (int64_t k = e; k < T; k++) {
            if (clk_weekday(k) == 0 || clk_weekday(k) == 6) continue;
            seed_stream(&r, seed, key, k, 'W');
            double z = normal(&r);
            if (z > 4) z = 4;
            if (z < -4) z = -4;
            x += sigma_cc * z - SIM_WALK_PULL * x;
        }
    } else {
        for (int64_t k = e - 1; k >= T; k--) {
            if (clk_weekday(k) == 0 || clk_weekday(k) == 6) continue;
            seed_stream(&r, seed, key, k, 'W');
            double z = normal(&r);
            if (z > 4) z = 4;
            if (z < -4) z = -4;
            x -= sigma_cc * z + SIM_WALK_PULL * x;
        }
    }
    return x;
}

static const uint64_t INDEX_KEY = 0x5441494558ULL; /* "TAIEX": TXF, MXF and TXO share one index */

static int64_t index_at(const sim_market *m, int64_t T) {
    double x = walk(m->seed, INDEX_KEY, SIM_INDEX_SIGMA * SIM_CC_OVER_SESSION, T);
    return (int64_t)((double)SIM_INDEX_BASE * exp(x) / 100.0 + 0.5) * 100; /* whole points */
}

/* "TXO23000L6": strike, then month letter (A-L calls, M-X puts) + year. */
static int64_t option_premium(const sim_inst *in, int64_t s) {
    const char *code = in->code;
    size_t len = in->code_len;
    int64_t strike = 0;
    for (size_t i = 3; i + 2 < len && is_digit(code[i]); i++) strike = strike * 10 + (code[i] - '0');
    int put = code[len - 2] >= 'M';
    int64_t k = strike * 100;
    int64_t intrinsic = put ? k - s : s - k;
    if (intrinsic < 0) intrinsic = 0;
    int64_t dist = s > k ? s - k : k - s;
    uint64_t h = sim_hash(code, len);
    /* Time value 150-300 points at the money, shrinking with distance. */
    int64_t tv = (15000 + (int64_t)(h % 15001)) * 100000 / (100000 + dist);
    int64_t p = intrinsic + tv;
    if (p < 100) p = 100; /* >= 1 point keeps five bid levels above 0 */
    return sim_floor_to_tick(in->ladder, p);
}

int64_t sim_model_reference(const sim_market *m, const sim_inst *in, int64_t T) {
    if (in->cls == SIM_CLS_OPT) return option_premium(in, index_at(m, T));
    if (in->cls == SIM_CLS_FUT) return sim_floor_to_tick(in->ladder, index_at(m, T) + in->basis);
    double x = walk(m->seed, sim_hash(in->code, in->code_len), in->sigma_sess * SIM_CC_OVER_SESSION, T);
    int64_t p = (int64_t)((double)in->base_ref * exp(x) + 0.5);
    if (p < 100) p = 100; /* NT$1: five levels of 0.01 below stay positive */
    return sim_floor_to_tick(in->ladder, p);
}

/* ---- the intraday path ---- */

static void new_regime(sim_inst *in, int64_t now) {
    double u = uniform(&in->rng), v = uniform(&in->rng);
    int64_t dur = (int64_t)((20.0 + 70.0 * v) * (double)MIN_US);
    in->reg_end_us = now + dur;
    double sd = sqrt(in->sig2_per_us * (double)(in->sess_end_us - in->sess_start_us));
    if (u < 0.35) {
        in->regime = SIM_REG_RANDOM;
    } else if (u < 0.75) {
        in->regime = SIM_REG_TREND;
        double mag = (0.4 + 0.5 * uniform(&in->rng)) * sd;
        if (sim_rng_next(&in->rng) & 1) mag = -mag;
        in->drift_per_us = mag / (double)dur;
    } else {
        in->regime = SIM_REG_MEANREV;
        in->tau_us = (5.0 + 10.0 * uniform(&in->rng)) * (double)MIN_US;
        in->anchor = in->fair;
    }
}

static void clamp_fair(sim_inst *in) {
    double lo = (double)(in->limit_down + 8 * sim_tick_at(in->ladder, in->limit_down));
    double hi = (double)(in->limit_up - 8 * sim_tick_at(in->ladder, in->limit_up - 1));
    if (lo > hi) lo = hi = (double)in->ref;
    if (in->fair < lo) in->fair = lo;
    if (in->fair > hi) in->fair = hi;
}

void sim_model_session(sim_market *m, sim_inst *in, int64_t T, int night, int64_t start_us,
                       int64_t end_us) {
    uint64_t key = sim_hash(in->code, in->code_len);
    if (in->cls == SIM_CLS_OPT) in->und = index_at(m, T);
    int64_t ref = in->ref_day == T ? in->ref : sim_model_reference(m, in, T);
    sim_set_reference(in, ref);
    in->ref_day = T;
    /* The open gap of T: small most days, 1-2 close-to-close sds on one in seven. */
    sim_rng g;
    seed_stream(&g, m->seed, sim_is_fop(in->cls) ? INDEX_KEY : key, T, 'G');
    double sd_cc = in->sigma_sess * SIM_CC_OVER_SESSION;
    double gap = 0.3 * sd_cc * normal(&g);
    if (uniform(&g) < 0.15) gap = (sim_rng_next(&g) & 1 ? 1 : -1) * (1.0 + uniform(&g)) * sd_cc;
    double open = (double)ref * (1.0 + gap);
    int64_t next_ref = sim_model_reference(m, in, sim_next_weekday(T));
    seed_stream(&in->rng, m->seed, key, T, night ? 'N' : 'D');
    in->night = night;
    in->sess_start_us = in->last_us = start_us;
    in->sess_end_us = end_us;
    double sig = in->sigma_sess * (night ? SIM_NIGHT_SIGMA : 1.0);
    in->sig2_per_us = sig * sig / (double)(end_us - start_us);
    in->fair = night ? (double)ref : open;
    in->target = night ? open : (double)next_ref;
    clamp_fair(in);
    sim_book_center(in, (int64_t)in->fair);
    new_regime(in, start_us);
}

void sim_model_step(sim_inst *in, int64_t now) {
    if (now <= in->last_us) return;
    double dt = (double)(now - in->last_us);
    in->last_us = now;
    if (now >= in->reg_end_us) new_regime(in, now);
    double act = sim_activity(in->night, in->sess_start_us, in->sess_end_us, now) / u_mean(in->night);
    double var = in->sig2_per_us * dt * act;
    double step = sqrt(var) * normal(&in->rng);
    if (in->regime == SIM_REG_TREND) step += in->drift_per_us * dt;
    in->fair *= exp(step);
    if (in->regime == SIM_REG_MEANREV) {
        double k = dt / in->tau_us;
        in->fair += (in->anchor - in->fair) * (k > 1 ? 1 : k);
    }
    int64_t len = in->sess_end_us - in->sess_start_us;
    int64_t from = in->sess_start_us + (int64_t)(SIM_BRIDGE_FROM * (double)len);
    if (in->target > 0 && now > from) {
        int64_t left = in->sess_end_us - now;
        double k = left > 0 ? dt / (double)left : 1.0;
        in->fair += (in->target - in->fair) * (k > 1 ? 1 : k);
    }
    clamp_fair(in);
}
