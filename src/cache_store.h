/*
 * cache_store.h - the object store of the shared cache: an index of hash
 * buckets and a pool of fixed-size blocks, inside the shared segment, so
 * that every worker reads and fills one cache.  It knows nothing of HTTP:
 * an object is a key, an opaque fixed-size meta record, a head and a
 * body.  Full keys are compared, never only their hashes.
 *
 * Locks are process-shared robust mutexes: the buckets are striped over
 * CS_STRIPES locks, and one more guards the allocator.  A worker that dies
 * holding a lock never wedges the cache: the next locker repairs what the
 * dead one may have left half done, and the master releases the object
 * references and unfinished fills of a dead worker (cache_store_reap).
 *
 * Lock order: a stripe lock before the allocator lock, never the reverse.
 */
#ifndef CACHE_STORE_H
#define CACHE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define CS_META		160	/* opaque meta record, bytes */

enum cs_lookup {
	CS_MISS = 0,
	CS_HIT,		/* *idx is a READY object, referenced */
	CS_FILLING,	/* another worker is filling it: wait */
	CS_PASS		/* recently found uncacheable: go to the origin */
};

struct cs_stats {
	uint64_t	 objects, bytes, evictions, capacity;
};

/* Bytes of shared memory for a store of about size bytes of data. */
size_t	cache_store_size(uint64_t size);
/* Lay out a new store in mem (master, before forking). -1 on failure. */
int	cache_store_init(void *mem, size_t len, uint64_t size,
	    uint32_t format);
/*
 * Take over the store at mem that another binary laid out (a binary
 * upgrade): only when it was made for the same size, by a store of the
 * same layout, holding keys and meta of the same format (the caller's
 * number).  Its workers' slots are then the half whose master is gone
 * (the store records the pid of the master using each half), never the
 * half of a master still running.  -1 when it does not fit, or both
 * halves are in use: make a new one.
 */
int	cache_store_adopt(void *mem, size_t len, uint64_t size,
	    uint32_t format);
/*
 * The calling process is the master whose workers use this store's half
 * of the slots (after init or adopt, and again once a daemon has forked
 * away from the process that made the store).
 */
void	cache_store_own(void);
/* Attach to the store at mem (every process, after init or fork). */
void	cache_store_attach(void *mem);
int	cache_store_enabled(void);

/*
 * Find key.  On CS_HIT the object is referenced (release it with
 * cache_store_release) and its meta copied to meta.  slot is the caller's
 * scoreboard slot, so the master can drop the reference if it dies: a
 * worker holds one reference at a time.
 */
enum cs_lookup cache_store_lookup(const char *key, size_t klen, int64_t now_ms,
	    unsigned slot, uint32_t *idx, void *meta);
void	cache_store_release(uint32_t idx, unsigned slot);
/*
 * The gate's slots, past every worker's: the references of the stored
 * objects it writes to slow clients, one each.
 */
#define CS_GATE_SLOTS	128
#define CS_GATE_FIRST	(8448 - CS_GATE_SLOTS)
/*
 * Hand a reference over to the gate: take another one to idx (which the
 * caller references) in a free gate slot.  The slot (the gate lets go
 * with cache_store_release), or -1 when every gate slot holds one.
 */
int	cache_store_hand(uint32_t idx);
/* Does slot reference idx? */
int	cache_store_holds(uint32_t idx, unsigned slot);
/* Master: the gate died; release what its slots held. */
void	cache_store_reap_gate(void);
/* Head and body sizes of a referenced object. */
void	cache_store_sizes(uint32_t idx, size_t *head, uint64_t *body);
/*
 * Describe bytes [off, off+len) of the object's head+body stream with
 * up to niov iovecs pointing into shared memory.  Returns how many
 * iovecs were used; *covered says how many bytes they hold.
 */
int	cache_store_iov(uint32_t idx, uint64_t off, uint64_t len,
	    struct iovec *iov, int niov, uint64_t *covered);

/*
 * Start filling key: a FILLING placeholder other workers will wait on.
 * Returns the new object in *idx (CS_MISS: go on and fill), or CS_FILLING
 * / CS_PASS / CS_HIT when another worker got there first (nothing made).
 */
enum cs_lookup cache_store_fill_begin(const char *key, size_t klen,
	    unsigned slot, int64_t now_ms, uint32_t *idx);
/* Append head or body bytes; -1 when the store cannot hold them. */
int	cache_store_fill_append(uint32_t idx, const void *data, size_t len);
/*
 * Make the object visible with its meta; head_len of the appended bytes
 * are the head.  An older object with the same key is replaced.
 */
void	cache_store_fill_commit(uint32_t idx, size_t head_len,
	    const void *meta, unsigned slot);
/*
 * Give up a fill.  pass_ms > 0 leaves a marker saying "uncacheable" for
 * that long, so requests go straight to the origin instead of queueing.
 */
void	cache_store_fill_abort(uint32_t idx, unsigned slot, int64_t pass_ms);
/* Look at the state of an object being waited on. */
enum cs_lookup cache_store_state(uint32_t idx, const char *key, size_t klen);

/* Remove key (purge, invalidation).  Returns how many were removed. */
unsigned cache_store_remove(const char *key, size_t klen);
/* Remove every object whose key starts with prefix (bounded: one pass). */
unsigned cache_store_remove_prefix(const char *prefix, size_t plen);

/*
 * Master: a worker in scoreboard slot died (or left); release what it
 * held: its reference, every fill it began, and what it was freeing.
 * One pass over the entries.
 */
void	cache_store_reap(unsigned slot);
void	cache_store_stats(struct cs_stats *);

#ifdef CACHE_STORE_HOOKS
/*
 * Built into the store's unit test only: called at the steps where
 * another process's step, or a death, must be handled, so that the test
 * can put one there.  x is the entry, the block, or (CS_HOOK_LOCKED) the
 * stripe, CS_HOOK_ALLOC for the allocator's lock.
 */
#define CS_HOOK_ALLOC	0xfffffffeu
enum cs_hook {
	CS_HOOK_LOCKED = 0,	/* a lock just taken (and repaired) */
	CS_HOOK_EVICT,		/* eviction chose x's stripe, not locked */
	CS_HOOK_PREFIX,		/* a prefix purge chose x's stripe */
	CS_HOOK_KILL,		/* x about to be marked dead */
	CS_HOOK_UNLINKED,	/* x unlinked, not yet freed */
	CS_HOOK_POPPED,		/* x taken off the free list */
	CS_HOOK_FREEING,	/* block x just given back */
	CS_HOOK_TAKE,		/* a reference to x half taken */
	CS_HOOK_RELEASE		/* a reference to x half let go */
};
extern void	(*cache_store_hook)(enum cs_hook, uint32_t);
#endif

#endif /* CACHE_STORE_H */
