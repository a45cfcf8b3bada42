/*
 * check_tail.c - the framing of response tails (tail.c), as the worker
 * and the gate drive it: input in pieces of any size, output in a buffer
 * of any room, the same bytes out.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tail.h"

#define OUTCAP	4096

/*
 * Feed in[0..len) step bytes at a time into a raw buffer and frame it
 * into a buffer of room bytes, as gate_tail.c does, until the body ends
 * or the input does (then tail_eof).  The framed bytes go to out;
 * returns their length, or -1 on malformed input, -2 when the input
 * ended short of the body.
 */
static ssize_t
drive(struct tail_state *ts, const char *in, size_t len, size_t step,
    size_t room, char *out, uint64_t *data)
{
	char		 raw[1024], *ob;
	size_t		 rlen = 0, fed = 0, olen = 0, used, k;
	uint64_t	 d;
	ssize_t		 n;

	ob = malloc(room);
	ck_assert_ptr_nonnull(ob);
	*data = 0;
	for (;;) {
		n = tail_frame(ts, raw, rlen, &used, ob, room, &d);
		if (n < 0) {
			free(ob);
			return -1;
		}
		ck_assert_uint_le((size_t)n, room);
		ck_assert_uint_le(used, rlen);
		ck_assert_uint_le(olen + (size_t)n, OUTCAP);
		memcpy(out + olen, ob, (size_t)n);
		olen += (size_t)n;
		*data += d;
		memmove(raw, raw + used, rlen - used);
		rlen -= used;
		if (ts->flags & TAIL_F_DONE)
			break;
		if (n > 0 || used > 0)
			continue;
		if (fed == len) {
			if ((n = tail_eof(ts, ob, room)) < 0) {
				free(ob);
				return -2;
			}
			memcpy(out + olen, ob, (size_t)n);
			olen += (size_t)n;
			break;
		}
		k = len - fed < step ? len - fed : step;
		ck_assert_uint_le(rlen + k, sizeof(raw));
		memcpy(raw + rlen, in + fed, k);
		rlen += k;
		fed += k;
	}
	free(ob);
	return (ssize_t)olen;
}

/* Decode chunked out[0..len) (as a client would): the data, NUL ended. */
static void
unchunk(const char *p, size_t len, char *data, char *trailers)
{
	const char	*end = p + len;
	unsigned long	 sz;
	char		*e;

	*data = *trailers = '\0';
	for (;;) {
		sz = strtoul(p, &e, 16);
		ck_assert_ptr_ne(e, p);
		ck_assert(e + 2 <= end && memcmp(e, "\r\n", 2) == 0);
		p = e + 2;
		if (sz == 0)
			break;
		ck_assert(p + sz + 2 <= end);
		strncat(data, p, sz);
		ck_assert(memcmp(p + sz, "\r\n", 2) == 0);
		p += sz + 2;
	}
	ck_assert(end - p >= 2 && memcmp(end - 2, "\r\n", 2) == 0);
	strncat(trailers, p, (size_t)(end - p));
}

static void
init(struct tail_state *ts, enum tail_mode mode, int rechunk)
{
	memset(ts, 0, sizeof(*ts));
	ts->mode = mode;
	if (rechunk)
		ts->flags |= TAIL_F_RECHUNK;
	if (mode == TAIL_CHUNKED)
		http_chunked_init(&ts->ch, 4096);
}

static const size_t	 steps[] = { 1, 2, 3, 7, 64, 1000 };
static const size_t	 rooms[] = { 2 * TAIL_FRAME_SLACK + 1, 80, 100, 4096 };

START_TEST(test_length)
{
	static const char	 in[] = "0123456789abcdefghij<next>";
	struct tail_state	 ts;
	char			 out[OUTCAP];
	uint64_t		 data;
	size_t			 i, j;
	ssize_t			 n;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		for (j = 0; j < sizeof(rooms) / sizeof(rooms[0]); j++) {
			init(&ts, TAIL_LENGTH, 0);
			ts.left = 20;
			n = drive(&ts, in, sizeof(in) - 1, steps[i], rooms[j],
			    out, &data);
			ck_assert_int_eq(n, 20);
			ck_assert(memcmp(out, in, 20) == 0);
			ck_assert_uint_eq(data, 20);
			ck_assert_uint_eq(ts.left, 0);
		}
	/* the backend closed before the end */
	init(&ts, TAIL_LENGTH, 0);
	ts.left = 50;
	ck_assert_int_eq(drive(&ts, in, 10, 4, 100, out, &data), -2);
}
END_TEST

START_TEST(test_close)
{
	static const char	 in[] = "a body that ends when the server closes";
	struct tail_state	 ts;
	char			 out[OUTCAP], body[OUTCAP], tr[OUTCAP];
	uint64_t		 data;
	size_t			 i, j;
	ssize_t			 n;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		for (j = 0; j < sizeof(rooms) / sizeof(rooms[0]); j++) {
			/* as is, to an HTTP/1.0 client */
			init(&ts, TAIL_CLOSE, 0);
			n = drive(&ts, in, sizeof(in) - 1, steps[i], rooms[j],
			    out, &data);
			ck_assert_int_eq(n, (ssize_t)sizeof(in) - 1);
			ck_assert(memcmp(out, in, sizeof(in) - 1) == 0);
			/* chunked, to an HTTP/1.1 one */
			init(&ts, TAIL_CLOSE, 1);
			n = drive(&ts, in, sizeof(in) - 1, steps[i], rooms[j],
			    out, &data);
			ck_assert_int_gt(n, 0);
			unchunk(out, (size_t)n, body, tr);
			ck_assert_str_eq(body, in);
			ck_assert_str_eq(tr, "\r\n");
			ck_assert_uint_eq(data, sizeof(in) - 1);
		}
}
END_TEST

START_TEST(test_chunked)
{
	static const char	 in[] = "5\r\nhello\r\n6;ext=1\r\n world\r\n"
	    "18\r\n, in pieces of any size.\r\n0\r\nX-Trailer: done\r\n"
	    "Content-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\n";
	static const char	 body[] = "hello world, in pieces of any size.";
	struct tail_state	 ts;
	char			 out[OUTCAP], got[OUTCAP], tr[OUTCAP];
	uint64_t		 data;
	size_t			 i, j;
	ssize_t			 n;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++)
		for (j = 0; j < sizeof(rooms) / sizeof(rooms[0]); j++) {
			init(&ts, TAIL_CHUNKED, 1);
			n = drive(&ts, in, sizeof(in) - 1, steps[i], rooms[j],
			    out, &data);
			ck_assert_msg(n > 0, "step %zu room %zu: %zd", steps[i],
			    rooms[j], n);
			ck_assert(ts.flags & TAIL_F_DONE);
			unchunk(out, (size_t)n, got, tr);
			ck_assert_str_eq(got, body);
			/* a trailer that may not be one is dropped */
			ck_assert_str_eq(tr, "X-Trailer: done\r\n\r\n");
			ck_assert_uint_eq(data, sizeof(body) - 1);
			/* decoded, to an HTTP/1.0 client */
			init(&ts, TAIL_CHUNKED, 0);
			n = drive(&ts, in, sizeof(in) - 1, steps[i], rooms[j],
			    out, &data);
			ck_assert_int_eq(n, (ssize_t)sizeof(body) - 1);
			ck_assert(memcmp(out, body, sizeof(body) - 1) == 0);
		}
}
END_TEST

START_TEST(test_bad)
{
	static const char	 bad[] = "5\r\nhello\r\nzz\r\n";
	struct tail_state	 ts;
	char			 out[OUTCAP];
	uint64_t		 data;

	init(&ts, TAIL_CHUNKED, 1);
	ck_assert_int_eq(drive(&ts, bad, sizeof(bad) - 1, 3, 100, out,
	    &data), -1);
	/* cut short: no last chunk before the close */
	init(&ts, TAIL_CHUNKED, 1);
	ck_assert_int_eq(drive(&ts, bad, 10, 3, 100, out, &data), -2);
	/* not a mode */
	init(&ts, TAIL_CLOSE, 0);
	ts.mode = 99;
	ck_assert_int_eq(drive(&ts, "x", 1, 1, 100, out, &data), -1);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("tail");
	TCase	*tc = tcase_create("frame");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_length);
	tcase_add_test(tc, test_close);
	tcase_add_test(tc, test_chunked);
	tcase_add_test(tc, test_bad);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
