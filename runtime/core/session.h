/* session.h — Taiwan's trading sessions: one owner of the hours.
 *
 * Owns: when each exchange trades (Taipei local time, UTC+8, no DST):
 * TWSE/TPEx 09:00-13:30 (orders and trial matches from 08:30), TAIFEX's day
 * session 08:45-13:45 and its night session 15:00-05:00 (next calendar day).
 * Regular sessions Monday to Friday; a night session that starts on Friday
 * ends on Saturday morning. The simulator, the bar builder, the Shioaji
 * silence watch and /readyz all read these, so the hours are written once.
 *
 * Also owns the trading day: the one answer to "which day does this record
 * belong to", used by the archive's file names, replay --date, ClickHouse's
 * trading_day column, bars and reports. Rule: take the Taipei date of the
 * exchange time shifted by +9 h (so 15:00, when TAIFEX's night session
 * opens, becomes midnight: the night session and its tail until 05:00 belong
 * to the next date), then roll forward over weekends and holidays to the
 * first trading day. So Friday's night session belongs to Monday, and the
 * night session before a holiday to the day after it. Stocks never trade
 * after 14:30, so the same rule gives them their calendar date. Records
 * without an exchange time (status) use their receive time, same rule.
 *
 * Holidays: scripts/data/holidays.txt (weekdays without trading), compiled
 * in at build time; ses_holidays_load replaces it (tests, a newer file).
 * Thread safety: every function is safe from any thread except
 * ses_holidays_load, which must run before other threads use the calendar.
 */
#ifndef SHJ_SESSION_H
#define SHJ_SESSION_H

#include <stddef.h>
#include <stdint.h>

/* Taipei minutes of the day. */
#define SES_TWSE_PREOPEN_MIN (8 * 60 + 30)      /* TWSE accepts orders, trial matches */
#define SES_TWSE_OPEN_MIN (9 * 60)
#define SES_TWSE_CLOSE_MIN (13 * 60 + 30)
#define SES_TAIFEX_DAY_OPEN_MIN (8 * 60 + 45)
#define SES_TAIFEX_DAY_CLOSE_MIN (13 * 60 + 45)
#define SES_TAIFEX_NIGHT_OPEN_MIN (15 * 60)
#define SES_TAIFEX_NIGHT_CLOSE_MIN (5 * 60)     /* of the next calendar day */
/* The trading day rolls at the night session's open: + 9 h moves 15:00 to midnight. */
#define SES_DAY_ROLL_S (24 * 3600 - SES_TAIFEX_NIGHT_OPEN_MIN * 60)

/* Largest lead/lag ses_sched_* accept (beyond: clamped). */
#define SES_SCHED_MAX_MARGIN_S (6 * 3600)

/* One session: [open_min, close_min) in Taipei minutes; close < open: it
 * crosses midnight and closes on the next day. */
typedef struct ses_window {
    int open_min, close_min;
} ses_window;

/* The regular sessions of exchange (shj_exchange; anything but TAIFEX means
 * the stock markets): *out points at a static table; returns its length. */
size_t ses_windows(int exchange, const ses_window **out);

/* 1 when utc_ns falls inside one of exchange's sessions on a trading
 * weekday (with_preopen: TWSE's 08:30 pre-open counts as open too). */
int ses_is_open(int exchange, int64_t utc_ns, int with_preopen);

/* Parse calendar text (same format); what ses_holidays_load does after
 * reading the file. name is used in error messages. */
int ses_holidays_parse(const char *text, size_t len, const char *name, char *err, size_t errlen);

/* FFI-BEGIN */
/* Replace the holiday calendar with a file's (format: holidays.txt). 0, or
 * -1 with err naming file, line and what is wrong (the calendar is then
 * unchanged). path NULL restores the compiled-in calendar. Lua: only before
 * sources and sinks start (main.lua --holidays). */
int ses_holidays_load(const char *path, char *err, size_t errlen);
/* Trading days (core/session.h): day numbers, days since 1970-01-01 (Taipei). */
/* The trading day of a UTC ns time (exchange time; receive time for status). */
int64_t ses_trading_day(int64_t utc_ns);
/* 1 when day is a trading day (a weekday, not in the holiday calendar). */
int ses_is_trading_day(int64_t day);
/* The first trading day on or after day. */
int64_t ses_trading_day_from(int64_t day);
/* Number of holidays in the calendar (for `--help` texts and checks). */
int ses_holiday_count(void);
/* Market-hours schedule (scripts/shijim/schedule.lua, main.lua --schedule):
 * 1 when utc_ns is inside one of exchange's sessions that opens on a trading
 * day (Taipei), each widened to [open - lead_s, close + lag_s) (clamped to
 * 0..SES_SCHED_MAX_MARGIN_S); windows that then touch merge. A night session
 * runs when the day it opens on trades (Friday's ends Saturday 05:00; none
 * opens on a holiday or weekend). with_preopen: TWSE opens at 08:30. */
int ses_sched_on(int exchange, int64_t utc_ns, int with_preopen, int lead_s, int lag_s);
/* The first instant after utc_ns at which ses_sched_on's answer changes;
 * -1 when none within the next 40 days (a calendar never that closed). */
int64_t ses_sched_next(int exchange, int64_t utc_ns, int with_preopen, int lead_s, int lag_s);
/* FFI-END */

#endif
