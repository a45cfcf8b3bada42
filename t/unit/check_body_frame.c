/*
 * check_body_frame.c - where a request body ends (body_frame.c), fed
 * whole and a byte at a time as a socket may deliver it.
 */
#include <check.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "body_frame.h"

struct fed {
	enum body_frame_rc	 rc;		/* the last result */
	char			 data[4096];
	size_t			 dlen;
	char			 trailers[1024];
	size_t			 tlen;
	size_t			 taken;		/* input bytes that were the body */
};

/*
 * Feed in[0..len) in pieces of step bytes (0: whole), keeping what was
 * not taken at the front, as a caller must.
 */
static void
feed(struct fed *r, int chunked, uint64_t length, uint64_t max,
    const char *in, size_t len, size_t step)
{
	struct body_frame	 f;
	char			 buf[8192];
	const char		*out;
	size_t			 have = 0, given = 0, used, olen, pos;

	memset(r, 0, sizeof(*r));
	body_frame_init(&f, chunked, length, max, 0);
	for (;;) {
		size_t	 n = step == 0 ? len - given : step;

		if (n > len - given)
			n = len - given;
		memcpy(buf + have, in + given, n);
		have += n;
		given += n;
		pos = 0;
		for (;;) {
			r->rc = body_frame_feed(&f, buf + pos, have - pos,
			    &used, &out, &olen);
			pos += used;
			r->taken += used;
			if (r->rc == BODY_FRAME_DATA) {
				ck_assert_uint_le(r->dlen + olen,
				    sizeof(r->data));
				memcpy(r->data + r->dlen, out, olen);
				r->dlen += olen;
			} else if (r->rc == BODY_FRAME_TRAILER) {
				memcpy(r->trailers + r->tlen, out, olen);
				r->tlen += olen;
			} else
				break;
		}
		memmove(buf, buf + pos, have - pos);
		have -= pos;
		if (r->rc != BODY_FRAME_AGAIN || given == len)
			return;
	}
}

START_TEST(test_length)
{
	static const char in[] = "hello worldGET / HTTP/1.1\r\n";
	struct fed	 r;
	size_t		 step;

	for (step = 0; step < 4; step++) {
		feed(&r, 0, 11, 0, in, sizeof(in) - 1, step);
		ck_assert_int_eq(r.rc, BODY_FRAME_DONE);
		ck_assert_uint_eq(r.dlen, 11);
		ck_assert_uint_eq(r.taken, 11);	/* the next request stays */
		ck_assert(memcmp(r.data, "hello world", 11) == 0);
	}
	feed(&r, 0, 11, 0, in, 5, 0);
	ck_assert_int_eq(r.rc, BODY_FRAME_AGAIN);
	ck_assert_uint_eq(r.dlen, 5);
	feed(&r, 0, 0, 0, in, 5, 0);
	ck_assert_int_eq(r.rc, BODY_FRAME_DONE);
	ck_assert_uint_eq(r.taken, 0);
	/* too big is known from the head, before any byte */
	feed(&r, 0, 11, 10, in, sizeof(in) - 1, 0);
	ck_assert_int_eq(r.rc, BODY_FRAME_TOO_BIG);
	ck_assert_uint_eq(r.taken, 0);
	feed(&r, 0, 11, 11, in, sizeof(in) - 1, 0);
	ck_assert_int_eq(r.rc, BODY_FRAME_DONE);
}
END_TEST

START_TEST(test_chunked)
{
	static const char in[] = "5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\n"
	    "X-Sum: abc\r\nX-Two: 2\r\n\r\nPUT / HTTP/1.1\r\n";
	struct fed	 r;
	size_t		 step, body = sizeof(in) - 1 - 16;

	for (step = 0; step < 5; step++) {
		feed(&r, 1, 0, 0, in, sizeof(in) - 1, step);
		ck_assert_int_eq(r.rc, BODY_FRAME_DONE);
		ck_assert_uint_eq(r.dlen, 11);
		ck_assert(memcmp(r.data, "hello world", 11) == 0);
		ck_assert_uint_eq(r.tlen, 22);
		ck_assert(memcmp(r.trailers, "X-Sum: abc\r\nX-Two: 2\r\n",
		    22) == 0);
		ck_assert_uint_eq(r.taken, body);
	}
	/* cut anywhere before the end: never done, never an error */
	for (step = 0; step < body; step++) {
		feed(&r, 1, 0, 0, in, step, 1);
		ck_assert_int_eq(r.rc, BODY_FRAME_AGAIN);
	}
}
END_TEST

START_TEST(test_chunked_limits)
{
	static const char in[] = "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
	static const char *bad[] = { "x\r\n", "5\r\nhelloX\r\n", "-1\r\n",
	    "5\nhello\r\n", "0\r\nbad trailer\r\n\r\n" };
	struct fed	 r;
	size_t		 i, step;

	for (step = 0; step < 3; step++) {
		feed(&r, 1, 0, 10, in, sizeof(in) - 1, step);
		ck_assert_int_eq(r.rc, BODY_FRAME_TOO_BIG);
		ck_assert_uint_le(r.dlen, 10);
		feed(&r, 1, 0, 11, in, sizeof(in) - 1, step);
		ck_assert_int_eq(r.rc, BODY_FRAME_DONE);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		feed(&r, 1, 0, 0, bad[i], strlen(bad[i]), 0);
		ck_assert_msg(r.rc == BODY_FRAME_ERROR, "%s", bad[i]);
		feed(&r, 1, 0, 0, bad[i], strlen(bad[i]), 1);
		ck_assert_msg(r.rc == BODY_FRAME_ERROR, "%s", bad[i]);
	}
}
END_TEST

START_TEST(test_scan)
{
	static const char in[] = "3\r\nabc\r\n0\r\nT: 1\r\n\r\nnext";
	struct body_frame	 f;
	size_t			 used;

	body_frame_init(&f, 1, 0, 0, 0);
	ck_assert_int_eq(body_frame_scan(&f, in, 10, &used), BODY_FRAME_AGAIN);
	ck_assert_uint_eq(used, 10);
	ck_assert_int_eq(body_frame_scan(&f, in + 10, sizeof(in) - 1 - 10,
	    &used), BODY_FRAME_DONE);
	ck_assert_uint_eq(10 + used, sizeof(in) - 1 - 4);
	ck_assert_uint_eq(f.total, 3);
	/* it stays done */
	ck_assert_int_eq(body_frame_scan(&f, "x", 1, &used), BODY_FRAME_DONE);
	ck_assert_uint_eq(used, 0);
}
END_TEST

int
main(void)
{
	Suite	*s = suite_create("body_frame");
	TCase	*tc = tcase_create("core");
	SRunner	*sr;
	int	 failed;

	tcase_add_test(tc, test_length);
	tcase_add_test(tc, test_chunked);
	tcase_add_test(tc, test_chunked_limits);
	tcase_add_test(tc, test_scan);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
