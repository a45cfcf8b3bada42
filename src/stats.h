/*
 * stats.h - server-wide counters in the shared segment, kept across
 * worker exits and reloads, read by the status page and /metrics.
 */
#ifndef STATS_H
#define STATS_H

#include <stdatomic.h>
#include <stdint.h>

/*
 * A latency histogram with fixed bounds (STATS_BOUNDS_MS, then +Inf):
 * each observation adds one to the first bucket it fits, so scrapes sum
 * the buckets up.  Millisecond resolution, as the access log's times.
 */
#define STATS_NBOUNDS	11
extern const unsigned stats_bounds_ms[STATS_NBOUNDS];

struct stats_hist {
	_Atomic uint64_t bucket[STATS_NBOUNDS + 1];
	_Atomic uint64_t sum_ms;
	_Atomic uint64_t count;
};

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
	struct stats_hist request_time;	/* head read to last byte sent */
	/* the gate (gate.c): connections that wait, held by no worker */
	_Atomic uint64_t gate_parked;	/* taken in from workers */
	_Atomic uint64_t gate_handed;	/* given back, head whole */
	_Atomic uint64_t gate_expired;	/* closed at a deadline, or 431 */
	_Atomic uint64_t gate_refused;	/* max_connections, per address */
	_Atomic uint64_t gate_lost;	/* held by a gate that died */
	_Atomic uint32_t gate_held;	/* now */
	_Atomic uint32_t gate_max_conns;	/* set by the master */
	_Atomic uint32_t gate_max_per_ip;
	_Atomic uint32_t tail_held;	/* response tails the gate relays now */
	/* compression (relay_compress.c), by coding: [0] unused */
	_Atomic uint64_t compressed[4];	/* responses */
	_Atomic uint64_t compress_in;	/* identity body bytes */
	_Atomic uint64_t compress_out;	/* what they became */
	_Atomic uint64_t compress_saved;	/* per response, in > out */
	_Atomic uint64_t gate_taken;	/* ready ones workers received */
	_Atomic uint64_t tls_idle_shed;	/* idle TLS closed: clients waited */
	/* request bodies the gate spools (gate_spool.c) */
	_Atomic uint64_t spool_bytes;	/* held, memory and files, now */
	_Atomic uint64_t spool_refused;	/* 503: spool full, per address */
	_Atomic uint64_t spool_spooled;	/* bodies whole, handed on */
	_Atomic uint64_t spool_max;	/* spool_max_size, from the master */
	_Atomic uint32_t spool_uploads;	/* being spooled now */
	_Atomic uint32_t spool_ok;	/* the gate has its spool_dir */
	_Atomic uint64_t tail_relayed;	/* tails taken in from workers */
	_Atomic uint64_t tail_bytes;	/* bytes the gate wrote to clients */
	_Atomic uint64_t tail_lost;	/* held by a gate that died */
};

void	stats_init(struct stats_shm *);
struct stats_shm *stats_get(void);
/* A request ended: status, body bytes sent, ms it took. */
void	stats_request(int status, uint64_t bytes, int64_t ms);
/* Count an observation of ms in h (any process). */
void	stats_observe(struct stats_hist *h, int64_t ms);
void	stats_connection(void);

#endif /* STATS_H */
