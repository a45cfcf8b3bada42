/*
 * health.c - the shared backend table.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "health.h"

static struct backend_shm	*hl;
static unsigned			 hl_n;

void
health_init(struct backend_shm *table, unsigned slots)
{
	hl = table;
	hl_n = slots;
}

unsigned
health_nslots(void)
{
	return hl_n;
}

struct backend_shm *
health_slot(unsigned i)
{
	return &hl[i];
}

static int
health_find(const char *pool, const char *addr)
{
	unsigned	 i;

	for (i = 0; i < hl_n; i++)
		if (atomic_load(&hl[i].used) &&
		    strcmp(hl[i].pool, pool) == 0 &&
		    strcmp(hl[i].addr, addr) == 0)
			return (int)i;
	return -1;
}

int
health_bind(struct config *cf)
{
	unsigned char	 keep[4096];
	size_t		 p, s;
	unsigned	 i;
	int		 k;

	if (hl == NULL)
		return 0;
	memset(keep, 0, sizeof(keep));
	for (p = 0; p < cf->npools; p++)
		for (s = 0; s < cf->pools[p].nservers; s++) {
			struct server_config *sc = &cf->pools[p].servers[s];

			k = health_find(cf->pools[p].name, sc->addr.str);
			if (k == -1) {
				for (i = 0; i < hl_n; i++)
					if (!atomic_load(&hl[i].used) &&
					    !keep[i])
						break;
				if (i == hl_n)
					return -1;
				k = (int)i;
				memset(&hl[k], 0, sizeof(hl[k]));
				snprintf(hl[k].pool, sizeof(hl[k].pool), "%s",
				    cf->pools[p].name);
				snprintf(hl[k].addr, sizeof(hl[k].addr), "%s",
				    sc->addr.str);
				atomic_store(&hl[k].used, 1);
			}
			keep[k] = 1;
			sc->hslot = (unsigned)k;
		}
	for (i = 0; i < hl_n; i++)
		if (!keep[i])
			atomic_store(&hl[i].used, 0);
	return 0;
}

void
health_begin(unsigned slot)
{
	atomic_fetch_add_explicit(&hl[slot].active, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&hl[slot].requests, 1, memory_order_relaxed);
}

void
health_end(unsigned slot, int status, int64_t ms)
{
	int	 c = status / 100;

	atomic_fetch_sub_explicit(&hl[slot].active, 1, memory_order_relaxed);
	if (status < 0)
		return;		/* the client's doing, not the server's */
	if (status == 0) {
		atomic_fetch_add_explicit(&hl[slot].errors, 1,
		    memory_order_relaxed);
		return;
	}
	if (c < 1 || c > 5)
		c = 0;
	atomic_fetch_add_explicit(&hl[slot].status[c], 1,
	    memory_order_relaxed);
	if (ms > 0)
		atomic_fetch_add_explicit(&hl[slot].time_ms, (uint64_t)ms,
		    memory_order_relaxed);
}
