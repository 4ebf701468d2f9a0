/* ops_notify.h — systemd's notify protocol (sd_notify, Type=notify units).
 *
 * Owns: what the service manager hears from a running Shijim, through
 * libsystemd's sd_notify (deploy/shijim.service):
 *  - READY=1 once, when every source is running and has published its first
 *    event (a Shioaji source publishes CONNECTED when the stream that carries
 *    its subscriptions opens; the simulated market its first tick), so
 *    `systemctl start` returns when recording has begun, not when the
 *    process exists;
 *  - WATCHDOG=1 every WatchdogSec/4, sent from rt's writer poll (the loop's
 *    5 ms heartbeat): only while the loop turns. A loop stuck in a Lua
 *    handler stops the pings, and systemd kills and restarts the service
 *    after WatchdogSec (loop/watchdog.h keeps what was accepted durable
 *    meanwhile, and makes it durable again before a stop signal exits);
 *  - STATUS=<events, per-source state> every few seconds, and at READY;
 *  - STOPPING=1 when the orderly stop begins (signal, limit, failure), or at
 *    the latest when rt closes its writers.
 * Without NOTIFY_SOCKET (not started by systemd) everything is a no-op.
 * Built without libsystemd (SHJ_HAVE_SYSTEMD undefined) it is a no-op too.
 * Threading: the loop thread only.
 */
#ifndef SHJ_OPS_NOTIFY_H
#define SHJ_OPS_NOTIFY_H

#include <stdint.h>

#define OPN_STATUS_MS 5000 /* STATUS= line period */

/* Register with rt (rt_init(0) if needed) when NOTIFY_SOCKET is set, before
 * the script adds its sources and writers, so it is polled first and closed
 * last. SHJ_OK (also when there is nothing to do) or SHJ_ERR. Idempotent. */
int ops_notify_start(void);
/* 1 when the protocol is active (NOTIFY_SOCKET set and libsystemd built in). */
int ops_notify_active(void);
/* The watchdog ping period in us (0 = no watchdog asked for). */
uint64_t ops_notify_watchdog_period_us(void);

#endif
