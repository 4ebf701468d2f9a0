/* archive_days.h — `shijim days [--check] [--du] [DIR]`: the recorded days.
 *
 * One line per day file of every source under DIR (default data/raw):
 * source, trading day (the file name: core/session's rule), records, first
 * and last exchange time (Taipei; from the payloads, parsed), status and
 * size. Status is the reader's verdict: ok, growing (a writer holds the
 * file), torn (ends inside a block), damaged (bad bytes inside; with
 * --check the damaged ranges are counted by resync and named).
 * --du adds a total per source and overall.
 */
#ifndef SHJ_ARCHIVE_DAYS_H
#define SHJ_ARCHIVE_DAYS_H

#include <stdio.h>

#define ARCDAYS_CHECK 1
#define ARCDAYS_DU 2

/* 0: every file ok (or growing); 1: a file torn/damaged or DIR unreadable
 * (stderr says which). */
int arcdays_list(const char *dir, int mode, FILE *out);

#endif
