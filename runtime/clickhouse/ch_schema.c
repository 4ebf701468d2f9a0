/* ch_schema.c — table definitions and SQL text (see ch_schema.h).
 *
 * The column tables below are the single source of truth for the column
 * order: ch_rowbinary.c encodes in exactly this order (tests decode a row
 * back and compare field by field), and chs_columns() builds the INSERT
 * column list from the same arrays.
 *
 * Decimal columns carry the event's scaled int64 as is, so their scale must
 * be SHJ_PRICE_DECIMALS: their type text is built from that constant (never
 * retyped here), and chs_check_columns refuses a table an older Shijim made
 * with another scale (RowBinary would store every value 10^k times wrong).
 */
#include "clickhouse/ch_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/shj_common.h"
#include "core/shj_event.h"

typedef struct chs_col {
    const char *name;
    const char *type;       /* every version */
    const char *new_type;   /* with low_cardinality, else NULL = type */
    const char *codec;      /* with codecs, else NULL */
} chs_col;

#define EXCHANGE_ENUM "Enum8('UNKNOWN' = 0, 'TSE' = 1, 'OTC' = 2, 'OES' = 3, 'TAIFEX' = 4)"
#define SECTYPE_ENUM "Enum8('UNKNOWN' = 0, 'STK' = 1, 'FUT' = 2, 'OPT' = 3, 'IND' = 4)"
/* Markers: the type of these columns is built from SHJ_PRICE_DECIMALS. */
static const char DEC[] = "Decimal64(SHJ_PRICE_DECIMALS)";
static const char DEC_ARR[] = "Array(Decimal64(SHJ_PRICE_DECIMALS))";
#define ZSTD "ZSTD(1)"

/* The event header every table starts with (after the ticks-only kind column). */
#define HEADER_COLS                                                                 \
    {"ts", "Int64", NULL, "DoubleDelta, " ZSTD},                                    \
    {"recv_ts", "Int64", NULL, "Delta, " ZSTD},                                     \
    {"dt", "DateTime('Asia/Taipei')", NULL, "Delta, " ZSTD},                        \
    {"day", "Date", NULL, "Delta, " ZSTD},                                          \
    {"trading_day", "Date", NULL, "Delta, " ZSTD},                                  \
    {"source", "UInt16", NULL, ZSTD},                                               \
    {"seq", "UInt64", NULL, "Delta, " ZSTD},                                        \
    {"flags", "UInt32", NULL, ZSTD}

static const chs_col tick_cols[] = {
    {"code", "String", "LowCardinality(String)", NULL},
    {"exchange", EXCHANGE_ENUM, NULL, NULL},
    {"sec_type", SECTYPE_ENUM, NULL, NULL},
    {"kind", "Enum8('tick' = 1, 'quote' = 5)", NULL, NULL},
    HEADER_COLS,
    {"open", DEC, NULL, ZSTD},
    {"high", DEC, NULL, ZSTD},
    {"low", DEC, NULL, ZSTD},
    {"close", DEC, NULL, ZSTD},
    {"avg_price", DEC, NULL, ZSTD},
    {"diff_price", DEC, NULL, ZSTD},
    {"diff_rate", DEC, NULL, ZSTD},
    {"amount", DEC, NULL, ZSTD},
    {"amount_sum", DEC, NULL, ZSTD},
    {"underlying_price", DEC, NULL, ZSTD},
    {"volume", "Int32", NULL, ZSTD},
    {"vol_sum", "Int64", NULL, ZSTD},
    {"bid_side_vol_sum", "Int64", NULL, ZSTD},
    {"ask_side_vol_sum", "Int64", NULL, ZSTD},
    {"tick_type", "Int8", NULL, ZSTD},
    {"chg_type", "Int8", NULL, ZSTD},
};

static const chs_col bidask_cols[] = {
    {"code", "String", "LowCardinality(String)", NULL},
    {"exchange", EXCHANGE_ENUM, NULL, NULL},
    {"sec_type", SECTYPE_ENUM, NULL, NULL},
    HEADER_COLS,
    {"bid_price", DEC_ARR, NULL, ZSTD},
    {"ask_price", DEC_ARR, NULL, ZSTD},
    {"bid_volume", "Array(Int32)", NULL, ZSTD},
    {"ask_volume", "Array(Int32)", NULL, ZSTD},
    {"diff_bid_vol", "Array(Int32)", NULL, ZSTD},
    {"diff_ask_vol", "Array(Int32)", NULL, ZSTD},
};

typedef struct chs_def {
    const char *name;
    const chs_col *cols;
    size_t ncols;
    char columns[1024]; /* built lazily: "code, exchange, ..." */
} chs_def;

static chs_def defs[CHS_NTABLES] = {
    {"ticks", tick_cols, sizeof tick_cols / sizeof tick_cols[0], ""},
    {"bidasks", bidask_cols, sizeof bidask_cols / sizeof bidask_cols[0], ""},
};

/* DDL type text of c: the decimal ones from the scale, once. */
static const char *col_type(const chs_col *c, const chs_features *f) {
    static char dec[32], dec_arr[48];
    if (!dec[0]) {
        snprintf(dec, sizeof dec, "Decimal64(%d)", SHJ_PRICE_DECIMALS);
        snprintf(dec_arr, sizeof dec_arr, "Array(Decimal64(%d))", SHJ_PRICE_DECIMALS);
    }
    if (c->type == DEC) return dec;
    if (c->type == DEC_ARR) return dec_arr;
    return (f && f->low_cardinality && c->new_type) ? c->new_type : c->type;
}

int chs_version_parse(const char *text, chs_version *out) {
    memset(out, 0, sizeof *out);
    if (!text) return SHJ_ERR;
    while (*text == ' ' || *text == '\t' || *text == '\n') text++;
    char *end;
    long a = strtol(text, &end, 10);
    if (end == text || *end != '.' || a < 1 || a > 10000) return SHJ_ERR;
    const char *p = end + 1;
    long b = strtol(p, &end, 10);
    if (end == p || b < 0) return SHJ_ERR;
    long c = 0;
    if (*end == '.') {
        p = end + 1;
        c = strtol(p, &end, 10);
        if (end == p) c = 0;
    }
    out->major = (int)a;
    out->minor = (int)b;
    out->patch = (int)c;
    return SHJ_OK;
}

static int at_least(const chs_version *v, int major, int minor) {
    return v->major > major || (v->major == major && v->minor >= minor);
}

void chs_features_for(const chs_version *v, chs_features *out) {
    memset(out, 0, sizeof *out);
    if (!v) return;
    /* LowCardinality left "experimental" and column codecs settled in the 19.x
     * series; 20.1 is the first release where both are plain syntax. */
    out->low_cardinality = at_least(v, 20, 1);
    out->codecs = at_least(v, 20, 1);
    /* fromUnixTimestamp64Nano, which the ALIAS needs, arrived in 20.5. */
    out->datetime64_alias = at_least(v, 20, 5);
}

const char *chs_table_name(chs_table t) {
    return (unsigned)t < CHS_NTABLES ? defs[t].name : "?";
}

int chs_table_for_kind(int kind) {
    switch (kind) {
    case SHJ_KIND_TICK:
    case SHJ_KIND_QUOTE: return CHS_TICKS;
    case SHJ_KIND_BIDASK: return CHS_BIDASKS;
    default: return -1;
    }
}

int chs_table_from_name(const char *name) {
    for (int t = 0; t < CHS_NTABLES; t++)
        if (name && strcmp(name, defs[t].name) == 0) return t;
    return -1;
}

const char *chs_columns(chs_table t) {
    if ((unsigned)t >= CHS_NTABLES) return "";
    chs_def *d = &defs[t];
    if (!d->columns[0]) {
        size_t o = 0;
        for (size_t i = 0; i < d->ncols; i++)
            o += (size_t)snprintf(d->columns + o, sizeof d->columns - o, "%s%s", i ? ", " : "",
                                  d->cols[i].name);
    }
    return d->columns;
}

/* Append formatted text at *o, never past cap; *o keeps counting so the
 * caller learns the size it would have needed. */
static void put(char *buf, size_t cap, size_t *o, const char *fmt, const char *a, const char *b,
                const char *c) {
    size_t room = *o < cap ? cap - *o : 0;
    int n = snprintf(room ? buf + *o : NULL, room, fmt, a, b, c);
    if (n > 0) *o += (size_t)n;
}

size_t chs_create_sql(chs_table t, const char *db, const chs_features *f, char *buf, size_t cap) {
    if (cap) buf[0] = '\0';
    if ((unsigned)t >= CHS_NTABLES) return 0;
    static const chs_features none;
    if (!f) f = &none;
    const chs_def *d = &defs[t];
    size_t o = 0;
    put(buf, cap, &o, "CREATE TABLE IF NOT EXISTS %s.%s\n(\n", db, d->name, "");
    for (size_t i = 0; i < d->ncols; i++) {
        const chs_col *c = &d->cols[i];
        put(buf, cap, &o, "    %s %s", c->name, col_type(c, f), "");
        if (f->codecs && c->codec) put(buf, cap, &o, " CODEC(%s)", c->codec, "", "");
        put(buf, cap, &o, "%s\n", (i + 1 < d->ncols || f->datetime64_alias) ? "," : "", "", "");
    }
    if (f->datetime64_alias)
        put(buf, cap, &o,
            "    time DateTime64(9, 'Asia/Taipei') ALIAS fromUnixTimestamp64Nano(ts, 'Asia/Taipei')\n",
            "", "", "");
    put(buf, cap, &o,
        ")\nENGINE = ReplacingMergeTree()\nPARTITION BY toYYYYMM(day)\nORDER BY (code, ts, source, seq)\n",
        "", "", "");
    return o;
}

size_t chs_insert_sql(chs_table t, const char *db, const char *format, char *buf, size_t cap) {
    int n = snprintf(buf, cap, "INSERT INTO %s.%s (%s) FORMAT %s", db, chs_table_name(t),
                     chs_columns(t), format);
    return n < 0 ? 0 : (size_t)n;
}

/* ---- the scale of an existing table ------------------------------------- */

size_t chs_columns_query(const char *db, char *buf, size_t cap) {
    int n = snprintf(buf, cap,
                     "SELECT table, name, type FROM system.columns WHERE database = '%s' "
                     "AND table IN ('%s', '%s') FORMAT TabSeparated",
                     db, defs[CHS_TICKS].name, defs[CHS_BIDASKS].name);
    return n < 0 ? 0 : (size_t)n;
}

/* The scale in a system.columns type ("Decimal(18, 4)", "Array(Decimal(18, 4))",
 * "Decimal64(4)"), or -1 when the type is not a decimal. */
static int type_scale(const char *type) {
    const char *p = strstr(type, "Decimal");
    if (!p) return -1;
    p = strchr(p, '(');
    if (!p) return -1;
    const char *comma = strchr(p, ',');
    const char *close = strchr(p, ')');
    const char *digits = comma && close && comma < close ? comma + 1 : p + 1;
    while (*digits == ' ') digits++;
    char *end;
    long k = strtol(digits, &end, 10);
    return end == digits ? -1 : (int)k;
}

/* The type tsv gives for db-less table.name (copied into type[cap]), or 0. */
static int type_in(const char *tsv, const char *table, const char *name, char *type, size_t cap) {
    size_t tl = strlen(table), nl = strlen(name);
    for (const char *line = tsv ? tsv : ""; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > tl + nl + 2 && memcmp(line, table, tl) == 0 && line[tl] == '\t' &&
            memcmp(line + tl + 1, name, nl) == 0 && line[tl + 1 + nl] == '\t') {
            size_t n = len - (tl + nl + 2);
            if (n >= cap) n = cap - 1;
            memcpy(type, line + tl + nl + 2, n);
            type[n] = '\0';
            return 1;
        }
        line += len + (eol ? 1 : 0);
    }
    return 0;
}

/* 1 when tsv lists any column of table (the table exists). */
static int table_in(const char *tsv, const char *table) {
    size_t tl = strlen(table);
    for (const char *line = tsv ? tsv : ""; *line;) {
        const char *eol = strchr(line, '\n');
        if (strncmp(line, table, tl) == 0 && line[tl] == '\t') return 1;
        if (!eol) break;
        line = eol + 1;
    }
    return 0;
}

/* Columns a later Shijim added: an existing table without one is migrated
 * with ADD COLUMN (type ""), its old rows get the DEFAULT computed from ts. */
static int is_added(const chs_col *c) { return strcmp(c->name, "trading_day") == 0; }

/* For every decimal column of ours (in table and column order) that tsv
 * shows with another type, and every added column an existing table lacks
 * (type ""), call fn. Returns how many were found wrong. */
typedef void (*wrong_fn)(void *ctx, const chs_def *d, const chs_col *c, const char *type);
static int each_wrong(const char *tsv, wrong_fn fn, void *ctx) {
    int wrong = 0;
    for (int t = 0; t < CHS_NTABLES; t++) {
        for (size_t i = 0; i < defs[t].ncols; i++) {
            const chs_col *c = &defs[t].cols[i];
            char type[128];
            if (is_added(c) && table_in(tsv, defs[t].name) &&
                !type_in(tsv, defs[t].name, c->name, type, sizeof type)) {
                wrong++;
                if (fn) fn(ctx, &defs[t], c, "");
                continue;
            }
            if ((c->type != DEC && c->type != DEC_ARR) || !type_in(tsv, defs[t].name, c->name, type, sizeof type))
                continue;
            int want_arr = c->type == DEC_ARR, is_arr = strncmp(type, "Array(", 6) == 0;
            if (type_scale(type) != SHJ_PRICE_DECIMALS || want_arr != is_arr) {
                wrong++;
                if (fn) fn(ctx, &defs[t], c, type);
            }
        }
    }
    return wrong;
}

typedef struct first_wrong {
    const chs_def *d;
    const chs_col *c;
    char type[64];
} first_wrong;

static void note_first(void *ctx, const chs_def *d, const chs_col *c, const char *type) {
    first_wrong *f = ctx;
    if (f->d) return;
    f->d = d;
    f->c = c;
    shj_strlcpy(f->type, type, sizeof f->type); /* a column type: longer ones are cut, on purpose */
}

/* The trading day of rows stored before the column existed, in SQL: the
 * Taipei date of ts + 9 h (core/session's 15:00 roll), Saturday and Sunday
 * moved to Monday. Holidays are not known to SQL: replaying such a day
 * (same key, ReplacingMergeTree) writes the exact value. */
#define TD_DATE "toDate(toDateTime(intDiv(ts, 1000000000) + 32400, 'Asia/Taipei'))"
#define TRADING_DAY_DEFAULT                                                               \
    "addDays(" TD_DATE ", multiIf(toDayOfWeek(" TD_DATE ") = 6, 2, toDayOfWeek(" TD_DATE \
    ") = 7, 1, 0))"

int chs_check_columns(const char *db, const char *tsv, char *err, size_t errlen) {
    first_wrong f = {0};
    int wrong = each_wrong(tsv, note_first, &f);
    if (!wrong) return SHJ_OK;
    if (!f.type[0]) {
        shj_fail(err, errlen,
                 "table %s.%s has no column %s (Date, the session rule's trading day; added by "
                 "this Shijim), so nothing is written. Migrate once: `shijim schema.lua --dsn DSN "
                 "--migrate` (ALTER TABLE %s.%s ADD COLUMN %s Date DEFAULT <ts rolled at 15:00, "
                 "weekends to Monday> AFTER day, and so for all %d such changes; see "
                 "docs/clickhouse.md)",
                 db, f.d->name, f.c->name, db, f.d->name, f.c->name, wrong);
        return SHJ_ERR;
    }
    int have = type_scale(f.type);
    char factor[48] = "wrong";
    if (have >= 0 && have < SHJ_PRICE_DECIMALS) {
        long long x = 1;
        for (int k = have; k < SHJ_PRICE_DECIMALS; k++) x *= 10;
        snprintf(factor, sizeof factor, "%lldx too large", x);
    }
    shj_fail(err, errlen,
             "table %s.%s column %s is %s but Shijim writes %s (prices x 10^%d): rows would be "
             "stored %s, so nothing is written. Migrate once: `shijim schema.lua --dsn DSN "
             "--migrate` (ALTER TABLE %s.%s MODIFY COLUMN %s %s, and so for all %d such columns; "
             "see docs/clickhouse.md)",
             db, f.d->name, f.c->name, f.type, col_type(f.c, NULL), SHJ_PRICE_DECIMALS, factor, db,
             f.d->name, f.c->name, col_type(f.c, NULL), wrong);
    return SHJ_ERR;
}

typedef struct migrate_out {
    const char *db;
    char *buf;
    size_t cap, o;
    const chs_def *open; /* the table whose ALTER is being written */
} migrate_out;

static void add_alter(void *ctx, const chs_def *d, const chs_col *c, const char *type) {
    migrate_out *m = ctx;
    if (m->open != d) {
        if (m->open) put(m->buf, m->cap, &m->o, ";\n", "", "", "");
        put(m->buf, m->cap, &m->o, "ALTER TABLE %s.%s", m->db, d->name, "");
        m->open = d;
    } else {
        put(m->buf, m->cap, &m->o, ",", "", "", "");
    }
    if (!type[0])
        put(m->buf, m->cap, &m->o, " ADD COLUMN %s Date DEFAULT %s AFTER day", c->name,
            TRADING_DAY_DEFAULT, "");
    else
        put(m->buf, m->cap, &m->o, " MODIFY COLUMN %s %s", c->name, col_type(c, NULL), "");
}

size_t chs_migrate_sql(const char *db, const char *tsv, char *buf, size_t cap) {
    if (cap) buf[0] = '\0';
    migrate_out m = {db, buf, cap, 0, NULL};
    each_wrong(tsv, add_alter, &m);
    if (m.open) put(buf, cap, &m.o, ";\n", "", "", "");
    return m.o;
}
