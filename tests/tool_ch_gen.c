/* tool_ch_gen.c — write synthetic events (tests/ch_events.h) as ClickHouse
 * fallback files, exactly as the live writer would, for the restore specs.
 *
 *   tool_ch_gen DIR COUNT [DAYS] [FIRST]
 *
 * Prints one line of totals to check a restore against:
 *   rows=N ticks=T bidasks=B seqsum=S closesum=C volsum=V
 * (closesum: sum of tick close prices × SHJ_PRICE_SCALE; volsum: sum of tick volumes). */
#include <stdio.h>
#include <stdlib.h>

#include "ch_events.h"
#include "clickhouse/ch_fallback.h"
#include "core/shj_common.h"

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: tool_ch_gen DIR COUNT [DAYS] [FIRST]\n");
        return 2;
    }
    uint64_t count = strtoull(argv[2], NULL, 10);
    int days = argc > 3 ? atoi(argv[3]) : 1;
    uint64_t first = argc > 4 ? strtoull(argv[4], NULL, 10) : 0;
    char err[600];
    shj_log_set_level(SHJ_LOG_ERROR);
    chf_dir *f = chf_open(argv[1], err, sizeof err);
    if (!f) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    static shj_event evs[5000];
    uint64_t ticks = 0, bidasks = 0, seqsum = 0, volsum = 0;
    int64_t closesum = 0;
    for (uint64_t done = 0; done < count;) {
        size_t n = count - done < 5000 ? (size_t)(count - done) : 5000;
        for (size_t i = 0; i < n; i++) {
            che_make(&evs[i], first + done + i, days);
            seqsum += evs[i].seq;
            if (evs[i].kind == SHJ_KIND_BIDASK) {
                bidasks++;
            } else {
                ticks++;
                closesum += evs[i].close;
                volsum += (uint64_t)evs[i].volume;
            }
        }
        if (chf_append_events(f, evs, n, err, sizeof err) != SHJ_OK) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        done += n;
    }
    chf_close(f);
    printf("rows=%llu ticks=%llu bidasks=%llu seqsum=%llu closesum=%lld volsum=%llu\n",
           (unsigned long long)count, (unsigned long long)ticks, (unsigned long long)bidasks,
           (unsigned long long)seqsum, (long long)closesum, (unsigned long long)volsum);
    return 0;
}
