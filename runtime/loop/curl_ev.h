/* curl_ev.h — one libcurl multi handle driven by a libev loop (socket API).
 *
 * Owns: a CURLM handle, one ev_timer for curl's timeout and one ev_io per
 * socket curl asks to watch (CURLMOPT_SOCKETFUNCTION/TIMERFUNCTION, curl's
 * "hiperfifo" pattern). The owner embeds a cev_multi in its own struct and
 * gets back to itself with shj_container_of; it adds and removes its easy
 * handles on `curl` itself and owns them.
 *
 * Guarantees:
 *  - curl runs only from the loop's watchers: the timer function only arms
 *    the ev_timer, so no transfer progresses (and no callback runs) inside
 *    the call that started it.
 *  - done runs once per finished transfer (CURLMSG_DONE), after
 *    curl_multi_socket_action has returned (in_curl is 0 then): it may
 *    remove and clean up the easy handle, or add new ones.
 *  - in_curl > 0 while curl may call the owner's easy callbacks (write,
 *    header); removing a handle is not allowed then, so defer it.
 *  - Muting (optional): a muted socket's ev_io stays stopped and curl is
 *    not told, also when curl changes what it wants on that socket. The
 *    muted flag belongs to the watched socket: when curl removes the socket
 *    (CURL_POLL_REMOVE: closed, or no transfer uses it) the mute ends with
 *    it, so a new socket that gets the same fd number is never muted by
 *    mistake. Unmuting restarts the watcher and, on the next loop iteration
 *    (never inside curl), runs curl_multi_socket_action(fd, CURL_CSELECT_IN)
 *    so bytes that arrived while muted are read without waiting for a new
 *    readiness edge.
 *  - The socket of a running transfer is known (cev_socket_of) from the
 *    socket callback: curl names the transfer whenever it starts using a
 *    socket, also a reused connection. (CURLINFO_ACTIVESOCKET is not: on
 *    libcurl 7.88 it only answers after the transfer is done.)
 */
#ifndef SHJ_CURL_EV_H
#define SHJ_CURL_EV_H

#include <curl/curl.h>
#include <ev.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cev_multi cev_multi;

/* A transfer finished; result is its CURLcode. */
typedef void (*cev_done_fn)(cev_multi *m, CURL *easy, CURLcode result);

typedef struct cev_sock cev_sock; /* private: one watched socket */

struct cev_multi {
    struct ev_loop *loop;  /* read-only */
    CURLM *curl;           /* read-only pointer: add/remove easy handles on it */
    cev_done_fn done;      /* read-write: set by cev_init */
    int in_curl;           /* read-only: > 0 inside curl_multi_socket_action */
    int sockets;           /* read-only: sockets curl asked us to watch */
    uint64_t mutes;        /* read-only: sockets muted so far */
    ev_timer timer;        /* private: curl's timeout */
    ev_timer unmuted;      /* private: drives curl on sockets just unmuted */
    cev_sock *socks;       /* private: the watched sockets */
};

/* Create the multi handle on loop. SHJ_OK, or SHJ_ERR with err filled. */
int cev_init(cev_multi *m, struct ev_loop *loop, cev_done_fn done, char *err, size_t errlen);
/* Stop the watchers and clean up the multi handle (the owner has removed
 * its easy handles first). Safe on a zeroed or half-initialised cev_multi;
 * does not free m itself. */
void cev_free(cev_multi *m);

/* The socket curl last named for transfer easy (the one it reads a
 * response from), or CURL_SOCKET_BAD when curl watches none for it. */
curl_socket_t cev_socket_of(const cev_multi *m, CURL *easy);
/* Stop watching fd (curl is not told): 1, or 0 when curl does not have us
 * watch fd (nothing to mute). Muting a muted socket is a no-op (returns 1). */
int cev_mute(cev_multi *m, curl_socket_t fd);
/* Mute the socket of transfer easy: its fd, or CURL_SOCKET_BAD when none is known. */
curl_socket_t cev_mute_transfer(cev_multi *m, CURL *easy);
/* Watch fd again, and have curl read it on the next loop iteration. A no-op
 * unless fd is muted (e.g. curl removed the muted socket meanwhile). */
void cev_unmute(cev_multi *m, curl_socket_t fd);
/* 1 when fd is a watched socket that is muted now. */
int cev_is_muted(const cev_multi *m, curl_socket_t fd);

#endif
