/* ch_dsn.h — ClickHouse connection strings: parse, validate, redact.
 *
 * Owns: turning a DSN into the pieces the HTTP client needs (base URL without
 * credentials, database, user, password) and a redacted form that is the only
 * form ever logged or put into an error message.
 *
 * Accepted forms (one grammar, three schemes):
 *   clickhouse://[user[:password]@]host[:port][/database][?param=value&...]
 *   http://...    https://...        (same shape)
 * Params: database=, user=, password=, secure=0|1 (clickhouse:// over TLS).
 * user, password and database are percent-decoded. Defaults: port 8123 (8443
 * when TLS), database "default", user "default", empty password.
 *
 * Native ports: Shijim speaks HTTP only. A DSN naming the native protocol
 * port 9000 (9440 with TLS) is mapped to the HTTP port 8123 (8443) and a
 * warning is returned in dsn->warning — the conventional ClickHouse
 * deployment listens on both, and a copied clickhouse-client DSN should work.
 * Any other port is used as given.
 *
 * Guarantees: the password never appears in base_url, redacted, warning or
 * any error text produced here.
 */
#ifndef SHJ_CH_DSN_H
#define SHJ_CH_DSN_H

#include <stddef.h>

#define CHD_HOST_MAX 256
#define CHD_NAME_MAX 128
#define CHD_URL_MAX 768

typedef struct chd_dsn {
    int secure;                    /* 1: https */
    char host[CHD_HOST_MAX];       /* as written; IPv6 without brackets */
    int port;                      /* HTTP port actually used */
    int native_port;               /* the native port that was mapped, else 0 */
    char database[CHD_NAME_MAX];   /* [A-Za-z_][A-Za-z0-9_]* */
    char user[CHD_NAME_MAX];
    char password[CHD_NAME_MAX];   /* private: never log */
    char base_url[CHD_URL_MAX];    /* "http://host:port/" — no credentials */
    char redacted[CHD_URL_MAX];    /* "clickhouse://user:***@host:port/db" */
    char warning[200];             /* non-empty when something was mapped */
} chd_dsn;

/* Parse text into *out. SHJ_OK, or SHJ_ERR with err naming the problem (and
 * the DSN in redacted form). Never logs. */
int chd_parse(const char *text, chd_dsn *out, char *err, size_t errlen);


#endif
