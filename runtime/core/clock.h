/* clock.h — wall clock and the Asia/Taipei <-> UTC conversions.
 *
 * Taiwan has used UTC+8 without daylight saving since 1980, so a Taipei
 * local time converts to UTC by subtracting exactly 8 hours; this module is
 * the only place that knows it. All results are int64 ns since the Unix epoch.
 * It also owns the one Taipei text formatter. The trading day is
 * core/session's (ses_trading_day); clk_trading_day only forwards to it.
 * The FFI block is what Lua may call (scripts/shijim/ Lua never retype +8 h).
 */
#ifndef SHJ_CLOCK_H
#define SHJ_CLOCK_H

#include <stdint.h>

#define CLK_NS_PER_SEC 1000000000LL
#define CLK_NS_PER_US 1000LL
#define CLK_TAIPEI_OFFSET_S (8 * 3600)
#define CLK_TEXT_MAX 32 /* bytes of clk_taipei_text's output, NUL included */

/* Days since 1970-01-01 of a proleptic Gregorian civil date. */
int64_t clk_days_from_civil(int year, int month, int day);
void clk_civil_from_days(int64_t days, int *year, int *month, int *day);

/* Taipei local date/time (microseconds) -> UTC ns. No validation here. */
int64_t clk_taipei_to_utc_ns(int year, int month, int day, int hour, int minute, int second,
                             int micros);

/* Current UTC time (CLOCK_REALTIME) and a monotonic clock, ns: both in the
 * FFI block below (clk_mono_ns drives scripts/shijim/schedule.lua's fake clock). */

/* UTC ns -> Taipei "YYYY-MM-DD" (11 bytes incl. NUL) and "HH:MM:SS.ffffff" (16). */
void clk_taipei_date(int64_t utc_ns, char out[11]);
void clk_taipei_time(int64_t utc_ns, char out[16]);

/* UTC ns -> "YYYY-MM-DDTHH:MM:SS.fffffffffZ" (31 bytes incl. NUL). */
void clk_utc_iso(int64_t utc_ns, char out[31]);

/* "YYYY-MM-DD" -> year/month/day; 0, or -1 (outputs untouched) when the text
 * is not exactly that shape or the date does not exist (2026-02-30). */
int clk_parse_date(const char *text, int *year, int *month, int *day);
/* 0 = Sunday .. 6 = Saturday of a day number (clk_days_from_civil). */
int clk_weekday(int64_t days);

/* FFI-BEGIN */
/* Lua's view of the clock (exact: ns as int64). */
/* Taipei date of a UTC ns time as a day number (days since 1970-01-01). */
int64_t clk_taipei_day(int64_t utc_ns);
/* = ses_trading_day (core/session.h), kept for existing callers. */
int64_t clk_trading_day(int64_t utc_ns);
/* UTC ns of 00:00 Taipei on a day number. */
int64_t clk_taipei_day_start(int64_t days);
/* "YYYY-MM-DD" of a day number into out (>= 11 bytes); returns out. */
const char *clk_day_text(int64_t days, char *out);
/* Taipei "YYYY-MM-DD HH:MM:SS.ffffff" of a UTC ns time into buf (>= 32 bytes,
 * CLK_TEXT_MAX); returns buf. The one Taipei text formatter of the project. */
const char *clk_taipei_text(int64_t utc_ns, char *buf);
int64_t clk_now_ns(void);
int64_t clk_mono_ns(void);
/* FFI-END */

#endif
