/* redact.c — the one redactor of URLs and DSNs (see redact.h). */
#include "core/redact.h"

#include <string.h>

/* Redaction errs on the side of hiding: it runs on text that may be
 * malformed (a pasted DSN with an unescaped '/' or '@' in the password, a
 * misspelt "pasword=" parameter), so it cannot trust the grammar. Hidden:
 * everything between the first ':' after "://" and the LAST '@' of the text
 * (whatever a lenient URL parser might take for a password), and the value of
 * every query parameter except the three that are safe to show. */
static int param_shown(const char *name, size_t n) {
    return (n == 8 && !strncmp(name, "database", 8)) || (n == 4 && !strncmp(name, "user", 4)) ||
           (n == 6 && !strncmp(name, "secure", 6));
}

static void put(char *out, size_t cap, size_t *o, const char *s) {
    while (*s && *o + 1 < cap) out[(*o)++] = *s++;
}

void shj_redact_url(const char *text, char *out, size_t cap) {
    if (!cap) return;
    size_t o = 0;
    const char *p = text ? text : "";
    const char *scheme_end = strstr(p, "://");
    const char *auth = scheme_end ? scheme_end + 3 : p;
    const char *at = strrchr(auth, '@');
    const char *colon = NULL;
    if (at) {
        for (const char *q = auth; q < at; q++)
            if (*q == ':') { colon = q; break; }
    }
    const char *query = strchr(at ? at : auth, '?');
    for (const char *q = p; *q && o + 1 < cap;) {
        if (colon && q == colon + 1) {
            put(out, cap, &o, "***");
            q = at;
            continue;
        }
        if (query && q > query && (q[-1] == '?' || q[-1] == '&')) {
            size_t name = strcspn(q, "=&#");
            if (q[name] == '=' && !param_shown(q, name)) {
                for (size_t i = 0; i < name && o + 1 < cap; i++) out[o++] = *q++;
                put(out, cap, &o, "=***");
                q++; /* the '=' */
                while (*q && *q != '&' && *q != '#') q++;
                continue;
            }
        }
        out[o++] = *q++;
    }
    out[o] = '\0';
}

