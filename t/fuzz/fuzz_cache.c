/*
 * fuzz_cache.c - libFuzzer target for the caching rules of src/cache.c.
 *
 * The input is read as
 *
 *	response head | request head | extra bytes
 *
 * The response head is parsed with http_parse_response() (with
 * "HTTP/1.1 200 OK\r\n" put in front when the input does not start with
 * "HTTP/"); the bytes after it are the request head, parsed with
 * http_parse_request() (with "GET /fuzz HTTP/1.1\r\nHost: example.com\r\n"
 * in front when they do not start with a request line).  A head missing
 * its final empty line gets one.  What follows the request head is the
 * extra piece, whose lines are also tried as HTTP-dates and as a Vary
 * value, and whose first bytes pick the clock readings.
 *
 * Over the two messages the target runs cache_cc_parse, cache_storable,
 * cache_meta_fill, cache_age, cache_judge, cache_stale_if_error,
 * cache_not_modified, cache_range, cache_update_field, cache_vary_key,
 * cache_date_parse and cache_date_format, and checks what cache.h promises of them.  Every
 * string handed to cache.c is a heap block of exactly its length, so
 * reading past one is an AddressSanitizer report.
 *
 * Clock readings stay in the range a real clock gives (from 2001 to a few
 * thousand years on): cache.c does plain int64 arithmetic on them, safe
 * for those, and nothing else reaches it.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *	t/fuzz/fuzz_cache.c src/cache.c src/http_parse.c
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cache.h"
#include "cache_range.h"
#include "http_parse.h"

#define FUZZ_NAME "fuzz_cache"
#include "fuzz.h"


#define DATE_MAX	INT64_C(253402300799)	/* 9999-12-31T23:59:59Z */
#define DELTA_MAX	((int64_t)1 << 31)
#define HEURISTIC_MAX	86400

static const char resp_prefix[] = "HTTP/1.1 200 OK\r\n";
static const char req_prefix[] = "GET /fuzz HTTP/1.1\r\nHost: example.com\r\n";
static const char req_default[] = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
static const char resp_default[] = "HTTP/1.1 200 OK\r\n\r\n";

/* A heap copy of exactly n bytes (at least one byte is allocated). */
static char *
dup_exact(const void *p, size_t n)
{
	char	*r;

	if ((r = malloc(n ? n : 1)) == NULL)
		abort();
	if (n > 0)
		memcpy(r, p, n);
	return r;
}

/* pre + s[0..n) + post, exactly. */
static char *
join3(const char *pre, const uint8_t *s, size_t n, const char *post,
    size_t *len)
{
	size_t	 a = strlen(pre), c = strlen(post);
	char	*r;

	*len = a + n + c;
	if ((r = malloc(*len ? *len : 1)) == NULL)
		abort();
	memcpy(r, pre, a);
	if (n > 0)
		memcpy(r + a, s, n);
	memcpy(r + a + n, post, c);
	return r;
}

static int
looks_like_request_line(const uint8_t *s, size_t n)
{
	size_t	 i;

	for (i = 0; i < n && s[i] >= 'A' && s[i] <= 'Z'; i++)
		;
	return i > 0 && i < n && s[i] == ' ';
}

/*
 * Parse a head from pre + s[0..n) (+ "\r\n" or "\r\n\r\n" when it is
 * incomplete).  Returns the buffer (the caller frees it after the
 * message) or NULL; *used is how many bytes of s the head took.
 */
static char *
parse_head(int is_req, const char *pre, const uint8_t *s, size_t n,
    struct http_request *req, struct http_response *resp, size_t *used)
{
	static const char *const posts[] = { "", "\r\n", "\r\n\r\n" };
	size_t		 i, len, pl = strlen(pre);
	char		*b;
	int		 rc;

	for (i = 0; i < 3; i++) {
		b = join3(pre, s, n, posts[i], &len);
		rc = is_req ? http_parse_request(req, b, len, NULL) :
		    http_parse_response(resp, b, len, HTTP_M_GET, NULL);
		if (rc > 0) {
			CHECK((size_t)rc <= len && (size_t)rc >= pl);
			*used = (size_t)rc - pl;
			if (*used > n)
				*used = n;
			return b;
		}
		free(b);
		if (rc < 0)
			return NULL;
	}
	return NULL;
}

static void
check_cc(const struct cache_cc *cc)
{
	CHECK(cc->max_age >= -1 && cc->max_age <= DELTA_MAX);
	CHECK(cc->s_maxage >= -1 && cc->s_maxage <= DELTA_MAX);
	CHECK(cc->max_stale == INT64_MAX ||
	    (cc->max_stale >= -1 && cc->max_stale <= DELTA_MAX));
	CHECK(cc->min_fresh >= -1 && cc->min_fresh <= DELTA_MAX);
	CHECK(cc->swr >= -1 && cc->swr <= DELTA_MAX);
	CHECK(cc->sie >= -1 && cc->sie <= DELTA_MAX);
}

/* cache_date_parse on s[0..n), copied exactly; checks the result. */
static int64_t
date_parse(const char *s, size_t n)
{
	char		*b = dup_exact(s, n), out[32];
	int64_t		 t;

	t = cache_date_parse(b, n);
	CHECK(t == -1 || (t >= 0 && t <= DATE_MAX + 1));
	if (t >= 0 && t <= DATE_MAX) {
		/* The date as IMF-fixdate reads back as the same instant. */
		cache_date_format(t, out, sizeof(out));
		CHECK(strlen(out) == 29);
		CHECK(cache_date_parse(out, 29) == t);
		/*
		 * An IMF-fixdate without a leap second is that text again,
		 * but for the day name, which is not checked, and for case,
		 * which is ignored.
		 */
		if (n == 29 && b[3] == ',' && memcmp(b + 23, "60", 2) != 0 &&
		    strncasecmp(out + 5, b + 5, 24) != 0)
			FAIL("\"%.29s\" reads as %lld, printed \"%s\"", b,
			    (long long)t, out);
	}
	free(b);
	return t;
}

/* cache_vary_key with buffers of several sizes, all exact heap blocks. */
static void
vary_key(const char *v, size_t vlen, const struct http_request *req,
    size_t small)
{
	char		*vary = dup_exact(v, vlen), *big, *b;
	size_t		 caps[4], i;
	int		 len, rc;

	if ((big = malloc(8192)) == NULL)
		abort();
	len = cache_vary_key(vary, vlen, req, big, 8192);
	CHECK(len >= -1 && len < 8192);
	if (len >= 0) {
		CHECK(big[len] == '\0' && strlen(big) == (size_t)len);
		CHECK(len == 0 || big[len - 1] == '\n');
	}
	caps[0] = 0;
	caps[1] = small;
	caps[2] = len >= 0 ? (size_t)len : 1;		/* one short */
	caps[3] = len >= 0 ? (size_t)len + 1 : 2;	/* just enough */
	for (i = 0; i < 4; i++) {
		b = malloc(caps[i] ? caps[i] : 1);
		if (b == NULL)
			abort();
		rc = cache_vary_key(vary, vlen, req, b, caps[i]);
		if (len < 0 || caps[i] <= (size_t)len)
			CHECK(rc == -1);
		else {
			CHECK(rc == len);
			CHECK(memcmp(b, big, (size_t)len + 1) == 0);
		}
		free(b);
	}
	free(big);
	free(vary);
}

static uint64_t
get_u64(const uint8_t *p, size_t n)
{
	uint64_t	 v = 0;
	size_t		 i;

	for (i = 0; i < n && i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void
judge_at(const struct cache_meta *m, const struct cache_cc *rcc,
    int64_t now, int64_t *prev_age)
{
	int64_t			 age;
	enum cache_verdict	 v;
	int			 sie;

	age = cache_age(m, now);
	CHECK(age >= 0);
	CHECK(age >= m->age);
	/* Time only makes a response older. */
	CHECK(*prev_age < 0 || age >= *prev_age);
	*prev_age = age;
	v = cache_judge(m, rcc, now);
	CHECK(v == CACHE_FRESH || v == CACHE_STALE_OK ||
	    v == CACHE_STALE_SWR || v == CACHE_REVALIDATE);
	if (v != CACHE_REVALIDATE) {
		CHECK(!(m->flags & CM_NO_CACHE));
		CHECK(!(rcc->flags & (CC_NO_CACHE | CC_QUALIFIED_NO_CACHE |
		    CC_PRAGMA_NO_CACHE)));
		if (rcc->max_age >= 0)
			CHECK(age <= rcc->max_age);
	}
	if (v == CACHE_FRESH)
		CHECK(age < m->lifetime);
	if (v == CACHE_STALE_OK || v == CACHE_STALE_SWR)
		CHECK(age >= m->lifetime && !(m->flags & CM_MUST_REVALIDATE));
	if (v == CACHE_STALE_SWR)
		CHECK(m->swr >= 0 && age - m->lifetime <= m->swr);
	sie = cache_stale_if_error(m, 0, rcc, now);
	CHECK(sie == 0 || sie == 1);
	if (sie && age >= m->lifetime)
		CHECK(!(m->flags & (CM_MUST_REVALIDATE | CM_NO_CACHE)));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_request req;
	static struct http_response resp;
	struct cache_cc	 rcc, scc;
	struct cache_meta m;
	const uint8_t	*rest, *extra, *line;
	const char	*why;
	char		*rbuf, *qbuf, fmt[32];
	size_t		 used, rlen, elen, i, n, small;
	int64_t		 t0, treq, tresp, now, prev;
	uint64_t	 r;
	int		 nm;

	/* the response head */
	if (size >= 5 && memcmp(data, "HTTP/", 5) == 0)
		rbuf = parse_head(0, "", data, size, NULL, &resp, &used);
	else
		rbuf = parse_head(0, resp_prefix, data, size, NULL, &resp,
		    &used);
	if (rbuf == NULL) {
		used = 0;
		rbuf = parse_head(0, resp_default, NULL, 0, NULL, &resp, &n);
		CHECK(rbuf != NULL);
	}
	rest = data + used;
	rlen = size - used;

	/* the request head */
	if (looks_like_request_line(rest, rlen))
		qbuf = parse_head(1, "", rest, rlen, &req, NULL, &used);
	else
		qbuf = parse_head(1, req_prefix, rest, rlen, &req, NULL, &used);
	if (qbuf == NULL) {
		used = 0;
		qbuf = parse_head(1, req_default, NULL, 0, &req, NULL, &n);
		CHECK(qbuf != NULL);
	}
	extra = rest + used;
	elen = rlen - used;

	/* directives */
	cache_cc_parse(req.fields, req.nfields, 1, &rcc);
	check_cc(&rcc);
	cache_cc_parse(resp.fields, resp.nfields, 0, &scc);
	check_cc(&scc);
	CHECK(!(scc.flags & CC_PRAGMA_NO_CACHE));

	CHECK(cache_request_lookup(&req) ==
	    (req.method == HTTP_M_GET || req.method == HTTP_M_HEAD));
	why = cache_storable(&req, &rcc, &resp, &scc);
	if (why != NULL)
		CHECK(strlen(why) > 0);
	else {
		CHECK(req.method == HTTP_M_GET);
		CHECK(resp.status >= 200 && resp.status != 206 &&
		    resp.status != 304);
		CHECK(!((rcc.flags | scc.flags) & CC_NO_STORE));
		CHECK(!(scc.flags & (CC_PRIVATE | CC_QUALIFIED_PRIVATE)));
		CHECK(http_field_find(resp.fields, resp.nfields,
		    "set-cookie") == NULL);
	}

	/* clock readings: 2001 on, deltas up to about 136 years */
	r = get_u64(extra, elen);
	t0 = INT64_C(1000000000) + (int64_t)(r & 0xffffffff);
	treq = t0;
	tresp = t0 + (int64_t)((r >> 32) & 0xffff) - 0x100;
	cache_meta_fill(&m, &resp, &scc, treq, tresp);
	CHECK(m.request_time == treq && m.response_time == tresp);
	CHECK(m.status == resp.status);
	CHECK(m.date >= 0 && m.date <= DATE_MAX + 1);
	CHECK(m.age >= 0 && m.age <= DELTA_MAX);
	CHECK(m.lifetime >= 0);
	if (m.flags & CM_HEURISTIC)
		CHECK(m.lifetime <= HEURISTIC_MAX);
	if (scc.s_maxage >= 0)
		CHECK(m.lifetime == scc.s_maxage &&
		    (m.flags & CM_MUST_REVALIDATE));
	else if (scc.max_age >= 0)
		CHECK(m.lifetime == scc.max_age);
	CHECK(m.swr == scc.swr && m.sie == scc.sie);

	/* judged over time: now from before the response to far after */
	prev = -1;
	now = tresp - 1000;
	for (i = 0; i < 12; i++) {
		judge_at(&m, &rcc, now, &prev);
		now += (int64_t)1 << (3 * i);
	}
	prev = -1;
	judge_at(&m, &rcc, tresp + m.lifetime - 1, &prev);
	judge_at(&m, &rcc, tresp + m.lifetime, &prev);
	judge_at(&m, &rcc, tresp + m.lifetime + 1, &prev);

	/* conditional requests against the stored response */
	nm = cache_not_modified(&req, resp.fields, resp.nfields);
	CHECK(nm == 0 || nm == 1);
	if (nm)
		CHECK(req.method == HTTP_M_GET || req.method == HTTP_M_HEAD);
	nm = cache_not_modified(&req, req.fields, req.nfields);
	CHECK(nm == 0 || nm == 1);

	/* byte ranges of a stored body of some size */
	{
		uint64_t	 rsize = (uint64_t)size * 7 % 1000, a = 0, b = 0;
		int		 k = (int)cache_range(&req, resp.fields,
				    resp.nfields, rsize, &a, &b);

		CHECK(k == CACHE_RANGE_ALL || k == CACHE_RANGE_PART ||
		    k == CACHE_RANGE_UNSAT);
		if (k != CACHE_RANGE_ALL)
			CHECK(req.method == HTTP_M_GET);
		if (k == CACHE_RANGE_PART)
			CHECK(a <= b && b < rsize);
	}

	/* 304 merging */
	for (i = 0; i < resp.nfields; i++) {
		n = (size_t)cache_update_field(&resp.fields[i]);
		CHECK(n == 0 || n == 1);
	}

	/* secondary keys: every Vary of the response, and the extra bytes */
	small = elen > 8 ? extra[8] : 7;
	for (i = 0; i < resp.nfields; i++)
		if (resp.fields[i].name_len == 4 &&
		    strncasecmp(resp.fields[i].name, "vary", 4) == 0)
			vary_key(resp.fields[i].value, resp.fields[i].value_len,
			    &req, small);
	vary_key((const char *)extra, elen, &req, small);

	/* HTTP-dates: every field value, every line of the extra bytes */
	for (i = 0; i < resp.nfields; i++)
		(void)date_parse(resp.fields[i].value,
		    resp.fields[i].value_len);
	for (i = 0; i < req.nfields; i++)
		(void)date_parse(req.fields[i].value, req.fields[i].value_len);
	for (line = extra; line < extra + elen; line += n + 1) {
		const uint8_t *nl = memchr(line, '\n',
		    (size_t)(extra + elen - line));

		n = nl ? (size_t)(nl - line) : (size_t)(extra + elen - line);
		(void)date_parse((const char *)line, n);
		if (n > 0 && line[n - 1] == '\r')
			(void)date_parse((const char *)line, n - 1);
	}
	(void)date_parse((const char *)data, size);

	/* formatting any instant at all, into short buffers too */
	cache_date_format((int64_t)get_u64(data, size), fmt, sizeof(fmt));
	CHECK(strlen(fmt) == 29);
	for (n = 0; n <= 30; n += 5) {
		char *b = malloc(n ? n : 1);

		if (b == NULL)
			abort();
		cache_date_format((int64_t)r, b, n);
		if (n > 0)
			CHECK(strlen(b) < n);
		free(b);
	}

	free(rbuf);
	free(qbuf);
	return 0;
}
