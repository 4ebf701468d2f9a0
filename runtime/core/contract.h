/* contract.h — Taiwan contract codes: continuous aliases, what a code is,
 * product roots and the TAIFEX futures calendar.
 *
 * Owns every rule about the shape of an instrument code; nothing else in the
 * runtime or in scripts/ retypes one (Lua calls the FFI block below).
 * Pure functions, no state, thread-safe.
 *
 * The rules, from Sinopac's material (/work/sinopac/, see docs there):
 *  - A continuous alias is a 3-letter futures root + "R1" (near month) or
 *    "R2" (next-to-near), e.g. TXFR1, MXFR2, and nothing else: "R1, R2 are
 *    continuous near-month and next-to-near-month futures contracts"
 *    (tutor_market_data_historical.md:543); "only continuous-month aliases
 *    (e.g. TXFR1/R2) carry a value" in target_code (tutor_contract.md:82);
 *    "This special rule is futures R1/R2 only" (STREAMING.md:171). The root
 *    is the contract's category, three capitals ("category":"TXF",
 *    tutor_contract.md:278).
 *  - A futures code is root + month letter A..L (Jan..Dec) + the year's last
 *    digit: TXFF6 is June 2026 (tutor_market_data_streaming_futures.md:193,
 *    "delivery_month":"202606"). An options code is root + strike + month
 *    letter (A..L calls, M..X puts) + year digit: TXO32400E6 is the May 2026
 *    32400 call (tutor_contract.md:294).
 *  - A futures month expires on its third Wednesday ("delivery_date":
 *    "2026/05/20", "2026/06/17"), and the aliases roll ON that day: "They will
 *    automatically roll contracts on delivery date (i.e. target_code changes)"
 *    (tutor_market_data_historical.md:543); the contract fetched on
 *    2026/05/20 already answers TXFR1 -> TXFF6
 *    (tutor_market_data_streaming_futures.md:193). Holidays that move an
 *    expiry are not modelled (the live server's target_code has the last word).
 *  - Stocks, ETFs and warrants are codes of 4..6 characters starting with a
 *    digit ("2330", "00878", "00632R"); whether TSE or OTC only the server
 *    knows.
 */
#ifndef SHJ_CONTRACT_H
#define SHJ_CONTRACT_H

#include <stddef.h>

/* FFI-BEGIN */
/* 1 when code is a continuous alias (TXFR1, MXFR2), else 0. */
int ctr_is_alias(const char *code);
/* 1 for a futures code (TXFL6) or a continuous alias (TXFR1). */
int ctr_is_future(const char *code);
/* 1 for an options code (TXO23000L6: root, strike, month letter A-X, year digit). */
int ctr_is_option(const char *code);
/* 1 for a stock/ETF code (4..6 characters, the first a digit). */
int ctr_is_stock(const char *code);
/* Fill *sec_type / *exchange where they are 0 (unknown) from the code's shape:
 * stock -> STK (exchange left unknown: TSE or OTC, only the server knows);
 * futures -> FUT, options (or letters with more than two digits, as in the
 * long symbol TXO20260526900C) -> OPT, both TAIFEX. NULL pointers are skipped. */
void ctr_infer(const char *code, int *sec_type, int *exchange);
/* Product root into out (>= 16 bytes): TXFL6, TXFR1 -> "TXF"; TXO23000L6 ->
 * "TXO"; anything else (stocks) is its own product. Returns out. */
const char *ctr_product(const char *code, char *out);
/* Day of month on which the futures month (year, month 1..12) expires: its
 * third Wednesday. */
int ctr_expiry_day(int year, int month);
/* The real contract an alias stands for on a Taipei date "YYYY-MM-DD" (NULL =
 * today in Taipei), into out (>= 16 bytes): TXFR1 on 2026-11-25 -> TXFL6.
 * Returns 1 when code was an alias and is resolved; 0 when it is not an alias
 * (out = code); -1 when date is malformed (out = code). */
int ctr_resolve_alias(const char *date, const char *code, char *out);
/* FFI-END */

#endif
