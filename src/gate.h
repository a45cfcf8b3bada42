/*
 * gate.h - the gate process: it holds the client connections that wait
 * (a request head still arriving, keep-alive between requests) so that
 * they hold no worker, and gives each back to any idle worker once its
 * next head is whole.
 */
#ifndef GATE_H
#define GATE_H

#include <sys/types.h>

struct config;
struct proc_creds;

/*
 * Master, at start: make the two hand-off sockets (workers -> gate and
 * gate -> workers, SOCK_SEQPACKET pairs whose worker ends every worker
 * shares) and raise RLIMIT_NOFILE for max_connections (as root, before
 * privileges are dropped).  -1 with err filled on failure.
 */
int	gate_open(const struct config *cf, char *err, size_t errlen);
/*
 * In the child about to exec the new binary of an upgrade: let the
 * sockets pass to it (gate_open there takes them).  -1 on failure.
 */
int	gate_export(void);
/* Master: publish the limits the gate applies (start and reload). */
void	gate_limits(const struct config *cf);
/*
 * Master: fork the gate.  Returns its pid, or -1 (logged) when fork
 * failed.
 */
pid_t	gate_spawn(const struct config *cf, const struct proc_creds *creds,
	    pid_t master);
/*
 * Master: the gate exited.  What it held is lost: count it and log it
 * once.
 */
void	gate_died(pid_t pid, int status);
/* In a freshly forked worker: close the gate's ends of the sockets. */
void	gate_worker_init(void);
/* Worker: send parked connections here (-1: no gate). */
int	gate_park_fd(void);
/* Worker: ready connections come from here (-1: no gate). */
int	gate_ready_fd(void);
/*
 * Master: about how many connections the gate has made ready that no
 * worker took yet (0 when none waits), to grow the pool for them as for
 * a listen queue.
 */
size_t	gate_ready_waiting(void);
/*
 * Gate: porter's error response for status (cf's error pages, extra
 * fields such as a Retry-After), as far as the socket fd takes it now;
 * then its sending side is shut and what the client sent is drained a
 * little, so that the close does not become a reset.
 */
void	gate_answer(const struct config *cf, int fd, int status,
	    const char *extra);

#endif /* GATE_H */
