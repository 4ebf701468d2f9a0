/* ch_schema.c — table definitions and SQL text (see ch_schema.h).
 *
 * The column tables below are the single source of truth for the column
 * order: ch_rowbinary.c encodes in exactly this order (tests decode a row
 * back and compare field by field), and chs_columns() builds the INSERT
 * column list from the same arrays.
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
#define DEC "Decimal64(4)"
#define ZSTD "ZSTD(1)"

/* The event header every table starts with (after the ticks-only kind column). */
#define HEADER_COLS                                                                 \
    {"ts", "Int64", NULL, "DoubleDelta, " ZSTD},                                    \
    {"recv_ts", "Int64", NULL, "Delta, " ZSTD},                                     \
    {"dt", "DateTime('Asia/Taipei')", NULL, "Delta, " ZSTD},                        \
    {"day", "Date", NULL, "Delta, " ZSTD},                                          \
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
    {"bid_price", "Array(" DEC ")", NULL, ZSTD},
    {"ask_price", "Array(" DEC ")", NULL, ZSTD},
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
        const char *type = (f->low_cardinality && c->new_type) ? c->new_type : c->type;
        put(buf, cap, &o, "    %s %s", c->name, type, "");
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
