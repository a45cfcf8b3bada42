/*
 * gate_shed.c - idle TLS keep-alive connections given up under pressure
 * (see gate_shed.h).  The master picks, the workers close: the choice
 * needs every worker's idle time, and only the connection's own worker
 * may end its TLS session.
 */
#include <stdint.h>

#include "gate_shed.h"
#include "log.h"
#include "scoreboard.h"
#include "stats.h"
#include "util.h"

#define GATE_SHED_IDLE	1u	/* idle on TLS, waiting for a request */
#define GATE_SHED_ASKED	2u	/* asked to close */
#define GATE_SHED_TIME	(~3u)	/* the rest: when the wait began, ms */

static unsigned	 shed_self = UINT32_MAX;

static uint32_t
gate_shed_now(void)
{
	return (uint32_t)util_now_ms() & GATE_SHED_TIME;
}

unsigned
gate_shed_maintain(size_t waiting, unsigned idle, int at_max)
{
	struct sb_slot_shm	*s, *best;
	uint32_t		 v, now = gate_shed_now(), age, best_age;
	unsigned		 i, n, asked = 0;

	/* already asked, and undone if no longer needed */
	for (i = 0; i < scoreboard_nslots(); i++) {
		s = scoreboard_slot(i);
		v = atomic_load(&s->tls_idle);
		if (!(v & GATE_SHED_ASKED))
			continue;
		if (waiting > 0 && idle == 0 && at_max)
			asked++;
		else
			(void)atomic_compare_exchange_strong(&s->tls_idle, &v,
			    v & ~GATE_SHED_ASKED);
	}
	if (waiting == 0 || idle > 0 || !at_max || asked >= waiting)
		return asked;
	/* the longest-idle first: a scan for each, few at a time */
	for (n = 0; asked < waiting && n < 64; n++) {
		best = NULL;
		best_age = 0;
		for (i = 0; i < scoreboard_nslots(); i++) {
			s = scoreboard_slot(i);
			v = atomic_load(&s->tls_idle);
			if (v != (v & GATE_SHED_TIME) + GATE_SHED_IDLE ||
			    atomic_load(&s->pid) == 0)
				continue;
			age = (now - (v & GATE_SHED_TIME)) & GATE_SHED_TIME;
			if (best == NULL || age > best_age) {
				best = s;
				best_age = age;
			}
		}
		if (best == NULL)
			break;
		v = atomic_load(&best->tls_idle);
		if ((v & (GATE_SHED_IDLE | GATE_SHED_ASKED)) == GATE_SHED_IDLE &&
		    atomic_compare_exchange_strong(&best->tls_idle, &v,
		    v | GATE_SHED_ASKED))
			asked++;
	}
	if (asked > 0)
		log_debug("%zu connections wait, no worker idle: %u idle TLS "
		    "keep-alive connections asked to close", waiting, asked);
	return asked;
}

void
gate_shed_idle(int on)
{
	struct sb_slot_shm	*s;

	if (shed_self == UINT32_MAX) {
		if ((shed_self = scoreboard_self()) == UINT32_MAX)
			return;
	}
	s = scoreboard_slot(shed_self);
	atomic_store(&s->tls_idle, on ? gate_shed_now() | GATE_SHED_IDLE : 0);
}

int
gate_shed_asked(void)
{
	struct stats_shm	*st;

	if (shed_self == UINT32_MAX || !(atomic_load(&scoreboard_slot(
	    shed_self)->tls_idle) & GATE_SHED_ASKED))
		return 0;
	gate_shed_idle(0);
	if ((st = stats_get()) != NULL)
		atomic_fetch_add_explicit(&st->tls_idle_shed, 1,
		    memory_order_relaxed);
	return 1;
}
