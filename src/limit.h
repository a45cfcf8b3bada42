/*
 * limit.h - per-client limits shared by all workers, in the shared
 * segment: connections per client address, and token buckets for
 * rate_limit.  An open-addressed table of keyed entries; a key is a hash
 * of what it counts (an address, or a route and a header value).
 */
#ifndef LIMIT_H
#define LIMIT_H

#include <stddef.h>
#include <stdint.h>

size_t	limit_size(void);
/* Master: lay out a new table in mem.  -1 on failure. */
int	limit_init(void *mem);
/*
 * Count one more connection for key, unless it has max already (0 then),
 * in workers and the gate together.  A max above INT32_MAX counts it
 * regardless (a connection let in before, back from the gate).
 * slot: the worker's scoreboard slot, so a dead worker's count is freed.
 */
int	limit_conn_acquire(uint64_t key, unsigned max, unsigned slot);
void	limit_conn_release(unsigned slot);
/*
 * Take a token from key's bucket (rate a second, at most burst).
 * Returns 0, or how many ms until a token comes.
 */
int64_t	limit_rate_take(uint64_t key, unsigned rate, unsigned burst,
	    int64_t now_ms);
/*
 * The gate's connections, in the same count: one more for key unless
 * key has max already (0 then), and one less.  0 max: no limit.
 */
int	limit_gate_acquire(uint64_t key, unsigned max);
void	limit_gate_release(uint64_t key);
/* Master: the gate died; what it held is gone. */
void	limit_gate_reap(void);
/* Master: a worker in slot died. */
void	limit_reap(unsigned slot);

#endif /* LIMIT_H */
