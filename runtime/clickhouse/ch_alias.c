/* ch_alias.c — the alias map and the aliases rows (see ch_alias.h). */
#include "clickhouse/ch_alias.h"

#include <stdio.h>
#include <string.h>

#include "clickhouse/ch_rowbinary.h"
#include "core/clock.h"
#include "core/resolved.h"
#include "core/shj_common.h"

/* The Enum8 names of ch_schema.c's EXCHANGE_ENUM / SECTYPE_ENUM. */
static const char *ex_name(int e) {
    static const char *n[] = {"UNKNOWN", "TSE", "OTC", "OES", "TAIFEX"};
    return e >= 0 && e <= 4 ? n[e] : "UNKNOWN";
}
static const char *sec_name(int s) {
    static const char *n[] = {"UNKNOWN", "STK", "FUT", "OPT", "IND"};
    return s >= 0 && s <= 4 ? n[s] : "UNKNOWN";
}

int cha_collect(cha_rows *r, const shj_event *ev) {
    int added = 0;
    int64_t day = -1;
    for (int i = 0, n = rsv_count(); i < n; i++) {
        const rsv_entry *e = rsv_at(i);
        if (strcmp(e->code, ev->code) != 0) continue;
        if (day < 0) {
            /* the trading day changes only on a minute boundary: one
             * session lookup per minute, not per event of a busy future */
            int64_t min = ev->ts_exch_ns / 60000000000LL + 1;
            if (r->memo_min != min) {
                r->memo_min = min;
                r->memo_day = chb_trading_day(ev->ts_exch_ns);
            }
            day = r->memo_day;
        }
        int seen = 0;
        for (int k = r->ndone - 1; k >= 0 && !seen; k--)
            seen = r->done[k].day == day && strcmp(r->done[k].alias, e->alias) == 0;
        if (seen) continue;
        if (r->ndone == CHA_ROWS_MAX) r->ndone = 0; /* forget the oldest days: a repeat row collapses */
        r->done[r->ndone].day = day;
        shj_strlcpy(r->done[r->ndone].alias, e->alias, sizeof r->done[r->ndone].alias);
        r->ndone++;
        int y, m, d;
        clk_civil_from_days(day, &y, &m, &d);
        char row[160];
        int n = snprintf(row, sizeof row, "%04d-%02d-%02d\t%s\t%s\t%s\t%s\t%d\t%lld\n", y, m, d, e->alias, e->code,
                         ex_name(ev->exchange ? ev->exchange : e->exchange),
                         sec_name(ev->sec_type ? ev->sec_type : e->sec_type), ev->source_id ? ev->source_id : e->source_id,
                         (long long)clk_now_ns());
        if (n > 0 && (size_t)n < sizeof row && bb_append(&r->pending, row, (size_t)n) == 0) added++;
    }
    return added;
}

size_t cha_insert_sql(const char *db, char *buf, size_t cap) {
    int n = snprintf(buf, cap,
                     "INSERT INTO %s.aliases (trading_day, alias, code, exchange, sec_type, source, noted_ts) "
                     "FORMAT TabSeparated",
                     db);
    return n < 0 ? 0 : (size_t)n;
}

void cha_rows_free(cha_rows *r) {
    bb_free(&r->pending);
    bb_free(&r->sending);
}
