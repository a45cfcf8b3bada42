/*
 * check_cache_store.c - the shared object store: objects in and out,
 * replacement, eviction, coalescing markers, and the hard part: children
 * hammering the same keys at once, and a child killed while it holds a
 * lock or a fill.
 */
#include <sys/mman.h>
#include <sys/wait.h>
#include <check.h>
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

/* Store key -> "head" + body of n bytes of c. */
static int
put(const char *key, char c, size_t n)
{
	unsigned char	 meta[CS_META];
	char		*body = malloc(n);
	uint32_t	 idx;

	memset(body, c, n);
	memset(meta, c, sizeof(meta));
	if (cache_store_fill_begin(key, strlen(key), 1, util_now_ms(),
	    &idx) != CS_MISS) {
		free(body);
		return -1;
	}
	if (cache_store_fill_append(idx, "head", 4) == -1 ||
	    cache_store_fill_append(idx, body, n) == -1) {
		cache_store_fill_abort(idx, 1, 0);
		free(body);
		return -1;
	}
	cache_store_fill_commit(idx, 4, meta, 1);
	free(body);
	return 0;
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
 * Kill children at random moments while they fill and read; the store
 * must go on working: robust locks recover, the dead child's fill and
 * reference are released as the master would (cache_store_reap).
 */
START_TEST(test_killed_children)
{
	pid_t	 pid;
	int	 round, j, st;
	char	 key[16];

	setup(1024 * 1024);
	for (round = 0; round < 30; round++) {
		if ((pid = fork()) == 0) {
			for (j = 0;; j++) {
				snprintf(key, sizeof(key), "k%d", j % 5);
				(void)put(key, 'q', (size_t)(j % 9) * 1500);
				(void)peek(key, 'q');
			}
		}
		ck_assert_int_gt(pid, 0);
		usleep((useconds_t)(1000 + (round * 7919) % 5000));
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
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
	teardown();
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
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
