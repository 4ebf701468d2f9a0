/* test_instrument.c — code -> dense id, defaults vs registration, growth, reset. */
#include <stdio.h>
#include <stdlib.h>

#include "core/instrument.h"
#include "parse/parse.h"
#include "core/shj_event.h"
#include "t.h"

int main(void) {
    inst_reset();
    CHECK_EQ_I64(inst_count(), 0);
    CHECK_EQ_I64(inst_find("2330", 4), 0);
    CHECK(inst_get(0) == NULL);
    CHECK(inst_get(1) == NULL);

    uint32_t a = inst_intern("2330", 4, SHJ_EX_TSE, SHJ_SEC_STK);
    uint32_t b = inst_intern("TXFL6", 5, SHJ_EX_TAIFEX, SHJ_SEC_FUT);
    CHECK_EQ_I64(a, 1);
    CHECK_EQ_I64(b, 2);
    CHECK_EQ_I64(inst_intern("2330", 4, SHJ_EX_OTC, SHJ_SEC_IND), 1); /* existing: defaults ignored */
    CHECK_EQ_I64(inst_get(a)->exchange, SHJ_EX_TSE);
    CHECK_EQ_I64(inst_get(a)->sec_type, SHJ_SEC_STK);
    CHECK_STR(inst_get(b)->code, "TXFL6");
    CHECK_EQ_I64(inst_count(), 2);
    /* len, not NUL, delimits the code */
    CHECK_EQ_I64(inst_intern("2330XYZ", 4, 0, 0), 1);
    CHECK_EQ_I64(inst_find("2330XYZ", 4), 1);
    CHECK_EQ_I64(inst_find("233", 3), 0);
    CHECK_EQ_I64(inst_find("23300", 5), 0);

    /* register overwrites exchange/sec_type (a subscription knows better) */
    CHECK_EQ_I64(inst_register("2330", SHJ_EX_OTC, SHJ_SEC_STK, 1), 1);
    CHECK_EQ_I64(inst_get(1)->exchange, SHJ_EX_OTC);
    CHECK_EQ_I64(inst_get(1)->odd_lot, 1);
    uint32_t c = inst_register("TXO23000L6", SHJ_EX_TAIFEX, SHJ_SEC_OPT, 0);
    CHECK_EQ_I64(c, 3);
    CHECK_EQ_I64(inst_get(c)->sec_type, SHJ_SEC_OPT);

    /* invalid codes */
    CHECK_EQ_I64(inst_intern("", 0, 0, 0), 0);
    CHECK_EQ_I64(inst_intern(NULL, 3, 0, 0), 0);
    CHECK_EQ_I64(inst_intern("0123456789abcdef", 16, 0, 0), 0);
    CHECK(inst_intern("0123456789abcde", 15, 0, 0) > 0); /* 15 bytes is the maximum */
    CHECK_EQ_I64(inst_intern("ab\0c", 4, 0, 0), 0);
    CHECK_EQ_I64(inst_register("0123456789abcdefXYZ", 1, 1, 0), 0);
    CHECK_EQ_I64(inst_register(NULL, 1, 1, 0), 0);
    CHECK_EQ_I64(inst_count(), 4);

    /* growth: 50k codes keep dense ids, stable pointers and correct lookups */
    const inst_info *p1 = inst_get(1);
    int bad = 0;
    char code[16];
    for (int i = 0; i < 50000; i++) {
        int n = snprintf(code, sizeof code, "C%d", i);
        uint32_t id = inst_intern(code, (size_t)n, SHJ_EX_TSE, SHJ_SEC_STK);
        if (id != (uint32_t)(5 + i)) bad++;
    }
    CHECK_EQ_I64(bad, 0);
    CHECK_EQ_I64(inst_count(), 50004);
    CHECK(inst_get(1) == p1); /* records never move */
    CHECK_STR(p1->code, "2330");
    for (int i = 0; i < 50000; i++) {
        int n = snprintf(code, sizeof code, "C%d", i);
        uint32_t id = inst_find(code, (size_t)n);
        const inst_info *r = inst_get(id);
        if (id != (uint32_t)(5 + i) || !r || strcmp(r->code, code) != 0) bad++;
    }
    CHECK_EQ_I64(bad, 0);
    CHECK_EQ_I64(inst_find("C50000", 6), 0);
    CHECK(inst_get(50005) == NULL);

    /* every length 1..15: prefixes of one another stay distinct, and bytes
     * after len (here: garbage, then the end of an exact-size heap copy
     * that ASan guards) never take part */
    uint32_t pid[16];
    const char *abc = "ABCDEFGHIJKLMNOP";
    for (size_t n = 1; n <= 15; n++) {
        char *exact = malloc(n);
        memcpy(exact, abc, n);
        pid[n] = inst_intern(exact, n, SHJ_EX_TSE, SHJ_SEC_STK);
        CHECK(pid[n] > 0);
        char padded[32];
        memcpy(padded, abc, n);
        memset(padded + n, 'Z', sizeof padded - n);
        CHECK_EQ_I64(inst_find(padded, n), pid[n]);
        CHECK_EQ_I64(strlen(inst_get(pid[n])->code), n);
        free(exact);
    }
    for (size_t a = 1; a <= 15; a++)
        for (size_t b = a + 1; b <= 15; b++) CHECK(pid[a] != pid[b]);

    /* the cap: a feed of ever-new garbage codes cannot grow the table without
     * bound; past it new codes get 0 and the parser reports the payload */
    inst_reset();
    uint32_t last = 0;
    for (uint32_t i = 0;; i++) {
        int n = snprintf(code, sizeof code, "K%u", i);
        uint32_t id = inst_intern(code, (size_t)n, SHJ_EX_TSE, SHJ_SEC_STK);
        if (id == 0) break;
        last = id;
    }
    CHECK_EQ_I64(last, 1u << 20);
    CHECK_EQ_I64(inst_count(), 1u << 20);
    CHECK_EQ_I64(inst_find("K0", 2), 1);          /* the existing ones still work */
    CHECK_EQ_I64(inst_intern("K7", 2, 0, 0), 8);
    const char *tick = "{\"code\":\"NEW1\",\"date\":\"2026-11-25\",\"time\":\"09:00:00\","
                       "\"close\":\"1\",\"volume\":1}";
    shj_event ev;
    char err[128];
    CHECK_EQ_I64(psr_parse(PSR_TAG_TICK_STK, tick, strlen(tick), &ev, err, sizeof err), PSR_MALFORMED);
    CHECK_STR(err, "tick_stk: instrument table full, cannot add \"NEW1\"");

    /* reset forgets everything; ids start at 1 again */
    inst_reset();
    CHECK_EQ_I64(inst_count(), 0);
    CHECK_EQ_I64(inst_find("2330", 4), 0);
    CHECK_EQ_I64(inst_intern("TXFL6", 5, SHJ_EX_TAIFEX, SHJ_SEC_FUT), 1);
    inst_reset();
    T_DONE();
}
