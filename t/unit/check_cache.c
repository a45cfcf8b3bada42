/*
 * check_cache.c - unit tests for the shared-cache rules (RFC 9111).
 *
 * Messages are written as HTTP (header lines separated by "\n", turned
 * into CRLF here) and run through the real parser, so every case reads
 * like the exchange it stands for.  Times are seconds; D is the Date of
 * RFC 9110's examples, Sun, 06 Nov 1994 08:49:37 GMT.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "cache_range.h"
#include "http_parse.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define D		INT64_C(784111777)
#define DS		"Sun, 06 Nov 1994 08:49:37 GMT"
#define NONE		(-1)
#define BIG		(INT64_C(1) << 31)

/* Parsed messages point into these, so they live as long as the test. */
static char	 reqbuf[4096], respbuf[4096];
static struct http_request req;
static struct http_response resp;

/* A head: the first line, fields separated by "\n", CRLF throughout. */
static size_t
head(char *buf, size_t cap, const char *first, const char *fields)
{
	size_t		 n;

	n = (size_t)snprintf(buf, cap, "%s\r\n", first);
	for (; *fields != '\0'; fields++) {
		ck_assert(n + 6 < cap);
		if (*fields == '\n')
			buf[n++] = '\r';
		buf[n++] = *fields;
		if (fields[1] == '\0') {
			memcpy(buf + n, "\r\n", 2);
			n += 2;
		}
	}
	memcpy(buf + n, "\r\n", 2);
	return n + 2;
}

static const struct http_request *
mkreq(const char *method, const char *fields)
{
	char		 first[64];
	size_t		 n;

	snprintf(first, sizeof(first), "%s / HTTP/1.1\r\nHost: h", method);
	n = head(reqbuf, sizeof(reqbuf), first, fields);
	ck_assert_int_eq(http_parse_request(&req, reqbuf, n, NULL), (int)n);
	return &req;
}

static const struct http_response *
mkresp(int status, const char *fields)
{
	char		 first[64];
	size_t		 n;

	snprintf(first, sizeof(first), "HTTP/1.1 %d X", status);
	n = head(respbuf, sizeof(respbuf), first, fields);
	ck_assert_int_eq(http_parse_response(&resp, respbuf, n, HTTP_M_GET,
	    NULL), (int)n);
	return &resp;
}

/* Cache-Control parsing. */
struct cc_case {
	const char	*name;
	int		 is_request;
	const char	*fields;
	unsigned	 flags;
	int64_t		 max_age, s_maxage, max_stale, min_fresh, swr, sie;
};

#define ABSENT	NONE, NONE, NONE, NONE, NONE, NONE

static const struct cc_case cc_cases[] = {
	{ "none", 0, "", 0, ABSENT },
	{ "case-insensitive", 0, "cache-CONTROL: MAX-AGE=60, No-Store, PUBLIC",
	  CC_NO_STORE | CC_PUBLIC, 60, NONE, NONE, NONE, NONE, NONE },
	{ "quoted max-age", 0, "Cache-Control: max-age=\"5\"", 0, 5, NONE,
	  NONE, NONE, NONE, NONE },
	{ "quoted-pair", 0, "Cache-Control: max-age=\"1\\2\"", 0, 12, NONE,
	  NONE, NONE, NONE, NONE },
	{ "leading zeros", 0, "Cache-Control: max-age=007", 0, 7, NONE, NONE,
	  NONE, NONE, NONE },
	{ "two fields", 0, "Cache-Control: max-age=10\n"
	  "Cache-Control: must-revalidate, s-maxage=20",
	  CC_MUST_REVALIDATE, 10, 20, NONE, NONE, NONE, NONE },
	{ "duplicate max-age: smallest", 0,
	  "Cache-Control: max-age=60, max-age=30", 0, 30, NONE, NONE, NONE,
	  NONE, NONE },
	{ "duplicate across fields", 0, "Cache-Control: max-age=3\n"
	  "Cache-Control: max-age=60", 0, 3, NONE, NONE, NONE, NONE, NONE },
	{ "max-age not digits is 0", 0, "Cache-Control: max-age=abc", 0, 0,
	  NONE, NONE, NONE, NONE, NONE },
	{ "max-age negative is 0", 0, "Cache-Control: max-age=-1", 0, 0, NONE,
	  NONE, NONE, NONE, NONE },
	{ "max-age no value is 0", 0, "Cache-Control: max-age", 0, 0, NONE,
	  NONE, NONE, NONE, NONE },
	{ "max-age empty is 0", 0, "Cache-Control: max-age=, public",
	  CC_PUBLIC, 0, NONE, NONE, NONE, NONE, NONE },
	{ "max-age trailing junk is 0", 0, "Cache-Control: max-age=5 6", 0, 0,
	  NONE, NONE, NONE, NONE, NONE },
	{ "invalid beats valid", 0, "Cache-Control: max-age=60, max-age=x",
	  0, 0, NONE, NONE, NONE, NONE, NONE },
	{ "max-age saturates at 2^31", 0,
	  "Cache-Control: max-age=99999999999999999999", 0, BIG, NONE, NONE,
	  NONE, NONE, NONE },
	{ "max-age 2^31-1 kept", 0, "Cache-Control: max-age=2147483647", 0,
	  BIG - 1, NONE, NONE, NONE, NONE, NONE },
	{ "s-maxage invalid is 0", 0, "Cache-Control: s-maxage=1.5", 0, NONE,
	  0, NONE, NONE, NONE, NONE },
	{ "no-cache", 0, "Cache-Control: no-cache", CC_NO_CACHE, ABSENT },
	{ "qualified no-cache, comma inside", 0,
	  "Cache-Control: no-cache=\"Set-Cookie, X-A\", max-age=5",
	  CC_QUALIFIED_NO_CACHE, 5, NONE, NONE, NONE, NONE, NONE },
	{ "qualified no-cache token", 0, "Cache-Control: no-cache=set-cookie",
	  CC_QUALIFIED_NO_CACHE, ABSENT },
	{ "unterminated quote: unqualified", 0,
	  "Cache-Control: no-cache=\"abc", CC_NO_CACHE, ABSENT },
	{ "private", 0, "Cache-Control: private", CC_PRIVATE, ABSENT },
	{ "qualified private", 0, "Cache-Control: Private=\"X-A\"",
	  CC_QUALIFIED_PRIVATE, ABSENT },
	{ "unknown ignored", 0, "Cache-Control: foo, bar=\"a,max-age=1\", "
	  "max-age=7, x=y", 0, 7, NONE, NONE, NONE, NONE, NONE },
	{ "empty members and OWS", 0, "Cache-Control: , max-age=5 ,,\t"
	  "no-store ,", CC_NO_STORE, 5, NONE, NONE, NONE, NONE, NONE },
	{ "other flags", 0, "Cache-Control: proxy-revalidate, no-transform, "
	  "immutable, only-if-cached", CC_PROXY_REVALIDATE | CC_NO_TRANSFORM |
	  CC_IMMUTABLE | CC_ONLY_IF_CACHED, ABSENT },
	{ "swr and sie", 0, "Cache-Control: stale-while-revalidate=30, "
	  "stale-if-error=600", 0, NONE, NONE, NONE, NONE, 30, 600 },
	{ "swr and sie smallest", 0, "Cache-Control: stale-if-error=60, "
	  "stale-while-revalidate=9, stale-if-error=6, "
	  "stale-while-revalidate=90", 0, NONE, NONE, NONE, NONE, 9, 6 },
	{ "invalid swr ignored", 0, "Cache-Control: stale-while-revalidate=x,"
	  " stale-if-error", 0, ABSENT },
	{ "response Pragma means nothing", 0, "Pragma: no-cache", 0, ABSENT },
	{ "bare max-stale", 1, "Cache-Control: max-stale", 0, NONE, NONE,
	  INT64_MAX, NONE, NONE, NONE },
	{ "max-stale smallest", 1, "Cache-Control: max-stale, max-stale=10",
	  0, NONE, NONE, 10, NONE, NONE, NONE },
	{ "invalid max-stale ignored", 1, "Cache-Control: max-stale=x", 0,
	  ABSENT },
	{ "min-fresh largest", 1, "Cache-Control: min-fresh=5, min-fresh=20",
	  0, NONE, NONE, NONE, 20, NONE, NONE },
	{ "invalid min-fresh ignored", 1, "Cache-Control: min-fresh=\"\"", 0,
	  ABSENT },
	{ "request sie", 1, "Cache-Control: stale-if-error=\"30\"", 0, NONE,
	  NONE, NONE, NONE, NONE, 30 },
	{ "request Pragma", 1, "Pragma: no-cache", CC_PRAGMA_NO_CACHE,
	  ABSENT },
	{ "request Pragma in a list", 1, "Pragma: x=1, No-Cache",
	  CC_PRAGMA_NO_CACHE, ABSENT },
	{ "Pragma ignored with CC", 1, "Pragma: no-cache\n"
	  "Cache-Control: max-age=5", 0, 5, NONE, NONE, NONE, NONE, NONE },
	{ "Pragma ignored with empty CC", 1, "Cache-Control:\n"
	  "Pragma: no-cache", 0, ABSENT },
	{ "request no-cache", 1, "Cache-Control: no-cache, max-age=0",
	  CC_NO_CACHE, 0, NONE, NONE, NONE, NONE, NONE },
	/* CDN-Cache-Control (RFC 9213): replaces Cache-Control when valid */
#define T	CC_TARGETED
#define CC_NS	"Cache-Control: no-store, max-age=5\n"
	{ "CDN max-age", 0, CC_NS "CDN-Cache-Control: max-age=3600", T, 3600,
	  NONE, NONE, NONE, NONE, NONE },
	{ "CDN flags", 0, "Cache-Control: max-age=5\n"
	  "CDN-Cache-Control: private, no-cache;a=1, must-revalidate=?1",
	  T | CC_PRIVATE | CC_NO_CACHE | CC_MUST_REVALIDATE, ABSENT },
	{ "CDN ?0 is not set", 0, "CDN-Cache-Control: no-store=?0, max-age=9",
	  T, 9, NONE, NONE, NONE, NONE, NONE },
	{ "CDN qualified private", 0, "CDN-Cache-Control: private=\"x\"",
	  T | CC_QUALIFIED_PRIVATE, ABSENT },
	{ "CDN extension and huge", 0,
	  "CDN-Cache-Control: foobar, max-age=99999999999, x=:AAA=:, y=1.5,"
	  " z=tok/en", T, (int64_t)1 << 31, NONE, NONE, NONE, NONE, NONE },
	{ "CDN two lines", 0, "CDN-Cache-Control: max-age=10\n"
	  "CDN-Cache-Control: s-maxage=20", T, 10, 20, NONE, NONE, NONE, NONE },
	{ "CDN uppercase key: invalid", 0, CC_NS
	  "CDN-Cache-Control: MaX-aGe=3600", CC_NO_STORE, 5, NONE, NONE, NONE,
	  NONE, NONE },
	{ "CDN space before =: invalid", 0, CC_NS
	  "CDN-Cache-Control: max-age =100", CC_NO_STORE, 5, NONE, NONE, NONE,
	  NONE, NONE },
	{ "CDN space after =: invalid", 0, CC_NS
	  "CDN-Cache-Control: max-age= 100", CC_NO_STORE, 5, NONE, NONE, NONE,
	  NONE, NONE },
	{ "CDN unknown type: invalid", 0, CC_NS
	  "CDN-Cache-Control: max-age=10000, &&&&&", CC_NO_STORE, 5, NONE,
	  NONE, NONE, NONE, NONE },
	{ "CDN wrong type: invalid", 0, CC_NS
	  "CDN-Cache-Control: max-age=\"10000\"", CC_NO_STORE, 5, NONE, NONE,
	  NONE, NONE, NONE },
	{ "CDN negative: invalid", 0, CC_NS "CDN-Cache-Control: max-age=-1",
	  CC_NO_STORE, 5, NONE, NONE, NONE, NONE, NONE },
	{ "CDN trailing comma: invalid", 0, CC_NS
	  "CDN-Cache-Control: max-age=1,", CC_NO_STORE, 5, NONE, NONE, NONE,
	  NONE, NONE },
	{ "CDN inner list: invalid", 0, CC_NS
	  "CDN-Cache-Control: private=(\"a\")", CC_NO_STORE, 5, NONE, NONE,
	  NONE, NONE, NONE },
	{ "CDN in a request: ignored", 1, "CDN-Cache-Control: max-age=1", 0,
	  ABSENT },
	/* Surrogate-Control: the same, looser */
	{ "SC max-age", 0, CC_NS "Surrogate-Control: max-age=3600", T, 3600,
	  NONE, NONE, NONE, NONE, NONE },
	{ "SC no-store", 0, "Cache-Control: max-age=60\n"
	  "Surrogate-Control: no-store", T | CC_NO_STORE, ABSENT },
	{ "SC case, device, +M", 0, "Surrogate-Control: foo, "
	  "MaX-aGe=30+60;dev1, content=\"ESI/1.0\"", T, 30, NONE, NONE,
	  NONE, NONE, NONE },
	{ "SC malformed: ignored", 0, CC_NS "Surrogate-Control: max-age =100",
	  CC_NO_STORE, 5, NONE, NONE, NONE, NONE, NONE },
	{ "SC nothing known: ignored", 0, CC_NS "Surrogate-Control: foo",
	  CC_NO_STORE, 5, NONE, NONE, NONE, NONE, NONE },
	{ "CDN wins over SC", 0, "Surrogate-Control: max-age=1\n"
	  "CDN-Cache-Control: max-age=2", T, 2, NONE, NONE, NONE, NONE, NONE },
	{ "SC after an invalid CDN", 0, "Surrogate-Control: max-age=1\n"
	  "CDN-Cache-Control: max-age=x", T, 1, NONE, NONE, NONE, NONE, NONE },
#undef T
#undef CC_NS
};

START_TEST(test_cc)
{
	const struct cc_case *tc = &cc_cases[_i];
	const struct http_field *f;
	struct cache_cc	 cc;
	unsigned	 n;

	if (tc->is_request) {
		mkreq("GET", tc->fields);
		f = req.fields;
		n = req.nfields;
	} else {
		mkresp(200, tc->fields);
		f = resp.fields;
		n = resp.nfields;
	}
	cache_cc_parse(f, n, tc->is_request, &cc);
	ck_assert_msg(cc.flags == tc->flags, "%s: flags %#x, want %#x",
	    tc->name, cc.flags, tc->flags);
	ck_assert_msg(cc.max_age == tc->max_age && cc.s_maxage ==
	    tc->s_maxage && cc.max_stale == tc->max_stale && cc.min_fresh ==
	    tc->min_fresh && cc.swr == tc->swr && cc.sie == tc->sie,
	    "%s: max-age %lld s-maxage %lld max-stale %lld min-fresh %lld "
	    "swr %lld sie %lld", tc->name, (long long)cc.max_age,
	    (long long)cc.s_maxage, (long long)cc.max_stale,
	    (long long)cc.min_fresh, (long long)cc.swr, (long long)cc.sie);
}
END_TEST

/* HTTP-date. */
struct date_case {
	const char	*s;
	int64_t		 t;
};

static const struct date_case date_cases[] = {
	{ DS, D },
	{ "Sunday, 06-Nov-94 08:49:37 GMT", D },
	{ "Sun Nov  6 08:49:37 1994", D },
	{ "Sun Nov 06 08:49:37 1994", D },
	/* 2030 is not 50 years ahead: kept in this century. */
	{ "Wednesday, 06-Nov-30 08:49:37 GMT", INT64_C(1920185377) },
	{ "Thu, 01 Jan 1970 00:00:00 GMT", 0 },
	{ "Tue, 29 Feb 2000 12:00:00 GMT", INT64_C(951825600) },
	{ "Thu, 29 Feb 2024 23:59:59 GMT", INT64_C(1709251199) },
	{ "Sun, 06 Nov 1994 08:49:60 GMT", D + 23 },	/* leap second */
	{ "Fri, 31 Dec 9999 23:59:59 GMT", INT64_C(253402300799) },
	{ "Mon, 06 Nov 1994 08:49:37 GMT", D },	/* day name not checked */
	{ "", -1 },
	{ "0", -1 },
	{ "-1", -1 },
	{ "784111777", -1 },
	{ "Sun, 06 Nov 1994 08:49:37 UTC", -1 },
	/* case is ignored: origins do send these (RFC 9110 5.6.7) */
	{ "Sun, 06 Nov 1994 08:49:37 gmt", 784111777 },
	{ "sun, 06 Nov 1994 08:49:37 GMT", 784111777 },
	{ "Sun, 06 nov 1994 08:49:37 GMT", 784111777 },
	{ "SUNDAY, 06-NOV-94 08:49:37 GMT", 784111777 },
	{ "sun nov  6 08:49:37 1994", 784111777 },
	{ "Sun, 06 Nox 1994 08:49:37 GMT", -1 },
	{ "Sun, 6 Nov 1994 08:49:37 GMT", -1 },
	{ "Sun, 06 Nov 94 08:49:37 GMT", -1 },
	{ "Sun, 06 Nov 1994 8:49:37 GMT", -1 },
	{ "Sun, 06 Nov 1994 08-49-37 GMT", -1 },
	{ "Sun, 06 Nov 19x4 08:49:37 GMT", -1 },
	{ "Sun, 06 Nov 1994 24:00:00 GMT", -1 },
	{ "Sun, 06 Nov 1994 08:60:37 GMT", -1 },
	{ "Sun, 06 Nov 1994 08:49:61 GMT", -1 },
	{ "Sun, 00 Nov 1994 08:49:37 GMT", -1 },
	{ "Sun, 31 Nov 1994 08:49:37 GMT", -1 },
	{ "Thu, 29 Feb 2001 08:49:37 GMT", -1 },
	{ "Wed, 31 Dec 1969 23:59:59 GMT", -1 },	/* before the epoch */
	{ "Sun, 06 Nov 1994 08:49:37 GMT ", -1 },
	{ " Sun, 06 Nov 1994 08:49:37 GMT", -1 },
	{ "Sun,06 Nov 1994 08:49:37 GMT ", -1 },
	{ "Sun, 06-Nov-94 08:49:37 GMT", -1 },
	{ "Sunday, 06-Nov-1994 08:49:37 GMT", -1 },
	{ "Sunday, 06 Nov 94 08:49:37 GMT", -1 },
	{ "Sunday, 06-Nov-94 08:49:37 UTC", -1 },
	{ "Sunday, 31-Feb-94 08:49:37 GMT", -1 },
	{ "Sun Nov 6 08:49:37 1994", -1 },
	{ "Sun Nov  6 08:49:37 1994 GMT", -1 },
	{ "Sun Nov  x 08:49:37 1994", -1 },
	{ "Sun, 06 Nov 1994 08:49:37 GMT\x80", -1 },
};

START_TEST(test_date)
{
	const struct date_case *tc = &date_cases[_i];
	int64_t		 t;

	t = cache_date_parse(tc->s, strlen(tc->s));
	ck_assert_msg(t == tc->t, "\"%s\": %lld, want %lld", tc->s,
	    (long long)t, (long long)tc->t);
}
END_TEST

START_TEST(test_date_misc)
{
	static const char two[] = DS "XYZ";
	char		 buf[64];
	int64_t		 t;

	/* len is honoured: the bytes after it do not count. */
	ck_assert(cache_date_parse(two, 29) == D);
	ck_assert(cache_date_parse(two, 28) == -1);
	/* More than 50 years ahead: the previous century. */
	ck_assert(cache_date_parse("Thursday, 06-Nov-99 08:49:37 GMT", 32) ==
	    INT64_C(941878177));

	cache_date_format(D, buf, sizeof(buf));
	ck_assert_str_eq(buf, DS);
	cache_date_format(0, buf, sizeof(buf));
	ck_assert_str_eq(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
	cache_date_format(INT64_C(951825600), buf, sizeof(buf));
	ck_assert_str_eq(buf, "Tue, 29 Feb 2000 12:00:00 GMT");
	cache_date_format(-5, buf, sizeof(buf));
	ck_assert_str_eq(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
	cache_date_format(INT64_MAX, buf, sizeof(buf));
	ck_assert_str_eq(buf, "Fri, 31 Dec 9999 23:59:59 GMT");
	cache_date_format(D, buf, 30);
	ck_assert_str_eq(buf, DS);
	cache_date_format(D, buf, 9);
	ck_assert_str_eq(buf, "Sun, 06 ");
	/* Round trip, a day and a bit apart over four centuries. */
	for (t = 0; t < INT64_C(253402300799); t += 86400 * 37 + 3607) {
		cache_date_format(t, buf, sizeof(buf));
		ck_assert_msg(cache_date_parse(buf, strlen(buf)) == t, "%s",
		    buf);
	}
}
END_TEST

START_TEST(test_lookup)
{
	ck_assert_int_eq(cache_request_lookup(mkreq("GET", "")), 1);
	ck_assert_int_eq(cache_request_lookup(mkreq("HEAD", "")), 1);
	ck_assert_int_eq(cache_request_lookup(mkreq("POST", "")), 0);
	ck_assert_int_eq(cache_request_lookup(mkreq("PUT", "")), 0);
	ck_assert_int_eq(cache_request_lookup(mkreq("DELETE", "")), 0);
	ck_assert_int_eq(cache_request_lookup(mkreq("OPTIONS", "")), 0);
	ck_assert_int_eq(cache_request_lookup(mkreq("get", "")), 0);
}
END_TEST

/* Storability (RFC 9111 section 3). */
struct store_case {
	const char	*name;
	const char	*method;
	const char	*req_fields;
	int		 status;
	const char	*resp_fields;
	const char	*why;		/* NULL: storable */
};

#define R_AUTH	"Authorization without public, s-maxage or must-revalidate"
#define R_NOT	"status not cacheable by default, no explicit freshness"

static const struct store_case store_cases[] = {
	{ "plain 200", "GET", "", 200, "", NULL },
	{ "HEAD", "HEAD", "", 200, "Cache-Control: max-age=60",
	  "method is not GET" },
	{ "POST", "POST", "", 200, "Cache-Control: max-age=60",
	  "method is not GET" },
	{ "1xx", "GET", "", 103, "Cache-Control: max-age=60",
	  "status is not final" },
	{ "206 without Content-Range", "GET", "Range: bytes=0-4", 206,
	  "Cache-Control: max-age=60\nContent-Length: 5", "partial content" },
	{ "206, one part", "GET", "Range: bytes=0-4", 206,
	  "Cache-Control: max-age=60\nContent-Range: bytes 0-4/10\n"
	  "Content-Length: 5", NULL },
	{ "206 not asked for", "GET", "", 206, "Cache-Control: max-age=60\n"
	  "Content-Range: bytes 0-4/10\nContent-Length: 5",
	  "partial content" },
	{ "206, length unknown", "GET", "Range: bytes=0-4", 206,
	  "Content-Range: bytes 0-4/*\nContent-Length: 5", "partial content" },
	{ "206, body of another length", "GET", "Range: bytes=0-4", 206,
	  "Content-Range: bytes 0-4/10\nContent-Length: 4", "partial content" },
	{ "206, two Content-Ranges", "GET", "Range: bytes=0-4", 206,
	  "Content-Range: bytes 0-4/10\nContent-Range: bytes 0-4/10\n"
	  "Content-Length: 5", "partial content" },
	{ "206, last past the end", "GET", "Range: bytes=0-4", 206,
	  "Content-Range: bytes 0-10/10\nContent-Length: 11",
	  "partial content" },
	{ "304", "GET", "", 304, "Cache-Control: max-age=60",
	  "304 Not Modified" },
	{ "request no-store", "GET", "Cache-Control: no-store", 200,
	  "Cache-Control: max-age=60", "no-store in request" },
	{ "response no-store", "GET", "", 200,
	  "Cache-Control: max-age=60, No-Store", "no-store in response" },
	{ "no-store beats public", "GET", "", 200,
	  "Cache-Control: public\nCache-Control: no-store",
	  "no-store in response" },
	{ "private", "GET", "", 200, "Cache-Control: private, max-age=60",
	  "private" },
	{ "qualified private", "GET", "", 200,
	  "Cache-Control: private=\"X-User\", s-maxage=60", "private" },
	{ "Authorization", "GET", "Authorization: Basic eDp5", 200,
	  "Cache-Control: max-age=60", R_AUTH },
	{ "Authorization, proxy-revalidate", "GET", "authorization: x", 200,
	  "Cache-Control: proxy-revalidate", R_AUTH },
	{ "Authorization, public", "GET", "Authorization: x", 200,
	  "Cache-Control: public", NULL },
	{ "Authorization, s-maxage", "GET", "Authorization: x", 200,
	  "Cache-Control: s-maxage=10", NULL },
	{ "Authorization, must-revalidate", "GET", "Authorization: x", 200,
	  "Cache-Control: must-revalidate", NULL },
	{ "Vary *", "GET", "", 200, "Vary: *", "Vary: *" },
	{ "Vary list with *", "GET", "", 200, "Vary: Accept\nVary: Cookie, *",
	  "Vary: *" },
	{ "Vary Accept-Encoding", "GET", "", 200, "Vary: Accept-Encoding",
	  NULL },
	{ "Set-Cookie", "GET", "", 200,
	  "Cache-Control: public, max-age=60\nSet-Cookie: a=b", "Set-Cookie" },
	{ "no-cache is storable", "GET", "", 200, "Cache-Control: no-cache",
	  NULL },
	{ "invalid Expires is storable", "GET", "", 200, "Expires: 0", NULL },
	{ "302 plain", "GET", "", 302, "", R_NOT },
	{ "302 max-age", "GET", "", 302, "Cache-Control: max-age=60", NULL },
	{ "302 max-age=0", "GET", "", 302, "Cache-Control: max-age=0", NULL },
	{ "307 s-maxage", "GET", "", 307, "Cache-Control: s-maxage=5", NULL },
	{ "302 Expires", "GET", "", 302, "Expires: " DS, NULL },
	{ "302 public", "GET", "", 302, "Cache-Control: public", NULL },
	{ "500 plain", "GET", "", 500, "", R_NOT },
	{ "500 immutable only", "GET", "", 500, "Cache-Control: immutable",
	  R_NOT },
	{ "201", "GET", "", 201, "Last-Modified: " DS, R_NOT },
	{ "must-understand, known status: stored", "GET", "", 200,
	  "Cache-Control: must-understand, no-store", NULL },
	{ "must-understand, unknown status", "GET", "", 299,
	  "Cache-Control: must-understand, max-age=60",
	  "must-understand with an unknown status" },
	{ "must-understand, unknown status, no-store", "GET", "", 599,
	  "Cache-Control: must-understand, no-store",
	  "must-understand with an unknown status" },
};

START_TEST(test_storable)
{
	const struct store_case *tc = &store_cases[_i];
	struct cache_cc	 rqc, rsc;
	const char	*why;

	mkreq(tc->method, tc->req_fields);
	mkresp(tc->status, tc->resp_fields);
	cache_cc_parse(req.fields, req.nfields, 1, &rqc);
	cache_cc_parse(resp.fields, resp.nfields, 0, &rsc);
	why = cache_storable(&req, &rqc, &resp, &rsc);
	if (tc->why == NULL)
		ck_assert_msg(why == NULL, "%s: not storable: %s", tc->name,
		    why);
	else
		ck_assert_msg(why != NULL && strcmp(why, tc->why) == 0,
		    "%s: \"%s\", want \"%s\"", tc->name, why ? why : "(null)",
		    tc->why);
}
END_TEST

/* Every heuristically cacheable status but 206, and a few others. */
START_TEST(test_storable_status)
{
	static const int yes[] = {
		200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501
	};
	static const int no[] = { 201, 202, 302, 303, 307, 400, 403, 500,
		502, 503, 504 };
	struct cache_cc	 rqc, rsc;
	size_t		 i;

	mkreq("GET", "");
	cache_cc_parse(req.fields, req.nfields, 1, &rqc);
	for (i = 0; i < NELEM(yes); i++) {
		mkresp(yes[i], "");
		cache_cc_parse(resp.fields, resp.nfields, 0, &rsc);
		ck_assert_msg(cache_storable(&req, &rqc, &resp, &rsc) == NULL,
		    "%d", yes[i]);
	}
	for (i = 0; i < NELEM(no); i++) {
		mkresp(no[i], "");
		cache_cc_parse(resp.fields, resp.nfields, 0, &rsc);
		ck_assert_msg(cache_storable(&req, &rqc, &resp, &rsc) != NULL,
		    "%d", no[i]);
	}
}
END_TEST

/* What cache_meta_fill keeps; request at D - 2, response at D. */
struct meta_case {
	const char	*name;
	int		 status;
	const char	*fields;
	int64_t		 date, age, lifetime;
	uint32_t	 flags;
	int64_t		 swr, sie;
};

#define LM_1000	"Last-Modified: Sun, 06 Nov 1994 08:32:57 GMT"	/* D-1000 */
#define MR	CM_MUST_REVALIDATE
#define HV	CM_HAS_VALIDATOR

static const struct meta_case meta_cases[] = {
	{ "nothing", 200, "", D, 0, 0, 0, NONE, NONE },
	{ "s-maxage wins", 200, "Date: " DS "\nCache-Control: max-age=60, "
	  "s-maxage=30\nExpires: Sun, 06 Nov 1994 09:49:37 GMT",
	  D, 0, 30, MR, NONE, NONE },
	{ "s-maxage=0 wins", 200, "Cache-Control: s-maxage=0, max-age=60",
	  D, 0, 0, MR, NONE, NONE },
	{ "max-age over Expires", 200, "Date: " DS "\nCache-Control: "
	  "max-age=60\nExpires: Sun, 06 Nov 1994 09:49:37 GMT",
	  D, 0, 60, 0, NONE, NONE },
	{ "Expires - Date", 200, "Date: Sun, 06 Nov 1994 08:00:00 GMT\n"
	  "Expires: Sun, 06 Nov 1994 09:00:00 GMT", D - 2977, 0, 3600, 0,
	  NONE, NONE },
	{ "Expires without Date", 200,
	  "Expires: Sun, 06 Nov 1994 09:49:37 GMT", D, 0, 3600, 0, NONE,
	  NONE },
	{ "Expires before Date", 200, "Date: " DS "\n"
	  "Expires: Sun, 06 Nov 1994 07:49:37 GMT", D, 0, 0, 0, NONE, NONE },
	{ "Expires: 0 is expired", 200, "Expires: 0\n" LM_1000, D, 0, 0, HV,
	  NONE, NONE },
	{ "invalid max-age beats Expires", 200, "Cache-Control: max-age=1x\n"
	  "Expires: Sun, 06 Nov 1994 09:49:37 GMT", D, 0, 0, 0, NONE, NONE },
	{ "heuristic 10%", 200, LM_1000, D, 0, 100, CM_HEURISTIC | HV, NONE,
	  NONE },
	{ "heuristic for 404", 404, LM_1000, D, 0, 100, CM_HEURISTIC | HV,
	  NONE, NONE },
	{ "heuristic capped at a day", 200,
	  "Last-Modified: Sun, 06 Nov 1984 08:49:37 GMT", D, 0, 86400,
	  CM_HEURISTIC | HV, NONE, NONE },
	{ "no heuristic for 302", 302, LM_1000, D, 0, 0, HV, NONE, NONE },
	{ "heuristic for public 500", 500, "Cache-Control: public\n"
	  LM_1000, D, 0, 100, HV | CM_HEURISTIC, NONE, NONE },
	{ "no heuristic for 500", 500, LM_1000, D, 0, 0, HV, NONE, NONE },
	{ "no heuristic, LM after Date", 200, "Date: " DS "\n"
	  "Last-Modified: Sun, 06 Nov 1994 09:49:37 GMT", D, 0, 0, HV, NONE,
	  NONE },
	{ "no heuristic, LM == Date", 200, "Date: " DS "\nLast-Modified: " DS,
	  D, 0, 0, HV, NONE, NONE },
	{ "invalid LM: no heuristic, no validator", 200,
	  "Last-Modified: yesterday", D, 0, 0, 0, NONE, NONE },
	{ "invalid Date: response_time", 200, "Date: now\n"
	  "Cache-Control: max-age=9", D, 0, 9, 0, NONE, NONE },
	{ "Date used", 200, "Date: Sun, 06 Nov 1994 08:48:37 GMT", D - 60, 0,
	  0, 0, NONE, NONE },
	{ "Age", 200, "Age: 100", D, 100, 0, 0, NONE, NONE },
	{ "first valid Age", 200, "Age: x\nAge: 50\nAge: 70", D, 50, 0, 0,
	  NONE, NONE },
	{ "invalid Age", 200, "Age: -5", D, 0, 0, 0, NONE, NONE },
	{ "CDN-Cache-Control: Expires does not count", 200,
	  "CDN-Cache-Control: max-age=0\nExpires: Sun, 06 Nov 1994 09:49:37 GMT",
	  D, 0, 0, 0, NONE, NONE },
	{ "CDN-Cache-Control without lifetime: Expires does not count", 200,
	  "CDN-Cache-Control: public\nExpires: Sun, 06 Nov 1994 09:49:37 GMT",
	  D, 0, 0, 0, NONE, NONE },
	{ "Age list: first member", 200, "Age: 5, 6", D, 5, 0, 0, NONE,
	  NONE },
	{ "Age list, bad first member", 200, "Age: x, 6", D, 0, 0, 0, NONE,
	  NONE },
	{ "huge Age saturates", 200, "Age: 99999999999", D, BIG, 0, 0, NONE,
	  NONE },
	{ "no-cache", 200, "Cache-Control: no-cache, max-age=60", D, 0, 60,
	  CM_NO_CACHE, NONE, NONE },
	{ "qualified no-cache", 200, "Cache-Control: no-cache=\"X-A\"", D, 0,
	  0, CM_NO_CACHE, NONE, NONE },
	{ "must-revalidate", 200, "Cache-Control: must-revalidate", D, 0, 0,
	  MR, NONE, NONE },
	{ "proxy-revalidate", 200, "Cache-Control: proxy-revalidate", D, 0, 0,
	  MR, NONE, NONE },
	{ "ETag", 200, "ETag: \"x\"", D, 0, 0, HV, NONE, NONE },
	{ "swr, sie", 200, "Cache-Control: max-age=1, stale-if-error=20, "
	  "stale-while-revalidate=10", D, 0, 1, 0, 10, 20 },
};

START_TEST(test_meta)
{
	const struct meta_case *tc = &meta_cases[_i];
	struct cache_meta m;
	struct cache_cc	 cc;

	mkresp(tc->status, tc->fields);
	cache_cc_parse(resp.fields, resp.nfields, 0, &cc);
	cache_meta_fill(&m, &resp, &cc, D - 2, D);
	ck_assert_msg(m.request_time == D - 2 && m.response_time == D &&
	    m.status == tc->status, "%s: times/status", tc->name);
	ck_assert_msg(m.date == tc->date, "%s: date %lld, want %lld",
	    tc->name, (long long)m.date, (long long)tc->date);
	ck_assert_msg(m.age == tc->age, "%s: age %lld, want %lld", tc->name,
	    (long long)m.age, (long long)tc->age);
	ck_assert_msg(m.lifetime == tc->lifetime, "%s: lifetime %lld, want "
	    "%lld", tc->name, (long long)m.lifetime, (long long)tc->lifetime);
	ck_assert_msg(m.flags == tc->flags, "%s: flags %#x, want %#x",
	    tc->name, m.flags, tc->flags);
	ck_assert_msg(m.swr == tc->swr && m.sie == tc->sie, "%s: swr/sie",
	    tc->name);
}
END_TEST

/* current_age (RFC 9111 4.2.3). */
struct age_case {
	const char	*name;
	int64_t		 request_time, response_time, date, age, now, want;
};

static const struct age_case age_cases[] = {
	{ "new", 1000, 1000, 1000, 0, 1000, 0 },
	{ "resident", 1000, 1000, 1000, 0, 1100, 100 },
	{ "apparent age", 1000, 1000, 900, 0, 1000, 100 },
	{ "apparent plus resident", 1000, 1000, 900, 0, 1050, 150 },
	{ "Age plus delay", 990, 1000, 1000, 50, 1000, 60 },
	{ "Age plus delay plus resident", 990, 1000, 1000, 50, 1040, 100 },
	{ "apparent beats corrected", 990, 1000, 800, 50, 1000, 200 },
	{ "corrected beats apparent", 900, 1000, 980, 50, 1000, 150 },
	{ "Date ahead of us", 1000, 1000, 1100, 0, 1010, 10 },
	{ "clock stepped back", 1000, 1000, 1000, 5, 900, 5 },
	{ "response before request", 1010, 1000, 1000, 5, 1000, 5 },
};

START_TEST(test_age)
{
	const struct age_case *tc = &age_cases[_i];
	struct cache_meta m;
	int64_t		 a;

	memset(&m, 0, sizeof(m));
	m.request_time = tc->request_time;
	m.response_time = tc->response_time;
	m.date = tc->date;
	m.age = tc->age;
	a = cache_age(&m, tc->now);
	ck_assert_msg(a == tc->want, "%s: %lld, want %lld", tc->name,
	    (long long)a, (long long)tc->want);
}
END_TEST

/*
 * cache_judge and cache_stale_if_error: a response received at 1000
 * with no Date or Age, so its age is now - 1000.
 */
struct judge_case {
	const char	*name;
	int64_t		 lifetime;
	uint32_t	 flags;
	int64_t		 swr, sie;
	const char	*req_fields;
	int64_t		 age;
	int		 want;
};

#define CC	"Cache-Control: "

static const struct judge_case judge_cases[] = {
	{ "fresh", 100, 0, NONE, NONE, "", 50, CACHE_FRESH },
	{ "last fresh second", 100, 0, NONE, NONE, "", 99, CACHE_FRESH },
	{ "age == lifetime is stale", 100, 0, NONE, NONE, "", 100,
	  CACHE_REVALIDATE },
	{ "lifetime 0", 0, 0, NONE, NONE, "", 0, CACHE_REVALIDATE },
	{ "request no-cache", 100, 0, NONE, NONE, CC "no-cache", 0,
	  CACHE_REVALIDATE },
	{ "request Pragma", 100, 0, NONE, NONE, "Pragma: no-cache", 0,
	  CACHE_REVALIDATE },
	{ "Pragma beside CC", 100, 0, NONE, NONE, "Pragma: no-cache\n"
	  CC "max-stale", 0, CACHE_FRESH },
	{ "stored no-cache", 100, CM_NO_CACHE, NONE, NONE, "", 0,
	  CACHE_REVALIDATE },
	{ "stored no-cache, max-stale", 100, CM_NO_CACHE, NONE, NONE,
	  CC "max-stale", 200, CACHE_REVALIDATE },
	{ "max-age met", 100, 0, NONE, NONE, CC "max-age=50", 50,
	  CACHE_FRESH },
	{ "max-age exceeded", 100, 0, NONE, NONE, CC "max-age=30", 50,
	  CACHE_REVALIDATE },
	{ "max-age=0 at age 0", 100, 0, NONE, NONE, CC "max-age=0", 0,
	  CACHE_FRESH },
	{ "max-age caps max-stale", 100, 0, NONE, NONE,
	  CC "max-age=30, max-stale", 50, CACHE_REVALIDATE },
	{ "max-age with max-stale", 100, 0, NONE, NONE,
	  CC "max-age=200, max-stale=60", 150, CACHE_STALE_OK },
	{ "min-fresh met", 100, 0, NONE, NONE, CC "min-fresh=20", 80,
	  CACHE_FRESH },
	{ "min-fresh missed", 100, 0, NONE, NONE, CC "min-fresh=20", 81,
	  CACHE_REVALIDATE },
	{ "min-fresh=0 when stale", 100, 0, NONE, NONE, CC "min-fresh=0",
	  100, CACHE_REVALIDATE },
	{ "min-fresh beats swr", 100, 0, 60, NONE, CC "min-fresh=1", 120,
	  CACHE_REVALIDATE },
	{ "max-stale met", 100, 0, NONE, NONE, CC "max-stale=10", 110,
	  CACHE_STALE_OK },
	{ "max-stale missed", 100, 0, NONE, NONE, CC "max-stale=10", 111,
	  CACHE_REVALIDATE },
	{ "bare max-stale", 100, 0, NONE, NONE, CC "max-stale", 1000000,
	  CACHE_STALE_OK },
	{ "fresh with max-stale", 100, 0, NONE, NONE, CC "max-stale", 10,
	  CACHE_FRESH },
	{ "must-revalidate beats max-stale", 100, MR, NONE, NONE,
	  CC "max-stale", 101, CACHE_REVALIDATE },
	{ "must-revalidate while fresh", 100, MR, NONE, NONE, "", 99,
	  CACHE_FRESH },
	{ "swr", 100, 0, 30, NONE, "", 120, CACHE_STALE_SWR },
	{ "swr edge", 100, 0, 30, NONE, "", 130, CACHE_STALE_SWR },
	{ "swr over", 100, 0, 30, NONE, "", 131, CACHE_REVALIDATE },
	{ "swr=0", 100, 0, 0, NONE, "", 100, CACHE_STALE_SWR },
	{ "swr, must-revalidate", 100, MR, 30, NONE, "", 120,
	  CACHE_REVALIDATE },
	{ "swr, request max-age", 100, 0, 30, NONE, CC "max-age=1000", 120,
	  CACHE_REVALIDATE },
	{ "swr, request no-cache", 100, 0, 30, NONE, CC "no-cache", 120,
	  CACHE_REVALIDATE },
	{ "max-stale before swr", 100, 0, 30, NONE, CC "max-stale=50", 120,
	  CACHE_STALE_OK },
	{ "swr when max-stale too small", 100, 0, 30, NONE,
	  CC "max-stale=5", 120, CACHE_STALE_SWR },
	{ "sie is not swr", 100, 0, NONE, 600, "", 120, CACHE_REVALIDATE },
};

static void
judge_meta(const struct judge_case *tc, struct cache_meta *m,
    struct cache_cc *cc)
{
	memset(m, 0, sizeof(*m));
	m->request_time = m->response_time = m->date = 1000;
	m->lifetime = tc->lifetime;
	m->flags = tc->flags;
	m->swr = tc->swr;
	m->sie = tc->sie;
	m->status = 200;
	mkreq("GET", tc->req_fields);
	cache_cc_parse(req.fields, req.nfields, 1, cc);
}

START_TEST(test_judge)
{
	const struct judge_case *tc = &judge_cases[_i];
	struct cache_meta m;
	struct cache_cc	 cc;
	int		 v;

	judge_meta(tc, &m, &cc);
	v = (int)cache_judge(&m, &cc, 1000 + tc->age);
	ck_assert_msg(v == tc->want, "%s: %d, want %d", tc->name, v,
	    tc->want);
}
END_TEST

static const struct judge_case sie_cases[] = {
	{ "fresh", 100, 0, NONE, NONE, "", 99, 1 },
	{ "fresh, must-revalidate", 100, MR, NONE, NONE, "", 99, 1 },
	{ "fresh, no-cache", 100, CM_NO_CACHE, NONE, 600, "", 0, 0 },
	{ "stale, none", 100, 0, NONE, NONE, "", 100, 0 },
	{ "stale, swr only", 100, 0, 600, NONE, "", 101, 0 },
	{ "response sie", 100, 0, NONE, 60, "", 160, 1 },
	{ "response sie over", 100, 0, NONE, 60, "", 161, 0 },
	{ "request sie", 100, 0, NONE, NONE, CC "stale-if-error=60", 160, 1 },
	{ "request sie over", 100, 0, NONE, NONE, CC "stale-if-error=60",
	  161, 0 },
	{ "larger of the two", 100, 0, NONE, 60, CC "stale-if-error=10", 130,
	  1 },
	{ "larger of the two, request", 100, 0, NONE, 10,
	  CC "stale-if-error=60", 130, 1 },
	{ "must-revalidate", 100, MR, NONE, 600, "", 101, 0 },
	{ "must-revalidate, request sie", 100, MR, NONE, NONE,
	  CC "stale-if-error=600", 101, 0 },
	{ "no-cache", 100, CM_NO_CACHE, NONE, 600, "", 101, 0 },
	{ "request no-cache", 100, 0, NONE, 600, CC "no-cache", 101, 0 },
	{ "request Pragma", 100, 0, NONE, 600, "Pragma: no-cache", 101, 0 },
	{ "request no-cache, own sie", 100, 0, NONE, NONE,
	  CC "no-cache, stale-if-error=60", 101, 1 },
};

START_TEST(test_sie)
{
	const struct judge_case *tc = &sie_cases[_i];
	struct cache_meta m;
	struct cache_cc	 cc;
	int		 v;

	judge_meta(tc, &m, &cc);
	v = cache_stale_if_error(&m, 0, &cc, 1000 + tc->age);
	ck_assert_msg(v == tc->want, "%s: %d, want %d", tc->name, v,
	    tc->want);
}
END_TEST

/* Conditional requests answered from the cache. */
struct cond_case {
	const char	*name;
	const char	*method;
	const char	*req_fields;
	const char	*stored;
	int		 want;
};

#define LM_D	"Last-Modified: " DS

static const struct cond_case cond_cases[] = {
	{ "no conditional", "GET", "", "ETag: \"a\"\n" LM_D, 0 },
	{ "strong match", "GET", "If-None-Match: \"abc\"", "ETag: \"abc\"",
	  1 },
	{ "mismatch", "GET", "If-None-Match: \"abd\"", "ETag: \"abc\"", 0 },
	{ "case matters", "GET", "If-None-Match: \"ABC\"", "ETag: \"abc\"",
	  0 },
	{ "weak vs strong", "GET", "If-None-Match: W/\"abc\"",
	  "ETag: \"abc\"", 1 },
	{ "strong vs weak", "GET", "If-None-Match: \"abc\"",
	  "ETag: W/\"abc\"", 1 },
	{ "weak vs weak", "GET", "If-None-Match: W/\"abc\"",
	  "ETag: W/\"abc\"", 1 },
	{ "empty tags", "GET", "If-None-Match: \"\"", "ETag: \"\"", 1 },
	{ "list", "GET", "If-None-Match: \"x\", W/\"abc\" ,\"y\"",
	  "ETag: \"abc\"", 1 },
	{ "list, none", "GET", "If-None-Match: \"x\",\"y\"", "ETag: \"abc\"",
	  0 },
	{ "comma inside a tag", "GET", "If-None-Match: \"a,b\"",
	  "ETag: \"a,b\"", 1 },
	{ "no half of a tag", "GET", "If-None-Match: \"a\", \"b\"",
	  "ETag: \"a,b\"", 0 },
	{ "two fields", "GET", "If-None-Match: \"x\"\nIf-None-Match: \"abc\"",
	  "ETag: \"abc\"", 1 },
	{ "a malformed line spoils it", "GET", "If-None-Match: \"abc\"\n"
	  "If-None-Match: x", "ETag: \"abc\"", 0 },
	{ "star", "GET", "If-None-Match: *", "ETag: \"abc\"", 1 },
	{ "star, no ETag", "GET", "If-None-Match: *", "", 1 },
	{ "star in a list is malformed", "GET", "If-None-Match: \"x\", *",
	  "ETag: \"abc\"", 0 },
	{ "no stored ETag", "GET", "If-None-Match: \"abc\"", LM_D, 0 },
	{ "malformed stored ETag", "GET", "If-None-Match: \"abc\"",
	  "ETag: abc", 0 },
	{ "unquoted tag", "GET", "If-None-Match: abc", "ETag: \"abc\"", 0 },
	{ "lowercase w/", "GET", "If-None-Match: w/\"abc\"", "ETag: \"abc\"",
	  0 },
	{ "malformed after a match", "GET", "If-None-Match: \"abc\" x",
	  "ETag: \"abc\"", 0 },
	{ "INM beats IMS", "GET", "If-None-Match: \"x\"\n"
	  "If-Modified-Since: " DS, "ETag: \"abc\"\n" LM_D, 0 },
	{ "HEAD", "HEAD", "If-None-Match: \"abc\"", "ETag: \"abc\"", 1 },
	{ "POST", "POST", "If-None-Match: \"abc\"", "ETag: \"abc\"", 0 },
	{ "IMS equal", "GET", "If-Modified-Since: " DS, LM_D, 1 },
	{ "IMS later", "GET",
	  "If-Modified-Since: Sun, 06 Nov 1994 09:00:00 GMT", LM_D, 1 },
	{ "IMS earlier", "GET",
	  "If-Modified-Since: Sun, 06 Nov 1994 08:49:36 GMT", LM_D, 0 },
	{ "IMS obsolete format", "GET",
	  "If-Modified-Since: Sunday, 06-Nov-94 08:49:37 GMT", LM_D, 1 },
	{ "IMS invalid", "GET", "If-Modified-Since: yesterday", LM_D, 0 },
	{ "IMS twice", "GET", "If-Modified-Since: " DS "\n"
	  "If-Modified-Since: " DS, LM_D, 0 },
	{ "IMS, Date stands in", "GET", "If-Modified-Since: " DS,
	  "Date: Sun, 06 Nov 1994 08:00:00 GMT", 1 },
	{ "IMS, Date too new", "GET", "If-Modified-Since: " DS,
	  "Date: Sun, 06 Nov 1994 09:00:00 GMT", 0 },
	{ "IMS, bad LM", "GET", "If-Modified-Since: " DS,
	  "Last-Modified: x\nDate: Sun, 06 Nov 1994 08:00:00 GMT", 0 },
	{ "IMS, nothing stored", "GET", "If-Modified-Since: " DS, "", 0 },
	{ "IMS on POST", "POST", "If-Modified-Since: " DS, LM_D, 0 },
};

START_TEST(test_cond)
{
	const struct cond_case *tc = &cond_cases[_i];
	int		 v;

	mkreq(tc->method, tc->req_fields);
	mkresp(200, tc->stored);
	v = cache_not_modified(&req, resp.fields, resp.nfields);
	ck_assert_msg(v == tc->want, "%s: %d, want %d", tc->name, v,
	    tc->want);
}
END_TEST

/* Byte ranges of a stored 200 of 100 bytes (RFC 9110 14). */
struct range_case {
	const char	*name;
	const char	*method;
	const char	*req_fields;
	const char	*stored;
	int		 want;		/* enum cache_range_kind */
	uint64_t	 first, last;
};

#define LM_OLD	"Last-Modified: " DS "\nDate: Sun, 06 Nov 1994 09:00:00 GMT"
#define LM_NOW	"Last-Modified: " DS "\nDate: " DS

static const struct range_case range_cases[] = {
	{ "none", "GET", "X: y", "", CACHE_RANGE_ALL, 0, 0 },
	{ "first-last", "GET", "Range: bytes=0-9", "", CACHE_RANGE_PART,
	  0, 9 },
	{ "one byte", "GET", "Range: bytes=50-50", "", CACHE_RANGE_PART,
	  50, 50 },
	{ "open end", "GET", "Range: bytes=90-", "", CACHE_RANGE_PART,
	  90, 99 },
	{ "last past the end", "GET", "Range: bytes=95-1000", "",
	  CACHE_RANGE_PART, 95, 99 },
	{ "huge last", "GET", "Range: bytes=1-99999999999999999999999", "",
	  CACHE_RANGE_PART, 1, 99 },
	{ "suffix", "GET", "Range: bytes=-5", "", CACHE_RANGE_PART, 95, 99 },
	{ "suffix longer than all", "GET", "Range: bytes=-500", "",
	  CACHE_RANGE_PART, 0, 99 },
	{ "unit case", "GET", "Range: Bytes=0-0", "", CACHE_RANGE_PART,
	  0, 0 },
	{ "empty elements", "GET", "Range: bytes=, 3-4 ,", "",
	  CACHE_RANGE_PART, 3, 4 },
	{ "first past the end", "GET", "Range: bytes=100-", "",
	  CACHE_RANGE_UNSAT, 0, 0 },
	{ "huge first", "GET", "Range: bytes=99999999999999999999999-", "",
	  CACHE_RANGE_UNSAT, 0, 0 },
	{ "zero suffix", "GET", "Range: bytes=-0", "", CACHE_RANGE_UNSAT,
	  0, 0 },
	{ "last before first", "GET", "Range: bytes=5-2", "",
	  CACHE_RANGE_ALL, 0, 0 },
	{ "two ranges", "GET", "Range: bytes=0-1,5-6", "", CACHE_RANGE_ALL,
	  0, 0 },
	{ "two fields", "GET", "Range: bytes=0-1\nRange: bytes=0-1", "",
	  CACHE_RANGE_ALL, 0, 0 },
	{ "other unit", "GET", "Range: items=0-1", "", CACHE_RANGE_ALL,
	  0, 0 },
	{ "no dash", "GET", "Range: bytes=5", "", CACHE_RANGE_ALL, 0, 0 },
	{ "garbage after", "GET", "Range: bytes=0-1x", "", CACHE_RANGE_ALL,
	  0, 0 },
	{ "sign", "GET", "Range: bytes=+1-2", "", CACHE_RANGE_ALL, 0, 0 },
	{ "no digits", "GET", "Range: bytes=-", "", CACHE_RANGE_ALL, 0, 0 },
	{ "HEAD", "HEAD", "Range: bytes=0-9", "", CACHE_RANGE_ALL, 0, 0 },
	{ "If-Range etag", "GET", "Range: bytes=0-9\nIf-Range: \"a\"",
	  "ETag: \"a\"", CACHE_RANGE_PART, 0, 9 },
	{ "If-Range other etag", "GET", "Range: bytes=0-9\nIf-Range: \"b\"",
	  "ETag: \"a\"", CACHE_RANGE_ALL, 0, 0 },
	{ "If-Range weak stored", "GET", "Range: bytes=0-9\nIf-Range: \"a\"",
	  "ETag: W/\"a\"", CACHE_RANGE_ALL, 0, 0 },
	{ "If-Range weak asked", "GET",
	  "Range: bytes=0-9\nIf-Range: W/\"a\"", "ETag: W/\"a\"",
	  CACHE_RANGE_ALL, 0, 0 },
	{ "If-Range etag, none stored", "GET",
	  "Range: bytes=0-9\nIf-Range: \"a\"", "", CACHE_RANGE_ALL, 0, 0 },
	{ "If-Range date, strong LM", "GET",
	  "Range: bytes=0-9\nIf-Range: " DS, LM_OLD, CACHE_RANGE_PART, 0, 9 },
	{ "If-Range date, LM same as Date", "GET",
	  "Range: bytes=0-9\nIf-Range: " DS, LM_NOW, CACHE_RANGE_ALL, 0, 0 },
	{ "If-Range other date", "GET", "Range: bytes=0-9\nIf-Range: "
	  "Sun, 06 Nov 1994 08:49:38 GMT", LM_OLD, CACHE_RANGE_ALL, 0, 0 },
	{ "If-Range garbage", "GET", "Range: bytes=0-9\nIf-Range: soon",
	  LM_OLD, CACHE_RANGE_ALL, 0, 0 },
	{ "If-Range without Range", "GET", "If-Range: \"a\"",
	  "ETag: \"a\"", CACHE_RANGE_ALL, 0, 0 },
};

START_TEST(test_range)
{
	const struct range_case *tc = &range_cases[_i];
	uint64_t	 first = 0, last = 0;
	int		 v;

	mkreq(tc->method, tc->req_fields);
	mkresp(200, tc->stored);
	v = (int)cache_range(&req, resp.fields, resp.nfields, 100, &first,
	    &last);
	ck_assert_msg(v == tc->want, "%s: %d, want %d", tc->name, v,
	    tc->want);
	if (v == CACHE_RANGE_PART)
		ck_assert_msg(first == tc->first && last == tc->last,
		    "%s: %llu-%llu", tc->name, (unsigned long long)first,
		    (unsigned long long)last);
}
END_TEST

/* Fields a 304 may update (RFC 9111 3.2). */
struct update_case {
	const char	*name;
	int		 want;
};

static const struct update_case update_cases[] = {
	{ "Content-Length", 0 }, { "content-length", 0 },
	{ "Transfer-Encoding", 0 }, { "Connection", 0 }, { "Keep-Alive", 0 },
	{ "Proxy-Connection", 0 }, { "TE", 0 }, { "Trailer", 0 },
	{ "Upgrade", 0 }, { "Proxy-Authenticate", 0 },
	{ "Proxy-Authentication-Info", 0 }, { "Proxy-Authorization", 0 },
	{ "Content-Encoding", 0 }, { "Content-Range", 0 },
	{ "Set-Cookie", 0 },
	{ "ETag", 1 }, { "Cache-Control", 1 }, { "Expires", 1 },
	{ "Date", 1 }, { "Last-Modified", 1 }, { "Age", 1 }, { "Vary", 1 },
	{ "Content-Type", 1 }, { "Content-Location", 1 }, { "X-Custom", 1 },
	{ "Content-Length2", 1 }, { "TEX", 1 }, { "T", 1 },
};

START_TEST(test_update)
{
	const struct update_case *tc = &update_cases[_i];
	struct http_field f;

	f.name = tc->name;
	f.name_len = strlen(tc->name);
	f.value = "x";
	f.value_len = 1;
	ck_assert_msg(cache_update_field(&f) == tc->want, "%s", tc->name);
}
END_TEST

/* The Vary part of the key. */
struct vary_case {
	const char	*name;
	const char	*vary;
	const char	*req_fields;
	size_t		 cap;		/* 0: plenty */
	const char	*want;		/* NULL: -1 */
};

static const struct vary_case vary_cases[] = {
	{ "one field", "Accept-Encoding", "Accept-Encoding: gzip", 0,
	  "accept-encoding:gzip\n" },
	{ "absent", "Accept-Encoding", "", 0, "accept-encoding\n" },
	{ "empty value", "Accept-Encoding", "Accept-Encoding:", 0,
	  "accept-encoding:\n" },
	{ "Vary's order", "Accept-Language, accept-encoding",
	  "Accept-Encoding: br\nAccept-Language: fr", 0,
	  "accept-language:fr\naccept-encoding:br\n" },
	{ "one of two absent", "Accept-Language, Accept-Encoding",
	  "Accept-Encoding: br", 0, "accept-language\naccept-encoding:br\n" },
	{ "empty members dropped", "Accept", "Accept:\nAccept: a,,", 0,
	  "accept:a\n" },
	{ "several lines joined", "Accept",
	  "Accept: text/html\nX: y\naccept: */*", 0,
	  "accept:text/html,*/*\n" },
	{ "one line equals two", "Accept", "Accept: text/html, */*", 0,
	  "accept:text/html,*/*\n" },
	{ "OWS around members", "Foo", "Foo:  1 ,\t2 ", 0, "foo:1,2\n" },
	{ "comma in quotes kept", "Foo", "Foo: a;x=\"1, 2\", b", 0,
	  "foo:a;x=\"1, 2\",b\n" },
	{ "case kept", "Foo", "Foo: AbC", 0, "foo:AbC\n" },
	{ "language: case, not order", "Accept-Language",
	  "Accept-Language: eN ,  De", 0, "accept-language:en,de\n" },
	{ "encoding: case and order", "Accept-Encoding",
	  "Accept-Encoding: GZIP, br;q=0.5 , deflate", 0,
	  "accept-encoding:br;q=0.5,deflate,gzip\n" },
	{ "inner spaces kept", "User-Agent", "User-Agent: a  b\t c", 0,
	  "user-agent:a  b\t c\n" },
	{ "name lowercased", "ACCEPT-Encoding", "accept-encoding: gzip", 0,
	  "accept-encoding:gzip\n" },
	{ "empty members and OWS", " ,\tAccept ,, ", "Accept: a", 0,
	  "accept:a\n" },
	{ "empty Vary", "", "Accept: a", 0, "" },
	{ "star", "*", "", 0, NULL },
	{ "star in list", "Accept, *", "Accept: a", 0, NULL },
	{ "star with OWS", "Accept,  * ", "", 0, NULL },
	{ "not a token", "Accept Encoding", "", 0, NULL },
	{ "not a token 2", "Accept;q", "", 0, NULL },
	{ "fits with NUL", "Accept", "Accept: a", 10, "accept:a\n" },
	{ "no room for NUL", "Accept", "Accept: a", 9, NULL },
	{ "too small", "Accept", "Accept: abcdef", 8, NULL },
	{ "cap 1", "", "", 1, "" },
};

START_TEST(test_vary)
{
	const struct vary_case *tc = &vary_cases[_i];
	char		 buf[256];
	size_t		 cap = tc->cap ? tc->cap : sizeof(buf);
	int		 n;

	mkreq("GET", tc->req_fields);
	memset(buf, 'Z', sizeof(buf));
	n = cache_vary_key(tc->vary, strlen(tc->vary), &req, buf, cap);
	if (tc->want == NULL) {
		ck_assert_msg(n == -1, "%s: %d", tc->name, n);
		return;
	}
	ck_assert_msg(n == (int)strlen(tc->want) && strcmp(buf, tc->want) ==
	    0, "%s: %d \"%s\"", tc->name, n, n >= 0 ? buf : "");
	/* Nothing is written past cap. */
	ck_assert(cap == sizeof(buf) || buf[cap] == 'Z');
}
END_TEST

START_TEST(test_vary_cap0)
{
	char		 c = 'Z';

	mkreq("GET", "");
	ck_assert_int_eq(cache_vary_key("", 0, &req, &c, 0), -1);
	ck_assert_int_eq(c, 'Z');
}
END_TEST

/*
 * One exchange end to end: stored, aged, judged, revalidated by a
 * conditional request.
 */
START_TEST(test_flow)
{
	struct cache_cc	 rqc, rsc;
	struct cache_meta m;

	mkreq("GET", "Accept-Encoding: gzip");
	cache_cc_parse(req.fields, req.nfields, 1, &rqc);
	mkresp(200, "Date: " DS "\nAge: 10\nCache-Control: public, "
	    "max-age=60, stale-while-revalidate=30\nETag: W/\"v1\"\n"
	    "Vary: Accept-Encoding");
	cache_cc_parse(resp.fields, resp.nfields, 0, &rsc);
	ck_assert_ptr_null(cache_storable(&req, &rqc, &resp, &rsc));
	cache_meta_fill(&m, &resp, &rsc, D, D + 1);
	ck_assert(m.lifetime == 60 && m.age == 10 && m.swr == 30);
	ck_assert(m.flags == CM_HAS_VALIDATOR);
	/* corrected_initial_age = max(1, 10 + 1) = 11. */
	ck_assert(cache_age(&m, D + 1) == 11);
	ck_assert_int_eq(cache_judge(&m, &rqc, D + 49), CACHE_FRESH);
	ck_assert_int_eq(cache_judge(&m, &rqc, D + 50), CACHE_STALE_SWR);
	ck_assert_int_eq(cache_judge(&m, &rqc, D + 81), CACHE_REVALIDATE);
	ck_assert_int_eq(cache_stale_if_error(&m, 0, &rqc, D + 81), 0);
	/* the operator's default: 31 s stale (age 91, lifetime 60) */
	ck_assert_int_eq(cache_stale_if_error(&m, 30, &rqc, D + 81), 0);
	ck_assert_int_eq(cache_stale_if_error(&m, 31, &rqc, D + 81), 1);
	/* the response's own stale-if-error wins over it */
	m.sie = 5;
	ck_assert_int_eq(cache_stale_if_error(&m, 3600, &rqc, D + 81), 0);
	m.sie = -1;
	/* must-revalidate still forbids it */
	m.flags |= CM_MUST_REVALIDATE;
	ck_assert_int_eq(cache_stale_if_error(&m, 3600, &rqc, D + 81), 0);
}
END_TEST

static Suite *
cache_suite(void)
{
	Suite		*s;
	TCase		*tc;

	s = suite_create("cache");

	tc = tcase_create("parse");
	tcase_add_loop_test(tc, test_cc, 0, (int)NELEM(cc_cases));
	tcase_add_loop_test(tc, test_date, 0, (int)NELEM(date_cases));
	tcase_add_test(tc, test_date_misc);
	suite_add_tcase(s, tc);

	tc = tcase_create("store");
	tcase_add_test(tc, test_lookup);
	tcase_add_loop_test(tc, test_storable, 0, (int)NELEM(store_cases));
	tcase_add_test(tc, test_storable_status);
	tcase_add_loop_test(tc, test_meta, 0, (int)NELEM(meta_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("freshness");
	tcase_add_loop_test(tc, test_age, 0, (int)NELEM(age_cases));
	tcase_add_loop_test(tc, test_judge, 0, (int)NELEM(judge_cases));
	tcase_add_loop_test(tc, test_sie, 0, (int)NELEM(sie_cases));
	tcase_add_test(tc, test_flow);
	suite_add_tcase(s, tc);

	tc = tcase_create("validation");
	tcase_add_loop_test(tc, test_cond, 0, (int)NELEM(cond_cases));
	tcase_add_loop_test(tc, test_range, 0, (int)NELEM(range_cases));
	tcase_add_loop_test(tc, test_update, 0, (int)NELEM(update_cases));
	tcase_add_loop_test(tc, test_vary, 0, (int)NELEM(vary_cases));
	tcase_add_test(tc, test_vary_cap0);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner		*sr;
	int		 failed;

	sr = srunner_create(cache_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
