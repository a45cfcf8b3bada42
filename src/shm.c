/*
 * shm.c - creation and layout of the shared segment.
 */
#include <sys/mman.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cache_store.h"
#include "health.h"
#include "limit.h"
#include "scoreboard.h"
#include "shm.h"
#include "tls.h"

#define SHM_POOLS	256	/* round-robin positions, by pool index */
#define SHM_ALIGN(x)	(((x) + 63) & ~(uint64_t)63)

struct shm_header *
shm_create(unsigned nslots, unsigned nbackends, uint64_t cache_size, char *err,
    size_t errlen)
{
	struct shm_header	*h;
	uint64_t		 size, sb_off, hl_off, pl_off, cache_off, clen;
	uint64_t		 tls_off, limit_off;

	sb_off = SHM_ALIGN(sizeof(*h));
	hl_off = SHM_ALIGN(sb_off + (uint64_t)nslots *
	    sizeof(struct sb_slot_shm));
	pl_off = SHM_ALIGN(hl_off + (uint64_t)nbackends *
	    sizeof(struct backend_shm));
	tls_off = SHM_ALIGN(pl_off + (uint64_t)SHM_POOLS *
	    sizeof(struct pool_shm));
	limit_off = SHM_ALIGN(tls_off + tls_keys_size());
	cache_off = SHM_ALIGN(limit_off + limit_size());
	clen = cache_size ? cache_store_size(cache_size) : 0;
	size = SHM_ALIGN(cache_off + clen);
	h = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
	    -1, 0);
	if (h == MAP_FAILED) {
		snprintf(err, errlen, "mmap of %llu bytes: %s",
		    (unsigned long long)size, strerror(errno));
		return NULL;
	}
	h->magic = SHM_MAGIC;
	h->version = SHM_VERSION;
	h->size = size;
	h->sb_slots = nslots;
	h->sb_off = sb_off;
	h->hl_slots = nbackends;
	h->hl_off = hl_off;
	h->pl_off = pl_off;
	h->pl_slots = SHM_POOLS;
	atomic_store(&h->stats.started, (int64_t)time(NULL));
	scoreboard_init(h);
	health_init(shm_at(h, hl_off), nbackends, shm_at(h, pl_off), SHM_POOLS);
	stats_init(&h->stats);
	h->tls_off = tls_off;
	tls_keys_init(shm_at(h, tls_off));
	h->limit_off = limit_off;
	if (limit_init(shm_at(h, limit_off)) == -1) {
		snprintf(err, errlen, "cannot set up the limits table");
		munmap(h, size);
		return NULL;
	}
	if (clen != 0) {
		h->cache_off = cache_off;
		h->cache_len = clen;
		if (cache_store_init(shm_at(h, cache_off), clen,
		    cache_size) == -1) {
			snprintf(err, errlen, "cannot set up the cache store");
			munmap(h, size);
			return NULL;
		}
	}
	return h;
}

void *
shm_at(struct shm_header *h, uint64_t off)
{
	return (char *)h + off;
}
