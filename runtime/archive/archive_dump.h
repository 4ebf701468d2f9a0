/* archive_dump.h — `shijim dump FILE`: a raw archive file as JSON lines.
 *
 * One JSON object per record, in file order:
 *   {"seq":N,"recv_ns":N,"recv_time":"2026-11-25T01:00:01.123456789Z",
 *    "event":"tick_stk","len":N,"data":"<payload as a JSON string>"}
 * "data" is the payload escaped as a JSON string when it is valid UTF-8 (it
 * always is for Shioaji's JSON); otherwise the object carries
 * "data_b64":"<base64>" instead, so that no byte is ever lost or altered.
 * An unknown tag prints "event":"unknown" plus "tag":N.
 */
#ifndef SHJ_ARCHIVE_DUMP_H
#define SHJ_ARCHIVE_DUMP_H

#include <stddef.h>
#include <stdio.h>

#define ARCD_CHECK 1  /* one summary line instead of the records */
#define ARCD_RESYNC 2 /* pass over damaged blocks to the next valid one (arc_reader_resync) */

/* Prints every good record of path to out (mode: 0 or ARCD_* bits). A torn
 * or corrupt block is reported on stderr with the file and byte offset after
 * all good records before it were printed; with ARCD_RESYNC the skipped byte
 * range is named and reading carries on. Returns SHJ_ERR (text in err) when
 * anything was damaged, SHJ_OK for a clean file. */
int arcd_dump_jsonl(const char *path, FILE *out, int mode, char *err, size_t errlen);

#endif
