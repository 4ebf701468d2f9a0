/* sim_book.c — prices and the 5-level book of the simulated market.
 *
 * Owns: reference prices (a table of well-known codes, a code hash for the
 * rest; index futures ~23000 points; option premiums from strike, month and
 * a time value), daily price limits, the volume model of each instrument class, and
 * the book itself: its layout on the tick ladder, order flow between
 * snapshots, and the volume a trade takes from the touch.
 *
 * Guarantees (tests/test_sim.c checks each):
 *  - every price is on its ladder and inside [limit_down, limit_up];
 *  - bid1 < ask1 are adjacent ladder prices and each side's levels are one
 *    tick apart, so the spread is always one tick;
 *  - every level volume is >= 1;
 *  - a trade of v at the touch removes v from it; when v >= the touch volume
 *    the level is gone and the book moves one tick in the trade's direction
 *    (unless that would cross a limit: then fresh volume rests there).
 *
 * DESIGN: the mid follows a random walk whose up/down odds lean toward the
 * day's reference price (an Ehrenfest urn, i.e. a discrete Ornstein-Uhlenbeck
 * process) so prices stay near +-1% of the reference however fast the clock
 * runs, instead of walking into the limits at high nominal rates. The pull is
 * integer arithmetic on the count of ticks moved today; no floating point.
 */
#include "core/shj_event.h"
#include "sim/sim_internal.h"

/* ---- reference prices ---- */

typedef struct known_stock {
    const char *code;
    int64_t ref;     /* cents */
    uint32_t weight; /* relative event share */
} known_stock;

/* Prices around late 2025 / 2026 levels, each on its ladder. */
static const known_stock known[] = {
    {"2330", 102500, 10}, {"2317", 18050, 5},  {"0050", 19000, 5},  {"2454", 130000, 4},
    {"2603", 6000, 3},    {"2412", 12500, 2},  {"2881", 8500, 3},   {"2882", 6000, 3},
    {"2303", 5000, 3},    {"0056", 3600, 3},   {"00878", 2200, 3},  {"2308", 38000, 3},
    {"2891", 3000, 2},    {"2002", 2500, 2},   {"3008", 240000, 1},
};

static const known_stock *find_known(const char *code, size_t len) {
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (strlen(known[i].code) == len && memcmp(known[i].code, code, len) == 0) return &known[i];
    }
    return NULL;
}

static int64_t floor_to_tick(int ladder, int64_t p) { return p - p % sim_tick_at(ladder, p); }

static int64_t ceil_to_tick(int ladder, int64_t p) {
    int64_t t = sim_tick_at(ladder, p), r = p % t;
    return r ? p + (t - r) : p;
}

/* Index level of a contract month ("L6"): TXF, MXF and TXO of one month
 * share it, so they quote alike. ~23000 points. */
static int64_t index_level(char month_letter, char year_digit) {
    char key[2] = {month_letter, year_digit};
    uint64_t h = sim_hash(key, 2);
    return 2300000 + ((int64_t)(h % 401) - 200) * 100;
}

static int is_digit(char c) { return c >= '0' && c <= '9'; }

void sim_price_inst(sim_inst *in) {
    const char *code = in->code;
    size_t len = in->code_len;
    uint64_t h = sim_hash(code, len);
    in->basis = 0;
    in->und = 0;
    if (in->cls == SIM_CLS_FUT) {
        in->base_ref = index_level(code[3], code[4]);
        in->basis = (int64_t)(h % 6001) - 1000; /* futures - index: -10 .. +50 points */
        return;
    }
    if (in->cls == SIM_CLS_OPT) {
        /* "TXO23000L6": strike, then month letter (A-L calls, M-X puts) + year. */
        int64_t strike = 0;
        for (size_t i = 3; i + 2 < len && is_digit(code[i]); i++) strike = strike * 10 + (code[i] - '0');
        char letter = code[len - 2];
        int put = letter >= 'M';
        int64_t s = index_level((char)('A' + (letter - 'A') % 12), code[len - 1]), k = strike * 100;
        int64_t intrinsic = put ? k - s : s - k;
        if (intrinsic < 0) intrinsic = 0;
        int64_t dist = s > k ? s - k : k - s;
        /* Time value 150-300 points at the money, shrinking with distance. */
        int64_t tv = (15000 + (int64_t)(h % 15001)) * 100000 / (100000 + dist);
        int64_t p = intrinsic + tv;
        if (p < 100) p = 100; /* >= 1 point keeps five bid levels above 0 */
        in->base_ref = floor_to_tick(in->ladder, p);
        in->und = s;
        return;
    }
    const known_stock *kn = find_known(code, len);
    in->base_ref = kn ? kn->ref : floor_to_tick(in->ladder, 1000 + (int64_t)(h % 59000)); /* 10-600 */
}

uint32_t sim_weight(const char *code, size_t len, int cls) {
    if (cls == SIM_CLS_ODD) return 1;
    if (cls == SIM_CLS_OPT) return 2;
    if (cls == SIM_CLS_FUT) {
        if (memcmp(code, "TXF", 3) == 0) return 10;
        if (memcmp(code, "MXF", 3) == 0) return 6;
        return 4;
    }
    const known_stock *k = find_known(code, len);
    return k ? k->weight : 3;
}

/* ---- volume models ---- */

static const sim_volmodel vm_stk = {1000, 300, 20, 100, 400, 21474836u}; /* blocks 0.5% */
static const sim_volmodel vm_odd = {1, 5000, 300, 0, 0, 0};
static const sim_volmodel vm_fut = {1, 40, 5, 20, 30, 8589934u}; /* 20-49 lots 0.2% */
static const sim_volmodel vm_opt = {1, 60, 8, 0, 0, 0};

const sim_volmodel *sim_volmodel_of(int cls) {
    static const sim_volmodel *const by_cls[] = {&vm_stk, &vm_odd, &vm_fut, &vm_opt};
    return by_cls[cls];
}

/* ---- limits and mean reversion ---- */

void sim_set_reference(sim_inst *in, int64_t ref) {
    int L = in->ladder;
    in->ref = ref;
    uint64_t spread_sq; /* (1 / stationary spread as a fraction of the price)^2 */
    if (in->cls == SIM_CLS_OPT) {
        /* TAIFEX options: the premium may move by 10% of the underlying. */
        int64_t lo = ref - in->und / 10;
        in->limit_up = floor_to_tick(L, ref + in->und / 10);
        in->limit_down = lo < 10 ? 10 : ceil_to_tick(L, lo);
        spread_sq = 400; /* premiums swing ~5% */
    } else {
        /* TWSE/TAIFEX: +-10% of the reference, rounded inward to the ladder. */
        in->limit_up = floor_to_tick(L, ref * 11 / 10);
        in->limit_down = ceil_to_tick(L, (ref * 9 + 9) / 10);
        spread_sq = 10000; /* ~1% */
    }
    /* Pull toward the reference: p_up = 1/2 - pos / (2 D) with D chosen so
     * the stationary spread sqrt(D/2) ticks is ~1% of the price:
     * D = 2 (ref / (100 tick))^2, so 2^31 / D = 2^30 * 10^4 * tick^2 / ref^2. */
    uint64_t tick = (uint64_t)sim_tick_at(L, ref);
    uint64_t num = (1ULL << 30) / (uint64_t)ref * spread_sq * tick * tick;
    uint64_t q = num / (uint64_t)ref;
    if (q < 1) q = 1;
    if (q > (1ULL << 30)) q = 1ULL << 30;
    in->revert_q32 = (uint32_t)q;
    /* Re-centre the book if yesterday's left it outside today's band. */
    sim_book *b = &in->book;
    if (b->bid_px[0] > 0 &&
        (b->bid_px[SIM_LEVELS - 1] < in->limit_down || b->ask_px[SIM_LEVELS - 1] > in->limit_up)) {
        int64_t p = ref;
        b->bid_px[0] = p;
        b->ask_px[0] = sim_px_up(L, p);
        for (int i = 1; i < SIM_LEVELS; i++) {
            b->bid_px[i] = sim_px_down(L, b->bid_px[i - 1]);
            b->ask_px[i] = sim_px_up(L, b->ask_px[i - 1]);
        }
        sim_book_retext(b);
    }
    in->pos = b->bid_px[0] > 0 ? (int32_t)((b->bid_px[0] - ref) / (int64_t)tick) : 0;
}

int sim_pick_up(const sim_inst *in, uint32_t bits32) {
    int64_t p = (1LL << 31) - (int64_t)in->pos * (int64_t)in->revert_q32;
    const int64_t lo = 1LL << 27, hi = (1LL << 32) - (1LL << 27);
    if (p < lo) p = lo;
    if (p > hi) p = hi;
    return (int64_t)bits32 < p;
}

/* ---- the book ---- */

void sim_book_retext(sim_book *b) {
    for (int s = 0; s < 2; s++) {
        const int64_t *px = s ? b->ask_px : b->bid_px;
        char *a = b->arr_txt[s];
        *a++ = '[';
        for (int i = 0; i < SIM_LEVELS; i++) {
            char *e = sim_fmt_cents(b->px_txt[s][i], px[i]);
            b->px_len[s][i] = (uint8_t)(e - b->px_txt[s][i]);
            *a++ = '"';
            memcpy(a, b->px_txt[s][i], b->px_len[s][i]);
            a += b->px_len[s][i];
            *a++ = '"';
            *a++ = ',';
        }
        a[-1] = ']';
        b->arr_len[s] = (uint16_t)(a - b->arr_txt[s]);
    }
}

static int32_t fresh_vol(const sim_volmodel *vm, uint32_t bits32) {
    return 1 + (int32_t)sim_below(bits32, (uint32_t)vm->level_max);
}

void sim_book_init(sim_inst *in, uint64_t seed) {
    sim_book *b = &in->book;
    sim_rng r;
    sim_rng_seed(&r, seed ^ sim_hash(in->code, in->code_len));
    uint64_t x = sim_rng_next(&r);
    int L = in->ladder;
    int64_t bid = (x & 1) ? in->ref : sim_px_down(L, in->ref);
    if (sim_px_down(L, bid) < in->limit_down) bid = in->ref; /* tiny prices: stay in band */
    b->bid_px[0] = bid;
    b->ask_px[0] = sim_px_up(L, bid);
    for (int i = 1; i < SIM_LEVELS; i++) {
        b->bid_px[i] = sim_px_down(L, b->bid_px[i - 1]);
        b->ask_px[i] = sim_px_up(L, b->ask_px[i - 1]);
    }
    for (int i = 0; i < SIM_LEVELS; i++) {
        uint64_t y = sim_rng_next(&r);
        b->bid_vol[i] = fresh_vol(in->vm, (uint32_t)y);
        b->ask_vol[i] = fresh_vol(in->vm, (uint32_t)(y >> 32));
        b->pub_bid_vol[i] = b->pub_ask_vol[i] = 0;
    }
    sim_book_retext(b);
    in->pos = (int32_t)((bid - in->ref) / sim_tick_at(L, in->ref));
}

/* Move the whole book one tick: up when buyers took the ask (or stepped in),
 * down when sellers hit the bid. Returns 0 when a limit forbids it. */
int sim_book_shift(sim_inst *in, int up, uint64_t bits) {
    sim_book *b = &in->book;
    int L = in->ladder;
    const int N = SIM_LEVELS;
    if (up) {
        int64_t top = sim_px_up(L, b->ask_px[N - 1]);
        if (top > in->limit_up) return 0;
        for (int i = N - 1; i > 0; i--) {
            b->bid_px[i] = b->bid_px[i - 1];
            b->bid_vol[i] = b->bid_vol[i - 1];
        }
        b->bid_px[0] = b->ask_px[0];
        b->bid_vol[0] = 1 + (int32_t)sim_below((uint32_t)bits, (uint32_t)(in->vm->level_max / 4 + 1));
        for (int i = 0; i < N - 1; i++) {
            b->ask_px[i] = b->ask_px[i + 1];
            b->ask_vol[i] = b->ask_vol[i + 1];
        }
        b->ask_px[N - 1] = top;
        b->ask_vol[N - 1] = fresh_vol(in->vm, (uint32_t)(bits >> 32));
        in->pos++;
    } else {
        int64_t bottom = sim_px_down(L, b->bid_px[N - 1]);
        if (bottom < in->limit_down || bottom <= 0) return 0;
        for (int i = N - 1; i > 0; i--) {
            b->ask_px[i] = b->ask_px[i - 1];
            b->ask_vol[i] = b->ask_vol[i - 1];
        }
        b->ask_px[0] = b->bid_px[0];
        b->ask_vol[0] = 1 + (int32_t)sim_below((uint32_t)bits, (uint32_t)(in->vm->level_max / 4 + 1));
        for (int i = 0; i < N - 1; i++) {
            b->bid_px[i] = b->bid_px[i + 1];
            b->bid_vol[i] = b->bid_vol[i + 1];
        }
        b->bid_px[N - 1] = bottom;
        b->bid_vol[N - 1] = fresh_vol(in->vm, (uint32_t)(bits >> 32));
        in->pos--;
    }
    sim_book_retext(b);
    return 1;
}

/* Order flow between two snapshots: one or two levels gain or lose volume,
 * and now and then the quote moves a tick without a trade. */
void sim_book_flow(sim_inst *in, sim_rng *rng) {
    sim_book *b = &in->book;
    uint64_t r = sim_rng_next(rng);
    int changes = 1 + (int)(r & 1);
    uint32_t span = 2u * (uint32_t)in->vm->flow_max + 1u;
    for (int c = 0; c < changes; c++) {
        uint32_t bits = (uint32_t)(r >> (1 + 24 * c));          /* 24 fresh bits per change */
        int32_t *vol = (bits & 1) ? b->ask_vol : b->bid_vol;
        int lvl = (int)(((bits >> 1) & 0xff) * SIM_LEVELS >> 8);
        int32_t delta = (int32_t)(((bits >> 9) & 0x7fff) * span >> 15) - in->vm->flow_max;
        int32_t v = vol[lvl] + delta;
        /* Reflect at 1 and at 8x a fresh level, so volumes stay book-like
         * however long the market runs. */
        vol[lvl] = v < 1 ? 1 : v > 8 * in->vm->level_max ? 8 * in->vm->level_max : v;
    }
    if ((r >> 58) == 0) { /* 1 in 64 */
        /* Fresh bits for the new levels: reusing the direction's bits would
         * tie the new touch's size to the direction and bias the walk. */
        int up = sim_pick_up(in, (uint32_t)sim_rng_next(rng));
        sim_book_shift(in, up, sim_rng_next(rng));
    }
}

void sim_book_consume(sim_inst *in, int buy, int32_t vol, uint64_t bits) {
    sim_book *b = &in->book;
    int32_t *touch = buy ? &b->ask_vol[0] : &b->bid_vol[0];
    if (vol < *touch) {
        *touch -= vol;
        return;
    }
    if (!sim_book_shift(in, buy, bits)) *touch = fresh_vol(in->vm, (uint32_t)(bits >> 32));
}
