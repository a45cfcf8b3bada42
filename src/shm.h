/*
 * shm.h - the shared segment: one anonymous MAP_SHARED mapping made by the
 * master before the first fork, inherited by every worker of every
 * generation.  It holds no pointers, only fixed-size records located by
 * offsets from its start, so it means the same in every process.  The
 * cache store is mapped beside it, from a memfd a binary upgrade hands
 * on (shm.c).
 */
#ifndef SHM_H
#define SHM_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"
#include "waf.h"

#define SHM_MAGIC	0x504f5254u	/* "PORT" */
#define SHM_VERSION	1

struct shm_header {
	uint32_t	 magic;
	uint32_t	 version;
	uint64_t	 size;
	uint32_t	 sb_slots;	/* scoreboard slots */
	uint32_t	 hl_slots;	/* backend table slots */
	uint64_t	 sb_off;	/* offset of the scoreboard */
	uint64_t	 hl_off;	/* offset of the backend table */
	uint64_t	 pl_off;	/* offset of the pool table */
	uint32_t	 pl_slots;
	uint32_t	 pad;
	uint64_t	 tls_off;	/* TLS ticket keys */
	uint64_t	 limit_off;	/* per-client limits */
	struct stats_shm stats;
	struct waf_shm	 waf;
};

/*
 * Map a segment with room for nslots scoreboard slots and nbackends
 * backend slots, and point the region modules at it.  Master only.
 */
struct shm_header *shm_create(unsigned nslots, unsigned nbackends,
		    uint64_t cache_size, char *err, size_t errlen);
/*
 * In the child about to exec a new binary (upgrade): let the cache store
 * pass to it.  -1 when there is none to pass.
 */
int		 shm_cache_handover(void);
void		*shm_at(struct shm_header *, uint64_t off);

#endif /* SHM_H */
