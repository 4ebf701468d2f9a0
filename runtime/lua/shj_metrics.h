/* shj_metrics.h — FFI entry points of the metrics/health server (runtime/ops).
 *
 * Owns the glue only: starting ops with the options of main.lua, and the
 * collector that shows the ClickHouse writers' counters (clickhouse/ is a
 * peer stage that ops may not include; this stage sees both).
 */
#ifndef SHJ_METRICS_H
#define SHJ_METRICS_H

#include <stddef.h>

/* FFI-BEGIN */
/* Start /metrics, /healthz, /readyz on listen ("127.0.0.1:9464"; NULL = no
 * server, metrics still measured). ready_silence_s / health_max_s <= 0 take
 * the defaults (10 / 5 s). Call before routing sinks and adding handlers. */
int shj_metrics_start(const char *listen, int ready_silence_s, int health_max_s, char *err,
                      size_t errlen);
int shj_metrics_port(void);
/* Keep serving the final snapshot for seconds after the run (for a scraper). */
void shj_metrics_linger(double seconds);
void shj_metrics_stop(void);
/* /metrics as it would be served now; returns its length (copied up to cap-1). */
size_t shj_metrics_text(char *buf, size_t cap);
/* /readyz verdict: 1 ready, 0 not (why says which check failed). */
int shj_metrics_ready(char *why, size_t cap);
/* FFI-END */

#endif
