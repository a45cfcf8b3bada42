/*
 * limit.c - shared per-client limits.
 *
 * Entries live in an open-addressed table; a key probes up to
 * LIMIT_PROBE slots and, when all are taken, replaces the one seen least
 * recently that holds no connection.  Striped robust mutexes guard the
 * entries: a worker killed holding one cannot wedge the table.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "limit.h"

#define LIMIT_ENTRIES	8192
#define LIMIT_PROBE	8
#define LIMIT_STRIPES	64
#define LIMIT_SLOTS	8448
#define LIMIT_SCALE	1000000		/* tokens kept in millionths */

struct limit_entry {
	uint64_t	 key;		/* 0: free */
	int32_t		 conns;		/* held by workers */
	int32_t		 gconns;	/* held by the gate */
	int64_t		 tokens;	/* scaled */
	int64_t		 refill;	/* ms of the last refill */
	int64_t		 seen;		/* ms */
};

struct limit_table {
	pthread_mutex_t		 locks[LIMIT_STRIPES];
	_Atomic uint64_t	 slot_key[LIMIT_SLOTS];	/* connection held */
	struct limit_entry	 e[LIMIT_ENTRIES];
};

static struct limit_table	*lt;

size_t
limit_size(void)
{
	return sizeof(struct limit_table);
}

int
limit_init(void *mem)
{
	pthread_mutexattr_t	 a;
	int			 i;

	lt = mem;
	memset(lt, 0, sizeof(*lt));
	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	for (i = 0; i < LIMIT_STRIPES; i++)
		if (pthread_mutex_init(&lt->locks[i], &a) != 0) {
			pthread_mutexattr_destroy(&a);
			return -1;
		}
	pthread_mutexattr_destroy(&a);
	return 0;
}

/*
 * Lock the stripe of key.  A key probes positions congruent modulo the
 * stripes (step LIMIT_STRIPES, and the table size is a multiple of it),
 * so one lock covers every entry it may touch.
 */
static pthread_mutex_t *
limit_lock(uint64_t key)
{
	pthread_mutex_t	*m = &lt->locks[(key ? key : 1) % LIMIT_ENTRIES %
	    LIMIT_STRIPES];

	if (pthread_mutex_lock(m) == EOWNERDEAD)
		pthread_mutex_consistent(m);	/* entries stay whole */
	return m;
}

/* The entry of key (its stripe locked), made if needed. */
static struct limit_entry *
limit_entry(uint64_t key, int64_t now)
{
	struct limit_entry	*e, *victim = NULL;
	size_t			 base, i, pos;

	if (key == 0)
		key = 1;
	base = (size_t)(key % LIMIT_ENTRIES);
	for (i = 0; i < LIMIT_PROBE; i++) {
		pos = (base + i * LIMIT_STRIPES) % LIMIT_ENTRIES;
		e = &lt->e[pos];
		if (e->key == key)
			return e;
		if (e->key == 0) {
			if (victim == NULL || victim->key != 0)
				victim = e;
		} else if (e->conns <= 0 && e->gconns <= 0 && (victim == NULL ||
		    (victim->key != 0 && e->seen < victim->seen)))
			victim = e;
	}
	if (victim == NULL)
		return NULL;	/* all probed entries hold connections */
	memset(victim, 0, sizeof(*victim));
	victim->key = key;
	victim->refill = now;
	victim->tokens = -1;
	return victim;
}

int
limit_conn_acquire(uint64_t key, unsigned max, unsigned slot)
{
	struct limit_entry	*e;
	pthread_mutex_t		*m;
	int			 ok = 1;

	if (lt == NULL || max == 0)
		return 1;
	m = limit_lock(key);
	if ((e = limit_entry(key, 0)) != NULL) {
		/* one count for an address, wherever it waits */
		if (max <= INT32_MAX && e->conns + e->gconns >= (int32_t)max)
			ok = 0;
		else {
			e->conns++;
			atomic_store(&lt->slot_key[slot % LIMIT_SLOTS],
			    e->key);
		}
	}
	pthread_mutex_unlock(m);
	return ok;
}

void
limit_conn_release(unsigned slot)
{
	struct limit_entry	*e;
	pthread_mutex_t		*m;
	uint64_t		 key;

	if (lt == NULL ||
	    (key = atomic_exchange(&lt->slot_key[slot % LIMIT_SLOTS], 0)) == 0)
		return;
	m = limit_lock(key);
	if ((e = limit_entry(key, 0)) != NULL && e->key == key &&
	    e->conns > 0)
		e->conns--;
	pthread_mutex_unlock(m);
}

int64_t
limit_rate_take(uint64_t key, unsigned rate, unsigned burst, int64_t now)
{
	struct limit_entry	*e;
	pthread_mutex_t		*m;
	int64_t			 wait = 0, cap = (int64_t)burst * LIMIT_SCALE;

	if (lt == NULL || rate == 0)
		return 0;
	m = limit_lock(key);
	if ((e = limit_entry(key, now)) != NULL) {
		if (e->tokens < 0) {
			e->tokens = cap;	/* a new client starts full */
			e->refill = now;
		}
		if (now > e->refill) {
			e->tokens += (now - e->refill) * (int64_t)rate *
			    (LIMIT_SCALE / 1000);
			if (e->tokens > cap)
				e->tokens = cap;
			e->refill = now;
		}
		e->seen = now;
		if (e->tokens >= LIMIT_SCALE)
			e->tokens -= LIMIT_SCALE;
		else
			wait = (LIMIT_SCALE - e->tokens) /
			    ((int64_t)rate * (LIMIT_SCALE / 1000)) + 1;
	}
	pthread_mutex_unlock(m);
	return wait;
}

int
limit_gate_acquire(uint64_t key, unsigned max)
{
	struct limit_entry	*e;
	pthread_mutex_t		*m;
	int			 ok = 1;

	if (lt == NULL || max == 0)
		return 1;
	m = limit_lock(key);
	if ((e = limit_entry(key, 0)) != NULL) {
		if (e->conns + e->gconns >= (int32_t)max)
			ok = 0;
		else
			e->gconns++;
	}
	pthread_mutex_unlock(m);
	return ok;
}

void
limit_gate_release(uint64_t key)
{
	struct limit_entry	*e;
	pthread_mutex_t		*m;

	if (lt == NULL)
		return;
	m = limit_lock(key);
	if ((e = limit_entry(key, 0)) != NULL && e->gconns > 0)
		e->gconns--;
	pthread_mutex_unlock(m);
}

void
limit_gate_reap(void)
{
	pthread_mutex_t	*m;
	size_t		 i;

	if (lt == NULL)
		return;
	for (i = 0; i < LIMIT_ENTRIES; i++) {
		m = limit_lock(lt->e[i].key);
		lt->e[i].gconns = 0;
		pthread_mutex_unlock(m);
	}
}

void
limit_reap(unsigned slot)
{
	limit_conn_release(slot);
}
