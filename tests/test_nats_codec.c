/* test_nats_codec.c — the binary event form, subjects and dedup ids (runtime/nats/nts_codec.h).
 *
 * Asserts: every kind round-trips field for field (random values, extremes of
 * the fixed-point range, negative prices); every truncation of a message is
 * refused with the field named and leaves the output untouched; a different
 * version byte is refused; bytes appended by a later version are ignored;
 * subjects replace NATS's special characters; ids differ for the two events
 * of one quote payload and for the same seq in a restarted process.
 */
#include <stdlib.h>
#include <string.h>

#include "core/shj_common.h"
#include "nats/nts_codec.h"
#include "t.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static int64_t rnd(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    switch (rng % 5) {
    case 0: return 0;
    case 1: return INT64_MAX - (int64_t)(rng >> 60);
    case 2: return INT64_MIN + (int64_t)(rng >> 60);
    case 3: return -(int64_t)(rng >> 20);
    default: return (int64_t)(rng >> 3);
    }
}

static void fill(shj_event *e, int kind) {
    memset(e, 0, sizeof *e);
    e->kind = (uint8_t)kind;
    e->exchange = SHJ_EX_TAIFEX;
    e->sec_type = SHJ_SEC_FUT;
    e->payload_tag = 3;
    e->flags = SHJ_FLAG_BACKFILL | SHJ_FLAG_FIELD_LOST;
    e->source_id = 65535;
    strcpy(e->code, "TXFL6");
    e->ts_exch_ns = rnd();
    e->ts_recv_ns = rnd();
    e->seq = (uint64_t)rnd();
    if (kind == SHJ_KIND_BIDASK) {
        for (int i = 0; i < SHJ_LEVELS; i++) {
            e->bid_price[i] = rnd();
            e->ask_price[i] = rnd();
            e->bid_volume[i] = (int32_t)rnd();
            e->ask_volume[i] = (int32_t)rnd();
            e->diff_bid_vol[i] = (int32_t)rnd();
            e->diff_ask_vol[i] = (int32_t)rnd();
        }
    } else if (kind == SHJ_KIND_STATUS) {
        e->status = SHJ_STATUS_GAP;
        e->http_status = 503;
        e->gap_start_ns = rnd();
        e->gap_end_ns = rnd();
        memset(e->detail, 'x', sizeof e->detail - 1);
    } else {
        int64_t *f[] = {&e->open, &e->high, &e->low, &e->close, &e->avg_price, &e->diff_price,
                        &e->diff_rate, &e->amount, &e->amount_sum, &e->underlying_price, &e->vol_sum,
                        &e->bid_side_vol_sum, &e->ask_side_vol_sum, &e->bar_start_ns};
        for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) *f[i] = rnd();
        e->close = 40461608055LL; /* "40461.608055": 6 decimals exact */
        e->volume = INT32_MIN;
        e->period_s = 86400;
        e->trades = INT32_MAX;
        e->tick_type = SHJ_SIDE_SELL;
        e->chg_type = -3;
    }
}

static void roundtrip(int kind) {
    for (int rep = 0; rep < 200; rep++) {
        shj_event a, b, untouched;
        fill(&a, kind);
        unsigned char buf[NTS_BIN_MAX + 8];
        size_t n = nts_encode(&a, buf);
        CHECK(n > 0 && n <= NTS_BIN_MAX);
        CHECK(buf[0] == NTS_BIN_VERSION);
        char err[200];
        CHECK(nts_decode(buf, n, &b, err, sizeof err) == SHJ_OK);
        CHECK(memcmp(&a, &b, sizeof a) == 0); /* inst_id and padding are 0 in both */
        /* a later version appending fields: the v1 reader ignores the tail */
        memcpy(buf + n, "\x01\x02\x03", 3);
        CHECK(nts_decode(buf, n + 3, &b, err, sizeof err) == SHJ_OK && memcmp(&a, &b, sizeof a) == 0);
        if (rep == 0) {
            for (size_t cut = 0; cut < n; cut++) {
                memset(&untouched, 0x5a, sizeof untouched);
                b = untouched;
                err[0] = 0;
                int rc = nts_decode(buf, cut, &b, err, sizeof err);
                CHECK(rc == SHJ_ERR);
                CHECK(memcmp(&b, &untouched, sizeof b) == 0);
                CHECK(strstr(err, cut == 0 ? "version" : "field") != NULL);
            }
            buf[0] = 2;
            CHECK(nts_decode(buf, n, &b, err, sizeof err) == SHJ_ERR);
            CHECK(strstr(err, "binary version 2") != NULL);
        }
    }
}

int main(void) {
    roundtrip(SHJ_KIND_TICK);
    roundtrip(SHJ_KIND_QUOTE);
    roundtrip(SHJ_KIND_BAR);
    roundtrip(SHJ_KIND_BIDASK);
    roundtrip(SHJ_KIND_STATUS);

    /* a stock tick is compact: well under the event's 256 bytes */
    shj_event t;
    memset(&t, 0, sizeof t);
    t.kind = SHJ_KIND_TICK;
    t.exchange = SHJ_EX_TSE;
    strcpy(t.code, "2330");
    t.ts_exch_ns = 1764898200123456000LL;
    t.ts_recv_ns = 1764898200124456000LL;
    t.seq = 123456;
    t.close = 585500000; /* 585.5 */
    t.volume = 3;
    unsigned char buf[NTS_BIN_MAX];
    CHECK(nts_encode(&t, buf) < 64);

    char s[NTS_SUBJECT_MAX];
    CHECK(nts_subject(&t, NULL, s, sizeof s) > 0);
    CHECK_STR(s, "shijim.tick.TSE.2330");
    strcpy(t.code, "A.B*C>D E");
    nts_subject(&t, "x", s, sizeof s);
    CHECK_STR(s, "x.tick.TSE.A_B_C_D_E");
    t.code[0] = 0;
    t.kind = SHJ_KIND_STATUS;
    t.exchange = 0;
    nts_subject(&t, NULL, s, sizeof s);
    CHECK_STR(s, "shijim.status.UNKNOWN._");

    /* ids: quote + its book share a seq; a restarted process reuses seqs */
    char id1[NTS_ID_MAX], id2[NTS_ID_MAX], id3[NTS_ID_MAX];
    strcpy(t.code, "2330");
    t.kind = SHJ_KIND_QUOTE;
    nts_msg_id(&t, "gw1", "shioaji", id1, sizeof id1);
    CHECK_STR(id1, "gw1:shioaji:123456:quote:1764898200124456000");
    t.kind = SHJ_KIND_BIDASK;
    nts_msg_id(&t, "gw1", "shioaji", id2, sizeof id2);
    CHECK(strcmp(id1, id2) != 0);
    t.ts_recv_ns += 3600000000000LL;
    nts_msg_id(&t, "gw1", "shioaji", id3, sizeof id3);
    CHECK(strcmp(id2, id3) != 0);
    T_DONE();
}
