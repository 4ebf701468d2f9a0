/* test_session.c — core/session: Taiwan's trading hours, written once.
 * Dates: 2026-12-02 is a Wednesday, 12-04 a Friday, 12-05/06 the weekend,
 * 12-07 a Monday (Taipei). */
#include "core/clock.h"
#include "core/session.h"
#include "core/shj_event.h"
#include "t.h"

static int64_t at(int d, int h, int m) { return clk_taipei_to_utc_ns(2026, 12, d, h, m, 0, 0); }

int main(void) {
    const ses_window *w;
    CHECK_EQ_I64(ses_windows(SHJ_EX_TAIFEX, &w), 2);
    CHECK_EQ_I64(w[1].open_min, 15 * 60);
    CHECK_EQ_I64(w[1].close_min, 5 * 60);
    CHECK_EQ_I64(ses_windows(SHJ_EX_TSE, &w), 1);
    CHECK_EQ_I64(w[0].close_min, 13 * 60 + 30);
    /* stocks */
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TSE, at(2, 9, 0), 0), 1);
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TSE, at(2, 13, 29), 0), 1);
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TSE, at(2, 13, 30), 0), 0);
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TSE, at(2, 8, 30), 0), 0);
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TSE, at(2, 8, 30), 1), 1); /* pre-open counts when asked */
    CHECK_EQ_I64(ses_is_open(SHJ_EX_OTC, at(5, 10, 0), 0), 0); /* Saturday */
    /* futures: day, night across midnight, the weekend */
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TAIFEX, at(2, 8, 45), 0), 1);
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TAIFEX, at(2, 14, 0), 0), 0);
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TAIFEX, at(4, 23, 0), 0), 1);  /* Friday night */
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TAIFEX, at(5, 4, 59), 0), 1);  /* its Saturday tail */
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TAIFEX, at(5, 5, 0), 0), 0);
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TAIFEX, at(5, 15, 0), 0), 0);  /* no Saturday night session */
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TAIFEX, at(6, 4, 0), 0), 0);   /* nor its Sunday tail */
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TAIFEX, at(7, 4, 0), 0), 0);   /* Monday 04:00: no Sunday night */
    CHECK_EQ_I64(ses_is_open(SHJ_EX_TAIFEX, at(7, 8, 45), 0), 1);
    T_DONE();
}
