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
 *  - Muting (optional): a muted socket's ev_io stays stopped, curl is not
 *    told; whether an fd is muted is asked of the owner's `muted` hook each
 *    time curl changes what it wants on that socket.
 */
#ifndef SHJ_CURL_EV_H
#define SHJ_CURL_EV_H

#include <curl/curl.h>
#include <ev.h>
#include <stddef.h>

typedef struct cev_multi cev_multi;

/* A transfer finished; result is its CURLcode. */
typedef void (*cev_done_fn)(cev_multi *m, CURL *easy, CURLcode result);
/* Non-zero when the owner keeps fd muted (back-pressure). */
typedef int (*cev_muted_fn)(cev_multi *m, curl_socket_t fd);

typedef struct cev_sock cev_sock; /* private: one watched socket */

struct cev_multi {
    struct ev_loop *loop;  /* read-only */
    CURLM *curl;           /* read-only pointer: add/remove easy handles on it */
    cev_done_fn done;      /* read-write: set by cev_init */
    cev_muted_fn muted;    /* read-write: NULL = never muted */
    int in_curl;           /* read-only: > 0 inside curl_multi_socket_action */
    int sockets;           /* read-only: sockets curl asked us to watch */
    ev_timer timer;        /* private: curl's timeout */
    cev_sock *socks;       /* private: the watched sockets */
};

/* Create the multi handle on loop. SHJ_OK, or SHJ_ERR with err filled. */
int cev_init(cev_multi *m, struct ev_loop *loop, cev_done_fn done, char *err, size_t errlen);
/* Stop the watchers and clean up the multi handle (the owner has removed
 * its easy handles first). Safe on a zeroed or half-initialised cev_multi;
 * does not free m itself. */
void cev_free(cev_multi *m);

/* Stop watching fd (curl is not told) / watch it again and report it
 * readable once, so bytes that arrived while muted are read without a new
 * edge. Unknown fds are ignored. */
void cev_mute(cev_multi *m, curl_socket_t fd);
void cev_unmute(cev_multi *m, curl_socket_t fd);
/* Run curl's timeout processing on the next loop iteration (curl does not
 * always call the timer function when a transfer becomes runnable). */
void cev_kick(cev_multi *m);

#endif
