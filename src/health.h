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

struct config;

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
};

void	health_init(struct backend_shm *table, unsigned slots);
unsigned health_nslots(void);
struct backend_shm *health_slot(unsigned i);
/*
 * Give every server of cf a slot (server_config.hslot), reusing the slot
 * of the same pool and address.  Slots no longer in cf are freed.  Master
 * only.  Returns -1 when the table is full.
 */
int	health_bind(struct config *cf);
void	health_begin(unsigned slot);
/*
 * status: the response's, 0 for none (connect error, timeout, bad
 * response: counted as an error), -1 when the client gave up first.
 */
void	health_end(unsigned slot, int status, int64_t ms);

#endif /* HEALTH_H */
