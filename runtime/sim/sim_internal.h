/* sim_internal.h — private state of the simulated market, shared by sim.c
 * (market, calendar, clock, scheduling), sim_book.c (tick ladders, limits,
 * the 5-level book) and sim_format.c (payload text). Not a public API.
 *
 * Units: every price inside the simulator is an int64 count of 1/100 NT$ (or
 * 1/100 index point), "cents": all Taiwan tick sizes are multiples of 0.01,
 * so cents are exact and keep session amounts far from int64 overflow.
 * sim_contract converts to SHJ_PRICE_SCALE at the API boundary.
 * Derived values Shioaji 1.7.x sends with 6 decimal places (avg_price
 * "40461.608055", pct_chg "1.206261": Sinotrade/Sinotrade.github.io @4c63dd4
 * tutor/market_data/streaming/futures/index.md:209,:220) are computed in
 * "micros" (1/10^SIM_WIRE_DECIMALS) and written with up to 6 places.
 *
 * Volumes are int32 (lots of 1000 shares for board-lot stocks, shares for the
 * odd-lot board, contracts for futures); session sums are int64.
 */
#ifndef SHJ_SIM_INTERNAL_H
#define SHJ_SIM_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/session.h"
#include "sim/sim.h"

#define SIM_HIDDEN __attribute__((visibility("hidden")))

#define SIM_WIRE_DECIMALS 6          /* places of Shioaji's avg_price / pct_chg text */
#define SIM_MICROS_PER_CENT 10000LL  /* 10^(SIM_WIRE_DECIMALS - 2) */
#define SIM_MICROS 1000000ULL        /* 10^SIM_WIRE_DECIMALS: micros per unit */
_Static_assert(SIM_MICROS == SIM_MICROS_PER_CENT * 100, "micros and cents disagree");
_Static_assert(SIM_WIRE_DECIMALS <= SHJ_PRICE_DECIMALS, "the parser must hold what the simulator writes");

#define SIM_LEVELS 5
#define SIM_PAYLOAD_MAX 1024    /* sim_next's documented "cap >= 1024 is always enough" */
#define SIM_PX_TXT 24           /* one formatted price, quotes excluded */
#define SIM_ARR_TXT 160         /* one formatted price array ["1025","1020",...] */

/* Session times, microseconds since Taipei midnight. */
#define SIM_US_PER_S 1000000LL
#define SIM_T(h, m) (((int64_t)(h) * 3600 + (int64_t)(m) * 60) * SIM_US_PER_S)
/* The hours are core/session's. */
#define SIM_T_STK_PREOPEN SIM_T(0, SES_TWSE_PREOPEN_MIN)  /* TWSE accepts orders, trial matches (simtrade) */
#define SIM_T_FUT_OPEN SIM_T(0, SES_TAIFEX_DAY_OPEN_MIN)  /* TAIFEX day session */
#define SIM_T_STK_OPEN SIM_T(0, SES_TWSE_OPEN_MIN)        /* TWSE continuous trading */
#define SIM_T_STK_CLOSE SIM_T(0, SES_TWSE_CLOSE_MIN)
#define SIM_T_FUT_CLOSE SIM_T(0, SES_TAIFEX_DAY_CLOSE_MIN)
#define SIM_T_NIGHT_OPEN SIM_T(0, SES_TAIFEX_NIGHT_OPEN_MIN)   /* TAIFEX after-hours, evening */
#define SIM_T_NIGHT_CLOSE SIM_T(0, SES_TAIFEX_NIGHT_CLOSE_MIN) /* ... of the next calendar day */
#define SIM_T_DAY SIM_T(24, 0)
#define SIM_PREOPEN_STEP_US (60 * SIM_US_PER_S) /* one trial-match round per stock per minute */

/* Instrument classes: decide the tag, the session and the volume units. */
enum { SIM_CLS_STK = 0, SIM_CLS_ODD = 1, SIM_CLS_FUT = 2, SIM_CLS_OPT = 3 };
/* Tick-size ladders. */
enum { SIM_LADDER_STK = 0, SIM_LADDER_ETF = 1, SIM_LADDER_FUT = 2, SIM_LADDER_OPT = 3 };

/* TAIFEX instruments: *_fop payloads, 08:45-13:45. */
static inline int sim_is_fop(int cls) { return cls >= SIM_CLS_FUT; }

/* ---- PRNG: xoshiro256** seeded by splitmix64 (both public domain, Vigna) ---- */

typedef struct sim_rng {
    uint64_t s[4];
} sim_rng;

static inline uint64_t sim_splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline void sim_rng_seed(sim_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = sim_splitmix64(&x);
}

static inline uint64_t sim_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t sim_rng_next(sim_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = sim_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = sim_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, n) from 32 random bits (Lemire's multiply-shift; the tiny
 * bias is irrelevant for a simulation and it avoids a division). */
static inline uint32_t sim_below(uint32_t bits32, uint32_t n) {
    return (uint32_t)(((uint64_t)bits32 * n) >> 32);
}

/* FNV-1a: the deterministic code hash (reference prices, book seeds). */
static inline uint64_t sim_hash(const char *s, size_t n) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* ---- tick ladders ---- */

/* Tick size of the price band that contains p (cents). */
static inline int64_t sim_tick_at(int ladder, int64_t p) {
    if (ladder == SIM_LADDER_STK) {
        if (p < 1000) return 1;      /* < 10: 0.01 */
        if (p < 5000) return 5;      /* 10-50: 0.05 */
        if (p < 10000) return 10;    /* 50-100: 0.1 */
        if (p < 50000) return 50;    /* 100-500: 0.5 */
        if (p < 100000) return 100;  /* 500-1000: 1 */
        return 500;                  /* >= 1000: 5 */
    }
    if (ladder == SIM_LADDER_ETF) return p < 5000 ? 1 : 5; /* < 50: 0.01, >= 50: 0.05 */
    if (ladder == SIM_LADDER_FUT) return 100;              /* index futures: 1 point */
    if (p < 1000) return 10;      /* TXO premium < 10: 0.1 */
    if (p < 5000) return 50;      /* 10-50: 0.5 */
    if (p < 50000) return 100;    /* 50-500: 1 */
    if (p < 100000) return 500;   /* 500-1000: 5 */
    return 1000;                  /* >= 1000: 10 */
}
/* The next valid price above / below p (p itself on the ladder). The band
 * edges are multiples of both neighbouring ticks, so stepping is exact. */
static inline int64_t sim_px_up(int ladder, int64_t p) { return p + sim_tick_at(ladder, p); }
static inline int64_t sim_px_down(int ladder, int64_t p) { return p - sim_tick_at(ladder, p - 1); }

/* ---- the book ---- */

typedef struct sim_book {
    int64_t bid_px[SIM_LEVELS], ask_px[SIM_LEVELS]; /* cents; bid descending, ask ascending */
    int32_t bid_vol[SIM_LEVELS], ask_vol[SIM_LEVELS];
    int32_t pub_bid_vol[SIM_LEVELS], pub_ask_vol[SIM_LEVELS]; /* as last published (diffs) */
    /* Text caches, rebuilt when a price moves (sim_book_retext). */
    char px_txt[2][SIM_LEVELS][SIM_PX_TXT]; /* [0] bids, [1] asks */
    uint8_t px_len[2][SIM_LEVELS];
    char arr_txt[2][SIM_ARR_TXT];           /* "[\"1025\",\"1020\",...]" */
    uint16_t arr_len[2];
    /* Volume array text as last published: most snapshots leave one side
     * untouched, and then its text and "[0,0,0,0,0]" diffs are reused. */
    char vol_txt[2][64];
    uint8_t vol_len[2];
} sim_book;

/* Volume model of a class: how big trades and resting orders are. */
typedef struct sim_volmodel {
    int32_t mult;          /* shares (or units) per volume unit, for amounts */
    int32_t level_max;     /* fresh resting level volume in [1, level_max] */
    int32_t flow_max;      /* order-flow change per touched level in [-flow_max, flow_max] */
    int32_t block_min;     /* block trade size range; 0 = no blocks */
    int32_t block_span;
    uint32_t block_q32;    /* probability of a block trade, × 2^32 */
} sim_volmodel;

typedef struct sim_inst {
    char code[16];
    char alias[16];
    uint8_t code_len;
    uint8_t cls;           /* SIM_CLS_* */
    uint8_t ladder;        /* SIM_LADDER_* */
    uint8_t exchange, sec_type, odd_lot;
    uint32_t kind_mask;    /* 1u << SHJ_KIND_TICK | 1u << SHJ_KIND_BIDASK */
    const sim_volmodel *vm;

    int64_t base_ref;      /* reference of the first day (cents) */
    int64_t ref, limit_up, limit_down; /* today's (cents) */
    int64_t basis;         /* futures: close - underlying index (cents) */
    int64_t und;           /* options: the underlying index level (cents) */

    /* The price model (sim_model.c). Doubles are model state only: every
     * price that leaves the simulator is an integer count of cents on the
     * ladder (the book's). Times are market microseconds (sim_abs_us). */
    double trades_per_day; /* calibration: regular day-session trade prints */
    double sigma_sess;     /* calibration: sd of log fair value over one day session */
    double ev_rate;        /* payloads per second at activity 1 (ticks + bid/asks wanted) */
    double fair;           /* the latent fair value the book follows (cents) */
    double anchor;         /* mean-reversion level of a MEANREV regime (cents) */
    double target;         /* where this session should end (cents; 0 = no bridge) */
    double drift_per_us;   /* TREND regime: log-drift per microsecond */
    double tau_us;         /* MEANREV regime: relaxation time */
    double sig2_per_us;    /* variance of log fair value per us at mean activity */
    int regime;            /* SIM_REG_* */
    int night;             /* the current session is TAIFEX's night session */
    int64_t reg_end_us, last_us, sess_start_us, sess_end_us;
    int64_t ref_day;       /* trading day whose reference is in ref (-1 = none) */
    sim_rng rng;           /* the instrument's own stream, reseeded per session */

    /* Session statistics (regular trades only; simtrade never counts). */
    int64_t open, high, low, last;
    int64_t vol_sum, amount_sum, bid_side_sum, ask_side_sum;
    int traded_today;
    char ohl_txt[3][SIM_PX_TXT]; /* open, high, low text */
    uint8_t ohl_len[3];

    sim_book book;

    /* {"code":"2330","date":"2026-11-25","time":"  — rebuilt per day. */
    char prefix[64];
    uint8_t prefix_len;
} sim_inst;

enum { SIM_REG_RANDOM = 0, SIM_REG_TREND = 1, SIM_REG_MEANREV = 2 };
enum { SIM_GRP_STK = 0, SIM_GRP_FOP = 1 };

struct sim_market {
    sim_rng rng;
    uint64_t seed;
    sim_config cfg;        /* payload shapes (sim.h) */
    int realistic;         /* 1: Poisson arrivals at calibrated rates; 0: 1/rate s per event */
    int night;             /* simulate TAIFEX's night session */
    int64_t day_reset;     /* calendar day whose day session was last set up (-1 none) */
    int64_t night_reset;   /* calendar day whose evening night session was last set up */
    int64_t cur_T;         /* trading day of the session being simulated */
    int cur_night;         /* ... and whether it is the night session */
    /* Session windows of each group (market us), for the activity curves. */
    int64_t grp_start[2], grp_end[2];
    int grp_night[2];

    /* Exchange clock: the Taipei trading day and microseconds into it. */
    int64_t day;           /* days since 1970-01-01 (Taipei date) */
    int64_t t_us;
    int64_t day_base_ns;   /* UTC ns of that day's Taipei midnight */
    uint64_t rate_milli;   /* events per 1000 s */
    uint64_t step_q, step_r, step_acc; /* 10^9 / rate_milli as quotient + remainder */
    char date[11];
    int64_t hms_sec;       /* second of day whose text is in hms */
    char hms[9];           /* "HH:MM:SS." */

    sim_inst *inst;
    size_t n, cap;

    /* Continuous-trading candidates of the current session segment, per
     * group: cumulative payload rates (a pick is a binary search). */
    int seg;               /* -1 = rebuild */
    int64_t seg_end_t;     /* t_us where the current segment ends */
    double *act_cum[2];
    uint32_t *act_idx[2];
    size_t act_n[2], act_cap;
    double act_w[2];       /* total rate of each group in this segment (0 = closed) */

    /* Pre-open trial-match rounds (board-lot stocks only). */
    size_t pre_n;          /* board-lot stocks (they trial-match) */
    int64_t pre_next_us;
    size_t pre_cursor;
    int pre_phase;         /* 0 = tick next, 1 = bidask next, for the cursor instrument */
};

/* Market microseconds: a continuous axis across calendar days. */
static inline int64_t sim_abs_us(const sim_market *m) { return m->day * SIM_T_DAY + m->t_us; }

/* Uniform double in [0, 1) from 53 random bits. */
static inline double sim_unit(uint64_t x) { return (double)(x >> 11) * (1.0 / 9007199254740992.0); }

/* ---- sim_model.c ---- */
/* Calibrate in (base_ref, basis, trades_per_day, sigma_sess) from its code. */
SIM_HIDDEN void sim_model_profile(sim_inst *in);
/* Payloads per second of in at activity 1, given its kind mask. */
SIM_HIDDEN double sim_model_rate(const sim_inst *in);
SIM_HIDDEN int64_t sim_model_reference(const sim_market *m, const sim_inst *in, int64_t T);
SIM_HIDDEN void sim_model_session(sim_market *m, sim_inst *in, int64_t T, int night,
                                  int64_t start_us, int64_t end_us);
SIM_HIDDEN void sim_model_step(sim_inst *in, int64_t now_us);
SIM_HIDDEN double sim_activity(int night, int64_t start_us, int64_t end_us, int64_t now_us);
SIM_HIDDEN int64_t sim_next_weekday(int64_t day);

/* ---- sim_book.c ---- */
SIM_HIDDEN const sim_volmodel *sim_volmodel_of(int cls);
SIM_HIDDEN int64_t sim_floor_to_tick(int ladder, int64_t p);
SIM_HIDDEN int64_t sim_ceil_to_tick(int ladder, int64_t p);
SIM_HIDDEN void sim_set_reference(sim_inst *in, int64_t ref);
SIM_HIDDEN void sim_book_center(sim_inst *in, int64_t bid);
SIM_HIDDEN void sim_book_retext(sim_book *b);
SIM_HIDDEN int sim_book_shift(sim_inst *in, int up, uint64_t bits);
SIM_HIDDEN int sim_pick_up(const sim_inst *in, uint32_t bits32);
SIM_HIDDEN void sim_book_flow(sim_inst *in, sim_rng *rng);
SIM_HIDDEN void sim_book_consume(sim_inst *in, int buy, int32_t vol, uint64_t bits);

/* ---- sim_format.c ---- */
typedef struct sim_trade {
    int64_t price;         /* cents */
    const char *px_txt;    /* its text (a book level's cached text) */
    int px_len;
    int32_t volume;
    int tick_type;         /* 0 unknown, 1 buy, 2 sell */
    int simtrade;
    int64_t underlying;    /* futures: target_kind_price (cents) */
} sim_trade;

SIM_HIDDEN char *sim_fmt_u64(char *p, uint64_t v);
SIM_HIDDEN char *sim_fmt_i64(char *p, int64_t v);
SIM_HIDDEN char *sim_fmt_cents(char *p, int64_t c);
SIM_HIDDEN char *sim_fmt_micros(char *p, int64_t m);
SIM_HIDDEN void sim_fmt_prefix(sim_inst *in, const char *date);
SIM_HIDDEN size_t sim_fmt_tick(sim_market *m, sim_inst *in, const sim_trade *tr, char *buf);
SIM_HIDDEN size_t sim_fmt_bidask(sim_market *m, sim_inst *in, int simtrade, int64_t underlying,
                                 char *buf);

#endif
