/*
 * stats.c - server-wide counters.
 */
#include <stddef.h>

#include "stats.h"

static struct stats_shm	*st;

/* Prometheus's default bounds: 5 ms to 10 s */
const unsigned stats_bounds_ms[STATS_NBOUNDS] = {
	5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000
};

void
stats_init(struct stats_shm *s)
{
	st = s;
}

struct stats_shm *
stats_get(void)
{
	return st;
}

void
stats_observe(struct stats_hist *h, int64_t ms)
{
	unsigned	 i;

	if (ms < 0)
		ms = 0;
	for (i = 0; i < STATS_NBOUNDS; i++)
		if ((uint64_t)ms <= stats_bounds_ms[i])
			break;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_ms, (uint64_t)ms,
	    memory_order_relaxed);
	atomic_fetch_add_explicit(&h->count, 1, memory_order_relaxed);
}

void
stats_request(int status, uint64_t bytes, int64_t ms)
{
	int	 c = status / 100;

	if (st == NULL)
		return;
	if (c < 1 || c > 5)
		c = 0;
	atomic_fetch_add_explicit(&st->requests, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->status[c], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->bytes_out, bytes, memory_order_relaxed);
	stats_observe(&st->request_time, ms);
}

void
stats_connection(void)
{
	if (st != NULL)
		atomic_fetch_add_explicit(&st->connections, 1,
		    memory_order_relaxed);
}
