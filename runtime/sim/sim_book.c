/* sim_book.c — the 5-level book of the simulated market.
 *
 * Owns: daily price limits, the volume model of each instrument class, and
 * the book itself: its layout on the tick ladder, order flow between
 * snapshots, and the volume a trade takes from the touch. Where prices go
 * is sim_model.c's: the book follows the model's fair value.
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
 * DESIGN: the book is integer (cents on the ladder) and moves one tick at a
 * time: when a trade takes the whole touch, or at a bid/ask snapshot when the
 * model's fair value (a double, model state only) lies more than half a tick
 * outside the touch. Trades lean toward the fair value (buyers lift the ask
 * when it is above the mid), so the book tracks the model within a tick or
 * two and the integer prices stay exact.
 */
#include "core/shj_event.h"
#include "sim/sim_internal.h"

#define floor_to_tick sim_floor_to_tick
#define ceil_to_tick sim_ceil_to_tick

int64_t sim_floor_to_tick(int ladder, int64_t p) { return p - p % sim_tick_at(ladder, p); }

int64_t sim_ceil_to_tick(int ladder, int64_t p) {
    int64_t t = sim_tick_at(ladder, p), r = p % t;
    return r ? p + (t - r) : p;
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

/* ---- limits ---- */

void sim_set_reference(sim_inst *in, int64_t ref) {
    int L = in->ladder;
    in->ref = ref;
    if (in->cls == SIM_CLS_OPT) {
        /* TAIFEX options: the premium may move by 10% of the underlying. */
        int64_t lo = ref - in->und / 10;
        in->limit_up = floor_to_tick(L, ref + in->und / 10);
        in->limit_down = lo < 10 ? 10 : ceil_to_tick(L, lo);
    } else {
        /* TWSE/TAIFEX: +-10% of the reference, rounded inward to the ladder. */
        in->limit_up = floor_to_tick(L, ref * 11 / 10);
        in->limit_down = ceil_to_tick(L, (ref * 9 + 9) / 10);
    }
}

/* Fair value vs the touch: +1 above the ask by more than half a tick, -1
 * below the bid by as much, 0 inside. */
static int fair_side(const sim_inst *in) {
    const sim_book *b = &in->book;
    double f = in->fair;
    if (f > (double)b->ask_px[0] + 0.5 * (double)(b->ask_px[0] - b->bid_px[0])) return 1;
    if (f < (double)b->bid_px[0] - 0.5 * (double)(b->ask_px[0] - b->bid_px[0])) return -1;
    return 0;
}

/* Buy (lift the ask) with odds that lean toward the fair value: 1/2 at the
 * mid, 0.1 .. 0.9 at half a spread either side and beyond. */
int sim_pick_up(const sim_inst *in, uint32_t bits32) {
    const sim_book *b = &in->book;
    double spread = (double)(b->ask_px[0] - b->bid_px[0]);
    double mid = 0.5 * (double)(b->ask_px[0] + b->bid_px[0]);
    double x = (in->fair - mid) / spread;
    if (x > 0.5) x = 0.5;
    if (x < -0.5) x = -0.5;
    double p = 0.5 + 0.8 * x;
    return (double)bits32 < p * 4294967296.0;
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

void sim_book_center(sim_inst *in, int64_t bid) {
    sim_book *b = &in->book;
    int L = in->ladder;
    const int N = SIM_LEVELS;
    /* Keep all five levels inside the limits. */
    int64_t lo = in->limit_down, hi = in->limit_up;
    for (int i = 0; i < N - 1; i++) lo = sim_px_up(L, lo);
    if (bid < lo) bid = lo;
    int64_t top = hi;
    for (int i = 0; i < N; i++) top = sim_px_down(L, top);
    if (bid > top) bid = top;
    bid = floor_to_tick(L, bid);
    b->bid_px[0] = bid;
    b->ask_px[0] = sim_px_up(L, bid);
    for (int i = 1; i < N; i++) {
        b->bid_px[i] = sim_px_down(L, b->bid_px[i - 1]);
        b->ask_px[i] = sim_px_up(L, b->ask_px[i - 1]);
    }
    for (int i = 0; i < N; i++) {
        uint64_t y = sim_rng_next(&in->rng);
        b->bid_vol[i] = fresh_vol(in->vm, (uint32_t)y);
        b->ask_vol[i] = fresh_vol(in->vm, (uint32_t)(y >> 32));
        b->pub_bid_vol[i] = b->pub_ask_vol[i] = 0; /* a session's first snapshot: diffs from 0 */
    }
    b->vol_len[0] = b->vol_len[1] = 0;
    sim_book_retext(b);
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
    }
    sim_book_retext(b);
    return 1;
}

/* Order flow between two snapshots: one or two levels gain or lose volume,
 * and the quote moves a tick toward the fair value when it lies outside the
 * touch (quotes are re-priced ahead of trades, as on a real book). */
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
    int side = fair_side(in);
    if (side) sim_book_shift(in, side > 0, sim_rng_next(rng));
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
