/* shj_event.h — the broker-neutral event model.
 *
 * Owns: the one fixed-layout struct every source publishes and every
 * subscriber (C writers, Lua handlers through the LuaJIT FFI) reads.
 *
 * Guarantees:
 *  - Prices and amounts are exact fixed-point integers: value × SHJ_PRICE_SCALE
 *    (10^6, the 6 decimal places Shioaji 1.7.x sends, e.g. futures avg_price
 *    "40461.608055"). "585.5" on the wire is 585500000 here and "585.5" again
 *    in storage. An int64 so scaled holds magnitudes up to ~9.22e12 (see
 *    SHJ_PRICE_MAX_UNITS); no binary float is ever on the path from the wire
 *    to storage. Nothing else may spell the scale as a number: C reads
 *    SHJ_PRICE_SCALE, Lua reads C.SHJ_PRICE_SCALE_FFI below (same value).
 *  - Times are int64 nanoseconds since the Unix epoch, UTC. Shioaji's
 *    Asia/Taipei local date+time (UTC+8, no DST) is converted by the parser.
 *  - The layout is fixed: the block between FFI-BEGIN and FFI-END is fed
 *    verbatim to ffi.cdef by scripts/shijim/ffi.lua, so it holds plain
 *    declarations only (no macros, no #include). Change it and bump
 *    SHJ_ABI_VERSION; Lua refuses to load against a different ABI.
 */
#ifndef SHJ_EVENT_H
#define SHJ_EVENT_H

#include <stdint.h>

/* The scale's one spelling is SHJ_PRICE_SCALE_FFI in the FFI block below
 * (Lua reads it from there); C uses these names. */
#define SHJ_PRICE_SCALE ((long long)SHJ_PRICE_SCALE_FFI) /* fixed-point scale of every price/amount field */
#define SHJ_PRICE_DECIMALS ((int)SHJ_PRICE_DECIMALS_FFI) /* digits after the point that SHJ_PRICE_SCALE holds */
/* Largest whole units a scaled int64 holds: floor(INT64_MAX / SHJ_PRICE_SCALE)
 * (9223372036854, i.e. ~9.2e12 TWD). Sums of money must stay below it. */
#define SHJ_PRICE_MAX_UNITS (INT64_MAX / SHJ_PRICE_SCALE)
#define SHJ_LEVELS 5            /* depth of a bid/ask snapshot */
#define SHJ_CODE_MAX 16         /* bytes of shj_event.code, NUL included */

/* FFI-BEGIN */
enum {
    SHJ_ABI_VERSION = 2,          /* 2: prices × 10^6 (1: × 10^4) */
    SHJ_PRICE_SCALE_FFI = 1000000, /* 10^6: SHJ_PRICE_SCALE (the cdef has no macros) */
    SHJ_PRICE_DECIMALS_FFI = 6     /* SHJ_PRICE_DECIMALS: 10^6 has 6 digits after the point */
};

/* What an event is. Values are stable: they are stored in files and ClickHouse. */
typedef enum {
    SHJ_KIND_NONE   = 0,
    SHJ_KIND_TICK   = 1,  /* one trade (stock or futures/options) */
    SHJ_KIND_BIDASK = 2,  /* a 5-level book snapshot */
    SHJ_KIND_STATUS = 3,  /* source/session life: connected, gap, ... */
    SHJ_KIND_BAR    = 4,  /* an OHLCV bar built from ticks (replay/backtest) */
    SHJ_KIND_QUOTE  = 5,  /* Shioaji "Quote": tick + book in one (mapped as a tick) */
    SHJ_KIND_MAX    = 6
} shj_kind;

/* Bit masks over kinds, for bus subscriptions: 1u << kind. */
typedef enum {
    SHJ_MASK_TICK   = 2,
    SHJ_MASK_BIDASK = 4,
    SHJ_MASK_STATUS = 8,
    SHJ_MASK_BAR    = 16,
    SHJ_MASK_QUOTE  = 32,
    SHJ_MASK_ALL    = 62
} shj_kind_mask;

typedef enum {
    SHJ_EX_UNKNOWN = 0,
    SHJ_EX_TSE     = 1,  /* Taiwan Stock Exchange (TWSE listed) */
    SHJ_EX_OTC     = 2,  /* Taipei Exchange (TPEx) */
    SHJ_EX_OES     = 3,  /* TPEx emerging stocks */
    SHJ_EX_TAIFEX  = 4   /* Taiwan Futures Exchange */
} shj_exchange;

typedef enum {
    SHJ_SEC_UNKNOWN = 0,
    SHJ_SEC_STK     = 1,
    SHJ_SEC_FUT     = 2,
    SHJ_SEC_OPT     = 3,
    SHJ_SEC_IND     = 4
} shj_sec_type;

typedef enum {
    SHJ_FLAG_SIMTRADE  = 1,   /* trial match before the open: keep, never count as volume */
    SHJ_FLAG_SUSPENDED = 2,   /* trading halted for this instrument */
    SHJ_FLAG_ODDLOT    = 4,   /* intraday odd-lot board (volumes in shares) */
    SHJ_FLAG_BACKFILL  = 8,   /* fetched after a gap from the historical endpoint */
    SHJ_FLAG_REPLAY    = 16,  /* re-published from the raw archive */
    SHJ_FLAG_SIMULATED = 32,  /* produced by the built-in simulated market */
    SHJ_FLAG_FIELD_LOST = 64  /* an auxiliary field could not be represented: left 0 (raw archive has it) */
} shj_flag;

/* Shioaji tick_type: aggressor side of a trade. */
typedef enum {
    SHJ_SIDE_UNKNOWN = 0,
    SHJ_SIDE_BUY     = 1,  /* traded at the ask */
    SHJ_SIDE_SELL    = 2   /* traded at the bid */
} shj_side;

typedef enum {
    SHJ_STATUS_CONNECTED     = 1,
    SHJ_STATUS_DISCONNECTED  = 2,
    SHJ_STATUS_RESUBSCRIBED  = 3,
    SHJ_STATUS_GAP           = 4,  /* data for code may be missing in [gap_start_ns, gap_end_ns] */
    SHJ_STATUS_SESSION_OPEN  = 5,
    SHJ_STATUS_SESSION_CLOSE = 6,
    SHJ_STATUS_ERROR         = 7,  /* detail says what (e.g. a rejected subscription) */
    SHJ_STATUS_BACKFILLED    = 8   /* a gap was filled from history */
} shj_status_code;

/* One event. 256 bytes, cache-line aligned in the bus ring.
 * Common header first; then one of the kind-specific parts. Bars reuse the
 * tick part's open/high/low/close/volume names (plus period_s, trades). */
typedef struct shj_event {
    uint8_t  kind;         /* shj_kind */
    uint8_t  exchange;     /* shj_exchange */
    uint8_t  sec_type;     /* shj_sec_type */
    uint8_t  payload_tag;  /* psr_tag the event was parsed from (0 for synthetic events) */
    uint32_t flags;        /* shj_flag bits */
    uint32_t inst_id;      /* interned instrument id (inst_intern), > 0 */
    uint16_t source_id;    /* which source published it */
    uint16_t reserved0;
    char     code[16];     /* instrument code, NUL-terminated ("2330", "TXFL6") */
    int64_t  ts_exch_ns;   /* exchange time, UTC ns */
    int64_t  ts_recv_ns;   /* local receive time, UTC ns */
    uint64_t seq;          /* per-source sequence of the raw payload, from 1 */
    union {
        struct {   /* SHJ_KIND_TICK, SHJ_KIND_QUOTE, SHJ_KIND_BAR */
            int64_t open;              /* session open (bar: bar open), × SHJ_PRICE_SCALE */
            int64_t high;
            int64_t low;
            int64_t close;             /* trade price (bar: last) */
            int64_t avg_price;
            int64_t diff_price;        /* change vs reference price */
            int64_t diff_rate;         /* percent change (1.25 = 1.25 %), × SHJ_PRICE_SCALE */
            int64_t amount;            /* this trade's value */
            int64_t amount_sum;        /* session value so far */
            int64_t underlying_price;  /* options/futures: target_kind_price */
            int64_t vol_sum;           /* session volume so far */
            int64_t bid_side_vol_sum;  /* trade_bid_vol_sum */
            int64_t ask_side_vol_sum;  /* trade_ask_vol_sum */
            int64_t bar_start_ns;      /* bar only: first instant of the bar, UTC ns */
            int32_t volume;            /* this trade's volume (lots; shares when odd-lot); bar: sum */
            int32_t period_s;          /* bar only: bar length in seconds (86400 = session day) */
            int32_t trades;            /* bar only: ticks aggregated */
            int8_t  tick_type;         /* shj_side */
            int8_t  chg_type;          /* Shioaji chg_type when present, else 0 */
            int16_t reserved1;
        };
        struct {   /* SHJ_KIND_BIDASK */
            int64_t bid_price[5];      /* level 0 = best, × SHJ_PRICE_SCALE */
            int64_t ask_price[5];
            int32_t bid_volume[5];
            int32_t ask_volume[5];
            int32_t diff_bid_vol[5];   /* change of each level's volume vs previous snapshot */
            int32_t diff_ask_vol[5];
        };
        struct {   /* SHJ_KIND_STATUS */
            int32_t status;            /* shj_status_code */
            int32_t http_status;       /* when the status came from an HTTP answer, else 0 */
            int64_t gap_start_ns;      /* SHJ_STATUS_GAP: first instant possibly missing */
            int64_t gap_end_ns;        /* SHJ_STATUS_GAP: last instant possibly missing */
            char    detail[120];       /* human-readable, NUL-terminated */
        };
    };
    uint8_t reserved_tail[40];         /* pads the struct to 256 bytes */
} shj_event;
/* FFI-END */

_Static_assert(sizeof(shj_event) == 256, "shj_event must stay 256 bytes");

static inline uint32_t shj_kind_bit(int kind) { return 1u << (unsigned)kind; }

#endif
