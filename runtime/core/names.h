/* names.h — the text names of the event model's enums, both ways.
 *
 * Owns the one table of names for kinds, exchanges, security types and
 * status codes (shj_event.h's values). Everything that writes or reads a name
 * (event JSON, the JSONL reader, subscription arguments, Lua) goes through
 * here; Lua calls the FFI block. Names are stable: they are stored in files
 * and ClickHouse. Pure, thread-safe.
 */
#ifndef SHJ_NAMES_H
#define SHJ_NAMES_H

#include <stddef.h>

#include "core/shj_event.h"

/* Indexed by value (0 = the unknown/none name). For table-driven readers. */
extern const char *const nm_kinds[SHJ_KIND_MAX];        /* "none" "tick" "bidask" "status" "bar" "quote" */
extern const char *const nm_exchanges[SHJ_EX_TAIFEX + 1]; /* "UNKNOWN" "TSE" "OTC" "OES" "TAIFEX" */
extern const char *const nm_sec_types[SHJ_SEC_IND + 1];   /* "UNKNOWN" "STK" "FUT" "OPT" "IND" */
extern const char *const nm_statuses[SHJ_STATUS_BACKFILLED + 1]; /* "unknown" "connected" ... */

/* FFI-BEGIN */
/* Value -> name. Out of range: "unknown" (kind, status) or "UNKNOWN". */
const char *nm_kind(int kind);
const char *nm_exchange(int exchange);
const char *nm_sec_type(int sec_type);
const char *nm_status(int status);
/* Name (len bytes, any case) -> value; -1 when no value has that name. The
 * unknown names ("none", "UNKNOWN") map to 0. */
int nm_kind_of(const char *text, size_t len);
int nm_exchange_of(const char *text, size_t len);
int nm_sec_type_of(const char *text, size_t len);
int nm_status_of(const char *text, size_t len);
/* FFI-END */

#endif
