/* names.c — enum <-> name tables (see names.h). */
#include "core/names.h"

#include <strings.h>

const char *const nm_kinds[SHJ_KIND_MAX] = {"none", "tick", "bidask", "status", "bar", "quote"};
const char *const nm_exchanges[SHJ_EX_TAIFEX + 1] = {"UNKNOWN", "TSE", "OTC", "OES", "TAIFEX"};
const char *const nm_sec_types[SHJ_SEC_IND + 1] = {"UNKNOWN", "STK", "FUT", "OPT", "IND"};
const char *const nm_statuses[SHJ_STATUS_BACKFILLED + 1] = {
    "unknown",      "connected",     "disconnected", "resubscribed", "gap",
    "session_open", "session_close", "error",        "backfilled"};

const char *nm_kind(int kind) { return (kind >= 0 && kind < SHJ_KIND_MAX) ? nm_kinds[kind] : "unknown"; }

const char *nm_exchange(int exchange) {
    return (exchange > 0 && exchange <= SHJ_EX_TAIFEX) ? nm_exchanges[exchange] : nm_exchanges[0];
}

const char *nm_sec_type(int sec_type) {
    return (sec_type > 0 && sec_type <= SHJ_SEC_IND) ? nm_sec_types[sec_type] : nm_sec_types[0];
}

const char *nm_status(int status) {
    return (status > 0 && status <= SHJ_STATUS_BACKFILLED) ? nm_statuses[status] : nm_statuses[0];
}

static int lookup(const char *const *names, int n, const char *text, size_t len) {
    if (!text) return -1;
    for (int i = 0; i < n; i++) {
        size_t k = 0;
        while (names[i][k] && k < len) k++;
        if (k == len && names[i][k] == '\0' && strncasecmp(names[i], text, len) == 0) return i;
    }
    return -1;
}

int nm_kind_of(const char *text, size_t len) { return lookup(nm_kinds, SHJ_KIND_MAX, text, len); }
int nm_exchange_of(const char *text, size_t len) {
    return lookup(nm_exchanges, SHJ_EX_TAIFEX + 1, text, len);
}
int nm_sec_type_of(const char *text, size_t len) {
    return lookup(nm_sec_types, SHJ_SEC_IND + 1, text, len);
}
int nm_status_of(const char *text, size_t len) {
    return lookup(nm_statuses, SHJ_STATUS_BACKFILLED + 1, text, len);
}
