/* sim_source.h — the simulated market (sim.h) as a source on the event loop.
 *
 * Prefix simsrc_. The constructor is what scripts call (shijim.simulated);
 * everything else goes through the generic source handle (shj_api.h).
 */
#ifndef SHJ_SIM_SOURCE_H
#define SHJ_SIM_SOURCE_H

#include <stddef.h>
#include <stdint.h>

typedef struct src_source src_source;

/* FFI-BEGIN */
/* A simulated market source. date: Taipei trading date "YYYY-MM-DD" (NULL =
 * today in Taipei); rate: events per second (<= 0 = as fast as the pipeline
 * takes them). NULL with err on a bad date or no memory. */
src_source *simsrc_new(const char *name, uint64_t seed, const char *date, double rate, char *err,
                       size_t errlen);
/* Stop after `days` trading days (the first is the constructor's date, or
 * the Monday after it): the source finishes (rt_source_done) before the
 * first payload of the next trading day, so every archived day is whole.
 * days <= 0: run on. SHJ_OK, SHJ_ERR when s is not a simulated source. */
int simsrc_set_days(src_source *s, int days);
/* Allow the source to start with nothing subscribed (main.lua --schedule
 * starting while the market is closed; its codes come at the next open).
 * Without it, starting empty is refused (a script that forgot to subscribe).
 * SHJ_OK, SHJ_ERR when s is not a simulated source. */
int simsrc_allow_empty(src_source *s);
/* FFI-END */

#endif
