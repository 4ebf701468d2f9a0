/* ch_harness.h — a real clickhouse-server for tests and benchmarks.
 *
 * Starts Debian's clickhouse-server (18.16) as a child process in a fresh
 * temporary directory, on free loopback ports (HTTP, native, interserver),
 * with its own users.xml: user "default" without password and user "shj"
 * with password "s3cret" (for the wrong-password tests). Waits until
 * `SELECT 1` answers. Stops exactly the PID it started (SIGTERM, then
 * SIGKILL), and the child dies with the test process (PR_SET_PDEATHSIG), so
 * a crashed test never leaves a server behind.
 *
 * chx_start_cluster starts n such servers as the shards of one cluster: each
 * gets a copy of Debian's config.xml in its directory plus config.d/cluster.xml
 * with a remote_servers entry naming every shard's native port (the only way
 * to add remote_servers: `--` overrides cannot express nested lists).
 *
 * Header-only, used by tests/test_ch_*.c and bench/bench_ch*.c.
 */
#ifndef SHJ_CH_HARNESS_H
#define SHJ_CH_HARNESS_H

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Paths here are mkdtemp names under /tmp (< 40 bytes); GCC cannot know that
 * once chx_start_cluster inlines several servers' paths into one function. */
#if defined(__GNUC__) && !defined(__clang__) /* clang has no such warning */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

typedef struct chx_server {
    char dir[256];
    int http_port, tcp_port, inter_port;
    pid_t pid;
    char url[64];  /* http://127.0.0.1:PORT/ */
    char config[320]; /* config file ("" = /etc/clickhouse-server/config.xml) */
} chx_server;

static inline void chx_sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static inline int chx_free_port(int *fds, int i) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    fds[i] = fd; /* kept open until all three are chosen, so they differ */
    return ntohs(a.sin_port);
}

typedef struct chx_body {
    char *p;
    size_t len, cap;
} chx_body;

static inline size_t chx_on_body(char *ptr, size_t size, size_t nmemb, void *ud) {
    chx_body *b = ud;
    size_t n = size * nmemb;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) return 0;
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, ptr, n);
    b->len += n;
    b->p[b->len] = '\0';
    return n;
}

/* POST sql (+ optional body) to the server. Returns the HTTP status (0 when
 * no answer); the response is in *out (caller frees out->p). */
static inline long chx_post(const chx_server *s, const char *sql, const void *body, size_t len, chx_body *out) {
    CURL *e = curl_easy_init();
    chx_body tmp = {0};
    if (!out) out = &tmp;
    out->len = 0;
    char *q = curl_easy_escape(e, sql, 0);
    char url[8192];
    snprintf(url, sizeof url, "%s?query=%s", s->url, q);
    curl_free(q);
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_POST, 1L);
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? (const char *)body : "");
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, chx_on_body);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 30000L);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 1000L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    long code = 0;
    if (curl_easy_perform(e) == CURLE_OK) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(e);
    if (!out->p) out->p = calloc(1, 1);
    free(tmp.p);
    return code;
}

/* Run a query whose answer is one integer; -1 on any error (printed). */
static inline long long chx_scalar(const chx_server *s, const char *fmt, ...) {
    char sql[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    chx_body b = {0};
    long code = chx_post(s, sql, NULL, 0, &b);
    long long v = -1;
    if (code == 200) {
        char *end;
        v = strtoll(b.p, &end, 10);
        if (end == b.p) v = -1;
    } else {
        fprintf(stderr, "chx_scalar: HTTP %ld for [%s]: %s\n", code, sql, b.p ? b.p : "");
    }
    free(b.p);
    return v;
}

static inline int chx_alive(const chx_server *s) {
    chx_body b = {0};
    long code = chx_post(s, "SELECT 1", NULL, 0, &b);
    int ok = code == 200 && b.p && b.p[0] == '1';
    free(b.p);
    return ok;
}

static inline int chx_write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

static inline pid_t chx_spawn(chx_server *s) {
    char a_path[320], a_tmp[320], a_log[320], a_err[320], a_http[64], a_tcp[64], a_int[64], a_users[320];
    snprintf(a_path, sizeof a_path, "--path=%s/data/", s->dir);
    snprintf(a_tmp, sizeof a_tmp, "--tmp_path=%s/tmp/", s->dir);
    snprintf(a_log, sizeof a_log, "--logger.log=%s/server.log", s->dir);
    snprintf(a_err, sizeof a_err, "--logger.errorlog=%s/server.err", s->dir);
    snprintf(a_http, sizeof a_http, "--http_port=%d", s->http_port);
    snprintf(a_tcp, sizeof a_tcp, "--tcp_port=%d", s->tcp_port);
    snprintf(a_int, sizeof a_int, "--interserver_http_port=%d", s->inter_port);
    snprintf(a_users, sizeof a_users, "--users_config=%s/users.xml", s->dir);
    char outp[320];
    snprintf(outp, sizeof outp, "%s/stdout", s->dir);
    char a_cfg[340];
    snprintf(a_cfg, sizeof a_cfg, "--config-file=%s", s->config[0] ? s->config : "/etc/clickhouse-server/config.xml");
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(1);
        int fd = open(outp, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        setpgid(0, 0); /* keep terminal signals (^C to the test) for the test */
        execlp("clickhouse-server", "clickhouse-server",
               a_cfg, "--", a_path, a_tmp, a_log, a_err,
               a_http, a_tcp, a_int, a_users, "--listen_host=127.0.0.1", (char *)NULL);
        _exit(127);
    }
    return pid;
}

/* Wait until SELECT 1 answers (or the child exits). 0 ok, -1 failed. */
static inline int chx_wait_ready(chx_server *s, int timeout_ms) {
    for (int waited = 0; waited < timeout_ms; waited += 50) {
        if (chx_alive(s)) return 0;
        int st;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            s->pid = 0;
            return -1;
        }
        chx_sleep_ms(50);
    }
    return -1;
}

static inline void chx_rm_rf(const char *dir) {
    char cmd[600];
    if (!dir[0] || strncmp(dir, "/tmp/", 5) != 0) return; /* never anything else */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "chx: could not remove %s\n", dir);
}

/* (Re)start the server in s->dir on s's ports. */
static inline int chx_launch(chx_server *s, char *err, size_t errlen) {
    s->pid = chx_spawn(s);
    if (s->pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (chx_wait_ready(s, 20000) != 0) {
        snprintf(err, errlen, "clickhouse-server did not answer SELECT 1 within 20 s (see %.150s/stdout, server.err)", s->dir);
        if (s->pid > 0) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
            s->pid = 0;
        }
        return -1;
    }
    return 0;
}

/* A fresh directory with users.xml (no ports, nothing started). */
static inline int chx_prepare(chx_server *s, char *err, size_t errlen) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/shj-ch.XXXXXX");
    if (!mkdtemp(s->dir)) {
        snprintf(err, errlen, "mkdtemp: %s", strerror(errno));
        return -1;
    }
    char p[400];
    snprintf(p, sizeof p, "%s/users.xml", s->dir);
    chx_write_file(p,
        "<?xml version=\"1.0\"?>\n<yandex>\n"
        "<profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>\n"
        "<users>\n"
        "<default><password></password><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota></default>\n"
        "<shj><password>s3cret</password><networks><ip>::/0</ip></networks><profile>default</profile><quota>default</quota></shj>\n"
        "</users>\n"
        "<quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>"
        "<result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>\n"
        "</yandex>\n");
    return 0;
}

static inline int chx_start(chx_server *s, char *err, size_t errlen) {
    if (chx_prepare(s, err, errlen) != 0) return -1;
    for (int attempt = 0; attempt < 3; attempt++) {
        int fds[3] = {-1, -1, -1};
        s->http_port = chx_free_port(fds, 0);
        s->tcp_port = chx_free_port(fds, 1);
        s->inter_port = chx_free_port(fds, 2);
        for (int i = 0; i < 3; i++)
            if (fds[i] >= 0) close(fds[i]);
        snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d/", s->http_port);
        if (chx_launch(s, err, errlen) == 0) return 0;
    }
    return -1;
}

static inline void chx_stop(chx_server *s);

/* n servers (n <= 8) as the n single-replica shards of cluster `cluster`
 * (shard i+1 = s[i]), every one knowing the whole cluster. 0, or -1 with err
 * (servers already started are stopped). */
static inline int chx_start_cluster(chx_server *s, int n, const char *cluster, char *err, size_t errlen) {
    int fds[24];
    for (int i = 0; i < 24; i++) fds[i] = -1;
    for (int i = 0; i < n; i++) {
        if (chx_prepare(&s[i], err, errlen) != 0) return -1;
        s[i].http_port = chx_free_port(fds, 3 * i);
        s[i].tcp_port = chx_free_port(fds, 3 * i + 1);
        s[i].inter_port = chx_free_port(fds, 3 * i + 2);
        snprintf(s[i].url, sizeof s[i].url, "http://127.0.0.1:%d/", s[i].http_port);
    }
    for (int i = 0; i < 3 * n; i++)
        if (fds[i] >= 0) close(fds[i]);
    char shards[2048];
    size_t o = 0;
    for (int i = 0; i < n; i++)
        o += (size_t)snprintf(shards + o, sizeof shards - o,
                              "<shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>", s[i].tcp_port);
    for (int i = 0; i < n; i++) {
        char p[400], cmd[800], xml[2600];
        snprintf(p, sizeof p, "%s/config.d", s[i].dir);
        mkdir(p, 0755);
        snprintf(cmd, sizeof cmd, "cp /etc/clickhouse-server/config.xml '%s/config.xml'", s[i].dir);
        if (system(cmd) != 0) {
            snprintf(err, errlen, "cannot copy /etc/clickhouse-server/config.xml to %.200s", s[i].dir);
            for (int j = 0; j < n; j++) chx_stop(&s[j]);
            return -1;
        }
        snprintf(s[i].config, sizeof s[i].config, "%s/config.xml", s[i].dir);
        snprintf(p, sizeof p, "%s/config.d/cluster.xml", s[i].dir);
        snprintf(xml, sizeof xml, "<?xml version=\"1.0\"?>\n<yandex><remote_servers><%s>%s</%s></remote_servers></yandex>\n",
                 cluster, shards, cluster);
        chx_write_file(p, xml);
    }
    for (int i = 0; i < n; i++) {
        if (chx_launch(&s[i], err, errlen) != 0) {
            for (int j = 0; j < n; j++) chx_stop(&s[j]);
            return -1;
        }
    }
    return 0;
}

/* SIGKILL the server by PID and reap it: the "crash" of the acceptance test. */
static inline void chx_kill9(chx_server *s) {
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
    }
}

static inline int chx_restart(chx_server *s, char *err, size_t errlen) {
    chx_kill9(s);
    return chx_launch(s, err, errlen);
}

/* Freeze / thaw the server: a stalled server that accepts but never answers. */
static inline void chx_pause(chx_server *s) { if (s->pid > 0) kill(s->pid, SIGSTOP); }
static inline void chx_resume(chx_server *s) { if (s->pid > 0) kill(s->pid, SIGCONT); }

static inline void chx_stop(chx_server *s) {
    if (s->pid > 0) {
        kill(s->pid, SIGCONT);
        kill(s->pid, SIGTERM);
        int st;
        for (int i = 0; i < 100; i++) {
            if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
                s->pid = 0;
                break;
            }
            chx_sleep_ms(50);
        }
        chx_kill9(s);
    }
    if (!getenv("SHJ_KEEP_CH")) chx_rm_rf(s->dir);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif
