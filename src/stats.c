/*
 * stats.c - server-wide counters.
 */
#include <stddef.h>

#include "stats.h"

static struct stats_shm	*st;

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
stats_request(int status, uint64_t bytes)
{
	int	 c = status / 100;

	if (st == NULL)
		return;
	if (c < 1 || c > 5)
		c = 0;
	atomic_fetch_add_explicit(&st->requests, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->status[c], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->bytes_out, bytes, memory_order_relaxed);
}

void
stats_connection(void)
{
	if (st != NULL)
		atomic_fetch_add_explicit(&st->connections, 1,
		    memory_order_relaxed);
}
