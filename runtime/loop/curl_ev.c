/* curl_ev.c — libcurl's multi socket API on libev (see curl_ev.h).
 *
 * DESIGN. curl tells us which sockets to watch (on_curl_socket) and when it
 * wants a timeout (on_curl_timer); libev tells us when a socket is ready or
 * the timer fired, and we hand that to curl_multi_socket_action, which runs
 * every transfer that can progress. Finished transfers are collected with
 * curl_multi_info_read only after socket_action has returned, so the
 * owner's done callback never runs inside curl and may add or remove easy
 * handles. The timer function never calls into curl: no completion can run
 * inside the call that added a handle.
 *
 * Muting is plain libev: the socket's ev_io is stopped, curl is not told,
 * nothing reads the socket, the kernel buffers fill and TCP slows the peer.
 * (With libcurl 7.88 on Debian 12, CURL_WRITEFUNC_PAUSE + curl_easy_pause
 * on a chunked response driven by the socket API sometimes never reads
 * again; muting avoids pausing altogether.)
 *
 * The muted flag lives on the cev_sock, not with the owner: curl may re-arm
 * the socket (on_curl_socket with new events) while it is muted, and the
 * watcher must stay stopped then; curl may also remove it (CURL_POLL_REMOVE,
 * e.g. the peer closed and a timer-driven run of the transfer noticed), and
 * then the mute must end with it, or a later socket reusing the fd number
 * would never be watched.
 *
 * Unmuting does not rely on libev to report the backlog: bytes that arrived
 * while muted make no new readiness edge for every backend, and a fed event
 * is dispatched to whatever watches that fd number when the loop gets to
 * it. Instead a zero-delay timer calls curl_multi_socket_action(fd,
 * CURL_CSELECT_IN) for each socket unmuted since, if curl still has us
 * watch it and it is not muted again: curl then recv()s (and tolerates
 * EAGAIN). The timer, not a direct call, because unmute may be called from
 * inside an easy callback, where curl must not be re-entered.
 *
 * Which socket a transfer uses: curl's socket callback names the transfer
 * (the easy handle) each time a transfer becomes a user of a socket or
 * changes what it wants on it, including a connection reused from an
 * earlier request; we note it on the cev_sock. With HTTP/1.1 a socket
 * serves one transfer at a time, so the last one named is the user.
 */
#include "loop/curl_ev.h"

#include <stdlib.h>
#include <string.h>

#include "core/shj_common.h"

struct cev_sock {
    ev_io io;
    curl_socket_t fd;
    int events;            /* what curl wants watched (EV_READ | EV_WRITE) */
    int muted;             /* the owner asked us not to watch it */
    int unmuted;           /* curl must look at it from the unmuted timer */
    CURL *easy;            /* the transfer curl last named for it */
    cev_multi *m;
    cev_sock *prev, *next; /* the multi's list (to find a socket by fd) */
};

static int curl_ready;

static void on_unmuted(struct ev_loop *loop, ev_timer *w, int revents);

static void check_done(cev_multi *m) {
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(m->curl, &left))) {
        if (msg->msg != CURLMSG_DONE) continue;
        m->done(m, msg->easy_handle, msg->data.result);
    }
}

static void socket_action(cev_multi *m, curl_socket_t fd, int action) {
    int running = 0;
    m->in_curl++;
    curl_multi_socket_action(m->curl, fd, action, &running);
    m->in_curl--;
    check_done(m);
}

static void on_ev_io(struct ev_loop *loop, ev_io *w, int revents) {
    SHJ_UNUSED(loop);
    cev_sock *k = shj_container_of(w, cev_sock, io);
    int action = (revents & EV_READ ? CURL_CSELECT_IN : 0) | (revents & EV_WRITE ? CURL_CSELECT_OUT : 0);
    socket_action(k->m, k->fd, action);
}

static void on_ev_timer(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    socket_action(shj_container_of(w, cev_multi, timer), CURL_SOCKET_TIMEOUT, 0);
}

static void sock_free(cev_multi *m, cev_sock *k) {
    ev_io_stop(m->loop, &k->io);
    if (k->prev)
        k->prev->next = k->next;
    else
        m->socks = k->next;
    if (k->next) k->next->prev = k->prev;
    free(k);
    m->sockets--;
}

static int on_curl_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp) {
    SHJ_UNUSED(e);
    cev_multi *m = userp;
    cev_sock *k = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (k) {
            curl_multi_assign(m->curl, fd, NULL);
            sock_free(m, k);
        }
        return 0;
    }
    int events = (what & CURL_POLL_IN ? EV_READ : 0) | (what & CURL_POLL_OUT ? EV_WRITE : 0);
    if (!k) { /* new to us; never muted (a mute ends with CURL_POLL_REMOVE) */
        k = calloc(1, sizeof *k);
        if (!k) return -1;
        k->m = m;
        k->fd = fd;
        ev_io_init(&k->io, on_ev_io, fd, events);
        curl_multi_assign(m->curl, fd, k);
        k->next = m->socks;
        if (m->socks) m->socks->prev = k;
        m->socks = k;
        m->sockets++;
    } else {
        ev_io_stop(m->loop, &k->io);
        ev_io_set(&k->io, fd, events);
    }
    k->events = events;
    k->easy = e;
    if (!k->muted && events) ev_io_start(m->loop, &k->io);
    return 0;
}

static int on_curl_timer(CURLM *cm, long timeout_ms, void *userp) {
    SHJ_UNUSED(cm);
    cev_multi *m = userp;
    ev_timer_stop(m->loop, &m->timer);
    if (timeout_ms >= 0) {
        ev_timer_set(&m->timer, (double)timeout_ms / 1000.0, 0.0);
        ev_timer_start(m->loop, &m->timer);
    }
    return 0;
}

int cev_init(cev_multi *m, struct ev_loop *loop, cev_done_fn done, char *err, size_t errlen) {
    memset(m, 0, sizeof *m);
    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) return shj_fail(err, errlen, "curl_global_init failed");
        curl_ready = 1;
    }
    m->loop = loop;
    m->done = done;
    ev_timer_init(&m->timer, on_ev_timer, 0.0, 0.0);
    ev_timer_init(&m->unmuted, on_unmuted, 0.0, 0.0);
    m->curl = curl_multi_init();
    if (!m->curl) return shj_fail(err, errlen, "curl_multi_init failed");
    curl_multi_setopt(m->curl, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
    curl_multi_setopt(m->curl, CURLMOPT_SOCKETDATA, m);
    curl_multi_setopt(m->curl, CURLMOPT_TIMERFUNCTION, on_curl_timer);
    curl_multi_setopt(m->curl, CURLMOPT_TIMERDATA, m);
    return SHJ_OK;
}

void cev_free(cev_multi *m) {
    if (m->loop) {
        ev_timer_stop(m->loop, &m->timer);
        ev_timer_stop(m->loop, &m->unmuted);
    }
    /* cleanup closes the cached connections, removing their sockets
     * through on_curl_socket; any it did not report are dropped below */
    if (m->curl) curl_multi_cleanup(m->curl);
    m->curl = NULL;
    while (m->socks) sock_free(m, m->socks);
}

static cev_sock *sock_of(const cev_multi *m, curl_socket_t fd) {
    for (cev_sock *k = m->socks; k; k = k->next)
        if (k->fd == fd) return k;
    return NULL;
}

curl_socket_t cev_socket_of(const cev_multi *m, CURL *easy) {
    for (const cev_sock *k = m->socks; k; k = k->next)
        if (k->easy == easy) return k->fd;
    return CURL_SOCKET_BAD;
}

int cev_mute(cev_multi *m, curl_socket_t fd) {
    cev_sock *k = sock_of(m, fd);
    if (!k) return 0;
    if (!k->muted) m->mutes++;
    k->muted = 1;
    k->unmuted = 0;
    ev_io_stop(m->loop, &k->io);
    return 1;
}

curl_socket_t cev_mute_transfer(cev_multi *m, CURL *easy) {
    curl_socket_t fd = cev_socket_of(m, easy);
    return fd != CURL_SOCKET_BAD && cev_mute(m, fd) ? fd : CURL_SOCKET_BAD;
}

int cev_is_muted(const cev_multi *m, curl_socket_t fd) {
    const cev_sock *k = sock_of(m, fd);
    return k && k->muted;
}

/* One socket per call into curl: socket_action may free any cev_sock (and
 * run done callbacks), so the list is searched afresh after each. */
static void on_unmuted(struct ev_loop *loop, ev_timer *w, int revents) {
    SHJ_UNUSED(loop);
    SHJ_UNUSED(revents);
    cev_multi *m = shj_container_of(w, cev_multi, unmuted);
    for (;;) {
        cev_sock *k = m->socks;
        while (k && !k->unmuted) k = k->next;
        if (!k) return;
        k->unmuted = 0;
        if (!(k->events & EV_READ)) continue; /* curl wants no reading now */
        socket_action(m, k->fd, CURL_CSELECT_IN);
    }
}

void cev_unmute(cev_multi *m, curl_socket_t fd) {
    cev_sock *k = sock_of(m, fd);
    if (!k || !k->muted) return;
    k->muted = 0;
    k->unmuted = 1;
    if (k->events) ev_io_start(m->loop, &k->io);
    if (!ev_is_active(&m->unmuted)) {
        ev_timer_set(&m->unmuted, 0.0, 0.0);
        ev_timer_start(m->loop, &m->unmuted);
    }
}
