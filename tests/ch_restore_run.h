/* ch_restore_run.h — replay a fallback dir through the C restore API (what
 * scripts/restore.lua does, minus the printing), for the C tests. */
#ifndef SHJ_CH_RESTORE_RUN_H
#define SHJ_CH_RESTORE_RUN_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clickhouse/ch_restore.h"

typedef struct chrr_result {
    int files;
    uint64_t rows, rejected, inserted;
    int archived;
    char err[600];
} chrr_result;

/* mode CHR_DRY_RUN or CHR_APPLY; archive may be NULL. SHJ_OK or SHJ_ERR. */
static inline int chrr_run(const char *dir, const char *dsn, int mode, const char *archive, int batch,
                           chrr_result *out) {
    memset(out, 0, sizeof *out);
    static char list[1 << 16];
    int n = chr_list(dir, list, sizeof list, out->err, sizeof out->err);
    if (n < 0) return -1;
    out->files = n;
    chr_client *c = NULL;
    if (mode == CHR_APPLY && !(c = chr_client_new(dsn, 1, out->err, sizeof out->err))) return -1;
    int rc = 0;
    char *save = NULL;
    for (char *rel = strtok_r(list, "\n", &save); rel && rc == 0; rel = strtok_r(NULL, "\n", &save)) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, rel);
        chr_file *f = chr_open(path, mode, out->err, sizeof out->err);
        if (!f) {
            rc = -1;
            break;
        }
        int got;
        while ((got = chr_next_batch(f, batch, out->err, sizeof out->err)) > 0) {
            if (mode == CHR_APPLY && chr_insert_batch(f, c, out->err, sizeof out->err) != 0) {
                got = -1;
                break;
            }
        }
        if (got < 0) rc = -1;
        chr_counts k;
        chr_get_counts(f, &k);
        out->rows += k.rows_ticks + k.rows_bidasks;
        out->rejected += k.rejected;
        out->inserted += k.inserted;
        if (rc == 0 && mode == CHR_APPLY && archive && k.rejected == 0) {
            char dest[2200];
            if (chr_archive(f, archive, rel, dest, sizeof dest, out->err, sizeof out->err) == 0) out->archived++;
            else rc = -1;
        }
        char cerr[300];
        if (chr_close(f, cerr, sizeof cerr) != 0 && rc == 0) {
            snprintf(out->err, sizeof out->err, "%s", cerr);
            rc = -1;
        }
    }
    chr_client_free(c);
    return rc;
}

/* Count regular *.jsonl files (rejected ones excluded) under dir. */
static inline int chrr_count_files(const char *dir) {
    static char list[1 << 16];
    char err[300];
    return chr_list(dir, list, sizeof list, err, sizeof err);
}

#endif
