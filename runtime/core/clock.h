/* clock.h — wall clock and the Asia/Taipei <-> UTC conversions.
 *
 * Taiwan has used UTC+8 without daylight saving since 1980, so a Taipei
 * local time converts to UTC by subtracting exactly 8 hours; this module is
 * the only place that knows it. All results are int64 ns since the Unix epoch.
 */
#ifndef SHJ_CLOCK_H
#define SHJ_CLOCK_H

#include <stdint.h>

#define CLK_NS_PER_SEC 1000000000LL
#define CLK_NS_PER_US 1000LL
#define CLK_TAIPEI_OFFSET_S (8 * 3600)

/* Days since 1970-01-01 of a proleptic Gregorian civil date. */
int64_t clk_days_from_civil(int year, int month, int day);
void clk_civil_from_days(int64_t days, int *year, int *month, int *day);

/* Taipei local date/time (microseconds) -> UTC ns. No validation here. */
int64_t clk_taipei_to_utc_ns(int year, int month, int day, int hour, int minute, int second,
                             int micros);

/* Current UTC time (CLOCK_REALTIME) and a monotonic clock, ns. */
int64_t clk_now_ns(void);
int64_t clk_mono_ns(void);

/* UTC ns -> Taipei "YYYY-MM-DD" (11 bytes incl. NUL) and "HH:MM:SS.ffffff" (16). */
void clk_taipei_date(int64_t utc_ns, char out[11]);
void clk_taipei_time(int64_t utc_ns, char out[16]);

/* UTC ns -> "YYYY-MM-DDTHH:MM:SS.fffffffffZ" (31 bytes incl. NUL). */
void clk_utc_iso(int64_t utc_ns, char out[31]);

#endif
