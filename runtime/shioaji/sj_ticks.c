/* sj_ticks.c — rows of a /api/v1/data/ticks answer (see sj_ticks.h).
 *
 * The walk advances every column by one element per row; it stops when any
 * column ends, and calls it broken (one bad row) when a column is malformed
 * or when datetime, close and volume do not end together (tick_type may be
 * shorter: missing ones read as 0 only if the column is absent; a shorter
 * one ends the walk quietly, as before this file was split out).
 */
#include "shioaji/sj_ticks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/decimal.h"
#include "core/shj_common.h"
#include "shioaji/sj_json.h"

int64_t sj_ticks_iso_local_ns(const char *s) {
    int y, mo, d, h, mi, sec, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%*1[T ]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6) return INT64_MIN;
    /* a time int64 ns can hold (years 1970..2261), and a real one: beyond
     * that clk_taipei_to_utc_ns would overflow (found by fuzz_ticks) */
    if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
        sec < 0 || sec > 60)
        return INT64_MIN;
    int64_t ns = 0, scale = 100000000;
    if (s[n] == '.')
        for (const char *p = s + n + 1; *p >= '0' && *p <= '9'; p++, scale /= 10)
            if (scale) ns += (*p - '0') * scale;
    return clk_taipei_to_utc_ns(y, mo, d, h, mi, sec, 0) + ns;
}

int sj_ticks_open(sj_ticks_reader *r, const char *body, size_t len) {
    const char *ts, *cl, *vo, *tt = NULL;
    size_t tsn, cln, von, ttn = 0;
    memset(r, 0, sizeof *r);
    /* 1.7.x: "datetime" ISO Taipei local strings; older answers: "ts", Taipei
     * local time as ns counted as if UTC (the Python SDK's Ticks). */
    r->iso = sj_json_find(body, len, "datetime", &ts, &tsn) == 1;
    if ((!r->iso && sj_json_find(body, len, "ts", &ts, &tsn) != 1) || sj_json_find(body, len, "close", &cl, &cln) != 1 ||
        sj_json_find(body, len, "volume", &vo, &von) != 1)
        return SHJ_ERR;
    r->have_tt = sj_json_find(body, len, "tick_type", &tt, &ttn) == 1;
    r->pts = ts, r->ets = ts + tsn;
    r->pcl = cl, r->ecl = cl + cln;
    r->pvo = vo, r->evo = vo + von;
    if (r->have_tt) r->ptt = tt, r->ett = tt + ttn;
    return SHJ_OK;
}

int sj_ticks_empty(const sj_ticks_reader *r) {
    const char *p0 = r->pts, *v0;
    size_t n0;
    return sj_json_array_next(&p0, r->ets, &v0, &n0) == 0;
}

/* The element's scalar text as a NUL-terminated string in tmp[cap]. */
static int scalar(const char *v, size_t n, char *tmp, size_t cap) {
    const char *txt;
    size_t tn;
    if (sj_json_scalar_text(v, n, &txt, &tn) || tn >= cap) return -1;
    memcpy(tmp, txt, tn);
    tmp[tn] = '\0';
    return 0;
}

int sj_ticks_next(sj_ticks_reader *r, sj_ticks_row *row) {
    if (r->done) return SJ_TICKS_END;
    const char *v1, *v2, *v3, *v4 = NULL;
    size_t n1, n2, n3, n4 = 0;
    int r1 = sj_json_array_next(&r->pts, r->ets, &v1, &n1);
    int r2 = sj_json_array_next(&r->pcl, r->ecl, &v2, &n2);
    int r3 = sj_json_array_next(&r->pvo, r->evo, &v3, &n3);
    int r4 = r->have_tt ? sj_json_array_next(&r->ptt, r->ett, &v4, &n4) : 1;
    if (r1 != 1 || r2 != 1 || r3 != 1 || r4 != 1) {
        r->done = 1;
        if (r1 < 0 || r2 < 0 || r3 < 0 || r4 < 0 || r1 != r2 || r1 != r3) return SJ_TICKS_BROKEN;
        return SJ_TICKS_END;
    }
    char tmp[64];
    memset(row, 0, sizeof *row);
    if (scalar(v1, n1, tmp, sizeof tmp)) return SJ_TICKS_BAD;
    if (r->iso) {
        if ((row->ts_ns = sj_ticks_iso_local_ns(tmp)) == INT64_MIN) return SJ_TICKS_BAD;
    } else {
        /* Shioaji's ts is Taipei local time counted as if it were UTC. A
         * value so negative that the shift would overflow is no time at all. */
        const int64_t shift = (int64_t)CLK_TAIPEI_OFFSET_S * CLK_NS_PER_SEC;
        long long local = strtoll(tmp, NULL, 10);
        if (local < INT64_MIN + shift) return SJ_TICKS_BAD;
        row->ts_ns = local - shift;
    }
    const char *txt;
    size_t tn;
    if (sj_json_scalar_text(v2, n2, &txt, &tn) || dec_parse(txt, tn, &row->price) != 0) return SJ_TICKS_BAD;
    if (scalar(v3, n3, tmp, sizeof tmp)) return SJ_TICKS_BAD;
    row->volume = strtoll(tmp, NULL, 10);
    if (v4 && !scalar(v4, n4, tmp, sizeof tmp)) row->tick_type = strtoll(tmp, NULL, 10);
    return SJ_TICKS_ROW;
}
