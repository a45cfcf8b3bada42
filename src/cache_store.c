/*
 * cache_store.c - the shared object store.
 *
 * Layout (offsets from the start of the region, no pointers):
 *   header | slot table | stripe locks | buckets | entries | block links |
 *   block data
 * An object's bytes (key, then head, then body) live in a chain of
 * CS_BLOCK-byte blocks; blocks[] links them and records their owner, so
 * that the free list can always be rebuilt from the entries alone.
 * Eviction is CLOCK over the entries: a hit sets the entry's bit, the
 * hand clears it, and evicts an unreferenced READY object whose bit is
 * clear.
 *
 * A worker may die at any instruction, so every step leaves something
 * the next one can finish:
 * - an entry's state and its reference count are one word: whoever takes
 *   it to DEAD with no reference left, the killer or the last reader,
 *   frees it, and only that one; a DEAD entry nobody holds is garbage
 *   anyone may free under its stripe lock (cs_reclaim), so the master
 *   frees those a dead worker left behind;
 * - references are taken and let go under the stripe lock, and the
 *   worker's slot records each before it is counted: a repair of the
 *   stripe counts them again from the slots;
 * - an entry leaves the free list FILLING, with the slot filling it,
 *   inside the allocator's lock: the master aborts every fill of a dead
 *   worker's slot, however many it held;
 * - block chains change only under the allocator's lock, a block leaves
 *   its chain before it goes back, so a repair rebuilds the free lists
 *   from the chains of the entries in use.
 */
#include <sys/types.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "cache_store.h"
#include "log.h"
#include "util.h"

#define CS_MAGIC	0x43414348u	/* "CACH" */
#define CS_BLOCK	4096
#define CS_STRIPES	64
#define CS_HALF		8448		/* >= scoreboard slots */
#define CS_SLOTS	(2 * CS_HALF)	/* a half for each of two masters */
#define CS_NONE		UINT32_MAX
#define CS_VERSION	2		/* of the entries' meaning */

enum cs_state {
	CS_S_FREE = 0,
	CS_S_FILLING,
	CS_S_READY,
	CS_S_PASS,	/* hit-for-pass marker until expires */
	CS_S_DEAD	/* removed: freed when the last reader leaves */
};

/* An entry's state and references, one atomic word. */
#define CS_SR(st, refs)	((uint64_t)(st) << 32 | (refs))
#define CS_ST(sr)	((uint32_t)((sr) >> 32))
#define CS_REFS(sr)	((uint32_t)(sr))

struct cs_entry {
	uint64_t	 hash;
	_Atomic uint64_t sr;		/* CS_SR(state, references) */
	uint32_t	 next;		/* bucket chain, or free list */
	uint32_t	 first;		/* first block */
	uint32_t	 last;		/* last block (appending) */
	uint32_t	 nblocks;
	uint32_t	 key_len;
	uint32_t	 head_len;
	uint64_t	 len;		/* bytes stored: key + head + body */
	_Atomic uint32_t clock;
	uint32_t	 filler;	/* CS_S_FILLING: the slot filling it */
	int64_t		 expires;	/* CS_S_PASS: ms */
	uint32_t	 counted;	/* in the objects and bytes counts */
	uint32_t	 pad;
	unsigned char	 meta[CS_META];
};

struct cs_slot {
	_Atomic uint32_t ref;		/* entry + 1 referenced, 0 none */
	uint32_t	 pad;
};

struct cs_header {
	uint32_t	 magic;
	uint32_t	 base;		/* cs_base of the last master to adopt */
	uint64_t	 layout;	/* cs_layout(): who may adopt it */
	uint64_t	 size;		/* the size asked for */
	uint32_t	 nentries;	/* also the number of buckets */
	uint32_t	 nblocks;
	uint32_t	 free_entry;	/* free lists, chained by next */
	uint32_t	 free_block;
	uint32_t	 free_blocks;	/* how many */
	uint32_t	 hand;		/* CLOCK */
	uint32_t	 pad;
	uint64_t	 off_slots, off_locks, off_buckets, off_entries;
	uint64_t	 off_links, off_data;
	_Atomic uint64_t objects, bytes, evictions;
	/* the master whose workers use each half of the slots, 0: none */
	_Atomic int32_t	 owner[2];
	pthread_mutex_t	 alloc_lock;
};

struct cs_link {
	uint32_t	 next;
	uint32_t	 owner;		/* entry, CS_NONE when free */
};

static struct cs_header	*cs;
static struct cs_slot	*cs_slots;
static pthread_mutex_t	*cs_locks;
static uint32_t		*cs_buckets;
static struct cs_entry	*cs_entries;
static struct cs_link	*cs_links;
static unsigned char	*cs_data;

/*
 * The slots of this master's workers: the first half, or the second in
 * a master that took the store over from an older binary that still
 * runs with the first (cache_store_adopt), so the two never mix.
 */
static unsigned		 cs_base;
#define CS_SLOT_ID(s)	(cs_base + (s) % CS_HALF)
#define CS_SLOT(s)	(&cs_slots[CS_SLOT_ID(s)])

#define CS_ALIGN(x)	(((x) + 63) & ~(uint64_t)63)

#ifdef CACHE_STORE_HOOKS
void		(*cache_store_hook)(enum cs_hook, uint32_t);
#define CS_HOOK(p, x)	do {						\
	if (cache_store_hook != NULL)					\
		cache_store_hook((p), (x));				\
} while (0)
#else
#define CS_HOOK(p, x)	do { } while (0)
#endif

size_t
cache_store_size(uint64_t size)
{
	uint64_t	 nblocks = size / CS_BLOCK, nentries;
	uint64_t	 off;

	if (nblocks < 16)
		nblocks = 16;
	nentries = nblocks / 2 < 1024 ? 1024 : nblocks / 2;
	off = CS_ALIGN(sizeof(struct cs_header));
	off = CS_ALIGN(off + CS_SLOTS * sizeof(struct cs_slot));
	off = CS_ALIGN(off + CS_STRIPES * sizeof(pthread_mutex_t));
	off = CS_ALIGN(off + nentries * sizeof(uint32_t));
	off = CS_ALIGN(off + nentries * sizeof(struct cs_entry));
	off = CS_ALIGN(off + nblocks * sizeof(struct cs_link));
	off = CS_ALIGN(off + nblocks * CS_BLOCK);
	return (size_t)off;
}

static int
cs_mutex_init(pthread_mutex_t *m)
{
	pthread_mutexattr_t	 a;
	int			 rc;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	rc = pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
	return rc;
}

void
cache_store_attach(void *mem)
{
	char	*base = mem;

	cs = mem;
	if (cs == NULL)
		return;
	cs_slots = (struct cs_slot *)(void *)(base + cs->off_slots);
	cs_locks = (pthread_mutex_t *)(void *)(base + cs->off_locks);
	cs_buckets = (uint32_t *)(void *)(base + cs->off_buckets);
	cs_entries = (struct cs_entry *)(void *)(base + cs->off_entries);
	cs_links = (struct cs_link *)(void *)(base + cs->off_links);
	cs_data = (unsigned char *)(base + cs->off_data);
}

/* What a store must agree on to be taken over by another binary. */
static uint64_t
cs_layout(uint64_t size, uint32_t format)
{
	const uint64_t	 v[] = {
		CS_MAGIC, CS_VERSION, CS_BLOCK, CS_STRIPES, CS_SLOTS, CS_META,
		sizeof(struct cs_header), sizeof(struct cs_entry),
		sizeof(struct cs_link), sizeof(pthread_mutex_t), size, format
	};

	return util_hash64(v, sizeof(v), 0x6c61796f);
}

static void	cs_reap(uint32_t, uint32_t);

/* Is the master that used half h of the slots gone (or was there none)? */
static int
cs_owner_gone(unsigned h)
{
	pid_t	 pid = (pid_t)atomic_load(&cs->owner[h]);

	return pid <= 0 || (kill(pid, 0) == -1 && errno == ESRCH);
}

void
cache_store_own(void)
{
	if (cs != NULL)
		atomic_store(&cs->owner[cs_base / CS_HALF], (int32_t)getpid());
}

int
cache_store_adopt(void *mem, size_t len, uint64_t size, uint32_t format)
{
	struct cs_header *h = mem;
	int		 free0, free1;

	if (len < sizeof(*h) || h->magic != CS_MAGIC ||
	    h->layout != cs_layout(size, format) || h->size != size ||
	    len < cache_store_size(size))
		return -1;
	cache_store_attach(mem);
	/*
	 * A half whose master is gone: not simply the other one than the
	 * last to adopt, for that master may have been stopped again (an
	 * upgrade rolled back) while the one before it goes on.
	 */
	free0 = cs_owner_gone(0);
	free1 = cs_owner_gone(1);
	if (!free0 && !free1)
		return -1;
	if (free0 && free1)
		cs_base = h->base == 0 ? CS_HALF : 0;
	else
		cs_base = free0 ? 0 : CS_HALF;
	h->base = cs_base;
	atomic_store(&h->owner[cs_base / CS_HALF], (int32_t)getpid());
	/* what a generation before that one left in this half */
	cs_reap(cs_base, cs_base + CS_HALF);
	return 0;
}

int
cache_store_init(void *mem, size_t len, uint64_t size, uint32_t format)
{
	uint64_t	 nblocks = size / CS_BLOCK, nentries, off;
	uint32_t	 i;

	if (nblocks < 16)
		nblocks = 16;
	nentries = nblocks / 2 < 1024 ? 1024 : nblocks / 2;
	if (len < cache_store_size(size) || nblocks >= CS_NONE)
		return -1;
	cs = mem;
	memset(cs, 0, sizeof(*cs));
	cs->magic = CS_MAGIC;
	cs->layout = cs_layout(size, format);
	cs->size = size;
	cs->base = cs_base = 0;
	atomic_store(&cs->owner[0], (int32_t)getpid());
	cs->nentries = (uint32_t)nentries;
	cs->nblocks = (uint32_t)nblocks;
	off = CS_ALIGN(sizeof(struct cs_header));
	cs->off_slots = off;
	off = CS_ALIGN(off + CS_SLOTS * sizeof(struct cs_slot));
	cs->off_locks = off;
	off = CS_ALIGN(off + CS_STRIPES * sizeof(pthread_mutex_t));
	cs->off_buckets = off;
	off = CS_ALIGN(off + nentries * sizeof(uint32_t));
	cs->off_entries = off;
	off = CS_ALIGN(off + nentries * sizeof(struct cs_entry));
	cs->off_links = off;
	off = CS_ALIGN(off + nblocks * sizeof(struct cs_link));
	cs->off_data = off;
	cache_store_attach(mem);
	if (cs_mutex_init(&cs->alloc_lock) != 0)
		return -1;
	for (i = 0; i < CS_STRIPES; i++)
		if (cs_mutex_init(&cs_locks[i]) != 0)
			return -1;
	for (i = 0; i < cs->nentries; i++) {
		cs_buckets[i] = CS_NONE;
		cs_entries[i].next = i + 1 < cs->nentries ? i + 1 : CS_NONE;
	}
	for (i = 0; i < cs->nblocks; i++) {
		cs_links[i].next = i + 1 < cs->nblocks ? i + 1 : CS_NONE;
		cs_links[i].owner = CS_NONE;
	}
	cs->free_entry = 0;
	cs->free_block = 0;
	cs->free_blocks = cs->nblocks;
	return 0;
}

int
cache_store_enabled(void)
{
	return cs != NULL;
}

static uint32_t
cs_state(uint32_t e)
{
	return CS_ST(atomic_load(&cs_entries[e].sr));
}

/* Set e's state while nobody can hold a reference to it. */
static void
cs_set_state(uint32_t e, uint32_t st)
{
	atomic_store(&cs_entries[e].sr, CS_SR(st, 0));
}

/*
 * The allocator's lists are rebuilt from the entries after a worker died
 * holding its lock.  Chains change only under that lock, so every chain
 * is whole but for the dead one's last step: a block taken off the free
 * list and not yet linked, or linked and not yet counted, or unlinked
 * from an entry being freed and not yet on the free list.  Blocks on the
 * chain of an entry in use stay; the rest are free, and so are the
 * entries marked free (an entry leaves the list marked).
 */
static void
cs_alloc_repair(void)
{
	struct cs_entry	*en;
	uint32_t	 i, b, last, n;

	log_warnx("cache: repairing the allocator after a worker died "
	    "holding its lock");
	for (i = 0; i < cs->nblocks; i++)
		cs_links[i].owner = CS_NONE;
	for (i = 0; i < cs->nentries; i++) {
		en = &cs_entries[i];
		if (cs_state(i) == CS_S_FREE)
			continue;
		last = CS_NONE;
		n = 0;
		for (b = en->first; b < cs->nblocks &&
		    cs_links[b].owner == CS_NONE; b = cs_links[b].next) {
			cs_links[b].owner = i;
			last = b;
			n++;
		}
		if (last == CS_NONE)
			en->first = CS_NONE;
		else
			cs_links[last].next = CS_NONE;
		en->last = last;
		en->nblocks = n;
	}
	cs->free_block = CS_NONE;
	cs->free_blocks = 0;
	for (i = cs->nblocks; i-- > 0;)
		if (cs_links[i].owner == CS_NONE) {
			cs_links[i].next = cs->free_block;
			cs->free_block = i;
			cs->free_blocks++;
		}
	cs->free_entry = CS_NONE;
	for (i = cs->nentries; i-- > 0;)
		if (atomic_load(&cs_entries[i].sr) == CS_SR(CS_S_FREE, 0)) {
			cs_entries[i].next = cs->free_entry;
			cs->free_entry = i;
		}
}

static void	cs_stripe_repair(pthread_mutex_t *);

static void
cs_lock(pthread_mutex_t *m, int is_alloc)
{
	if (pthread_mutex_lock(m) == EOWNERDEAD) {
		/* bucket chains change with single stores: still whole */
		if (is_alloc)
			cs_alloc_repair();
		else
			cs_stripe_repair(m);
		pthread_mutex_consistent(m);
	}
	CS_HOOK(CS_HOOK_LOCKED, is_alloc ? CS_HOOK_ALLOC :
	    (uint32_t)(m - cs_locks));
}

static void
cs_unlock(pthread_mutex_t *m)
{
	pthread_mutex_unlock(m);
}

static pthread_mutex_t *
cs_stripe(uint64_t hash)
{
	return &cs_locks[(hash % cs->nentries) % CS_STRIPES];
}

/*
 * Free an entry's blocks and the entry (allocator lock held).  Each block
 * leaves the chain before it goes on the free list, and the entry is
 * marked free last: a death anywhere leaves a chain a repair can use.
 */
static void
cs_free_locked(uint32_t e)
{
	struct cs_entry	*en = &cs_entries[e];
	uint32_t	 b;

	while ((b = en->first) != CS_NONE) {
		en->first = cs_links[b].next;
		cs_links[b].owner = CS_NONE;
		cs_links[b].next = cs->free_block;
		cs->free_block = b;
		cs->free_blocks++;
		CS_HOOK(CS_HOOK_FREEING, b);
	}
	if (en->counted) {
		en->counted = 0;
		atomic_fetch_sub(&cs->objects, 1);
		atomic_fetch_sub(&cs->bytes, en->len);
	}
	en->last = CS_NONE;
	en->nblocks = 0;
	en->len = 0;
	en->next = cs->free_entry;
	cs_set_state(e, CS_S_FREE);
	cs->free_entry = e;
}

static void
cs_free(uint32_t e)
{
	cs_lock(&cs->alloc_lock, 1);
	cs_free_locked(e);
	cs_unlock(&cs->alloc_lock);
}

/* Unlink e from its bucket (its stripe lock held). */
static void
cs_unlink(uint32_t e)
{
	uint32_t	*pp = &cs_buckets[cs_entries[e].hash % cs->nentries];

	while (*pp != CS_NONE && *pp != e)
		pp = &cs_entries[*pp].next;
	if (*pp == e)
		*pp = cs_entries[e].next;
}

/*
 * Drop e (READY or PASS) from the index: freed now, or by its last
 * reader when it leaves (its stripe lock held).  Marking it DEAD and
 * reading its references is one step, so exactly one of the two frees
 * it; marked before it is unlinked, so a death in between leaves it DEAD
 * where the master finds it (cs_reclaim).
 */
static void
cs_kill(uint32_t e)
{
	struct cs_entry	*en = &cs_entries[e];
	uint64_t	 v;

	CS_HOOK(CS_HOOK_KILL, e);
	v = atomic_load(&en->sr);
	while (!atomic_compare_exchange_weak(&en->sr, &v,
	    CS_SR(CS_S_DEAD, CS_REFS(v))))
		continue;
	cs_unlink(e);
	if (CS_REFS(v) == 0) {
		CS_HOOK(CS_HOOK_UNLINKED, e);
		cs_free(e);
	}
}

/*
 * Free e if it is DEAD and nobody holds it: such an entry is garbage, and
 * whoever gets its stripe lock first frees it (its last reader, or the
 * master after a worker died on the way).  No lock held.
 */
static void
cs_reclaim(uint32_t e)
{
	struct cs_entry	*en = &cs_entries[e];
	pthread_mutex_t	*m = cs_stripe(en->hash);

	cs_lock(m, 0);
	/* freed and reused meanwhile, maybe in another stripe: not ours */
	if (cs_stripe(en->hash) == m &&
	    atomic_load(&en->sr) == CS_SR(CS_S_DEAD, 0)) {
		cs_unlink(e);
		cs_free(e);
	}
	cs_unlock(m);
}

/*
 * Let go of slot i's (absolute) reference to e.  Under e's stripe lock,
 * as it was taken, and forgotten by the slot before it is uncounted, so
 * that a repair of the stripe can count again (cs_stripe_repair).  The
 * last reader of a DEAD entry frees it.
 */
static void
cs_let_go(uint32_t i, uint32_t e)
{
	struct cs_entry	*en = &cs_entries[e];
	pthread_mutex_t	*m = cs_stripe(en->hash);	/* held: stays put */

	cs_lock(m, 0);
	if (atomic_load(&cs_slots[i].ref) == e + 1)
		atomic_store(&cs_slots[i].ref, 0);
	CS_HOOK(CS_HOOK_RELEASE, e);
	if (atomic_fetch_sub(&en->sr, 1) == CS_SR(CS_S_DEAD, 1)) {
		cs_unlink(e);
		cs_free(e);
	}
	cs_unlock(m);
}

/*
 * A worker died holding stripe m: maybe halfway through taking or letting
 * go of a reference, or through removing an entry.  References are taken
 * and let go only under this lock, recorded in the slot before they are
 * counted and forgotten before they are uncounted, so the slots say who
 * holds what: count the references of the stripe's entries again, and
 * free the DEAD ones nobody holds.
 */
static void
cs_stripe_repair(pthread_mutex_t *m)
{
	struct cs_entry	*en;
	uint32_t	 e, i, st;

	log_warnx("cache: repairing a stripe after a worker died holding "
	    "its lock");
	for (e = 0; e < cs->nentries; e++) {
		en = &cs_entries[e];
		st = cs_state(e);
		if ((st == CS_S_READY || st == CS_S_DEAD) &&
		    cs_stripe(en->hash) == m)
			atomic_store(&en->sr, CS_SR(st, 0));
	}
	for (i = 0; i < CS_SLOTS; i++) {
		e = atomic_load(&cs_slots[i].ref);
		if (e == 0 || e > cs->nentries)
			continue;
		en = &cs_entries[--e];
		st = cs_state(e);
		if ((st == CS_S_READY || st == CS_S_DEAD) &&
		    cs_stripe(en->hash) == m)
			atomic_fetch_add(&en->sr, 1);
	}
	for (e = 0; e < cs->nentries; e++)
		if (atomic_load(&cs_entries[e].sr) == CS_SR(CS_S_DEAD, 0) &&
		    cs_stripe(cs_entries[e].hash) == m) {
			cs_unlink(e);
			cs_free(e);
		}
}

/* Evict one object by CLOCK; 0 when nothing could be evicted. */
static int
cs_evict_one(void)
{
	struct cs_entry	*en;
	pthread_mutex_t	*m;
	uint32_t	 i, e;

	for (i = 0; i < 2 * cs->nentries; i++) {
		e = __atomic_fetch_add(&cs->hand, 1, __ATOMIC_RELAXED) %
		    cs->nentries;
		en = &cs_entries[e];
		if (cs_state(e) == CS_S_PASS &&
		    (util_now_ms() >= en->expires ||
		    atomic_exchange(&en->clock, 0) == 0)) {
			/*
			 * A "go to the origin" marker that expired, or that
			 * no request met since the hand last passed: markers
			 * for many distinct URLs cannot crowd objects out.
			 */
			m = cs_stripe(en->hash);
			CS_HOOK(CS_HOOK_EVICT, e);
			cs_lock(m, 0);
			/* reused meanwhile, maybe under another stripe? */
			if (cs_stripe(en->hash) == m &&
			    cs_state(e) == CS_S_PASS) {
				cs_kill(e);
				cs_unlock(m);
				return 1;
			}
			cs_unlock(m);
			continue;
		}
		if (atomic_load(&en->sr) != CS_SR(CS_S_READY, 0))
			continue;
		if (atomic_exchange(&en->clock, 0) != 0)
			continue;	/* used lately: a second chance */
		m = cs_stripe(en->hash);
		CS_HOOK(CS_HOOK_EVICT, e);
		cs_lock(m, 0);
		if (cs_stripe(en->hash) == m &&
		    atomic_load(&en->sr) == CS_SR(CS_S_READY, 0)) {
			cs_kill(e);
			atomic_fetch_add(&cs->evictions, 1);
			cs_unlock(m);
			return 1;
		}
		cs_unlock(m);
	}
	return 0;
}

/*
 * A FILLING entry for the worker in slot.  It leaves the free list
 * marked, with its filler, in one step under the lock: a repair cannot
 * hand it out again, and the master finds it if that worker dies.
 */
static uint32_t
cs_entry_alloc(unsigned slot)
{
	struct cs_entry	*en;
	uint32_t	 e;

	for (;;) {
		cs_lock(&cs->alloc_lock, 1);
		if ((e = cs->free_entry) != CS_NONE) {
			en = &cs_entries[e];
			en->filler = CS_SLOT_ID(slot);
			en->first = en->last = CS_NONE;
			en->nblocks = 0;
			cs_set_state(e, CS_S_FILLING);
			cs->free_entry = en->next;
			cs_unlock(&cs->alloc_lock);
			CS_HOOK(CS_HOOK_POPPED, e);
			return e;
		}
		cs_unlock(&cs->alloc_lock);
		if (!cs_evict_one())
			return CS_NONE;
	}
}

/* Append a block to e's chain; CS_NONE when none can be had. */
static uint32_t
cs_block_alloc(uint32_t e)
{
	struct cs_entry	*en = &cs_entries[e];
	uint32_t	 b;

	for (;;) {
		cs_lock(&cs->alloc_lock, 1);
		if ((b = cs->free_block) != CS_NONE) {
			cs->free_block = cs_links[b].next;
			cs->free_blocks--;
			cs_links[b].next = CS_NONE;
			cs_links[b].owner = e;
			if (en->last == CS_NONE)
				en->first = b;
			else
				cs_links[en->last].next = b;
			en->last = b;
			en->nblocks++;
			cs_unlock(&cs->alloc_lock);
			return b;
		}
		cs_unlock(&cs->alloc_lock);
		if (!cs_evict_one())
			return CS_NONE;
	}
}

/* Compare the stored key of e with key. */
static int
cs_key_eq(uint32_t e, const char *key, size_t klen)
{
	const struct cs_entry	*en = &cs_entries[e];
	uint32_t		 b = en->first;
	size_t			 off = 0, n;

	if (en->key_len != klen)
		return 0;
	while (off < klen && b != CS_NONE) {
		n = klen - off < CS_BLOCK ? klen - off : CS_BLOCK;
		if (memcmp(cs_data + (size_t)b * CS_BLOCK, key + off, n) != 0)
			return 0;
		off += n;
		b = cs_links[b].next;
	}
	return off == klen;
}

/* Do entries a and b hold the same key? */
static int
cs_same_key(uint32_t a, uint32_t b)
{
	uint32_t	 ba = cs_entries[a].first, bb = cs_entries[b].first;
	size_t		 left = cs_entries[a].key_len, n;

	if (left != cs_entries[b].key_len)
		return 0;
	while (left > 0 && ba != CS_NONE && bb != CS_NONE) {
		n = left < CS_BLOCK ? left : CS_BLOCK;
		if (memcmp(cs_data + (size_t)ba * CS_BLOCK,
		    cs_data + (size_t)bb * CS_BLOCK, n) != 0)
			return 0;
		left -= n;
		ba = cs_links[ba].next;
		bb = cs_links[bb].next;
	}
	return left == 0;
}

/* Find key in its bucket (stripe lock held); CS_NONE if absent. */
static uint32_t
cs_find(uint64_t h, const char *key, size_t klen)
{
	uint32_t	 e, other = CS_NONE;

	/*
	 * A stored object wins over a fill of the same key in progress:
	 * while one request refreshes it, the others may still use it.
	 */
	for (e = cs_buckets[h % cs->nentries]; e != CS_NONE;
	    e = cs_entries[e].next)
		if (cs_entries[e].hash == h && cs_key_eq(e, key, klen)) {
			if (cs_state(e) == CS_S_READY)
				return e;
			if (other == CS_NONE && cs_state(e) != CS_S_DEAD)
				other = e;
		}
	return other;
}

/* Judge what was found; references a READY object. */
static enum cs_lookup
cs_found(uint32_t e, int64_t now_ms, unsigned slot, void *meta)
{
	struct cs_entry	*en = &cs_entries[e];

	switch (cs_state(e)) {
	case CS_S_READY:
		/*
		 * Under the stripe lock: nobody kills it meanwhile.  Recorded
		 * before it is counted, for a repair (cs_stripe_repair).
		 */
		atomic_store(&CS_SLOT(slot)->ref, e + 1);
		CS_HOOK(CS_HOOK_TAKE, e);
		atomic_fetch_add(&en->sr, 1);
		atomic_store_explicit(&en->clock, 1, memory_order_relaxed);
		if (meta != NULL)
			memcpy(meta, en->meta, CS_META);
		return CS_HIT;
	case CS_S_FILLING:
		return CS_FILLING;
	case CS_S_PASS:
		if (now_ms < en->expires) {
			atomic_store_explicit(&en->clock, 1,
			    memory_order_relaxed);
			return CS_PASS;
		}
		cs_kill(e);
		return CS_MISS;
	default:
		return CS_MISS;
	}
}

enum cs_lookup
cache_store_lookup(const char *key, size_t klen, int64_t now_ms,
    unsigned slot, uint32_t *idx, void *meta)
{
	uint64_t	 h = util_hash64(key, klen, 0);
	pthread_mutex_t	*m = cs_stripe(h);
	enum cs_lookup	 r = CS_MISS;
	uint32_t	 e;

	if (cs == NULL)
		return CS_MISS;
	cs_lock(m, 0);
	if ((e = cs_find(h, key, klen)) != CS_NONE) {
		r = cs_found(e, now_ms, slot, meta);
		*idx = e;
	}
	cs_unlock(m);
	return r;
}

void
cache_store_release(uint32_t idx, unsigned slot)
{
	cs_let_go(CS_SLOT_ID(slot), idx);
}

_Static_assert(CS_GATE_FIRST + CS_GATE_SLOTS == CS_HALF,
    "the gate's slots end the half");

int
cache_store_hand(uint32_t idx)
{
	struct cs_entry	*en;
	pthread_mutex_t	*m;
	uint32_t	 none, st;
	unsigned	 s;

	if (cs == NULL || idx >= cs->nentries)
		return -1;
	en = &cs_entries[idx];
	m = cs_stripe(en->hash);	/* referenced: stays put */
	cs_lock(m, 0);
	st = cs_state(idx);
	for (s = CS_GATE_FIRST; s < CS_HALF && (st == CS_S_READY ||
	    st == CS_S_DEAD); s++) {
		/* other stripes hand over too: a slot is claimed whole */
		none = 0;
		if (!atomic_compare_exchange_strong(&CS_SLOT(s)->ref, &none,
		    idx + 1))
			continue;
		CS_HOOK(CS_HOOK_TAKE, idx);
		atomic_fetch_add(&en->sr, 1);
		cs_unlock(m);
		return (int)s;
	}
	cs_unlock(m);
	return -1;
}

int
cache_store_holds(uint32_t idx, unsigned slot)
{
	return cs != NULL && atomic_load(&CS_SLOT(slot)->ref) == idx + 1;
}

void
cache_store_reap_gate(void)
{
	if (cs == NULL)
		return;
	cs_reap(CS_SLOT_ID(CS_GATE_FIRST), CS_SLOT_ID(CS_GATE_FIRST) +
	    CS_GATE_SLOTS);
}

void
cache_store_sizes(uint32_t idx, size_t *head, uint64_t *body)
{
	const struct cs_entry	*en = &cs_entries[idx];

	*head = en->head_len;
	*body = en->len - en->key_len - en->head_len;
}

int
cache_store_iov(uint32_t idx, uint64_t off, uint64_t len, struct iovec *iov,
    int niov, uint64_t *covered)
{
	const struct cs_entry	*en = &cs_entries[idx];
	uint32_t		 b = en->first;
	uint64_t		 pos, skip, n;
	int			 k = 0;

	*covered = 0;
	/* the caller's offsets start after the key */
	pos = off + en->key_len;
	if (pos + len > en->len)
		len = en->len - pos;
	skip = pos / CS_BLOCK;
	while (skip-- > 0 && b != CS_NONE)
		b = cs_links[b].next;
	pos %= CS_BLOCK;
	while (len > 0 && k < niov && b != CS_NONE) {
		n = CS_BLOCK - pos < len ? CS_BLOCK - pos : len;
		iov[k].iov_base = cs_data + (size_t)b * CS_BLOCK + pos;
		iov[k].iov_len = (size_t)n;
		k++;
		*covered += n;
		len -= n;
		pos = 0;
		b = cs_links[b].next;
	}
	return k;
}

enum cs_lookup
cache_store_fill_begin(const char *key, size_t klen, unsigned slot,
    int64_t now_ms, uint32_t *idx)
{
	uint64_t	 h = util_hash64(key, klen, 0);
	pthread_mutex_t	*m = cs_stripe(h);
	struct cs_entry	*en;
	enum cs_lookup	 r;
	uint32_t	 e, old;

	if (cs == NULL || klen > UINT32_MAX / 2)
		return CS_PASS;
	/*
	 * FILLING and ours from here on, as its filler says: a worker killed
	 * at any later point leaves an entry cache_store_reap gives back
	 * (unlinked or not), never one that stays FILLING for good.
	 */
	if ((e = cs_entry_alloc(slot)) == CS_NONE)
		return CS_PASS;
	en = &cs_entries[e];
	en->hash = h;
	memset(en->meta, 0, sizeof(en->meta));
	en->len = 0;
	en->key_len = 0;
	en->head_len = 0;
	en->counted = 0;
	atomic_store(&en->clock, 0);
	if (cache_store_fill_append(e, key, klen) == -1) {
		cs_free(e);
		return CS_PASS;
	}
	en->key_len = (uint32_t)klen;
	cs_lock(m, 0);
	/* someone else filling the same key wins: we wait on theirs */
	for (old = cs_buckets[h % cs->nentries]; old != CS_NONE;
	    old = cs_entries[old].next)
		if (old != e && cs_entries[old].hash == h &&
		    cs_key_eq(old, key, klen) && (cs_state(old) ==
		    CS_S_FILLING || (cs_state(old) == CS_S_PASS &&
		    now_ms < cs_entries[old].expires))) {
			r = cs_state(old) == CS_S_FILLING ? CS_FILLING :
			    CS_PASS;
			cs_unlock(m);
			cs_free(e);
			*idx = old;
			return r;
		}
	en->next = cs_buckets[h % cs->nentries];
	cs_buckets[h % cs->nentries] = e;
	cs_unlock(m);
	*idx = e;
	return CS_MISS;
}

int
cache_store_fill_append(uint32_t idx, const void *data, size_t len)
{
	struct cs_entry	*en = &cs_entries[idx];
	const char	*p = data;
	size_t		 room, n;

	while (len > 0) {
		room = en->len % CS_BLOCK == 0 ? 0 : CS_BLOCK -
		    en->len % CS_BLOCK;
		if (room == 0) {
			if (cs_block_alloc(idx) == CS_NONE)
				return -1;
			room = CS_BLOCK;
		}
		n = len < room ? len : room;
		memcpy(cs_data + (size_t)en->last * CS_BLOCK +
		    en->len % CS_BLOCK, p, n);
		en->len += n;
		p += n;
		len -= n;
	}
	return 0;
}

void
cache_store_fill_commit(uint32_t idx, size_t head_len, const void *meta,
    unsigned slot)
{
	struct cs_entry	*en = &cs_entries[idx];
	pthread_mutex_t	*m = cs_stripe(en->hash);
	uint32_t	 e, next, st;

	(void)slot;
	en->head_len = (uint32_t)head_len;
	memcpy(en->meta, meta, CS_META);
	cs_lock(m, 0);
	/* the new object replaces any older one of the same key */
	for (e = cs_buckets[en->hash % cs->nentries]; e != CS_NONE; e = next) {
		next = cs_entries[e].next;
		st = cs_state(e);
		if (e != idx && cs_entries[e].hash == en->hash &&
		    cs_entries[e].key_len == en->key_len &&
		    (st == CS_S_READY || st == CS_S_PASS) &&
		    cs_same_key(e, idx))
			cs_kill(e);
	}
	en->counted = 1;
	atomic_fetch_add(&cs->objects, 1);
	atomic_fetch_add(&cs->bytes, en->len);
	atomic_store(&en->clock, 1);
	cs_set_state(idx, CS_S_READY);
	cs_unlock(m);
}

void
cache_store_fill_abort(uint32_t idx, unsigned slot, int64_t pass_ms)
{
	struct cs_entry	*en = &cs_entries[idx];
	pthread_mutex_t	*m = cs_stripe(en->hash);

	(void)slot;
	cs_lock(m, 0);
	if (pass_ms > 0) {
		/* the key stays, as a "go to the origin" marker */
		en->expires = util_now_ms() + pass_ms;
		atomic_store(&en->clock, 1);
		cs_set_state(idx, CS_S_PASS);
		cs_unlock(m);
		return;
	}
	cs_unlink(idx);
	cs_free(idx);
	cs_unlock(m);
}

enum cs_lookup
cache_store_state(uint32_t idx, const char *key, size_t klen)
{
	struct cs_entry	*en = &cs_entries[idx];
	pthread_mutex_t	*m = cs_stripe(en->hash);
	enum cs_lookup	 r = CS_MISS;

	cs_lock(m, 0);
	/* the entry may have been reused for another key meanwhile */
	if (cs_stripe(en->hash) == m && cs_key_eq(idx, key, klen))
		switch (cs_state(idx)) {
		case CS_S_FILLING:
			r = CS_FILLING;
			break;
		case CS_S_READY:
			r = CS_HIT;
			break;
		case CS_S_PASS:
			r = CS_PASS;
			break;
		default:
			break;
		}
	cs_unlock(m);
	return r;
}

unsigned
cache_store_remove(const char *key, size_t klen)
{
	uint64_t	 h = util_hash64(key, klen, 0);
	pthread_mutex_t	*m = cs_stripe(h);
	uint32_t	 e, next, st;
	unsigned	 n = 0;

	if (cs == NULL)
		return 0;
	cs_lock(m, 0);
	for (e = cs_buckets[h % cs->nentries]; e != CS_NONE; e = next) {
		next = cs_entries[e].next;
		st = cs_state(e);
		if (cs_entries[e].hash == h && cs_key_eq(e, key, klen) &&
		    (st == CS_S_READY || st == CS_S_PASS)) {
			cs_kill(e);
			n++;
		}
	}
	cs_unlock(m);
	return n;
}

/* Does the stored key of e start with prefix? */
static int
cs_key_prefix(uint32_t e, const char *prefix, size_t plen)
{
	const struct cs_entry	*en = &cs_entries[e];
	uint32_t		 b = en->first;
	size_t			 off = 0, n;

	if (en->key_len < plen)
		return 0;
	while (off < plen && b != CS_NONE) {
		n = plen - off < CS_BLOCK ? plen - off : CS_BLOCK;
		if (memcmp(cs_data + (size_t)b * CS_BLOCK, prefix + off,
		    n) != 0)
			return 0;
		off += n;
		b = cs_links[b].next;
	}
	return off == plen;
}

unsigned
cache_store_remove_prefix(const char *prefix, size_t plen)
{
	struct cs_entry	*en;
	pthread_mutex_t	*m;
	uint32_t	 e;
	unsigned	 n = 0;

	if (cs == NULL)
		return 0;
	for (e = 0; e < cs->nentries; e++) {
		en = &cs_entries[e];
		if (cs_state(e) != CS_S_READY || en->key_len < plen)
			continue;
		m = cs_stripe(en->hash);
		CS_HOOK(CS_HOOK_PREFIX, e);
		cs_lock(m, 0);
		/* reused meanwhile, maybe under another stripe? */
		if (cs_stripe(en->hash) == m && cs_state(e) == CS_S_READY &&
		    cs_key_prefix(e, prefix, plen)) {
			cs_kill(e);
			n++;
		}
		cs_unlock(m);
	}
	return n;
}

/*
 * Release what the workers of slots [lo, hi) (absolute) held: their
 * references, every fill they had begun, and the dead entries any
 * worker left on its way to freeing them.
 */
static void
cs_reap(uint32_t lo, uint32_t hi)
{
	struct cs_entry	*en;
	uint32_t	 i, e;
	uint64_t	 v;

	for (i = lo; i < hi; i++)
		if ((e = atomic_load(&cs_slots[i].ref)) != 0)
			cs_let_go(i, e - 1);
	for (e = 0; e < cs->nentries; e++) {
		en = &cs_entries[e];
		v = atomic_load(&en->sr);
		if (CS_ST(v) == CS_S_FILLING && en->filler >= lo &&
		    en->filler < hi)
			cache_store_fill_abort(e, 0, 0);
		else if (v == CS_SR(CS_S_DEAD, 0))
			cs_reclaim(e);
	}
}

void
cache_store_reap(unsigned slot)
{
	if (cs == NULL)
		return;
	cs_reap(CS_SLOT_ID(slot), CS_SLOT_ID(slot) + 1);
}

void
cache_store_stats(struct cs_stats *st)
{
	memset(st, 0, sizeof(*st));
	if (cs == NULL)
		return;
	st->objects = atomic_load(&cs->objects);
	st->bytes = atomic_load(&cs->bytes);
	st->evictions = atomic_load(&cs->evictions);
	st->capacity = (uint64_t)cs->nblocks * CS_BLOCK;
}
