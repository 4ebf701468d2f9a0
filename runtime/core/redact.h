/* redact.h — what a URL or DSN may show in logs, errors and files.
 *
 * Owns: the one rule every module uses before text that may hold a secret
 * leaves the process (ClickHouse DSNs, Shioaji server URLs, script output).
 * It runs on text that may be malformed, so it errs on the side of hiding:
 * everything between the first ':' after "://" and the LAST '@' of the text,
 * and the value of every query parameter except database, user and secure,
 * become "***". Checked by tests/test_ch_dsn.c and tests/fuzz/fuzz_dsn.c
 * (a sentinel password must never survive it).
 */
#ifndef SHJ_REDACT_H
#define SHJ_REDACT_H

#include <stddef.h>

/* FFI-BEGIN */
/* Redacted copy of text into out[cap] (always NUL-terminated). */
void shj_redact_url(const char *text, char *out, size_t cap);
/* FFI-END */

#endif
