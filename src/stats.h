/*
 * stats.h - server-wide counters in the shared segment, kept across
 * worker exits and reloads, read by the status page and /metrics.
 */
#ifndef STATS_H
#define STATS_H

#include <stdatomic.h>
#include <stdint.h>

struct stats_shm {
	_Atomic uint64_t requests;
	_Atomic uint64_t status[6];	/* by class: [2] = 2xx; [0] other */
	_Atomic uint64_t bytes_out;	/* body bytes to clients */
	_Atomic uint64_t connections;
	_Atomic uint64_t reloads;
	_Atomic int64_t	 started;	/* time(NULL) of the first master */
	_Atomic uint32_t generation;
	uint32_t	 pad;
	_Atomic uint64_t cache_hits;	/* answered from the cache */
	_Atomic uint64_t cache_misses;
	_Atomic uint64_t cache_stale;	/* of the hits, served stale */
	_Atomic uint64_t cache_revalidated;	/* 304 from the origin */
	_Atomic uint64_t cache_stored;
	/* the gate (gate.c): connections that wait, held by no worker */
	_Atomic uint64_t gate_parked;	/* taken in from workers */
	_Atomic uint64_t gate_handed;	/* given back, head whole */
	_Atomic uint64_t gate_expired;	/* closed at a deadline, or 431 */
	_Atomic uint64_t gate_refused;	/* max_connections, per address */
	_Atomic uint64_t gate_lost;	/* held by a gate that died */
	_Atomic uint32_t gate_held;	/* now */
	_Atomic uint32_t gate_max_conns;	/* set by the master */
	_Atomic uint32_t gate_max_per_ip;
	uint32_t	 pad2;
};

void	stats_init(struct stats_shm *);
struct stats_shm *stats_get(void);
void	stats_request(int status, uint64_t bytes);
void	stats_connection(void);

#endif /* STATS_H */
