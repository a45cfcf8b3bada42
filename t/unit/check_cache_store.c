/*
 * check_cache_store.c - the shared object store: objects in and out,
 * replacement, eviction, coalescing markers, and the hard part: children
 * hammering the same keys at once, and a child killed while it holds a
 * lock or a fill.
 */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <check.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache_store.h"
#include "util.h"

static void	*mem;
static size_t	 memlen;

static void
setup(uint64_t size)
{
	memlen = cache_store_size(size);
	mem = mmap(NULL, memlen, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert_ptr_ne(mem, MAP_FAILED);
	ck_assert_int_eq(cache_store_init(mem, memlen, size, 1), 0);
}

static void
teardown(void)
{
	munmap(mem, memlen);
}

/* Store key -> "head" + body of n bytes of c, as the worker in slot. */
static int
put_in(unsigned slot, const char *key, char c, size_t n)
{
	unsigned char	 meta[CS_META];
	char		*body = malloc(n);
	uint32_t	 idx;

	memset(body, c, n);
	memset(meta, c, sizeof(meta));
	if (cache_store_fill_begin(key, strlen(key), slot, util_now_ms(),
	    &idx) != CS_MISS) {
		free(body);
		return -1;
	}
	if (cache_store_fill_append(idx, "head", 4) == -1 ||
	    cache_store_fill_append(idx, body, n) == -1) {
		cache_store_fill_abort(idx, slot, 0);
		free(body);
		return -1;
	}
	cache_store_fill_commit(idx, 4, meta, slot);
	free(body);
	return 0;
}

static int
put(const char *key, char c, size_t n)
{
	return put_in(1, key, c, n);
}

/*
 * Read key's body back: its length, -1 when absent, -2 when any byte is
 * wrong.  No ck_assert here: children call it too, and check's messages
 * must only come from the process check forked.
 */
static long
peek(const char *key, char c)
{
	unsigned char	 meta[CS_META];
	struct iovec	 iov[16];
	uint64_t	 body, off, covered;
	size_t		 head, i;
	uint32_t	 idx;
	int		 k, j;
	long		 rc;

	if (cache_store_lookup(key, strlen(key), util_now_ms(), 2, &idx,
	    meta) != CS_HIT)
		return -1;
	cache_store_sizes(idx, &head, &body);
	rc = meta[0] == (unsigned char)c && head == 4 ? (long)body : -2;
	for (off = head; rc >= 0 && off < head + body; off += covered) {
		k = cache_store_iov(idx, off, head + body - off, iov, 16,
		    &covered);
		if (k <= 0) {
			rc = -2;
			break;
		}
		for (j = 0; j < k; j++)
			for (i = 0; i < iov[j].iov_len; i++)
				if (((char *)iov[j].iov_base)[i] != c)
					rc = -2;
	}
	cache_store_release(idx, 2);
	return rc;
}

static long
get(const char *key, char c)
{
	long	 n = peek(key, c);

	ck_assert_int_ne(n, -2);
	return n;
}

START_TEST(test_put_get_replace)
{
	setup(1024 * 1024);
	ck_assert_int_eq(get("k1", 'a'), -1);
	ck_assert_int_eq(put("k1", 'a', 10000), 0);
	ck_assert_int_eq(get("k1", 'a'), 10000);
	ck_assert_int_eq(put("k1", 'b', 100), 0);	/* replaces */
	ck_assert_int_eq(get("k1", 'b'), 100);
	ck_assert_int_eq(put("k10", 'c', 0), 0);	/* similar key */
	ck_assert_int_eq(get("k10", 'c'), 0);
	ck_assert_int_eq(get("k1", 'b'), 100);
	ck_assert_uint_eq(cache_store_remove("k1", 2), 1);
	ck_assert_int_eq(get("k1", 'b'), -1);
	ck_assert_uint_eq(cache_store_remove_prefix("k", 1), 1);
	ck_assert_int_eq(get("k10", 'c'), -1);
	teardown();
}
END_TEST

START_TEST(test_eviction)
{
	char		 key[32];
	int		 i, found = 0;
	struct cs_stats	 st;

	setup(256 * 1024);			/* 64 blocks */
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "obj%d", i);
		ck_assert_int_eq(put(key, 'x', 8000), 0);
	}
	for (i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "obj%d", i);
		if (get(key, 'x') == 8000)
			found++;
	}
	cache_store_stats(&st);
	ck_assert_int_gt(found, 10);
	ck_assert_int_lt(found, 100);
	ck_assert_uint_gt(st.evictions, 0);
	ck_assert_uint_le(st.bytes, st.capacity);
	teardown();
}
END_TEST

START_TEST(test_filling_and_pass)
{
	uint32_t	 a, b;

	setup(1024 * 1024);
	ck_assert_int_eq(cache_store_fill_begin("u", 1, 1, util_now_ms(),
	    &a), CS_MISS);
	/* a second filler waits on the first */
	ck_assert_int_eq(cache_store_fill_begin("u", 1, 2, util_now_ms(),
	    &b), CS_FILLING);
	ck_assert_uint_eq(a, b);
	ck_assert_int_eq(cache_store_state(a, "u", 1), CS_FILLING);
	/* uncacheable: the waiters go, and so do the next requests */
	cache_store_fill_abort(a, 1, 60000);
	ck_assert_int_eq(cache_store_state(a, "u", 1), CS_PASS);
	ck_assert_int_eq(cache_store_lookup("u", 1, util_now_ms(), 1, &b,
	    NULL), CS_PASS);
	/* after the marker expires, the key can be filled again */
	ck_assert_int_eq(cache_store_lookup("u", 1, util_now_ms() + 61000,
	    1, &b, NULL), CS_MISS);
	ck_assert_int_eq(put("u", 'z', 10), 0);
	ck_assert_int_eq(get("u", 'z'), 10);
	teardown();
}
END_TEST

/*
 * Markers of many uncacheable URLs, none met again, do not keep new
 * objects out of a full store; a marker in use outlives a sweep.
 */
START_TEST(test_pass_markers_evicted)
{
	char		 key[32], last[32] = "";
	uint32_t	 idx;
	int		 i, marked = 0;

	setup(256 * 1024);			/* 64 blocks */
	for (i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "pass%d", i);
		if (cache_store_fill_begin(key, strlen(key), 1, util_now_ms(),
		    &idx) != CS_MISS)
			continue;
		cache_store_fill_abort(idx, 1, 3600 * 1000);
		marked++;
		memcpy(last, key, sizeof(last));
	}
	ck_assert_int_gt(marked, 32);
	/* the last marker is met again and again while objects come in */
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "obj%d", i);
		ck_assert_int_eq(cache_store_lookup(last, strlen(last),
		    util_now_ms(), 1, &idx, NULL), CS_PASS);
		ck_assert_int_eq(put(key, 'o', 8000), 0);
		ck_assert_int_eq(get(key, 'o'), 8000);
	}
	ck_assert_int_eq(cache_store_lookup(last, strlen(last), util_now_ms(),
	    1, &idx, NULL), CS_PASS);
	teardown();
}
END_TEST

/*
 * Another binary takes the store over only when size and format agree,
 * and finds what the first one stored; a reference the first one's
 * worker holds is not dropped by the newcomer's reaping of its slots.
 */
START_TEST(test_adopt)
{
	struct cs_stats	 st;
	uint32_t	 idx;

	setup(1024 * 1024);
	ck_assert_int_eq(put("kept", 'k', 5000), 0);
	ck_assert_int_eq(cache_store_adopt(mem, memlen, 1024 * 1024, 2), -1);
	ck_assert_int_eq(cache_store_adopt(mem, memlen, 2048 * 1024, 1), -1);
	ck_assert_int_eq(cache_store_adopt(mem, memlen - 4096, 1024 * 1024,
	    1), -1);
	/* the first master's worker in slot 3 holds a reference */
	ck_assert_int_eq(cache_store_lookup("kept", 4, util_now_ms(), 3, &idx,
	    NULL), CS_HIT);
	ck_assert_int_eq(cache_store_adopt(mem, memlen, 1024 * 1024, 1), 0);
	ck_assert_int_eq(get("kept", 'k'), 5000);
	/* removed while referenced: it stays until that reference goes */
	ck_assert_uint_eq(cache_store_remove("kept", 4), 1);
	cache_store_stats(&st);
	ck_assert_uint_eq(st.objects, 1);
	teardown();
}
END_TEST

/* Children store and read the same few keys; every read is whole. */
START_TEST(test_children_hammer)
{
	pid_t	 pids[6];
	int	 i, j, st, bad = 0;
	char	 key[16];

	setup(2 * 1024 * 1024);
	for (i = 0; i < 6; i++) {
		if ((pids[i] = fork()) == 0) {
			for (j = 0; j < 600; j++) {
				snprintf(key, sizeof(key), "hot%d", j % 7);
				if (j % 3 == 0)
					(void)put(key, (char)('a' + j % 7),
					    (size_t)(j % 13) * 700);
				else if (peek(key, (char)('a' + j % 7)) == -2)
					_exit(1);	/* torn or wrong */
			}
			_exit(0);
		}
		ck_assert_int_gt(pids[i], 0);
	}
	for (i = 0; i < 6; i++) {
		waitpid(pids[i], &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	}
	ck_assert_int_eq(bad, 0);
	for (i = 0; i < 7; i++) {
		snprintf(key, sizeof(key), "hot%d", i);
		(void)get(key, (char)('a' + i));
	}
	teardown();
}
END_TEST

/*
 * Stepping other processes through the store.  A party is a forked child
 * with a pipe each way: it stops where the store calls the hook armed in
 * it (or where its own code says), tells the parent what it stopped at,
 * and goes on when told, unless it is killed there.
 */
struct party {
	pid_t	 pid;
	int	 up;		/* child -> parent */
	int	 down;		/* parent -> child */
};

static int		 hook_at = -1;		/* the armed point, once */
static uint32_t		 hook_match = UINT32_MAX;	/* any x */
static unsigned		 hook_skip;		/* matches to let pass */
static void		(*hook_fn)(uint32_t);	/* in-process action */
static int		 hook_fired;
static int		 party_up = -1, party_down = -1;	/* in a child */

/* In a child: tell the parent x, wait for its word (or death). */
static void
party_stop(uint32_t x)
{
	char	 c;

	if (write(party_up, &x, sizeof(x)) != sizeof(x) ||
	    read(party_down, &c, 1) != 1)
		_exit(3);
}

static void
test_hook(enum cs_hook p, uint32_t x)
{
	if ((int)p != hook_at || (hook_match != UINT32_MAX && x != hook_match))
		return;
	if (hook_skip > 0) {
		hook_skip--;
		return;
	}
	hook_at = -1;
	hook_fired = 1;
	if (hook_fn != NULL)
		hook_fn(x);
	else
		party_stop(x);
}

static void
hook_arm(enum cs_hook p, uint32_t match, void (*fn)(uint32_t))
{
	hook_at = (int)p;
	hook_match = match;
	hook_skip = 0;
	hook_fn = fn;
	hook_fired = 0;
	cache_store_hook = test_hook;
}

/* Fork a party running fn(arg); its exit status is fn's. */
static void
party_start(struct party *pt, int (*fn)(long), long arg)
{
	int	 up[2], down[2];

	ck_assert_int_eq(pipe(up), 0);
	ck_assert_int_eq(pipe(down), 0);
	pt->pid = fork();
	ck_assert_int_ne(pt->pid, -1);
	if (pt->pid == 0) {
		close(up[0]);
		close(down[1]);
		party_up = up[1];
		party_down = down[0];
		_exit(fn(arg));
	}
	close(up[1]);
	close(down[0]);
	pt->up = up[0];
	pt->down = down[1];
}

/* Wait (bounded) until the party stops; what it stopped at. */
static uint32_t
party_wait(struct party *pt)
{
	struct pollfd	 pfd = { pt->up, POLLIN, 0 };
	uint32_t	 x;

	ck_assert_msg(poll(&pfd, 1, 20000) == 1, "party %ld never stopped",
	    (long)pt->pid);
	ck_assert_int_eq(read(pt->up, &x, sizeof(x)), sizeof(x));
	return x;
}

static void
party_go(struct party *pt)
{
	ck_assert_int_eq(write(pt->down, "g", 1), 1);
}

/* Reap the party (killed first when sig); its exit status, or -sig. */
static int
party_end(struct party *pt, int sig)
{
	int	 st;

	if (sig != 0)
		kill(pt->pid, sig);
	ck_assert_int_eq(waitpid(pt->pid, &st, 0), pt->pid);
	close(pt->up);
	close(pt->down);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
}

/* The stripe of key in a store of 1024 entries (64 KiB to 8 MiB). */
static unsigned
stripe_of(const char *key)
{
	return (unsigned)(util_hash64(key, strlen(key), 0) % 1024 % 64);
}

static struct party	 other;		/* for in-process hook actions */

/* A reader holding a reference in slot 3 until told to let it go. */
static int
party_reader(long unused)
{
	uint32_t	 idx;

	(void)unused;
	if (cache_store_lookup("x", 1, util_now_ms(), 3, &idx, NULL) !=
	    CS_HIT)
		return 1;
	party_stop(idx);
	cache_store_release(idx, 3);
	party_stop(idx);
	return 0;
}

/* Is the party asleep on a futex (a lock held here)? */
static int
party_in_futex(pid_t pid)
{
	char	 path[64];
	FILE	*f;
	long	 nr = -1;

	snprintf(path, sizeof(path), "/proc/%ld/syscall", (long)pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	if (fscanf(f, "%ld", &nr) != 1)
		nr = -1;
	fclose(f);
	return nr == SYS_futex;
}

static int	 released;	/* the reader let go inside the removal */

/*
 * The reader goes on, inside the removal: it lets go at once (the race),
 * or it waits for the stripe lock this process holds.
 */
static void
release_now(uint32_t e)
{
	struct pollfd	 pfd = { other.up, POLLIN, 0 };
	int		 i;

	(void)e;
	party_go(&other);
	for (i = 0; i < 20000; i++) {
		if (poll(&pfd, 1, 1) == 1) {
			(void)party_wait(&other);
			released = 1;
			return;
		}
		if (party_in_futex(other.pid))
			return;
	}
	ck_abort_msg("the reader neither let go nor waited for the lock");
}

/* Fill and read the same few keys until killed at the armed step. */
static int
party_worker(long round)
{
	static const enum cs_hook points[] = {
		CS_HOOK_LOCKED, CS_HOOK_POPPED, CS_HOOK_FREEING,
		CS_HOOK_UNLINKED
	};
	char	 key[16];
	int	 j;

	hook_arm(points[round % 4], UINT32_MAX, NULL);
	hook_skip = (unsigned)(round * 7) % 23;
	for (j = 0;; j++) {
		snprintf(key, sizeof(key), "k%d", j % 5);
		(void)put(key, 'q', (size_t)(j % 9) * 1500);
		(void)peek(key, 'q');
	}
	return 0;
}

/*
 * Kill children inside the store's critical steps (a lock held, an entry
 * half taken or half given back) while they fill and read; the store
 * must go on working: robust locks recover, the dead child's fill and
 * reference are released as the master would (cache_store_reap), and
 * nothing it held is lost.
 */
START_TEST(test_killed_children)
{
	struct cs_stats	 st;
	int		 round, j;
	char		 key[16];

	setup(1024 * 1024);
	for (round = 0; round < 30; round++) {
		party_start(&other, party_worker, round);
		(void)party_wait(&other);	/* inside: kill it there */
		ck_assert_int_eq(party_end(&other, SIGKILL), -SIGKILL);
		cache_store_reap(1);
		cache_store_reap(2);
	}
	/* everything still works from this process */
	ck_assert_int_eq(put("after", 'w', 50000), 0);
	ck_assert_int_eq(get("after", 'w'), 50000);
	for (j = 0; j < 5; j++) {
		snprintf(key, sizeof(key), "k%d", j);
		(void)get(key, 'q');
		ck_assert_int_eq(put(key, 'r', 3000), 0);
		ck_assert_int_eq(get(key, 'r'), 3000);
	}
	/* and nothing the dead held stays: the whole store fills again */
	for (j = 0; j < 5; j++) {
		snprintf(key, sizeof(key), "k%d", j);
		ck_assert_uint_eq(cache_store_remove(key, strlen(key)), 1);
	}
	ck_assert_uint_eq(cache_store_remove("after", 5), 1);
	cache_store_stats(&st);
	ck_assert_uint_eq(st.objects, 0);
	ck_assert_int_eq(put("all", 'a', 256 * 4096 - 11), 0);
	ck_assert_int_eq(get("all", 'a'), 256 * 4096 - 11);
	teardown();
}
END_TEST

/*
 * Removing an object races with its last reader letting go: the reader
 * goes on just before the remover marks it dead.  Exactly one of them
 * must free it.
 */
START_TEST(test_kill_release_race)
{
	struct cs_stats	 st;

	setup(1024 * 1024);
	ck_assert_int_eq(put("x", 'x', 9000), 0);
	party_start(&other, party_reader, 0);
	(void)party_wait(&other);		/* it holds a reference */
	released = 0;
	hook_arm(CS_HOOK_KILL, UINT32_MAX, release_now);
	ck_assert_uint_eq(cache_store_remove("x", 1), 1);
	ck_assert(hook_fired);
	if (!released)
		(void)party_wait(&other);
	party_go(&other);
	ck_assert_int_eq(party_end(&other, 0), 0);
	cache_store_stats(&st);
	ck_assert_uint_eq(st.objects, 0);
	ck_assert_uint_eq(st.bytes, 0);
	teardown();
}
END_TEST

static char	 fillkeys[16][16];
static char	 victim[16], newcomer[16];

/* Sixteen one-block objects filling a 16-block store, none in B. */
static unsigned
fill_but_stripe(void)
{
	unsigned	 b, i, n;

	for (b = stripe_of("victim0"), n = 0; stripe_of(victim) != b ||
	    victim[0] == '\0'; n++)
		snprintf(victim, sizeof(victim), "fillv%u", n);
	b = stripe_of(victim);
	for (i = 0, n = 0; i < 16; n++) {
		snprintf(fillkeys[i], sizeof(fillkeys[i]), "fill%u", n);
		if (stripe_of(fillkeys[i]) == b)
			continue;
		ck_assert_int_eq(put(fillkeys[i], 'f', 1000), 0);
		i++;
	}
	for (n = 0; newcomer[0] == '\0' || stripe_of(newcomer) == b; n++)
		snprintf(newcomer, sizeof(newcomer), "new%u", n);
	return b;
}

/* Evicting (0) or purging by prefix (1), stopped before its lock. */
static int
party_evictor(long purge)
{
	hook_arm(purge ? CS_HOOK_PREFIX : CS_HOOK_EVICT, UINT32_MAX, NULL);
	if (purge)
		(void)cache_store_remove_prefix("fill", 4);
	else if (put_in(3, newcomer, 'n', 1000) == -1)
		return 1;
	party_stop(0);		/* done */
	return 0;
}

/* Inside the victim's stripe: let the other one finish meanwhile. */
static void
let_other_finish(uint32_t e)
{
	(void)e;
	party_go(&other);
	(void)party_wait(&other);
}

/*
 * Eviction and prefix purge pick an entry's stripe lock from its hash
 * before they hold any lock.  Meanwhile the entry is freed and reused for
 * a key of another stripe (B); while this process is inside B, the other
 * one goes on: it must not touch what B guards.
 */
static void
stripe_recheck(int purge)
{
	unsigned	 b;
	uint32_t	 e, idx;

	memset(victim, 0, sizeof(victim));
	memset(newcomer, 0, sizeof(newcomer));
	setup(64 * 1024);			/* 16 blocks */
	b = fill_but_stripe();
	party_start(&other, party_evictor, purge);
	e = party_wait(&other);
	/* the entry it chose goes, and comes back with the victim's key */
	ck_assert_uint_eq(cache_store_remove(fillkeys[e], strlen(fillkeys[e])),
	    1);
	ck_assert_int_eq(cache_store_fill_begin(victim, strlen(victim), 1,
	    util_now_ms(), &idx), CS_MISS);
	ck_assert_uint_eq(idx, e);
	ck_assert_int_eq(cache_store_fill_append(idx, "head", 4), 0);
	cache_store_fill_commit(idx, 4, fillkeys[e], 1);
	hook_arm(CS_HOOK_LOCKED, b, let_other_finish);
	ck_assert_int_eq(cache_store_lookup(victim, strlen(victim),
	    util_now_ms(), 2, &idx, NULL), CS_HIT);
	ck_assert(hook_fired);
	cache_store_release(idx, 2);
	party_go(&other);
	ck_assert_int_eq(party_end(&other, 0), 0);
	teardown();
}

START_TEST(test_evict_rechecks_stripe)
{
	stripe_recheck(0);
}
END_TEST

START_TEST(test_prefix_rechecks_stripe)
{
	stripe_recheck(1);
}
END_TEST

/* A background refresh: its marker and its fill, both in slot 5. */
static int
party_refresher(long unused)
{
	uint32_t	 a, b;

	(void)unused;
	if (cache_store_fill_begin("Rk", 2, 5, util_now_ms(), &a) != CS_MISS ||
	    cache_store_fill_begin("Ok", 2, 5, util_now_ms(), &b) != CS_MISS)
		return 1;
	party_stop(b);
	return 0;
}

/* A worker killed while it holds two fills leaves neither FILLING. */
START_TEST(test_killed_with_two_fills)
{
	uint32_t	 idx;

	setup(1024 * 1024);
	party_start(&other, party_refresher, 0);
	(void)party_wait(&other);
	ck_assert_int_eq(party_end(&other, SIGKILL), -SIGKILL);
	cache_store_reap(5);
	ck_assert_int_eq(cache_store_fill_begin("Rk", 2, 1, util_now_ms(),
	    &idx), CS_MISS);
	cache_store_fill_abort(idx, 1, 0);
	ck_assert_int_eq(cache_store_fill_begin("Ok", 2, 1, util_now_ms(),
	    &idx), CS_MISS);
	cache_store_fill_abort(idx, 1, 0);
	teardown();
}
END_TEST

/* put, stopping where the armed hook says (arg: the hook point). */
static int
party_putter(long point)
{
	hook_arm((enum cs_hook)point, point == CS_HOOK_LOCKED ? CS_HOOK_ALLOC :
	    UINT32_MAX, NULL);
	if (put_in(point == CS_HOOK_LOCKED ? 4 : 3, "one", 'o', 6000) == -1)
		return 1;
	return peek("one", 'o') == 6000 ? 0 : 2;
}

/*
 * One worker has taken an entry off the free list; another dies holding
 * the allocator's lock, whose next holder repairs the lists.  The entry
 * taken must not be handed out again.
 */
START_TEST(test_popped_entry_not_handed_twice)
{
	struct party	 dying;
	uint32_t	 e, idx;

	setup(1024 * 1024);
	party_start(&other, party_putter, CS_HOOK_POPPED);
	e = party_wait(&other);
	party_start(&dying, party_putter, CS_HOOK_LOCKED);
	ck_assert_uint_eq(party_wait(&dying), CS_HOOK_ALLOC);
	ck_assert_int_eq(party_end(&dying, SIGKILL), -SIGKILL);
	cache_store_reap(4);
	ck_assert_int_eq(cache_store_fill_begin("two", 3, 1, util_now_ms(),
	    &idx), CS_MISS);
	ck_assert_uint_ne(idx, e);
	cache_store_fill_abort(idx, 1, 0);
	party_go(&other);
	ck_assert_int_eq(party_end(&other, 0), 0);
	ck_assert_int_eq(get("one", 'o'), 6000);
	teardown();
}
END_TEST

/* Remove "gone", stopping where the armed hook says. */
static int
party_remover(long point)
{
	hook_arm((enum cs_hook)point, UINT32_MAX, NULL);
	return cache_store_remove("gone", 4) == 1 ? 0 : 1;
}

/*
 * A worker killed while it removes an object, after unlinking it (0) or
 * while giving its blocks back (1): once the master reaped it, the whole
 * store is there to fill again.
 */
static void
killed_in_removal(int in_free)
{
	struct cs_stats	 st;

	setup(64 * 1024);			/* 16 blocks */
	ck_assert_int_eq(put("gone", 'g', 5 * 4096), 0);
	party_start(&other, party_remover, in_free ? CS_HOOK_FREEING :
	    CS_HOOK_UNLINKED);
	(void)party_wait(&other);
	ck_assert_int_eq(party_end(&other, SIGKILL), -SIGKILL);
	cache_store_reap(1);
	cache_store_stats(&st);
	ck_assert_uint_eq(st.objects, 0);
	/* every block, key and head included */
	ck_assert_int_eq(put("all", 'a', 16 * 4096 - 11), 0);
	ck_assert_int_eq(get("all", 'a'), 16 * 4096 - 11);
	ck_assert_int_eq(get("gone", 'g'), -1);
	teardown();
}

/* Look "held" up in slot 6 and let it go, stopping where armed. */
static int
party_holder(long point)
{
	uint32_t	 idx;

	hook_arm((enum cs_hook)point, UINT32_MAX, NULL);
	if (cache_store_lookup("held", 4, util_now_ms(), 6, &idx, NULL) !=
	    CS_HIT)
		return 1;
	cache_store_release(idx, 6);
	return 0;
}

/*
 * A worker killed halfway through taking (0) or letting go of (1) a
 * reference: after the master reaped its slot, the object is no one's,
 * and removing it frees it.
 */
static void
killed_in_reference(int releasing)
{
	struct cs_stats	 st;

	setup(64 * 1024);			/* 16 blocks */
	ck_assert_int_eq(put("held", 'h', 5 * 4096), 0);
	party_start(&other, party_holder, releasing ? CS_HOOK_RELEASE :
	    CS_HOOK_TAKE);
	(void)party_wait(&other);
	ck_assert_int_eq(party_end(&other, SIGKILL), -SIGKILL);
	cache_store_reap(6);
	ck_assert_int_eq(get("held", 'h'), 5 * 4096);
	ck_assert_uint_eq(cache_store_remove("held", 4), 1);
	cache_store_stats(&st);
	ck_assert_uint_eq(st.objects, 0);
	ck_assert_int_eq(put("all", 'a', 16 * 4096 - 11), 0);
	teardown();
}

START_TEST(test_killed_taking_reference)
{
	killed_in_reference(0);
}
END_TEST

START_TEST(test_killed_releasing_reference)
{
	killed_in_reference(1);
}
END_TEST

START_TEST(test_killed_between_unlink_and_free)
{
	killed_in_removal(0);
}
END_TEST

START_TEST(test_killed_inside_free)
{
	killed_in_removal(1);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("cache_store");
	TCase	*tc = tcase_create("store");
	SRunner	*sr;
	int	 failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_put_get_replace);
	tcase_add_test(tc, test_eviction);
	tcase_add_test(tc, test_filling_and_pass);
	tcase_add_test(tc, test_pass_markers_evicted);
	tcase_add_test(tc, test_adopt);
	tcase_add_test(tc, test_children_hammer);
	tcase_add_test(tc, test_killed_children);
	tcase_add_test(tc, test_kill_release_race);
	tcase_add_test(tc, test_evict_rechecks_stripe);
	tcase_add_test(tc, test_prefix_rechecks_stripe);
	tcase_add_test(tc, test_killed_with_two_fills);
	tcase_add_test(tc, test_popped_entry_not_handed_twice);
	tcase_add_test(tc, test_killed_between_unlink_and_free);
	tcase_add_test(tc, test_killed_inside_free);
	tcase_add_test(tc, test_killed_taking_reference);
	tcase_add_test(tc, test_killed_releasing_reference);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
