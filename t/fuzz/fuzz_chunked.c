/*
 * fuzz_chunked.c - libFuzzer target for http_chunked_decode().
 *
 * The input is a chunked message body (chunks, last chunk, trailer
 * section, then perhaps the next message).  It is decoded three ways:
 *   - whole: one buffer, calling again with the rest after DATA/TRAILER;
 *   - byte by byte: the caller keeps the unconsumed bytes at the front of
 *     its buffer and appends one byte at a time, as http_parse.h says a
 *     caller must (an incomplete trailer line is left unconsumed);
 *   - in pieces of pseudo-random sizes, the same way.
 * The three must give the same data bytes, the same trailer lines, the
 * same final state (DONE, ERROR, or AGAIN when the input ran out) and, on
 * DONE, the same number of bytes consumed.  This is done with the default
 * line limit and with a tiny one.  Any difference aborts.
 *
 * The caller's buffer is a heap block of the input's size with the bytes
 * at its end, so that reading past them is an AddressSanitizer report.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *	t/fuzz/fuzz_chunked.c src/http_parse.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

#define FUZZ_NAME "fuzz_chunked"
#include "fuzz.h"


struct buf {
	char		*p;
	size_t		 len, cap;
};

struct result {
	enum http_chunk_rc final;	/* DONE, ERROR or AGAIN */
	size_t		 consumed;	/* input bytes used, on DONE */
	struct buf	 data;
	struct buf	 trailers;
	unsigned	 ntrailers;
};

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	if (n == 0)
		return;
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		if ((b->p = realloc(b->p, b->cap)) == NULL)
			abort();
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void
result_free(struct result *r)
{
	free(r->data.p);
	free(r->trailers.p);
}

/*
 * One call on in[0..len); records DATA and TRAILER.  Returns the rc and
 * checks the spans the decoder hands back.
 */
static enum http_chunk_rc
step(struct http_chunked *c, const char *in, size_t len, size_t *used,
    struct result *r)
{
	enum http_chunk_rc rc;
	const char	*out = (const char *)1;
	size_t		 out_len = (size_t)-1;

	*used = (size_t)-1;
	rc = http_chunked_decode(c, in, len, used, &out, &out_len);
	CHECK(*used <= len);
	switch (rc) {
	case HTTP_CHUNK_DATA:
		CHECK(out_len > 0 && *used > 0);
		CHECK(out >= in && out + out_len == in + *used);
		buf_add(&r->data, out, out_len);
		break;
	case HTTP_CHUNK_TRAILER:
		CHECK(out_len >= 4 && *used > 0);
		CHECK(out >= in && out + out_len == in + *used);
		CHECK(out[out_len - 2] == '\r' && out[out_len - 1] == '\n');
		CHECK(memchr(out, ':', out_len) != NULL);
		buf_add(&r->trailers, out, out_len);
		r->ntrailers++;
		break;
	case HTTP_CHUNK_AGAIN:
	case HTTP_CHUNK_DONE:
	case HTTP_CHUNK_ERROR:
		CHECK(out == NULL && out_len == 0);
		break;
	default:
		FAIL("unknown rc %d", (int)rc);
	}
	return rc;
}

/* Everything at once. */
static void
decode_whole(const uint8_t *data, size_t size, size_t max_line,
    struct result *r)
{
	struct http_chunked c;
	const char	*in = (const char *)data;
	size_t		 off = 0, used;
	enum http_chunk_rc rc;

	http_chunked_init(&c, max_line);
	for (;;) {
		rc = step(&c, in + off, size - off, &used, r);
		off += used;
		if (rc == HTTP_CHUNK_DATA || rc == HTTP_CHUNK_TRAILER)
			continue;
		r->final = rc;
		if (rc == HTTP_CHUNK_DONE)
			r->consumed = off;
		break;
	}
	if (r->final == HTTP_CHUNK_AGAIN && off < size) {
		/*
		 * An incomplete trailer line is left for the caller; shown
		 * again alone, it must stay unconsumed.
		 */
		rc = step(&c, in + off, size - off, &used, r);
		CHECK(rc == HTTP_CHUNK_AGAIN && used == 0);
	}
	/* Decoding ends: more calls answer the same. */
	if (r->final != HTTP_CHUNK_AGAIN) {
		rc = step(&c, in + off, size - off, &used, r);
		CHECK(rc == r->final && used == 0);
	}
}

static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * Pieces of 1 byte (seed 0) or of pseudo-random sizes, appended to what
 * the decoder left unconsumed.  The pending bytes always sit at the end
 * of tail[0..size).
 */
static void
decode_pieces(const uint8_t *data, size_t size, size_t max_line,
    uint32_t seed, char *tail, struct result *r)
{
	struct http_chunked c;
	size_t		 fed = 0, plen = 0, n, used;
	enum http_chunk_rc rc;

	http_chunked_init(&c, max_line);
	r->final = HTTP_CHUNK_AGAIN;
	while (fed < size) {
		n = seed == 0 ? 1 : 1 + rnd(&seed) % 17;
		if (n > size - fed)
			n = size - fed;
		memmove(tail + size - plen - n, tail + size - plen, plen);
		memcpy(tail + size - n, data + fed, n);
		plen += n;
		fed += n;
		for (;;) {
			rc = step(&c, tail + size - plen, plen, &used, r);
			plen -= used;
			if (rc == HTTP_CHUNK_DATA || rc == HTTP_CHUNK_TRAILER)
				continue;
			break;
		}
		if (rc == HTTP_CHUNK_AGAIN)
			continue;
		r->final = rc;
		if (rc == HTTP_CHUNK_DONE)
			r->consumed = fed - plen;
		return;
	}
}

static const char *
rc_name(enum http_chunk_rc rc)
{
	switch (rc) {
	case HTTP_CHUNK_AGAIN: return "AGAIN";
	case HTTP_CHUNK_DATA: return "DATA";
	case HTTP_CHUNK_TRAILER: return "TRAILER";
	case HTTP_CHUNK_DONE: return "DONE";
	case HTTP_CHUNK_ERROR: return "ERROR";
	}
	return "?";
}

static void
compare(const struct result *a, const struct result *b, const char *how,
    size_t max_line)
{
	if (a->final != b->final)
		FAIL("max_line %zu: whole input ends in %s, %s in %s",
		    max_line, rc_name(a->final), how, rc_name(b->final));
	if (a->data.len != b->data.len ||
	    (a->data.len && memcmp(a->data.p, b->data.p, a->data.len) != 0))
		FAIL("max_line %zu: whole input decodes %zu data bytes, %s "
		    "%zu (or different ones)", max_line, a->data.len, how,
		    b->data.len);
	if (a->ntrailers != b->ntrailers || a->trailers.len != b->trailers.len ||
	    (a->trailers.len && memcmp(a->trailers.p, b->trailers.p,
	    a->trailers.len) != 0))
		FAIL("max_line %zu: trailers differ between whole input (%u "
		    "lines) and %s (%u lines)", max_line, a->ntrailers, how,
		    b->ntrailers);
	if (a->final == HTTP_CHUNK_DONE && a->consumed != b->consumed)
		FAIL("max_line %zu: whole input consumes %zu bytes, %s %zu",
		    max_line, a->consumed, how, b->consumed);
}

static void
run(const uint8_t *data, size_t size, size_t max_line, char *tail)
{
	struct result	 whole, bytes, pieces;

	memset(&whole, 0, sizeof(whole));
	memset(&bytes, 0, sizeof(bytes));
	memset(&pieces, 0, sizeof(pieces));
	decode_whole(data, size, max_line, &whole);
	CHECK(whole.data.len <= size);
	if (whole.final == HTTP_CHUNK_DONE)
		CHECK(whole.consumed >= 5 && whole.consumed <= size);
	decode_pieces(data, size, max_line, 0, tail, &bytes);
	compare(&whole, &bytes, "byte by byte", max_line);
	decode_pieces(data, size, max_line, (uint32_t)size * 2654435761u | 1,
	    tail, &pieces);
	compare(&whole, &pieces, "in pieces", max_line);
	result_free(&whole);
	result_free(&bytes);
	result_free(&pieces);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*tail;

	if ((tail = malloc(size ? size : 1)) == NULL)
		return 0;
	run(data, size, 0, tail);
	run(data, size, 8, tail);
	free(tail);
	return 0;
}
