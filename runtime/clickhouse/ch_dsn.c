/* ch_dsn.c — ClickHouse DSN parsing and redaction (see ch_dsn.h).
 *
 * A hand-written scanner rather than curl's URL API: we need to reject
 * things curl would accept (unknown parameters, odd database names that
 * would have to be quoted in SQL) and to produce errors that never echo
 * the password back.
 */
#include "clickhouse/ch_dsn.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/redact.h"
#include "core/shj_common.h"

#define CHD_HTTP_PORT 8123
#define CHD_HTTPS_PORT 8443
#define CHD_NATIVE_PORT 9000
#define CHD_NATIVE_TLS_PORT 9440

/* ---- redaction ---------------------------------------------------------- */

/* ---- parsing helpers ---------------------------------------------------- */

static int hexval(int c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Percent-decode s[0..n) into out[cap]. -1 on a bad escape or overflow. */
static int pct_decode(const char *s, size_t n, char *out, size_t cap) {
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '%') {
            if (i + 2 >= n) return -1;
            int h = hexval(s[i + 1]), l = hexval(s[i + 2]);
            if (h < 0 || l < 0) return -1;
            c = h * 16 + l;
            i += 2;
        }
        if (c == 0 || o + 1 >= cap) return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return 0;
}

static int valid_identifier(const char *s) {
    if (!s[0] || !(isalpha((unsigned char)s[0]) || s[0] == '_')) return 0;
    for (const char *p = s; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_')) return 0;
    return 1;
}

static int parse_bool(const char *v, size_t n, int *out) {
    if ((n == 1 && v[0] == '1') || (n == 4 && strncmp(v, "true", 4) == 0)) {
        *out = 1;
        return 0;
    }
    if ((n == 1 && v[0] == '0') || (n == 5 && strncmp(v, "false", 5) == 0)) {
        *out = 0;
        return 0;
    }
    return -1;
}

static void build_urls(chd_dsn *d, const char *scheme) {
    int v6 = strchr(d->host, ':') != NULL;
    snprintf(d->base_url, sizeof d->base_url, "%s://%s%s%s:%d/", d->secure ? "https" : "http",
             v6 ? "[" : "", d->host, v6 ? "]" : "", d->port);
    snprintf(d->redacted, sizeof d->redacted, "%s://%s%s@%s%s%s:%d/%s", scheme, d->user,
             d->password[0] ? ":***" : "", v6 ? "[" : "", d->host, v6 ? "]" : "", d->port,
             d->database);
}

/* ---- chd_parse ---------------------------------------------------------- */

int chd_parse(const char *text, chd_dsn *d, char *err, size_t errlen) {
    char shown[CHD_URL_MAX];
    shj_redact_url(text ? text : "", shown, sizeof shown);
    memset(d, 0, sizeof *d);
    if (!text || !*text) return shj_fail(err, errlen, "bad DSN: empty (expected clickhouse://user:pass@host:8123/db)");
    if (strlen(text) >= 1024) return shj_fail(err, errlen, "bad DSN: longer than 1023 bytes");

    const char *scheme;
    const char *p;
    if (strncmp(text, "clickhouse://", 13) == 0) {
        scheme = "clickhouse";
        p = text + 13;
    } else if (strncmp(text, "http://", 7) == 0) {
        scheme = "http";
        p = text + 7;
    } else if (strncmp(text, "https://", 8) == 0) {
        scheme = "https";
        p = text + 8;
        d->secure = 1;
    } else {
        return shj_fail(err, errlen,
                        "bad DSN '%s': scheme must be clickhouse://, http:// or https://", shown);
    }

    /* authority = [userinfo@]host[:port] up to '/', '?' or end */
    size_t alen = strcspn(p, "/?#");
    const char *auth = p, *auth_end = p + alen;
    const char *at = NULL;
    for (const char *q = auth; q < auth_end; q++)
        if (*q == '@') at = q;
    shj_strlcpy(d->user, "default", sizeof d->user);
    if (at) {
        const char *colon = memchr(auth, ':', (size_t)(at - auth));
        const char *uend = colon ? colon : at;
        if (uend > auth && pct_decode(auth, (size_t)(uend - auth), d->user, sizeof d->user) != 0)
            return shj_fail(err, errlen, "bad DSN '%s': user is not valid percent-encoded text", shown);
        if (colon && pct_decode(colon + 1, (size_t)(at - colon - 1), d->password, sizeof d->password) != 0)
            return shj_fail(err, errlen, "bad DSN '%s': password is not valid percent-encoded text (or too long)", shown);
        auth = at + 1;
    }
    /* host: [v6] or name */
    const char *hend;
    const char *port_txt = NULL;
    if (*auth == '[') {
        hend = memchr(auth, ']', (size_t)(auth_end - auth));
        if (!hend) return shj_fail(err, errlen, "bad DSN '%s': unterminated [IPv6] host", shown);
        if ((size_t)(hend - auth - 1) >= sizeof d->host || hend == auth + 1)
            return shj_fail(err, errlen, "bad DSN '%s': bad IPv6 host", shown);
        memcpy(d->host, auth + 1, (size_t)(hend - auth - 1));
        hend++;
        if (hend < auth_end) {
            if (*hend != ':') return shj_fail(err, errlen, "bad DSN '%s': junk after ]", shown);
            port_txt = hend + 1;
        }
    } else {
        const char *colon = memchr(auth, ':', (size_t)(auth_end - auth));
        hend = colon ? colon : auth_end;
        if (hend == auth) return shj_fail(err, errlen, "bad DSN '%s': no host", shown);
        if ((size_t)(hend - auth) >= sizeof d->host)
            return shj_fail(err, errlen, "bad DSN '%s': host too long", shown);
        memcpy(d->host, auth, (size_t)(hend - auth));
        if (colon) port_txt = colon + 1;
    }
    for (const char *h = d->host; *h; h++)
        if (!(isalnum((unsigned char)*h) || *h == '.' || *h == '-' || *h == '_' || *h == ':'))
            return shj_fail(err, errlen, "bad DSN '%s': host contains '%c'", shown, *h);

    /* path: /database */
    const char *rest = auth_end;
    char dbbuf[CHD_NAME_MAX] = "";
    if (*rest == '/') {
        const char *pend = rest + 1 + strcspn(rest + 1, "?#");
        if (pend > rest + 1 && pct_decode(rest + 1, (size_t)(pend - rest - 1), dbbuf, sizeof dbbuf) != 0)
            return shj_fail(err, errlen, "bad DSN '%s': bad database name", shown);
        if (strchr(dbbuf, '/')) return shj_fail(err, errlen, "bad DSN '%s': path must be /database", shown);
        rest = pend;
    }
    /* query parameters */
    int secure_set = -1;
    if (*rest == '?') {
        const char *q = rest + 1;
        while (*q && *q != '#') {
            size_t n = strcspn(q, "&#");
            const char *eq = memchr(q, '=', n);
            if (!eq) return shj_fail(err, errlen, "bad DSN '%s': parameter without '='", shown);
            size_t kn = (size_t)(eq - q), vn = n - kn - 1;
            const char *v = eq + 1;
            if (kn == 8 && strncmp(q, "database", 8) == 0) {
                if (pct_decode(v, vn, dbbuf, sizeof dbbuf) != 0)
                    return shj_fail(err, errlen, "bad DSN '%s': bad database name", shown);
            } else if (kn == 4 && strncmp(q, "user", 4) == 0) {
                if (pct_decode(v, vn, d->user, sizeof d->user) != 0)
                    return shj_fail(err, errlen, "bad DSN '%s': bad user", shown);
            } else if (kn == 8 && strncmp(q, "password", 8) == 0) {
                if (pct_decode(v, vn, d->password, sizeof d->password) != 0)
                    return shj_fail(err, errlen, "bad DSN '%s': bad password encoding", shown);
            } else if (kn == 6 && strncmp(q, "secure", 6) == 0) {
                if (parse_bool(v, vn, &secure_set) != 0)
                    return shj_fail(err, errlen, "bad DSN '%s': secure must be 0/1/true/false", shown);
            } else {
                return shj_fail(err, errlen,
                                "bad DSN '%s': unknown parameter '%.*s' (known: database, user, password, secure)",
                                shown, (int)kn, q);
            }
            q += n;
            if (*q == '&') q++;
        }
    } else if (*rest == '#') {
        return shj_fail(err, errlen, "bad DSN '%s': fragments are not allowed", shown);
    }
    if (secure_set >= 0) {
        if (strcmp(scheme, "clickhouse") != 0 && secure_set != d->secure)
            return shj_fail(err, errlen, "bad DSN '%s': secure= contradicts the %s:// scheme", shown, scheme);
        d->secure = secure_set;
    }
    shj_strlcpy(d->database, dbbuf[0] ? dbbuf : "default", sizeof d->database);
    if (!valid_identifier(d->database))
        return shj_fail(err, errlen,
                        "bad DSN '%s': the database name must match [A-Za-z_][A-Za-z0-9_]*", shown);
    /* (the name is not echoed raw: a malformed one may have swallowed a password) */
    if (!d->user[0]) return shj_fail(err, errlen, "bad DSN '%s': empty user", shown);
    /* A user name is shown in logs (d->redacted): one that holds ':', '@', '/'
     * or control bytes is a mis-pasted DSN that may carry a password. */
    for (const char *u = d->user; *u; u++)
        if (!isalnum((unsigned char)*u) && !strchr("_.-", *u))
            return shj_fail(err, errlen, "bad DSN '%s': user may hold only letters, digits, '_', '.', '-'",
                            shown);

    /* port */
    if (port_txt) {
        size_t n = (size_t)(auth_end - port_txt);
        if (n == 0 || n > 5) return shj_fail(err, errlen, "bad DSN '%s': bad port", shown);
        int port = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isdigit((unsigned char)port_txt[i]))
                return shj_fail(err, errlen, "bad DSN '%s': port '%.*s' is not a number", shown, (int)n, port_txt);
            port = port * 10 + (port_txt[i] - '0');
        }
        if (port < 1 || port > 65535) return shj_fail(err, errlen, "bad DSN '%s': port %d out of range", shown, port);
        d->port = port;
    } else {
        d->port = d->secure ? CHD_HTTPS_PORT : CHD_HTTP_PORT;
    }
    if (d->port == CHD_NATIVE_PORT || d->port == CHD_NATIVE_TLS_PORT) {
        d->native_port = d->port;
        d->port = d->port == CHD_NATIVE_PORT ? CHD_HTTP_PORT : CHD_HTTPS_PORT;
        if (d->native_port == CHD_NATIVE_TLS_PORT) d->secure = 1;
        snprintf(d->warning, sizeof d->warning,
                 "DSN names the native-protocol port %d; Shijim speaks HTTP, using port %d instead",
                 d->native_port, d->port);
    }
    build_urls(d, scheme);
    return SHJ_OK;
}
