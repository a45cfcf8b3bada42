/*
 * fuzz_request.c - libFuzzer target for http_parse_request().
 *
 * The input is one request head (plus whatever follows it).  It is parsed
 * whole and then prefix by prefix, as a caller reading a byte at a time
 * would, with the default limits and with small ones (so that -414 and
 * -431 are reachable with short inputs).  http_parse.h promises that the
 * byte-by-byte caller gets the same answer as the whole-input one:
 *   - every prefix answers 0 or exactly the whole-input answer;
 *   - once a prefix answers non-zero, every longer one answers the same;
 *   - a complete head gives the same length from every prefix holding it.
 * The result of a complete parse is checked for internal consistency too.
 * Any violation aborts.
 *
 * Each prefix is copied to the end of a heap block of the input's size, so
 * that reading past the prefix is an AddressSanitizer report.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *	t/fuzz/fuzz_request.c src/http_parse.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

#define FUZZ_NAME "fuzz_request"
#include "fuzz.h"


/* Prefixes checked past the point where the answer is settled. */
#define TAIL_CHECKS	64

static const struct http_limits small_limits = {
	200,	/* max_header_size */
	24,	/* max_uri_length */
	4	/* max_headers */
};

static int
ci_eq(const char *s, size_t n, const char *t)
{
	size_t	 i;

	if (strlen(t) != n)
		return 0;
	for (i = 0; i < n; i++) {
		char a = s[i], b = t[i];

		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (a != b)
			return 0;
	}
	return 1;
}

/* Consistency of a complete request head of length rc in buf[0..len). */
static void
check_request(const struct http_request *r, int rc, const char *buf,
    size_t len, const struct http_limits *lim)
{
	size_t		 head = (size_t)rc;
	unsigned	 i, maxf;
	int		 has_host = 0;

	maxf = lim && lim->max_headers ? lim->max_headers : 100;
	if (maxf > HTTP_MAX_HEADERS)
		maxf = HTTP_MAX_HEADERS;
	CHECK(head <= len);
	CHECK(r->head_len == head);
	CHECK(head >= 4);
	CHECK(buf[head - 2] == '\r' && buf[head - 1] == '\n');
	if (lim && lim->max_header_size)
		CHECK(head <= lim->max_header_size);
	CHECK(r->version == 10 || r->version == 11);
	CHECK(r->method_len > 0 &&
	    fuzz_inside(r->method_str, r->method_len, buf, head));
	CHECK(r->method == http_method_lookup(r->method_str, r->method_len));
	CHECK(r->target != NULL && r->target_len > 0);
	if (!fuzz_inside(r->target, r->target_len, buf, head))
		/* the one exception: absolute-form URI without a path */
		CHECK((r->flags & HTTP_F_ABSOLUTE_FORM) && r->target_len == 1 &&
		    (r->target[0] == '/' || r->target[0] == '*'));
	if (r->method == HTTP_M_CONNECT)
		CHECK(!(r->flags & HTTP_F_ABSOLUTE_FORM));
	if (r->host != NULL)
		CHECK(fuzz_inside(r->host, r->host_len, buf, head));
	else
		CHECK(r->host_len == 0);
	CHECK(r->nfields <= maxf);
	fuzz_check_fields(r->fields, r->nfields, buf, head);
	for (i = 0; i < r->nfields; i++)
		if (ci_eq(r->fields[i].name, r->fields[i].name_len, "host"))
			has_host++;
	CHECK(has_host <= 1);
	if (r->version == 11 && !(r->flags & HTTP_F_ABSOLUTE_FORM))
		CHECK(has_host == 1);
	switch (r->body) {
	case HTTP_BODY_NONE:
		CHECK(r->content_length == 0);
		break;
	case HTTP_BODY_LENGTH:
		CHECK(r->content_length > 0 &&
		    r->content_length <= ((uint64_t)1 << 62));
		CHECK(http_field_find(r->fields, r->nfields,
		    "transfer-encoding") == NULL);
		break;
	case HTTP_BODY_CHUNKED:
		CHECK(r->content_length == 0);
		CHECK(r->version == 11);
		CHECK(http_field_find(r->fields, r->nfields,
		    "content-length") == NULL);
		break;
	default:
		FAIL("request body kind %d", (int)r->body);
	}
	if (r->flags & HTTP_F_EXPECT_CONTINUE)
		CHECK(r->version == 11);
}

/* Parse buf[0..n) placed at the end of the block tail[0..cap). */
static int
parse_prefix(struct http_request *r, char *tail, size_t cap,
    const uint8_t *data, size_t n, const struct http_limits *lim)
{
	char	*p = tail + cap - n;

	if (n > 0)
		memcpy(p, data, n);
	return http_parse_request(r, p, n, lim);
}

static void
run(const uint8_t *data, size_t size, char *tail,
    const struct http_limits *lim)
{
	static struct http_request req, preq;
	const char	*buf = (const char *)data;
	size_t		 i, stop;
	int		 whole, rc, settled = -1;

	whole = http_parse_request(&req, buf, size, lim);
	if (whole > 0)
		check_request(&req, whole, buf, size, lim);
	else if (whole < 0)
		CHECK(whole == -400 || whole == -414 || whole == -431 ||
		    whole == -501 || whole == -505 || whole == -417);

	/*
	 * Every prefix; past the first non-zero answer only a few more,
	 * since the parser must not look at them anyway.
	 */
	stop = size;
	for (i = 0; i <= size && i <= stop; i++) {
		rc = parse_prefix(&preq, tail, size, data, i, lim);
		if (rc != 0 && rc != whole)
			FAIL("prefix of %zu bytes (of %zu) gives %d, whole "
			    "input gives %d", i, size, rc, whole);
		if (rc == 0 && settled >= 0)
			FAIL("prefix of %zu bytes gives 0 after %d at %d bytes",
			    i, whole, settled);
		if (rc != 0 && settled < 0) {
			settled = (int)i;
			stop = i + TAIL_CHECKS;
		}
		if (rc > 0) {
			check_request(&preq, rc, tail + size - i, i, lim);
			/* The same head, field for field. */
			CHECK(preq.nfields == req.nfields);
			CHECK(preq.body == req.body);
			CHECK(preq.content_length == req.content_length);
			CHECK(preq.flags == req.flags);
			CHECK(preq.method == req.method);
			CHECK(preq.target_len == req.target_len);
			CHECK(preq.host_len == req.host_len);
		}
	}
	if (whole != 0)
		CHECK(settled >= 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*tail;

	/* A block of exactly size bytes: any over-read is caught. */
	if ((tail = malloc(size ? size : 1)) == NULL)
		return 0;
	run(data, size, tail, NULL);
	run(data, size, tail, &small_limits);
	free(tail);
	return 0;
}
