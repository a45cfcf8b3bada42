/*
 * scoreboard.c - worker slots in the shared segment.
 */
#include <stddef.h>
#include <time.h>

#include "scoreboard.h"
#include "shm.h"

static struct sb_slot_shm	*sb_slots;
static unsigned			 sb_n;
static struct sb_slot_shm	*sb_self;

void
scoreboard_init(struct shm_header *h)
{
	sb_slots = shm_at(h, h->sb_off);
	sb_n = h->sb_slots;
}

unsigned
scoreboard_nslots(void)
{
	return sb_n;
}

struct sb_slot_shm *
scoreboard_slot(unsigned i)
{
	return &sb_slots[i];
}

int
scoreboard_claim(unsigned generation)
{
	unsigned	 i, k;

	/* only the master claims and releases, so no race here */
	for (i = 0; i < sb_n; i++)
		if (atomic_load(&sb_slots[i].state) == SB_FREE) {
			atomic_store(&sb_slots[i].state, SB_STARTING);
			atomic_store(&sb_slots[i].pid, 0);
			atomic_store(&sb_slots[i].requests, 0);
			atomic_store(&sb_slots[i].connections, 0);
			atomic_store(&sb_slots[i].tls_idle, 0);
			atomic_store(&sb_slots[i].generation, generation);
			atomic_store(&sb_slots[i].started, (int64_t)time(NULL));
			for (k = 0; k < SB_BACKENDS; k++)
				atomic_store(&sb_slots[i].backends[k], 0);
			return (int)i;
		}
	return -1;
}

void
scoreboard_release(unsigned i)
{
	atomic_store(&sb_slots[i].pid, 0);
	atomic_store(&sb_slots[i].state, SB_FREE);
}

void
scoreboard_set_self(unsigned i)
{
	sb_self = &sb_slots[i];
}

unsigned
scoreboard_self(void)
{
	return sb_self == NULL ? UINT32_MAX : (unsigned)(sb_self - sb_slots);
}

void
scoreboard_state(enum sb_state st)
{
	if (sb_self != NULL)
		atomic_store_explicit(&sb_self->state, st,
		    memory_order_relaxed);
}

void
scoreboard_count_request(void)
{
	if (sb_self != NULL)
		atomic_fetch_add_explicit(&sb_self->requests, 1,
		    memory_order_relaxed);
}

void
scoreboard_count_connection(void)
{
	if (sb_self != NULL)
		atomic_fetch_add_explicit(&sb_self->connections, 1,
		    memory_order_relaxed);
}

void
scoreboard_backend_hold(unsigned b)
{
	unsigned	 k;
	uint32_t	 none;

	if (sb_self == NULL)
		return;
	for (k = 0; k < SB_BACKENDS; k++) {
		none = 0;
		if (atomic_compare_exchange_strong(&sb_self->backends[k],
		    &none, b + 1))
			return;
	}
	/* more than a worker ever holds: then it goes unnoted */
}

void
scoreboard_backend_drop(unsigned b)
{
	unsigned	 k;
	uint32_t	 v = b + 1;

	if (sb_self == NULL)
		return;
	for (k = 0; k < SB_BACKENDS; k++)
		if (atomic_compare_exchange_strong(&sb_self->backends[k],
		    &v, 0))
			return;
		else
			v = b + 1;
}

const char *
scoreboard_state_name(enum sb_state st)
{
	static const char *const names[] = {
		"free", "starting", "idle", "reading", "proxying",
		"keepalive", "closing"
	};

	if ((unsigned)st >= sizeof(names) / sizeof(names[0]))
		return "?";
	return names[st];
}
