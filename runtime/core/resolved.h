/* resolved.h — the continuous aliases (TXFR1) this process's sources have
 * resolved, and to which real code (TXFL6).
 *
 * Owns: the process-wide map alias -> code. Sources note a resolution when
 * they make one (a roll replaces the earlier entry); writers read it (the
 * ClickHouse aliases table, clickhouse/ch_alias.h). It lives in core/ because
 * sources and writers are peers that must not include each other. What an
 * alias is stays with core/contract.h. Loop thread only.
 */
#ifndef SHJ_RESOLVED_H
#define SHJ_RESOLVED_H

#define RSV_MAX 64 /* aliases held (R1/R2 of every futures root is far fewer) */

typedef struct rsv_entry {
    char alias[16], code[16];
    int exchange, sec_type, source_id;
} rsv_entry;

/* A source resolved alias (e.g. "TXFR1") to code ("TXFL6"). Replaces an
 * earlier resolution of the same alias (a roll). No-op when code == alias. */
void rsv_note(const char *alias, const char *code, int exchange, int sec_type, int source_id);
/* Number of aliases noted, and the i-th (0 <= i < rsv_count()). */
int rsv_count(void);
const rsv_entry *rsv_at(int i);
/* Forget everything (tests). */
void rsv_reset(void);

#endif
