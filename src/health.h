/*
 * health.h - the backend table in the shared segment: one slot per
 * backend server, keyed by pool name and address so that its state and
 * counters survive a reload.  The master assigns slots; workers update
 * counters with atomics.
 */
#ifndef HEALTH_H
#define HEALTH_H

#include <stdatomic.h>
#include <stdint.h>

#include "stats.h"

struct config;
struct pool_config;
struct server_config;

#define HEALTH_KEY_MAX	64

enum health_state {
	HEALTH_UP = 0,
	HEALTH_DOWN
};

struct backend_shm {
	_Atomic uint32_t used;
	_Atomic uint32_t state;		/* enum health_state */
	char		 pool[HEALTH_KEY_MAX];
	char		 addr[HEALTH_KEY_MAX];
	_Atomic int32_t	 active;	/* requests in flight */
	uint32_t	 pad;
	_Atomic uint64_t requests;
	_Atomic uint64_t errors;	/* no usable response */
	_Atomic uint64_t status[6];	/* responses by class */
	_Atomic uint64_t time_ms;	/* sum of response times */
	/* passive: failures seen by workers */
	_Atomic uint32_t fails;		/* within the current window */
	_Atomic uint32_t transitions;	/* up/down changes, for status */
	_Atomic int64_t	 fail_start;	/* ms, start of the window */
	_Atomic int64_t	 down_until;	/* ms: passively down until then */
	_Atomic int64_t	 up_since;	/* ms: back up (slow start) */
	_Atomic uint64_t checks;	/* active probes made */
	_Atomic uint64_t check_fails;
	_Atomic uint32_t cfg_down;	/* "down" in the configuration */
	uint32_t	 pad2;
	struct stats_hist time;		/* response times */
};

/* Per pool, shared: the round-robin position of all workers together. */
struct pool_shm {
	_Atomic uint64_t rr;
};

void	health_init(struct backend_shm *table, unsigned slots,
	    struct pool_shm *pools, unsigned npools);
struct pool_shm *health_pool(unsigned i);
unsigned health_nslots(void);
struct backend_shm *health_slot(unsigned i);
/*
 * Binding cf to the table, in two steps so that a reload that fails
 * between them changes nothing.  Prepare gives every server of cf a slot
 * (server_config.hslot): the slot of the same pool and address, or a
 * free one; it changes nothing in the table, and returns -1 when the
 * table is full.  Commit, once the configuration is sure to be used,
 * sets up the new slots and frees those no longer in cf; nothing else
 * may bind in between.  Master only.
 */
int	health_bind_prepare(struct config *cf);
void	health_bind_commit(const struct config *cf);
/* Would the backend in slot b take requests now (for status pages)? */
int	health_slot_up(const struct backend_shm *b, int64_t now);
/*
 * May a request go to server sc now?  Not marked down by the operator,
 * the checker or recent failures.
 */
int	health_usable(const struct server_config *sc, int64_t now);
/*
 * Slow start: the share of its weight (1..1000 per mille) a server that
 * came back slow_start ms ago or less may carry.
 */
unsigned health_ramp(const struct server_config *sc, int slow_start,
	    int64_t now);
/*
 * Count a request to sc as in flight, unless sc is at max_conns (then 0
 * is returned and nothing changes).  Every 1 must be paired with
 * health_end.
 */
int	health_acquire(const struct server_config *sc);
/*
 * Master: the worker in scoreboard slot sb is gone; what it counted in
 * flight (health_acquire without health_end) is in flight no more.
 */
void	health_reap(unsigned sb);
/*
 * The request ended.  status: the response's, 0 for none (connect error,
 * timeout, bad response), -1 when the client gave up first (not the
 * server's fault).  Failures (0, and 5xx with fail_on_5xx) count toward
 * max_fails within fail_timeout; reaching it marks the server down for
 * fail_timeout.
 */
void	health_end(const struct pool_config *pc, const struct server_config *sc,
	    int status, int64_t ms);
/*
 * Checker: a probe passed or not (ok), and the verdict after rise/fall
 * (up).  A change of verdict is logged; coming up clears the passive
 * marks and starts slow start.
 */
void	health_check_result(const struct pool_config *pc,
	    const struct server_config *sc, int ok, int up, const char *why);

#endif /* HEALTH_H */
