/* sim.h — the simulated Taiwan market (a pure generator, no event loop).
 *
 * Produces exactly the payloads of Shioaji's SSE feed — event name + JSON data
 * with decimal strings, Taipei date/time, simtrade, 5-level arrays — so that
 * everything downstream (archive, parser, bus) runs the real code path; each
 * payload also carries "simulated":true (SHJ_FLAG_SIMULATED once parsed).
 * Deterministic: the same seed, date and instruments give the same bytes, and
 * each session is a function of (seed, trading day, instruments) alone, so a
 * date reproduces whatever was simulated before it; different dates differ.
 *
 * Realism (docs/simulator.md, calibration in sim_model.c): TWSE tick-size
 * ladder (stocks and ETFs), lots of 1000 shares (volumes in lots), TAIFEX
 * TXF/MXF index futures with the near-month code (e.g. TXFL6 for December
 * 2026; aliases TXFR1/TXFR2/MXFR1 resolve), trades at the touch of a 5-level
 * book that the next bid/ask snapshot reflects, a few pre-open simtrade
 * ticks, core/session.h's hours (TWSE 09:00-13:30, TAIFEX 08:45-13:45 and the
 * night session 15:00-05:00), calibrated trade rates with U-shaped intraday
 * activity, daily ranges, open gaps and intraday regimes.
 *
 * Two clocks. nominal_rate <= 0 (the simulated source): realistic — payloads
 * arrive as a Poisson process at each instrument's calibrated rate times the
 * activity curve, night sessions included, and a market made for date D
 * starts with D's night session (15:00 of the weekday before). nominal_rate
 * > 0 (the Shioaji stand-in, which needs exchange time to follow the wall
 * clock): exchange time advances by exactly 1/nominal_rate s per payload,
 * day sessions only, starting at 08:30 of D.
 *
 * Used by the simulated source (sim_source.c) and the Shioaji stand-in server.
 */
#ifndef SHJ_SIM_H
#define SHJ_SIM_H

#include <stddef.h>
#include <stdint.h>

typedef struct sim_market sim_market;

/* date: Taipei trading date "YYYY-MM-DD" (NULL = today in Taipei; a weekend
 * means the next Monday). nominal_rate: <= 0 the realistic clock, else
 * payloads per simulated second (see above). */
sim_market *sim_new(uint64_t seed, const char *date, double nominal_rate);
void sim_free(sim_market *m);

/* How payloads are written. All zero (the default) = the shapes of Shioaji
 * 1.7.x (names, key order, which keys exist: Sinotrade.github.io@4c63dd4
 * tutor/market_data/streaming/{stocks,futures}/index.md, see
 * tests/fixtures/sinopac/sse/). */
typedef struct sim_config {
    int payload_v150; /* 1: emit Shioaji 1.5.0 names */
    int plain;        /* 1: Sinopac's keys only, without the "simulated":true marker
                         (which the parser turns into SHJ_FLAG_SIMULATED) */
} sim_config;
/* Apply cfg to the payloads generated from now on. */
void sim_configure(sim_market *m, const sim_config *cfg);

/* Kinds to generate for an instrument: bits 1u << SHJ_KIND_TICK / _BIDASK. */
/* Add an instrument. code may be an alias (TXFR1). Resolved real code goes to
 * resolved[16]. exchange/sec_type are shj_* values; 0 = infer from code.
 * SHJ_OK, or SHJ_ERR with err naming the code. */
int sim_add(sim_market *m, const char *code, int exchange, int sec_type, uint32_t kind_mask,
            int odd_lot, char resolved[16], char *err, size_t errlen);
int sim_remove(sim_market *m, const char *code);
size_t sim_count(const sim_market *m);


/* Generate the next payload into buf[cap] (JSON, not NUL-terminated), its SSE
 * tag (psr_tag) in *tag, and the exchange time in *exch_ns. Returns the length,
 * 0 when no instrument is configured. cap >= 1024 is always enough. */
size_t sim_next(sim_market *m, int *tag, char *buf, size_t cap, int64_t *exch_ns);

/* Trading day (days since 1970-01-01, core/clock.h) of the session the last
 * payload belongs to: a TAIFEX night session belongs to the next weekday. */
int64_t sim_trading_day(const sim_market *m);

/* Instrument info for the stand-in server (contracts lookup). Index 0..count-1. */
typedef struct sim_contract {
    char code[16];
    char alias[16];        /* "TXFR1" when added by alias, else "" */
    int exchange, sec_type;
    int64_t reference;     /* reference price × SHJ_PRICE_SCALE */
    int64_t limit_up, limit_down;
} sim_contract;
int sim_contract_at(const sim_market *m, size_t i, sim_contract *out);

#endif
