/*
 * fuzz_body_frame.c - libFuzzer target for body_frame.c, the framing the
 * worker and the gate's spool share.
 *
 * The first input byte picks the body: bit 0 chunked, bits 1-3 a size
 * limit (0: none, else 1 << (2 * n) bytes), bits 4-7 a Content-Length
 * (n * 37 bytes).  The rest is fed three ways: whole, a byte at a time
 * (the caller keeping unconsumed bytes at the front of its buffer, as a
 * socket reader must), and through body_frame_scan in pieces of varying
 * size.  They must agree on the body bytes (the first two, unless the
 * body went past its limit), the result
 * (DONE, ERROR, TOO_BIG, or AGAIN when the input ran out) and, on DONE,
 * how many input bytes were the body; the body never passes its limit,
 * and a Content-Length body is exactly the input's first bytes.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *	t/fuzz/fuzz_body_frame.c src/body_frame.c src/http_parse.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "body_frame.h"

#define FUZZ_NAME "fuzz_body_frame"
#include "fuzz.h"

struct run {
	enum body_frame_rc	 rc;
	char			*data;
	size_t			 dlen;
	size_t			 taken;
};

static void
run_feed(struct run *r, int chunked, uint64_t length, uint64_t max,
    const char *in, size_t len, size_t step)
{
	struct body_frame	 f;
	char			*buf;
	const char		*out;
	size_t			 have = 0, given = 0, pos, used, olen, n;

	memset(r, 0, sizeof(*r));
	if ((buf = malloc(len + 1)) == NULL || (r->data = malloc(len + 1)) ==
	    NULL)
		abort();
	body_frame_init(&f, chunked, length, max, 64);
	for (;;) {
		n = step == 0 ? len - given : step;
		if (n > len - given)
			n = len - given;
		memcpy(buf + have, in + given, n);
		have += n;
		given += n;
		pos = 0;
		for (;;) {
			r->rc = body_frame_feed(&f, buf + pos, have - pos, &used,
			    &out, &olen);
			CHECK(used <= have - pos);
			pos += used;
			r->taken += used;
			if (r->rc == BODY_FRAME_DATA) {
				CHECK(olen > 0 && out >= buf && out + olen <=
				    buf + have);
				memcpy(r->data + r->dlen, out, olen);
				r->dlen += olen;
			} else if (r->rc != BODY_FRAME_TRAILER)
				break;
		}
		memmove(buf, buf + pos, have - pos);
		have -= pos;
		if (r->rc != BODY_FRAME_AGAIN || given == len)
			break;
	}
	CHECK(max == 0 || r->dlen <= max);
	CHECK(f.total == r->dlen);
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run		 whole, bytes;
	struct body_frame	 f;
	enum body_frame_rc	 rc = BODY_FRAME_AGAIN;
	const char		*in = (const char *)data + 1;
	size_t			 len, pos = 0, used, piece = 1;
	uint64_t		 length, max;
	int			 chunked;

	if (size < 1)
		return 0;
	len = size - 1;
	chunked = data[0] & 1;
	max = (data[0] >> 1 & 7) ? 1ULL << (2 * (data[0] >> 1 & 7)) : 0;
	length = (uint64_t)(data[0] >> 4) * 37;
	run_feed(&whole, chunked, length, max, in, len, 0);
	run_feed(&bytes, chunked, length, max, in, len, 1);
	CHECK(whole.rc == bytes.rc);
	/* past the limit the body is refused: what went before may differ */
	if (whole.rc != BODY_FRAME_TOO_BIG) {
		CHECK(whole.dlen == bytes.dlen);
		CHECK(memcmp(whole.data, bytes.data, whole.dlen) == 0);
	}
	if (whole.rc == BODY_FRAME_DONE)
		CHECK(whole.taken == bytes.taken);
	if (!chunked) {
		/* the body is the input's first bytes, and no more */
		CHECK(whole.rc != BODY_FRAME_ERROR);
		if (max != 0 && length > max)
			CHECK(whole.rc == BODY_FRAME_TOO_BIG && whole.dlen == 0);
		else {
			CHECK(whole.dlen == (len < length ? len : length));
			CHECK(memcmp(whole.data, in, whole.dlen) == 0);
			CHECK((whole.rc == BODY_FRAME_DONE) == (len >= length));
		}
	}
	/* scan, in growing pieces, ends the same way (where it can tell) */
	body_frame_init(&f, chunked, length, max, 64);
	while (pos < len || rc != BODY_FRAME_AGAIN) {
		size_t	 n = len - pos < piece ? len - pos : piece;

		rc = body_frame_scan(&f, in + pos, n, &used);
		CHECK(used <= n);
		pos += used;
		if (rc != BODY_FRAME_AGAIN || (used < n && n == len - pos +
		    used))
			break;
		piece = piece * 3 + 1;
	}
	if (rc == BODY_FRAME_DONE || rc == BODY_FRAME_ERROR ||
	    rc == BODY_FRAME_TOO_BIG)
		CHECK(rc == whole.rc);
	if (rc == BODY_FRAME_DONE)
		CHECK(pos == whole.taken);
	free(whole.data);
	free(bytes.data);
	return 0;
}
