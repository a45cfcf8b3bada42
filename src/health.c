/*
 * health.c - the shared backend table.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "health.h"
#include "log.h"
#include "scoreboard.h"
#include "util.h"

static struct backend_shm	*hl;
static unsigned			 hl_n;
static struct pool_shm		*hp;
static unsigned			 hp_n;

void
health_init(struct backend_shm *table, unsigned slots, struct pool_shm *pools,
    unsigned npools)
{
	hl = table;
	hl_n = slots;
	hp = pools;
	hp_n = npools;
}

struct pool_shm *
health_pool(unsigned i)
{
	return &hp[i % hp_n];
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
health_bind_prepare(struct config *cf)
{
	unsigned char	 taken[4096];
	size_t		 p, s;
	unsigned	 i;
	int		 k;

	if (hl == NULL)
		return 0;
	memset(taken, 0, sizeof(taken));
	for (p = 0; p < cf->npools; p++)
		for (s = 0; s < cf->pools[p].nservers; s++) {
			struct server_config *sc = &cf->pools[p].servers[s];

			k = health_find(cf->pools[p].name, sc->addr.str);
			if (k == -1) {
				/*
				 * A free slot no worker still counts a request
				 * in (a server dropped by a reload, whose old
				 * workers finish with it): not one of those.
				 */
				for (i = 0; i < hl_n && i < sizeof(taken); i++)
					if (!atomic_load(&hl[i].used) &&
					    !taken[i] &&
					    atomic_load(&hl[i].active) == 0)
						break;
				if (i == hl_n || i == sizeof(taken))
					return -1;
				k = (int)i;
			}
			taken[k] = 1;
			sc->hslot = (unsigned)k;
		}
	return 0;
}

void
health_bind_commit(const struct config *cf)
{
	unsigned char	 keep[4096];
	struct backend_shm *b;
	size_t		 p, s;
	unsigned	 i;

	if (hl == NULL)
		return;
	memset(keep, 0, sizeof(keep));
	for (p = 0; p < cf->npools; p++)
		for (s = 0; s < cf->pools[p].nservers; s++) {
			const struct server_config *sc =
			    &cf->pools[p].servers[s];

			b = &hl[sc->hslot];
			if (!atomic_load(&b->used)) {
				memset(b, 0, sizeof(*b));
				snprintf(b->pool, sizeof(b->pool), "%s",
				    cf->pools[p].name);
				snprintf(b->addr, sizeof(b->addr), "%s",
				    sc->addr.str);
				atomic_store(&b->used, 1);
			}
			keep[sc->hslot] = 1;
			atomic_store(&b->cfg_down, (uint32_t)sc->down);
			/* no checker any more: its last verdict goes too */
			if (cf->pools[p].check_kind == CHECK_OFF)
				atomic_store(&b->state, HEALTH_UP);
		}
	for (i = 0; i < hl_n && i < sizeof(keep); i++)
		if (!keep[i])
			atomic_store(&hl[i].used, 0);
}

int
health_slot_up(const struct backend_shm *b, int64_t now)
{
	return !atomic_load(&b->cfg_down) &&
	    atomic_load(&b->state) == HEALTH_UP &&
	    now >= atomic_load(&b->down_until);
}

int
health_usable(const struct server_config *sc, int64_t now)
{
	struct backend_shm	*b = &hl[sc->hslot];

	return !sc->down &&
	    atomic_load_explicit(&b->state, memory_order_relaxed) ==
	    HEALTH_UP &&
	    now >= atomic_load_explicit(&b->down_until, memory_order_relaxed);
}

unsigned
health_ramp(const struct server_config *sc, int slow_start, int64_t now)
{
	int64_t	 since;

	if (slow_start <= 0)
		return 1000;
	since = atomic_load_explicit(&hl[sc->hslot].up_since,
	    memory_order_relaxed);
	if (since == 0 || now - since >= slow_start)
		return 1000;
	if (now <= since)
		return 10;
	/* from 1% to all of it, linearly */
	return 10 + (unsigned)((now - since) * 990 / slow_start);
}

int
health_acquire(const struct server_config *sc)
{
	struct backend_shm	*b = &hl[sc->hslot];
	int32_t			 cur;

	if (sc->max_conns == 0) {
		atomic_fetch_add_explicit(&b->active, 1, memory_order_relaxed);
	} else {
		/* a global limit: never over it, whatever the workers do */
		cur = atomic_load(&b->active);
		do {
			if (cur >= (int32_t)sc->max_conns)
				return 0;
		} while (!atomic_compare_exchange_weak(&b->active, &cur,
		    cur + 1));
	}
	/*
	 * Counted first, noted second (and the reverse in health_end): a
	 * worker killed in between leaks one count at worst, and never
	 * makes the master give back one that was not taken.
	 */
	scoreboard_backend_hold(sc->hslot);
	atomic_fetch_add_explicit(&b->requests, 1, memory_order_relaxed);
	return 1;
}

void
health_reap(unsigned sb)
{
	struct sb_slot_shm	*s = scoreboard_slot(sb);
	unsigned		 k;
	uint32_t		 b;

	if (hl == NULL)
		return;
	for (k = 0; k < SB_BACKENDS; k++)
		if ((b = atomic_exchange(&s->backends[k], 0)) != 0 &&
		    b - 1 < hl_n)
			atomic_fetch_sub(&hl[b - 1].active, 1);
}

/* A failure seen by a worker: maybe mark the server down. */
static void
health_fail(const struct pool_config *pc, const struct server_config *sc)
{
	struct backend_shm	*b = &hl[sc->hslot];
	int64_t			 now = util_now_ms(), start, until;
	uint32_t		 n;

	/* as nginx does: a lone server is never marked down */
	if (pc->max_fails == 0 || pc->nservers == 1)
		return;
	start = atomic_load(&b->fail_start);
	if (now - start > pc->fail_timeout &&
	    atomic_compare_exchange_strong(&b->fail_start, &start, now))
		atomic_store(&b->fails, 0);
	n = atomic_fetch_add(&b->fails, 1) + 1;
	if (n < pc->max_fails)
		return;
	until = atomic_load(&b->down_until);
	if (until > now)
		return;		/* already down */
	if (!atomic_compare_exchange_strong(&b->down_until, &until,
	    now + pc->fail_timeout))
		return;		/* another worker did it */
	atomic_store(&b->fails, 0);
	/* when it comes back it ramps up from there */
	atomic_store(&b->up_since, now + pc->fail_timeout);
	atomic_fetch_add(&b->transitions, 1);
	log_warnx("server %s of pool %s marked down for %d ms after %u "
	    "failure%s", sc->addr.str, pc->name, pc->fail_timeout, n,
	    n == 1 ? "" : "s");
}

void
health_end(const struct pool_config *pc, const struct server_config *sc,
    int status, int64_t ms)
{
	struct backend_shm	*b = &hl[sc->hslot];
	int			 c = status / 100;

	scoreboard_backend_drop(sc->hslot);
	atomic_fetch_sub_explicit(&b->active, 1, memory_order_relaxed);
	if (status < 0)
		return;		/* the client's doing, not the server's */
	if (status == 0) {
		atomic_fetch_add_explicit(&b->errors, 1, memory_order_relaxed);
		health_fail(pc, sc);
		return;
	}
	if (c < 1 || c > 5)
		c = 0;
	atomic_fetch_add_explicit(&b->status[c], 1, memory_order_relaxed);
	if (ms > 0)
		atomic_fetch_add_explicit(&b->time_ms, (uint64_t)ms,
		    memory_order_relaxed);
	stats_observe(&b->time, ms);
	if (c == 5 && pc->fail_on_5xx)
		health_fail(pc, sc);
	else if (atomic_load_explicit(&b->fails, memory_order_relaxed) != 0)
		atomic_store(&b->fails, 0);
}

void
health_check_result(const struct pool_config *pc,
    const struct server_config *sc, int ok, int up, const char *why)
{
	struct backend_shm	*b = &hl[sc->hslot];
	uint32_t		 want = up ? HEALTH_UP : HEALTH_DOWN;

	atomic_fetch_add(&b->checks, 1);
	if (!ok)
		atomic_fetch_add(&b->check_fails, 1);
	if (atomic_exchange(&b->state, want) == want)
		return;
	atomic_fetch_add(&b->transitions, 1);
	if (up) {
		/* healthy again: forget passive marks, ramp up from now */
		atomic_store(&b->down_until, 0);
		atomic_store(&b->fails, 0);
		atomic_store(&b->up_since, util_now_ms());
		log_notice("server %s of pool %s is up (%s)", sc->addr.str,
		    pc->name, why);
	} else
		log_warnx("server %s of pool %s is down (%s)", sc->addr.str,
		    pc->name, why);
}
