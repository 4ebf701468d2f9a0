/* resolved.c — the map of resolved continuous aliases (see resolved.h). */
#include "core/resolved.h"

#include <string.h>

#include "core/shj_common.h"

static rsv_entry map[RSV_MAX];
static int nmap;

void rsv_note(const char *alias, const char *code, int exchange, int sec_type, int source_id) {
    if (!alias || !code || !*alias || !*code || strcmp(alias, code) == 0) return;
    if (strlen(alias) >= sizeof map[0].alias || strlen(code) >= sizeof map[0].code) return;
    int i = 0;
    while (i < nmap && strcmp(map[i].alias, alias) != 0) i++;
    if (i == nmap) {
        if (nmap == RSV_MAX) return; /* far beyond any real subscription list */
        nmap++;
    }
    shj_strlcpy(map[i].alias, alias, sizeof map[i].alias);
    shj_strlcpy(map[i].code, code, sizeof map[i].code);
    map[i].exchange = exchange;
    map[i].sec_type = sec_type;
    map[i].source_id = source_id;
}

int rsv_count(void) { return nmap; }
const rsv_entry *rsv_at(int i) { return i >= 0 && i < nmap ? &map[i] : NULL; }
void rsv_reset(void) { nmap = 0; }
