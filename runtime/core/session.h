/* session.h — Taiwan's trading sessions: one owner of the hours.
 *
 * Owns: when each exchange trades (Taipei local time, UTC+8, no DST):
 * TWSE/TPEx 09:00-13:30 (orders and trial matches from 08:30), TAIFEX's day
 * session 08:45-13:45 and its night session 15:00-05:00 (next calendar day).
 * Regular sessions Monday to Friday; a night session that starts on Friday
 * ends on Saturday morning. Holidays are not known here. The simulator, the
 * bar builder, the Shioaji silence watch and /readyz all read these, so the
 * hours are written once.
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

#endif
