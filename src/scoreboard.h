/*
 * scoreboard.h - one slot per worker in the shared segment.
 *
 * The master assigns a free slot before forking a worker; the worker
 * updates its own slot's state and counters; the master reads all slots to
 * count idle workers and clears a slot when it reaps the worker.
 */
#ifndef SCOREBOARD_H
#define SCOREBOARD_H

#include <stdatomic.h>
#include <stdint.h>

struct shm_header;

enum sb_state {
	SB_FREE = 0,
	SB_STARTING,
	SB_IDLE,	/* waiting in accept */
	SB_READING,	/* reading a request head */
	SB_PROXYING,	/* talking to a backend */
	SB_KEEPALIVE,	/* waiting for the next request on a connection */
	SB_CLOSING
};

#define SB_BACKENDS	4	/* backend requests a worker may hold at once */

struct sb_slot_shm {
	_Atomic int32_t	 pid;
	_Atomic uint32_t state;
	_Atomic uint32_t generation;
	_Atomic uint32_t tls_idle;	/* gate_shed.c */
	_Atomic uint64_t requests;
	_Atomic uint64_t connections;
	_Atomic int64_t	 started;	/* time(NULL) at fork */
	/*
	 * Backend table slots (+1, 0 = none) this worker counts as in
	 * flight: the master gives them back when it dies mid-request.
	 */
	_Atomic uint32_t backends[SB_BACKENDS];
};

void	scoreboard_init(struct shm_header *);
unsigned scoreboard_nslots(void);
struct sb_slot_shm *scoreboard_slot(unsigned i);
/* Find a free slot and mark it STARTING; -1 if the board is full. */
int	scoreboard_claim(unsigned generation);
void	scoreboard_release(unsigned i);
/* The calling worker's own slot (set once after fork). */
void	scoreboard_set_self(unsigned i);
/* The calling worker's slot, or UINT32_MAX in other processes. */
unsigned scoreboard_self(void);
void	scoreboard_state(enum sb_state);
void	scoreboard_count_request(void);
void	scoreboard_count_connection(void);
/*
 * The calling worker counts a request to backend table slot b in flight,
 * or no longer (health.c): noted in its slot so that the master can undo
 * the count if the worker dies first.  Slots of the master's own (none
 * set) note nothing.
 */
void	scoreboard_backend_hold(unsigned b);
void	scoreboard_backend_drop(unsigned b);
const char *scoreboard_state_name(enum sb_state);

#endif /* SCOREBOARD_H */
