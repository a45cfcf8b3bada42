/*
 * shm.c - creation and layout of the shared segment, and of the cache
 * store beside it.
 *
 * The store has a mapping of its own, on a memfd, so that a binary
 * upgrade can hand it to the new master (SHM_ENV_CACHE names the
 * descriptor) and the cache outlives the old binary.  Everything else
 * is this master's alone: a new binary starts it afresh.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cache.h"
#include "cache_store.h"
#include "health.h"
#include "limit.h"
#include "log.h"
#include "scoreboard.h"
#include "shm.h"
#include "tls.h"

#define SHM_POOLS	256	/* round-robin positions, by pool index */
#define SHM_ENV_CACHE	"PORTER_CACHE_FD"

static int	 shm_cache_fd = -1;

/*
 * The store an upgrading master handed over, if it fits this one; NULL
 * otherwise (then it is closed, and a new one is made).
 */
static void *
shm_cache_inherit(uint64_t cache_size, size_t len)
{
	const char	*env = getenv(SHM_ENV_CACHE);
	struct stat	 st;
	void		*mem;
	char		*end;
	long		 fd;

	if (env == NULL)
		return NULL;
	fd = strtol(env, &end, 10);
	unsetenv(SHM_ENV_CACHE);
	if (*end != '\0' || fd < 3 || fd > 65535 || fstat((int)fd, &st) == -1)
		return NULL;
	(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	if (cache_size == 0 || (uint64_t)st.st_size != len) {
		log_notice("cache: the previous binary's store is %s",
		    cache_size ? "of another size: starting empty" :
		    "dropped (no [cache] section)");
		(void)close((int)fd);
		return NULL;
	}
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, (int)fd, 0);
	if (mem == MAP_FAILED) {
		(void)close((int)fd);
		return NULL;
	}
	if (cache_store_adopt(mem, len, cache_size, CACHE_FORMAT) == -1) {
		log_notice("cache: the previous binary's store is of another "
		    "layout: starting empty");
		munmap(mem, len);
		(void)close((int)fd);
		return NULL;
	}
	shm_cache_fd = (int)fd;
	return mem;
}

/* The cache store: the inherited one, or a new memfd mapping. */
static void *
shm_cache(uint64_t cache_size, char *err, size_t errlen)
{
	size_t		 len = cache_store_size(cache_size);
	struct cs_stats	 st;
	void		*mem;
	int		 fd;

	if ((mem = shm_cache_inherit(cache_size, len)) != NULL) {
		cache_store_stats(&st);
		log_notice("cache: kept from the previous binary (%llu "
		    "objects)", (unsigned long long)st.objects);
		return mem;
	}
	if (cache_size == 0)
		return NULL;
	if ((fd = memfd_create("porter-cache", MFD_CLOEXEC)) == -1 ||
	    ftruncate(fd, (off_t)len) == -1) {
		snprintf(err, errlen, "cache store of %zu bytes: %s", len,
		    strerror(errno));
		if (fd != -1)
			(void)close(fd);
		return NULL;
	}
	mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (mem == MAP_FAILED) {
		snprintf(err, errlen, "mmap of %zu bytes: %s", len,
		    strerror(errno));
		(void)close(fd);
		return NULL;
	}
	if (cache_store_init(mem, len, cache_size, CACHE_FORMAT) == -1) {
		snprintf(err, errlen, "cannot set up the cache store");
		munmap(mem, len);
		(void)close(fd);
		return NULL;
	}
	shm_cache_fd = fd;
	return mem;
}

int
shm_cache_handover(void)
{
	char	 v[16];

	if (shm_cache_fd == -1 ||
	    fcntl(shm_cache_fd, F_SETFD, 0) == -1)
		return -1;
	snprintf(v, sizeof(v), "%d", shm_cache_fd);
	return setenv(SHM_ENV_CACHE, v, 1);
}
#define SHM_ALIGN(x)	(((x) + 63) & ~(uint64_t)63)

struct shm_header *
shm_create(unsigned nslots, unsigned nbackends, uint64_t cache_size, char *err,
    size_t errlen)
{
	struct shm_header	*h;
	uint64_t		 size, sb_off, hl_off, pl_off;
	uint64_t		 tls_off, limit_off;

	sb_off = SHM_ALIGN(sizeof(*h));
	hl_off = SHM_ALIGN(sb_off + (uint64_t)nslots *
	    sizeof(struct sb_slot_shm));
	pl_off = SHM_ALIGN(hl_off + (uint64_t)nbackends *
	    sizeof(struct backend_shm));
	tls_off = SHM_ALIGN(pl_off + (uint64_t)SHM_POOLS *
	    sizeof(struct pool_shm));
	limit_off = SHM_ALIGN(tls_off + tls_keys_size());
	size = SHM_ALIGN(limit_off + limit_size());
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
	waf_shm_init(&h->waf);
	h->tls_off = tls_off;
	tls_keys_init(shm_at(h, tls_off));
	h->limit_off = limit_off;
	if (limit_init(shm_at(h, limit_off)) == -1) {
		snprintf(err, errlen, "cannot set up the limits table");
		munmap(h, size);
		return NULL;
	}
	err[0] = '\0';
	if (shm_cache(cache_size, err, errlen) == NULL && err[0] != '\0') {
		munmap(h, size);
		return NULL;
	}
	return h;
}

void *
shm_at(struct shm_header *h, uint64_t off)
{
	return (char *)h + off;
}
