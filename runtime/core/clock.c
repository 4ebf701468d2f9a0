/* clock.c — wall clock and Asia/Taipei <-> UTC conversions (see clock.h).
 *
 * Civil-date arithmetic follows Howard Hinnant's days_from_civil algorithm:
 * exact for every proleptic Gregorian date, no tables, no libc time zone
 * state (localtime/TZ would make results depend on the machine's settings).
 */
#include "core/clock.h"
#include "core/session.h"

#include <time.h>

int64_t clk_days_from_civil(int year, int month, int day) {
    int64_t y = (int64_t)year - (month <= 2);
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;                                   /* [0, 399] */
    int64_t mp = (month + 9) % 12;                                 /* March = 0 */
    int64_t doy = (153 * mp + 2) / 5 + day - 1;                    /* [0, 365] */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* [0, 146096] */
    return era * 146097 + doe - 719468;
}

void clk_civil_from_days(int64_t z, int *year, int *month, int *day) {
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    *year = (int)(y + (m <= 2));
    *month = (int)m;
    *day = (int)d;
}

int64_t clk_taipei_to_utc_ns(int year, int month, int day, int hour, int minute, int second,
                             int micros) {
    int64_t secs = clk_days_from_civil(year, month, day) * 86400 + hour * 3600 + minute * 60 +
                   second - CLK_TAIPEI_OFFSET_S;
    return secs * CLK_NS_PER_SEC + (int64_t)micros * CLK_NS_PER_US;
}

int64_t clk_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * CLK_NS_PER_SEC + ts.tv_nsec;
}

int64_t clk_mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * CLK_NS_PER_SEC + ts.tv_nsec;
}

/* Floor division so that instants before 1970 still land on the right day. */
static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Floor remainder in [0, b): computed without s * b, which overflows int64
 * for instants near INT64_MIN (found by test_event_json under UBSan). */
static int64_t floor_mod(int64_t a, int64_t b) {
    int64_t r = a % b;
    return r < 0 ? r + b : r;
}

static void put2(char *p, int v) {
    p[0] = (char)('0' + v / 10);
    p[1] = (char)('0' + v % 10);
}

static void format_date(int64_t days, char out[11]) {
    int y, m, d;
    clk_civil_from_days(days, &y, &m, &d);
    put2(out, (y / 100) % 100);
    put2(out + 2, y % 100);
    out[4] = '-';
    put2(out + 5, m);
    out[7] = '-';
    put2(out + 8, d);
    out[10] = '\0';
}

static void format_time(int64_t secs_of_day, int64_t frac_ns, int digits, char *out) {
    put2(out, (int)(secs_of_day / 3600));
    out[2] = ':';
    put2(out + 3, (int)(secs_of_day / 60 % 60));
    out[5] = ':';
    put2(out + 6, (int)(secs_of_day % 60));
    out[8] = '.';
    int64_t f = frac_ns;
    for (int i = 9; i > digits; i--) f /= 10;
    for (int i = digits - 1; i >= 0; i--) {
        out[9 + i] = (char)('0' + f % 10);
        f /= 10;
    }
    out[9 + digits] = '\0';
}

void clk_taipei_date(int64_t utc_ns, char out[11]) {
    int64_t local_s = floor_div(utc_ns, CLK_NS_PER_SEC) + CLK_TAIPEI_OFFSET_S;
    format_date(floor_div(local_s, 86400), out);
}

void clk_taipei_time(int64_t utc_ns, char out[16]) {
    int64_t s = floor_div(utc_ns, CLK_NS_PER_SEC);
    int64_t frac = floor_mod(utc_ns, CLK_NS_PER_SEC);
    int64_t local_s = s + CLK_TAIPEI_OFFSET_S;
    format_time(local_s - floor_div(local_s, 86400) * 86400, frac, 6, out);
}

void clk_utc_iso(int64_t utc_ns, char out[31]) {
    int64_t s = floor_div(utc_ns, CLK_NS_PER_SEC);
    int64_t frac = floor_mod(utc_ns, CLK_NS_PER_SEC);
    int64_t days = floor_div(s, 86400);
    format_date(days, out);
    out[10] = 'T';
    format_time(s - days * 86400, frac, 9, out + 11);
    out[29] = 'Z';
    out[30] = '\0';
}

int clk_parse_date(const char *s, int *year, int *month, int *day) {
    if (!s) return -1;
    for (int i = 0; i < 10; i++) {
        if (i == 4 || i == 7) {
            if (s[i] != '-') return -1;
        } else if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
    }
    if (s[10] != '\0') return -1;
    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int mo = (s[5] - '0') * 10 + (s[6] - '0');
    int d = (s[8] - '0') * 10 + (s[9] - '0');
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return -1;
    /* Reject 2026-02-30 and friends: the day must survive a round trip. */
    int y2, m2, d2;
    clk_civil_from_days(clk_days_from_civil(y, mo, d), &y2, &m2, &d2);
    if (y2 != y || m2 != mo || d2 != d) return -1;
    *year = y;
    *month = mo;
    *day = d;
    return 0;
}

/* 1970-01-01 was a Thursday (4). */
int clk_weekday(int64_t days) { return (int)floor_mod(days + 4, 7); }

int64_t clk_taipei_day(int64_t utc_ns) {
    return floor_div(floor_div(utc_ns, CLK_NS_PER_SEC) + CLK_TAIPEI_OFFSET_S, 86400);
}

/* The rule (15:00 roll, weekends, holidays) lives in core/session. */
int64_t clk_trading_day(int64_t utc_ns) { return ses_trading_day(utc_ns); }

int64_t clk_taipei_day_start(int64_t days) {
    return (days * 86400 - CLK_TAIPEI_OFFSET_S) * CLK_NS_PER_SEC;
}

const char *clk_day_text(int64_t days, char *out) {
    format_date(days, out);
    return out;
}

const char *clk_taipei_text(int64_t utc_ns, char *buf) {
    clk_taipei_date(utc_ns, buf);
    buf[10] = ' ';
    clk_taipei_time(utc_ns, buf + 11);
    return buf;
}
