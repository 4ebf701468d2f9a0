/* contract.c — contract-code rules and the futures calendar (see contract.h). */
#include "core/contract.h"

#include <string.h>

#include "core/clock.h"
#include "core/shj_common.h"
#include "core/shj_event.h"

static int is_upper(char c) { return c >= 'A' && c <= 'Z'; }
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int root3(const char *c) { return is_upper(c[0]) && is_upper(c[1]) && is_upper(c[2]); }

int ctr_is_alias(const char *c) {
    return c && strlen(c) == 5 && root3(c) && c[3] == 'R' && (c[4] == '1' || c[4] == '2');
}

/* Month letters are A..L, never R, so an alias can never be a month code. */
int ctr_is_future(const char *c) {
    if (!c) return 0;
    if (ctr_is_alias(c)) return 1;
    return strlen(c) == 5 && root3(c) && c[3] >= 'A' && c[3] <= 'L' && is_digit(c[4]);
}

int ctr_is_option(const char *c) {
    size_t n = c ? strlen(c) : 0;
    if (n < 8 || n > 11 || !root3(c)) return 0;
    for (size_t i = 3; i < n - 2; i++)
        if (!is_digit(c[i])) return 0;
    return c[n - 2] >= 'A' && c[n - 2] <= 'X' && is_digit(c[n - 1]);
}

int ctr_is_stock(const char *c) {
    size_t n = c ? strlen(c) : 0;
    return n >= 4 && n <= 6 && is_digit(c[0]);
}

void ctr_infer(const char *code, int *sec_type, int *exchange) {
    if (!code || !*code) return;
    int sec;
    if (ctr_is_stock(code) || is_digit(code[0])) {
        if (sec_type && !*sec_type) *sec_type = SHJ_SEC_STK;
        return;
    }
    if (ctr_is_future(code)) {
        sec = SHJ_SEC_FUT;
    } else if (ctr_is_option(code)) {
        sec = SHJ_SEC_OPT;
    } else {
        size_t digits = 0;
        for (const char *p = code; *p; p++) digits += is_digit(*p);
        sec = digits > 2 ? SHJ_SEC_OPT : SHJ_SEC_FUT;
    }
    if (sec_type && !*sec_type) *sec_type = sec;
    if (exchange && !*exchange) *exchange = SHJ_EX_TAIFEX;
}

const char *ctr_product(const char *code, char *out) {
    if (!code) code = "";
    if (ctr_is_future(code) || ctr_is_option(code)) {
        memcpy(out, code, 3);
        out[3] = '\0';
    } else {
        shj_strlcpy(out, code, SHJ_CODE_MAX);
    }
    return out;
}

int ctr_expiry_day(int year, int month) {
    int wd1 = clk_weekday(clk_days_from_civil(year, month, 1));
    return 1 + (3 - wd1 + 7) % 7 + 14;
}

int ctr_resolve_alias(const char *date, const char *code, char *out) {
    shj_strlcpy(out, code ? code : "", SHJ_CODE_MAX);
    if (!ctr_is_alias(code)) return 0;
    char today[11];
    if (!date) {
        clk_taipei_date(clk_now_ns(), today);
        date = today;
    }
    int y, mo, d;
    if (clk_parse_date(date, &y, &mo, &d) != 0) return -1;
    if (d >= ctr_expiry_day(y, mo)) mo++; /* rolled on the delivery date (contract.h) */
    if (code[4] == '2') mo++;
    while (mo > 12) {
        mo -= 12;
        y++;
    }
    memcpy(out, code, 3);
    out[3] = (char)('A' + mo - 1);
    out[4] = (char)('0' + y % 10);
    out[5] = '\0';
    return 1;
}
