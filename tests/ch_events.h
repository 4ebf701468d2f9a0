/* ch_events.h — deterministic synthetic events for the ClickHouse tests and
 * benchmarks (ticks and 5-level books for a few stocks and a future), with
 * prices on the TWSE tick ladder, Taipei session times, and edge values. */
#ifndef SHJ_CH_EVENTS_H
#define SHJ_CH_EVENTS_H

#include <stdint.h>
#include <string.h>

#include "core/shj_event.h"

static inline uint64_t che_rng(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* 2026-11-25 09:00:00 Taipei = 01:00:00 UTC */
#define CHE_T0_NS 1795568400000000000LL
#define CHE_DAY_NS (86400LL * 1000000000LL)

/* Event i of a synthetic session. day_span spreads events over that many
 * consecutive days (1 = one day). */
static inline void che_make(shj_event *ev, uint64_t i, int day_span) {
    static const char *codes[] = {"2330", "2317", "0050", "TXFL6", "00878", "6505"};
    uint64_t s = i * 0x9E3779B97F4A7C15ULL + 1;
    che_rng(&s);
    memset(ev, 0, sizeof *ev);
    int c = (int)(i % 6);
    strcpy(ev->code, codes[c]);
    ev->exchange = c == 3 ? SHJ_EX_TAIFEX : (c == 5 ? SHJ_EX_OTC : SHJ_EX_TSE);
    ev->sec_type = c == 3 ? SHJ_SEC_FUT : SHJ_SEC_STK;
    ev->source_id = 1;
    ev->seq = i + 1;
    ev->flags = SHJ_FLAG_SIMULATED | ((i % 97) == 0 ? SHJ_FLAG_SIMTRADE : 0);
    int day = day_span > 1 ? (int)(i % (uint64_t)day_span) : 0;
    ev->ts_exch_ns = CHE_T0_NS + day * CHE_DAY_NS + (int64_t)(i / (uint64_t)(day_span > 1 ? day_span : 1)) * 137000LL;
    ev->ts_recv_ns = ev->ts_exch_ns + 1500000 + (int64_t)(che_rng(&s) % 900000);
    const int64_t S = SHJ_PRICE_SCALE; /* 23000, 1085, 203.5, 187.5 TWD; ticks 1 and 0.5 */
    int64_t base = c == 3 ? 23000 * S : c == 0 ? 1085 * S : c == 1 ? 2035 * S / 10 : 1875 * S / 10;
    int64_t step = c == 3 ? S : S / 2;
    int64_t px = base + (int64_t)(che_rng(&s) % 40) * step - 20 * step;
    if (i % 5 == 4) {
        ev->kind = SHJ_KIND_BIDASK;
        for (int l = 0; l < SHJ_LEVELS; l++) {
            ev->bid_price[l] = px - (l + 1) * step;
            ev->ask_price[l] = px + l * step;
            ev->bid_volume[l] = (int32_t)(che_rng(&s) % 500) + 1;
            ev->ask_volume[l] = (int32_t)(che_rng(&s) % 500) + 1;
            ev->diff_bid_vol[l] = (int32_t)(che_rng(&s) % 21) - 10;
            ev->diff_ask_vol[l] = (int32_t)(che_rng(&s) % 21) - 10;
        }
    } else {
        ev->kind = (i % 13 == 0) ? SHJ_KIND_QUOTE : SHJ_KIND_TICK;
        ev->open = base;
        ev->high = base + 30 * step;
        ev->low = base - 30 * step;
        ev->close = px;
        ev->avg_price = base + 12345;
        ev->diff_price = px - base;
        ev->diff_rate = (px - base) * 100 * S / base;
        ev->volume = (int32_t)(che_rng(&s) % 50) + 1;
        ev->amount = px * ev->volume * (c == 3 ? 200 : 1000);
        ev->vol_sum = (int64_t)i * 7 + ev->volume;
        ev->amount_sum = ev->amount * 1000 + (int64_t)i;
        ev->bid_side_vol_sum = (int64_t)i * 3;
        ev->ask_side_vol_sum = (int64_t)i * 4;
        ev->underlying_price = c == 3 ? 2298765 * S / 100 : 0;
        ev->tick_type = (int8_t)(i % 3);
        ev->chg_type = (int8_t)(i % 6);
    }
}

#endif
