/* session.c — Taiwan's trading sessions (see session.h). */
#include "core/session.h"

#include "core/clock.h"
#include "core/shj_event.h"

static const ses_window twse[] = {{SES_TWSE_OPEN_MIN, SES_TWSE_CLOSE_MIN}};
static const ses_window taifex[] = {{SES_TAIFEX_DAY_OPEN_MIN, SES_TAIFEX_DAY_CLOSE_MIN},
                                    {SES_TAIFEX_NIGHT_OPEN_MIN, SES_TAIFEX_NIGHT_CLOSE_MIN}};

size_t ses_windows(int exchange, const ses_window **out) {
    if (exchange == SHJ_EX_TAIFEX) {
        *out = taifex;
        return sizeof taifex / sizeof taifex[0];
    }
    *out = twse;
    return sizeof twse / sizeof twse[0];
}

int ses_is_open(int exchange, int64_t utc_ns, int with_preopen) {
    int64_t local_s = utc_ns / CLK_NS_PER_SEC + CLK_TAIPEI_OFFSET_S;
    if (utc_ns < 0 && utc_ns % CLK_NS_PER_SEC) local_s--;
    int64_t days = local_s >= 0 ? local_s / 86400 : (local_s - 86399) / 86400;
    int minute = (int)((local_s - days * 86400) / 60);
    int wday = (int)(((days % 7) + 7 + 4) % 7); /* 1970-01-01 was a Thursday; 0 = Sunday */
    int weekday = wday >= 1 && wday <= 5;
    const ses_window *w;
    size_t n = ses_windows(exchange, &w);
    for (size_t i = 0; i < n; i++) {
        int open = w[i].open_min;
        if (with_preopen && exchange != SHJ_EX_TAIFEX && open == SES_TWSE_OPEN_MIN) open = SES_TWSE_PREOPEN_MIN;
        if (w[i].close_min > open) {
            if (weekday && minute >= open && minute < w[i].close_min) return 1;
        } else {
            /* crosses midnight: started on a weekday evening, or its tail the next morning */
            if (weekday && minute >= open) return 1;
            if (wday >= 2 && wday <= 6 && minute < w[i].close_min) return 1;
        }
    }
    return 0;
}
