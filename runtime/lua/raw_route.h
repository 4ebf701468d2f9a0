/* raw_route.h — route a source's payloads into a raw archive.
 *
 * Part of the lua/ facade (prefix shj_, see shj_api.h): every payload the
 * source delivers is archived first (dir/<source>/<trading day>.arc), then
 * parsed. The archive becomes an rt writer: shown in the status line, closed
 * in order at stop. Loop thread only.
 */
#ifndef SHJ_RAW_ROUTE_H
#define SHJ_RAW_ROUTE_H

#include <stddef.h>

typedef struct src_source src_source;

/* FFI-BEGIN */
/* fsync every fsync_ms / fsync_records (0 = not by that measure); compress: lz4 blocks.
 * SHJ_OK, or SHJ_ERR with err (the source already has one, the directory fails). */
int shj_route_raw(src_source *s, const char *dir, int fsync_ms, int fsync_records, int compress,
                  char *err, size_t errlen);
/* FFI-END */

#endif
