/*
 * gate_spool.h - request bodies read by the gate (HANDOFF_BODY_SPOOL).
 *
 * A worker that has a request's head but not yet its whole body hands
 * the connection, the head and the body so far to the gate; the gate
 * reads the rest into a spool (memory, then an unlinked file in
 * spool_dir) and hands connection, head and spool to any idle worker
 * once the body is whole.  Record layout, both ways:
 *
 *	data	the head, then (to the gate) the raw body so far, or (to a
 *		worker) the body itself when SPOOL_F_INLINE, then the bytes
 *		that came after the body
 *	fds	[0] the client; [1] (to a worker, without SPOOL_F_INLINE)
 *		the spool file, read from offset 0
 *
 * An upgrade's old gate passes the bodies still arriving to the new one
 * (SPOOL_F_PASSED): data is then the head, the spool's state, the body
 * in memory and the input not framed yet, fds[1] the file if there is
 * one, and the other fields as the worker sent them.
 *	arg[0]	SPOOL_F_* flags in the low 32 bits, the head's length in
 *		the high 32
 *	arg[1]	to the gate: the Content-Length; to a worker: the body's
 *		(decoded) length
 *	arg[2]	to the gate: client_max_body_size (0: none)
 *	arg[3]	to the gate: client_body_timeout (ms) in the low 32 bits,
 *		client_min_rate in the high 32
 */
#ifndef GATE_SPOOL_H
#define GATE_SPOOL_H

#include <stdint.h>

#define SPOOL_F_CHUNKED	0x01	/* to the gate: the body is chunked */
#define SPOOL_F_INLINE	0x02	/* to a worker: the body is in data */
#define SPOOL_F_PASSED	0x04	/* gate to gate: the state goes along */

/* What the gate keeps in memory before it opens a spool file. */
#define SPOOL_MEM	(16 * 1024)
/* The most of head, body and what follows sent inline to a worker. */
#define SPOOL_INLINE_MAX	(48 * 1024)
/* 503's Retry-After when the spool is full, seconds */
#define SPOOL_RETRY_AFTER	5

struct config;
struct handoff;
struct stats_shm;

/*
 * Master, at start and reload: publish spool_max_size, and whether
 * spool_dir is there (workers spool bodies only then).
 */
void	gate_spool_limits(const struct config *cf, struct stats_shm *st);
/*
 * Gate, before its sandbox: open spool_dir and the spool's own epoll
 * set, whose descriptor is returned for the gate's loop to watch (-1 on
 * failure: nothing then gets spooled).  out is the socket to the
 * workers.
 */
int	gate_spool_init(const struct config *cf, struct stats_shm *st,
	    int out);
/*
 * A HANDOFF_BODY_SPOOL record from a worker (or an old gate): take the
 * connection (fds[0], fds[1] a spool file or -1) with h->len bytes of
 * data, or answer and close it.
 */
void	gate_spool_take(const struct handoff *h, const int *fds,
	    const char *data);
/*
 * An upgrade's old gate, leaving: pass the bodies still arriving to the
 * new gate on sock (the queue it reads), waiting a bounded time where
 * the queue is full; a body that cannot go is answered 503.
 */
void	gate_spool_pass(int sock);
/* The spool's epoll set is ready: read bodies, hand whole ones on. */
void	gate_spool_events(void);
/* Close what passed its deadline; ms until the next one. */
int	gate_spool_expire(int64_t now);
/*
 * The gate leaves: every body not yet whole is answered 503 (the
 * backend has seen none of it) and dropped; whole ones still go to the
 * workers if the socket takes them.
 */
void	gate_spool_fini(void);
/* Per client address, at most this share of spool_max_size (1/N). */
#define SPOOL_PER_IP_SHARE	4

#endif /* GATE_SPOOL_H */
