/* ops_expo.h — the Prometheus text exposition format (version 0.0.4).
 *
 * Owns: one growing text buffer and the rules of the format: a family is
 * announced once (# HELP, # TYPE) and its samples follow together; label
 * values are escaped (\\, \", \n); histograms are written as cumulative
 * `_bucket{le="..."}` lines ending with le="+Inf", then `_sum` and `_count`
 * (seconds, as Prometheus base units want). Counter families end in _total.
 * Memory failure is sticky (e->oom) and the text is then incomplete.
 */
#ifndef SHJ_OPS_EXPO_H
#define SHJ_OPS_EXPO_H

#include <stddef.h>
#include <stdint.h>

#include "ops/ops_hist.h"

typedef struct ops_expo {
    char *buf;   /* NUL-terminated text (NULL until something is written) */
    size_t len;  /* read-only */
    size_t cap;  /* private */
    int oom;     /* sticky: an allocation failed */
} ops_expo;

void ops_expo_init(ops_expo *e);
void ops_expo_reset(ops_expo *e); /* empty, keep the memory */
void ops_expo_free(ops_expo *e);

/* "# HELP name help\n# TYPE name type\n"; type: counter, gauge, histogram. */
void ops_expo_family(ops_expo *e, const char *name, const char *type, const char *help);
/* Label set text: pairs key, value, ..., NULL -> `k="v",k2="v2"` (escaped) into out. */
const char *ops_expo_labels(char *out, size_t cap, ...);
/* One sample; labels NULL or "" for none. */
void ops_expo_u64(ops_expo *e, const char *name, const char *labels, uint64_t v);
void ops_expo_f64(ops_expo *e, const char *name, const char *labels, double v);
/* A histogram's _bucket/_sum/_count lines for family `name` (no suffix). */
void ops_expo_hist(ops_expo *e, const char *name, const char *labels, const ops_hist *h);

#endif
