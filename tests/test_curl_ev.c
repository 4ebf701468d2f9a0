/* test_curl_ev.c — curl_ev: the multi handle on libev, against a tiny HTTP
 * server living on the same loop.
 *
 * Proves: no done callback inside the call that added a transfer; done runs
 * once per transfer with in_curl 0 and the whole body; easy callbacks run
 * with in_curl > 0; the socket of a transfer is found from its easy handle;
 * a muted socket is not read (even with bytes waiting) until cev_unmute;
 * a muted socket that curl removes is no longer muted (a new socket with
 * the same fd number is watched); cev_free leaves no socket behind.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "loop/curl_ev.h"
#include "core/shj_common.h"
#include "t.h"

/* ---- server: answers one request in two parts ----------------------------- */

typedef struct server {
    ev_io accept_w;
    ev_io client_w;
    int lfd, cfd;
    int port;
    char req[2048];
    size_t req_len;
    int head_sent;
} server;

static const char HEAD[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhe";

static void on_client(struct ev_loop *loop, ev_io *w, int revents) {
    SHJ_UNUSED(revents);
    server *s = shj_container_of(w, server, client_w);
    ssize_t n = read(s->cfd, s->req + s->req_len, sizeof s->req - 1 - s->req_len);
    if (n > 0) s->req_len += (size_t)n;
    s->req[s->req_len] = '\0';
    if (n <= 0 || strstr(s->req, "\r\n\r\n")) {
        ev_io_stop(loop, w);
        if (write(s->cfd, HEAD, sizeof HEAD - 1) == (ssize_t)(sizeof HEAD - 1)) s->head_sent = 1;
    }
}

static void on_accept(struct ev_loop *loop, ev_io *w, int revents) {
    SHJ_UNUSED(revents);
    server *s = shj_container_of(w, server, accept_w);
    s->cfd = accept(s->lfd, NULL, NULL);
    if (s->cfd < 0) return;
    ev_io_stop(loop, w);
    ev_io_init(&s->client_w, on_client, s->cfd, EV_READ);
    ev_io_start(loop, &s->client_w);
}

static int server_start(server *s, struct ev_loop *loop) {
    memset(s, 0, sizeof *s);
    s->cfd = -1;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->lfd, 4) != 0 ||
        getsockname(s->lfd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    s->port = ntohs(a.sin_port);
    ev_io_init(&s->accept_w, on_accept, s->lfd, EV_READ);
    ev_io_start(loop, &s->accept_w);
    return 0;
}

/* ---- client --------------------------------------------------------------- */

typedef struct client {
    cev_multi cev;
    CURL *easy;
    char body[64];
    size_t body_len;
    int writes;
    int writes_outside_curl;
    int done_calls;
    int done_in_curl;
    CURLcode result;
    int mute_at_first_write;
    int mute;                  /* muted at the first write */
    curl_socket_t mute_fd;
    curl_socket_t fd;          /* the transfer's socket (CURLOPT_SOCKOPTFUNCTION) */
} client;

/* The socket as curl creates it, to check that cev_mute_transfer finds the
 * same one (CURLINFO_ACTIVESOCKET is not known mid-transfer on curl 7.88). */
static int on_sockopt(void *ud, curl_socket_t fd, curlsocktype purpose) {
    SHJ_UNUSED(purpose);
    ((client *)ud)->fd = fd;
    return CURL_SOCKOPT_OK;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud) {
    client *c = ud;
    size_t n = size * nmemb;
    c->writes++;
    if (!c->cev.in_curl) c->writes_outside_curl++;
    if (c->body_len + n < sizeof c->body) {
        memcpy(c->body + c->body_len, p, n);
        c->body_len += n;
    }
    if (c->mute_at_first_write && c->writes == 1) {
        /* The socket curl named for this transfer is the one it created. */
        c->mute_fd = cev_mute_transfer(&c->cev, c->easy);
        c->mute = c->mute_fd != CURL_SOCKET_BAD && c->mute_fd == c->fd;
    }
    return n;
}

static void on_done(cev_multi *m, CURL *e, CURLcode result) {
    client *c = shj_container_of(m, client, cev);
    c->done_calls++;
    c->done_in_curl += m->in_curl;
    c->result = result;
    curl_multi_remove_handle(m->curl, e);
    ev_break(m->loop, EVBREAK_ALL);
}

static void run_one(struct ev_loop *loop, int mute) {
    server s;
    CHECK(server_start(&s, loop) == 0);
    client c;
    memset(&c, 0, sizeof c);
    char err[200];
    CHECK(cev_init(&c.cev, loop, on_done, err, sizeof err) == SHJ_OK);
    c.mute_at_first_write = mute;
    c.mute_fd = CURL_SOCKET_BAD;
    c.fd = CURL_SOCKET_BAD;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", s.port);
    c.easy = curl_easy_init();
    curl_easy_setopt(c.easy, CURLOPT_URL, url);
    curl_easy_setopt(c.easy, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c.easy, CURLOPT_WRITEDATA, &c);
    curl_easy_setopt(c.easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c.easy, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
    curl_easy_setopt(c.easy, CURLOPT_SOCKOPTDATA, &c);
    CHECK(curl_multi_add_handle(c.cev.curl, c.easy) == CURLM_OK);
    CHECK_EQ_I64(c.done_calls, 0); /* nothing runs inside the call that added it */

    if (mute) {
        /* Until the first chunk arrives and mutes the socket. */
        while (c.writes == 0 && c.done_calls == 0) ev_run(loop, EVRUN_ONCE);
        CHECK(c.mute);
        CHECK(c.cev.sockets >= 1);
        CHECK(cev_is_muted(&c.cev, c.mute_fd));
        CHECK_EQ_I64(c.cev.mutes, 1);
        /* The rest of the body (and the close) now wait in the socket;
         * a muted socket must not be read however often the loop turns. */
        static const char TAIL[] = "llo";
        CHECK(write(s.cfd, TAIL, 3) == 3);
        close(s.cfd);
        s.cfd = -1;
        for (int i = 0; i < 20; i++) ev_run(loop, EVRUN_NOWAIT);
        CHECK_EQ_I64(c.writes, 1);
        CHECK_EQ_I64(c.done_calls, 0);
        c.mute = 0;
        cev_unmute(&c.cev, c.mute_fd);
        CHECK(!cev_is_muted(&c.cev, c.mute_fd));
    } else {
        /* The server sends the rest once the head is out. */
        while (!s.head_sent) ev_run(loop, EVRUN_ONCE);
        static const char TAIL[] = "llo";
        CHECK(write(s.cfd, TAIL, 3) == 3);
        close(s.cfd);
        s.cfd = -1;
    }
    ev_run(loop, 0); /* until on_done breaks */
    CHECK_EQ_I64(c.done_calls, 1);
    CHECK_EQ_I64(c.done_in_curl, 0);
    CHECK_EQ_I64(c.result, CURLE_OK);
    CHECK(c.writes >= 1);
    CHECK_EQ_I64(c.writes_outside_curl, 0);
    c.body[c.body_len] = '\0';
    CHECK_STR(c.body, "hello");

    curl_easy_cleanup(c.easy);
    cev_free(&c.cev);
    CHECK_EQ_I64(c.cev.sockets, 0);
    CHECK(c.cev.curl == NULL);
    ev_io_stop(loop, &s.accept_w);
    ev_io_stop(loop, &s.client_w);
    close(s.lfd);
}

static CURL *easy_to(client *c, const server *s) {
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/x", s->port);
    CURL *e = curl_easy_init();
    curl_easy_setopt(e, CURLOPT_URL, url);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_SOCKOPTFUNCTION, on_sockopt);
    curl_easy_setopt(e, CURLOPT_SOCKOPTDATA, c);
    return e;
}

/* A muted socket that curl removes (here: its transfer is abandoned, so the
 * connection is closed) takes its mute with it: the next transfer, whose
 * socket gets the same fd number, is watched and completes. */
static void run_removed_while_muted(struct ev_loop *loop) {
    server s1, s2;
    CHECK(server_start(&s1, loop) == 0);
    client c;
    memset(&c, 0, sizeof c);
    char err[200];
    CHECK(cev_init(&c.cev, loop, on_done, err, sizeof err) == SHJ_OK);
    c.mute_at_first_write = 1;
    c.mute_fd = c.fd = CURL_SOCKET_BAD;
    c.easy = easy_to(&c, &s1);
    CHECK(curl_multi_add_handle(c.cev.curl, c.easy) == CURLM_OK);
    while (c.writes == 0 && c.done_calls == 0) ev_run(loop, EVRUN_ONCE);
    CHECK(c.mute);
    curl_socket_t fd_a = c.mute_fd;
    CHECK(server_start(&s2, loop) == 0); /* before A's fd is free again */

    curl_multi_remove_handle(c.cev.curl, c.easy);
    curl_easy_cleanup(c.easy);
    CHECK(!cev_is_muted(&c.cev, fd_a));
    CHECK_EQ_I64(c.cev.sockets, 0);
    cev_unmute(&c.cev, fd_a); /* the owner's late unmute is a no-op */

    c.mute_at_first_write = 0;
    c.mute = 0;
    c.writes = 0;
    c.body_len = 0;
    c.fd = CURL_SOCKET_BAD;
    c.easy = easy_to(&c, &s2);
    CHECK(curl_multi_add_handle(c.cev.curl, c.easy) == CURLM_OK);
    while (!s2.head_sent && c.done_calls == 0) ev_run(loop, EVRUN_ONCE);
    CHECK_EQ_I64(c.fd, fd_a); /* the case that matters: the same fd number */
    CHECK(!cev_is_muted(&c.cev, c.fd));
    CHECK(write(s2.cfd, "llo", 3) == 3);
    close(s2.cfd);
    ev_run(loop, 0); /* until on_done breaks */
    CHECK_EQ_I64(c.done_calls, 1);
    CHECK_EQ_I64(c.result, CURLE_OK);
    c.body[c.body_len] = '\0';
    CHECK_STR(c.body, "hello");

    curl_easy_cleanup(c.easy);
    cev_free(&c.cev);
    CHECK_EQ_I64(c.cev.sockets, 0);
    if (s1.cfd >= 0) close(s1.cfd);
    server *ss[] = {&s1, &s2};
    for (int i = 0; i < 2; i++) {
        ev_io_stop(loop, &ss[i]->accept_w);
        ev_io_stop(loop, &ss[i]->client_w);
        close(ss[i]->lfd);
    }
}

int main(void) {
    struct ev_loop *loop = ev_loop_new(EVFLAG_AUTO);
    run_one(loop, 0);
    run_one(loop, 1);
    run_removed_while_muted(loop);

    /* A zeroed (never initialised) multi frees cleanly. */
    cev_multi z;
    memset(&z, 0, sizeof z);
    cev_free(&z);
    CHECK(z.curl == NULL);

    ev_loop_destroy(loop);
    curl_global_cleanup();
    T_DONE();
}
