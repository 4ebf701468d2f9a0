/* nts_codec.h — shj_event <-> the bytes of one NATS message, and its names.
 *
 * Owns: the compact versioned binary form of a normalized event (layout in
 * docs/nats.md: version byte first, then varints; prices stay the exact
 * fixed-point integers of shj_event.h, never a double), the JSON form on
 * request (core/event_json.h, unchanged), the subject
 * `shijim.<kind>.<exchange>.<code>` and the JetStream message-dedup id.
 *
 * Guarantees:
 *  - nts_decode(nts_encode(ev)) gives back every field the event model
 *    defines, except inst_id (process-local: the reader interns the code)
 *    and the reserved/padding bytes (zero).
 *  - A decoder of version 1 reads a message of a later version that only
 *    appended fields (bytes after the v1 fields are ignored); a different
 *    first byte is refused with a message naming it.
 *  - Thread-safe: no state (publisher thread and source thread both call it).
 */
#ifndef SHJ_NTS_CODEC_H
#define SHJ_NTS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/shj_event.h"

#define NTS_BIN_VERSION 1   /* first byte of every binary message */
#define NTS_BIN_MAX 512     /* nts_encode never writes more */
#define NTS_SUBJECT_MAX 64  /* "shijim." + kind + exchange + code, NUL included */
#define NTS_ID_MAX 160      /* a dedup id, NUL included */

typedef enum { NTS_FMT_BIN = 0, NTS_FMT_JSON = 1 } nts_format;

/* The binary form into buf[NTS_BIN_MAX]; returns its length (> 0). */
size_t nts_encode(const shj_event *ev, unsigned char *buf);
/* Bytes -> *ev (zeroed first; inst_id left 0). SHJ_OK, or SHJ_ERR with err
 * naming the field that is cut short or the unknown version. */
int nts_decode(const void *data, size_t len, shj_event *ev, char *err, size_t errlen);

/* "shijim.tick.TSE.2330" into buf[NTS_SUBJECT_MAX]: characters NATS gives a
 * meaning to ('.', '*', '>', whitespace) in a code become '_'. Returns length. */
size_t nts_subject(const shj_event *ev, const char *prefix, char *buf, size_t cap);
/* The dedup id "<gateway>:<source>:<seq>:<kind>:<ts_recv_ns>" into
 * buf[NTS_ID_MAX]; returns its length. Why seq alone is not enough: a Shioaji
 * quote publishes two events (QUOTE + BIDASK) with one seq, and a restarted
 * process numbers its payloads from 1 again; the recorded receive time and
 * kind make the id unique, and both are kept by the raw archive, so a
 * republish from it rebuilds the very same ids. */
size_t nts_msg_id(const shj_event *ev, const char *gateway, const char *source, char *buf,
                  size_t cap);

#endif
