/* ch_schema.h — the ClickHouse tables Shijim writes, as SQL text.
 *
 * Owns: table names, column lists (in RowBinary order), CREATE TABLE text
 * for a given server version, and which event kinds go to which table.
 * Rationale for the layout is in docs/clickhouse.md.
 *
 * Two tables:
 *   ticks   — SHJ_KIND_TICK and SHJ_KIND_QUOTE (a kind column tells them apart)
 *   bidasks — SHJ_KIND_BIDASK (5-level arrays)
 * Stocks and futures/options share both tables (exchange + sec_type columns).
 * ReplacingMergeTree ORDER BY (code, ts, source, seq): an event inserted twice
 * (fallback restore, retried batch) collapses onto the original.
 *
 * Version-dependent text: the column *wire types* (what RowBinary carries) are
 * the same on every version, so one encoder serves all servers. Newer servers
 * only get storage refinements: LowCardinality(String) code, column codecs,
 * and an ALIAS DateTime64(9) column that costs nothing on insert.
 */
#ifndef SHJ_CH_SCHEMA_H
#define SHJ_CH_SCHEMA_H

#include <stddef.h>

typedef enum { CHS_TICKS = 0, CHS_BIDASKS = 1, CHS_NTABLES = 2 } chs_table;

typedef struct chs_version {
    int major, minor, patch;
} chs_version;

typedef struct chs_features {
    int low_cardinality;   /* code LowCardinality(String)        (>= 20.1) */
    int codecs;            /* column CODEC(...)                   (>= 20.1) */
    int datetime64_alias;  /* time DateTime64(9) ALIAS of ts      (>= 20.5) */
} chs_features;

/* "18.16.1", "23.8.2.7" -> version. SHJ_OK or SHJ_ERR (not a version). */
int chs_version_parse(const char *text, chs_version *out);
void chs_features_for(const chs_version *v, chs_features *out);

/* "ticks" / "bidasks" (also the fallback sub-directory names). */
const char *chs_table_name(chs_table t);
/* Table for an event kind, or -1 when the kind is not stored. */
int chs_table_for_kind(int kind);
/* Table named name, or -1. */
int chs_table_from_name(const char *name);

/* Comma-separated insert column list in RowBinary order. */
const char *chs_columns(chs_table t);

/* CREATE TABLE IF NOT EXISTS db.table ... into buf; returns the length (the
 * text is truncated and the return value >= cap when buf is too small). */
size_t chs_create_sql(chs_table t, const char *db, const chs_features *f, char *buf, size_t cap);
/* The analyst objects, created after ticks/bidasks (and after their columns
 * were checked: the views read trading_day). CHS_NEXTRA statements, each a
 * CREATE ... IF NOT EXISTS, in this order (docs/clickhouse.md "For analysts"):
 *   0 aliases         ReplacingMergeTree: (trading_day, alias) -> code
 *   1 instruments     AggregatingMergeTree: one row per (code, trading_day)
 *   2 instruments_mv  MATERIALIZED VIEW ticks -> instruments
 *   3 bars_1m         AggregatingMergeTree: 1-minute OHLCV states
 *   4 bars_1m_mv      MATERIALIZED VIEW ticks -> bars_1m
 * The views run on every INSERT into ticks (writer, restore, replay): they
 * are filled whatever path the rows take, and see each insert exactly once.
 * chs_extra_name(i) is the object's name. Returns the length (>= cap:
 * truncated), 0 for an i out of range. */
#define CHS_NEXTRA 5
size_t chs_extra_sql(int i, const char *db, char *buf, size_t cap);
const char *chs_extra_name(int i);
/* The backfill of the views' tables from rows stored before the views
 * existed (a database an older Shijim made): INSERT ... SELECT over ticks of
 * the (code, minute) / (code, trading_day) pairs the targets do not hold yet.
 * i: 0 instruments, 1 bars_1m. Returns the length. */
size_t chs_backfill_sql(int i, const char *db, char *buf, size_t cap);

/* "INSERT INTO db.table (cols) FORMAT <format>". */
size_t chs_insert_sql(chs_table t, const char *db, const char *format, char *buf, size_t cap);

/* The scale of existing tables. Decimal columns are Decimal64(SHJ_PRICE_DECIMALS)
 * and RowBinary carries the scaled int64 unconverted, so a table created with
 * another scale (Shijim before ABI 2 made Decimal64(4)) would store every value
 * 10^k times wrong: writers check before the first insert.
 *
 * chs_columns_query: the SELECT (system.columns, ClickHouse 18.16+) whose
 * TabSeparated answer (table, name, type per line) the two calls below read.
 * chs_check_columns: SHJ_OK when every decimal column of ticks/bidasks found
 * in tsv has the scale Shijim writes (absent columns are not judged here);
 * else SHJ_ERR with err naming the table, column, its type, and the migration.
 * chs_migrate_sql: the ALTER TABLE ... MODIFY COLUMN statements (one per table,
 * each ending ";\n") that fix the columns found wrong; "" when none. Returns the
 * length (>= cap: truncated). */
size_t chs_columns_query(const char *db, char *buf, size_t cap);
int chs_check_columns(const char *db, const char *tsv, char *err, size_t errlen);
size_t chs_migrate_sql(const char *db, const char *tsv, char *buf, size_t cap);

#endif
