/*
 * notify.h - what the master tells about its state: to a service manager
 * through $NOTIFY_SOCKET (systemd's notify protocol), and to "porter -s
 * reload" through a small file beside the pid file that holds the
 * outcome of the last reload.
 */
#ifndef NOTIFY_H
#define NOTIFY_H

#include <sys/types.h>
#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in microseconds: the same clock in every process. */
int64_t	notify_now_us(void);
/*
 * Master: the workers serve (at start).  Sends READY=1, MAINPID and a
 * STATUS line; writes pidfile's reload file, which says this master
 * reports the outcome of reloads.
 */
void	notify_ready(const char *pidfile, unsigned gen, unsigned workers);
/* Master: a reload (HUP) starts now: RELOADING=1 and MONOTONIC_USEC. */
void	notify_reloading(void);
/* Master: the reload that notify_reloading announced succeeded. */
void	notify_reloaded(const char *pidfile, unsigned gen, unsigned workers);
/*
 * Master: it failed and the old configuration serves on.  why holds one
 * or more lines ("file:line: message").
 */
void	notify_reload_failed(const char *pidfile, const char *why);
/*
 * Master: it stops.  successor: the pid of the new binary of an upgrade
 * that goes on serving (the service manager follows it as the main
 * process), or 0 for STOPPING=1.  The reload file goes.
 */
void	notify_stopping(const char *pidfile, pid_t successor);
/* Does the master owning pidfile report the outcome of reloads? */
int	notify_reload_known(const char *pidfile);
/*
 * "porter -s reload", after sending HUP to pid at since (notify_now_us):
 * wait up to timeout_ms for the outcome of a reload that started no
 * earlier.  0 when it succeeded; -1 with err (the master's reasons, or
 * why there is no answer) otherwise.
 */
int	notify_reload_wait(const char *pidfile, pid_t pid, int64_t since,
	    int timeout_ms, char *err, size_t errlen);

#endif /* NOTIFY_H */
