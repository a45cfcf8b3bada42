/*
 * cache.c - HTTP caching rules for a shared cache (RFC 9111, with the
 * conditional requests of RFC 9110 section 13 and the stale-* extensions
 * of RFC 5861).  Pure functions over parsed messages: no I/O, no storage,
 * no allocation.
 *
 * Wherever the RFCs leave a choice, porter takes the reading that can
 * only cost a round trip to the origin, never hand one client's or a
 * stale response to another: malformed freshness information means
 * stale, duplicated directives count with their most restrictive value,
 * qualified no-cache and private count as their unqualified forms.
 */
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "cache_range.h"
#include "cache_target.h"
#include "http_parse.h"

#define IS_DIGIT(c)	((c) >= '0' && (c) <= '9')
#define IS_OWS(c)	((c) == ' ' || (c) == '\t')
#define LOWER(c)	((c) >= 'A' && (c) <= 'Z' ? (c) - 'A' + 'a' : (c))

/* RFC 9111 section 1.2.2: the largest delta-seconds a cache must keep. */
#define DELTA_MAX	((int64_t)1 << 31)
/* Heuristic freshness is capped at a day (RFC 9111 4.2.2 sets no cap). */
#define HEURISTIC_MAX	86400


/* Are a[0..alen) and b[0..blen) equal, ignoring ASCII case? */
static int
ci_eqn(const char *a, size_t alen, const char *b, size_t blen)
{
	size_t		 i;

	if (alen != blen)
		return 0;
	for (i = 0; i < alen; i++)
		if (LOWER(a[i]) != LOWER(b[i]))
			return 0;
	return 1;
}

static int
name_is(const struct http_field *f, const char *name)
{
	return ci_eqn(f->name, f->name_len, name, strlen(name));
}

/*
 * delta-seconds = 1*DIGIT (RFC 9111 1.2.2), optionally the content of a
 * quoted-string (5.2: recipients accept max-age="5"), in which a
 * quoted-pair stands for its second byte.  Values beyond 2^31 saturate
 * there; -1 when it is not digits.
 */
static int64_t
parse_delta(const char *s, size_t len, int quoted)
{
	int64_t		 v = 0;
	size_t		 i;

	for (i = 0; i < len; i++) {
		if (quoted && s[i] == '\\' && i + 1 < len)
			i++;
		if (!IS_DIGIT(s[i]))
			return -1;
		if (v < DELTA_MAX)
			v = v * 10 + (s[i] - '0');
	}
	return len == 0 ? -1 : v > DELTA_MAX ? DELTA_MAX : v;
}

/* Keep the smaller (more restrictive) of two values, -1 meaning unset. */
static void
set_min(int64_t *dst, int64_t v)
{
	if (*dst < 0 || v < *dst)
		*dst = v;
}

/* Apply one directive; has_arg/bad describe its "=argument" part. */
static void
cc_apply(struct cache_cc *cc, const char *n, size_t nlen, const char *arg,
    size_t alen, int has_arg, int quoted, int bad)
{
	static const struct {
		const char	*name;
		unsigned	 flag;
	} flags[] = {
		{ "no-store", CC_NO_STORE }, { "public", CC_PUBLIC },
		{ "must-revalidate", CC_MUST_REVALIDATE },
		{ "proxy-revalidate", CC_PROXY_REVALIDATE },
		{ "only-if-cached", CC_ONLY_IF_CACHED },
		{ "no-transform", CC_NO_TRANSFORM },
		{ "immutable", CC_IMMUTABLE },
		{ "must-understand", CC_MUST_UNDERSTAND },
	};
	int64_t		 v;
	size_t		 i;

#define IS(t)	ci_eqn(n, nlen, t, sizeof(t) - 1)
	v = has_arg && !bad ? parse_delta(arg, alen, quoted) : -1;
	for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (ci_eqn(n, nlen, flags[i].name, strlen(flags[i].name))) {
			/* Known by name alone; a stray argument is ignored. */
			cc->flags |= flags[i].flag;
			return;
		}
	/*
	 * no-cache="f" (5.2.2.4) lets a cache reuse the rest of the response
	 * without f; porter cannot strip fields from a stored response, so
	 * both forms mean "revalidate every time" (cache_meta_fill).
	 * private="f" (5.2.2.7) likewise only ever prevents storing.  A
	 * malformed argument counts as the unqualified form.
	 */
	if (IS("no-cache"))
		cc->flags |= has_arg && !bad ? CC_QUALIFIED_NO_CACHE :
		    CC_NO_CACHE;
	else if (IS("private"))
		cc->flags |= has_arg && !bad ? CC_QUALIFIED_PRIVATE :
		    CC_PRIVATE;
	/* Invalid freshness information means stale (RFC 9111 4.2.1). */
	else if (IS("max-age"))
		set_min(&cc->max_age, v < 0 ? 0 : v);
	else if (IS("s-maxage"))
		set_min(&cc->s_maxage, v < 0 ? 0 : v);
	/* max-stale alone accepts any staleness (5.2.1.2). */
	else if (IS("max-stale")) {
		if (!has_arg && !bad)
			set_min(&cc->max_stale, INT64_MAX);
		else if (v >= 0)
			set_min(&cc->max_stale, v);
	} else if (IS("min-fresh")) {
		/* Demanding more freshness is the restrictive direction. */
		if (v > cc->min_fresh)
			cc->min_fresh = v;
	} else if (IS("stale-while-revalidate")) {
		if (v >= 0)
			set_min(&cc->swr, v);
	} else if (IS("stale-if-error")) {
		if (v >= 0)
			set_min(&cc->sie, v);
	}
	/* Anything else is ignored (5.2.3). */
#undef IS
}

/* Skip to the comma ending this list member, honouring quoted-strings. */
static size_t
skip_member(const char *v, size_t len, size_t i)
{
	int		 inq = 0;

	for (; i < len; i++) {
		if (inq && v[i] == '\\')
			i++;
		else if (v[i] == '"')
			inq = !inq;
		else if (!inq && v[i] == ',')
			break;
	}
	return i;
}

/*
 * Cache-Control = #cache-directive,
 * cache-directive = token [ "=" ( token / quoted-string ) ] (5.2).
 * A member that does not fit the grammar still counts by its name, with
 * its argument invalid: for max-age that means stale.
 */
static void
cc_parse_value(struct cache_cc *cc, const char *v, size_t len)
{
	const char	*n, *arg;
	size_t		 i = 0, nlen, alen;
	int		 has_arg, quoted, bad;

	for (;;) {
		while (i < len && (IS_OWS(v[i]) || v[i] == ','))
			i++;
		if (i >= len)
			return;
		n = v + i;
		while (i < len && http_tchar((unsigned char)v[i]))
			i++;
		nlen = (size_t)(v + i - n);
		arg = NULL;
		alen = 0;
		has_arg = quoted = bad = 0;
		if (i < len && v[i] == '=') {
			has_arg = 1;
			arg = v + ++i;
			if (i < len && v[i] == '"') {
				quoted = 1;
				arg++;
				for (i++; i < len && v[i] != '"'; i++)
					if (v[i] == '\\')
						i++;
				if (i >= len)
					bad = 1;
				else
					alen = (size_t)(v + i++ - arg);
			} else {
				while (i < len && http_tchar((unsigned char)v[i]))
					i++;
				alen = (size_t)(v + i - arg);
				bad = alen == 0;
			}
		}
		while (i < len && IS_OWS(v[i]))
			i++;
		if (i < len && v[i] != ',') {
			bad = 1;
			i = skip_member(v, len, i);
		}
		if (nlen > 0)
			cc_apply(cc, n, nlen, arg, alen, has_arg, quoted, bad);
	}
}

void
cache_cc_init(struct cache_cc *cc)
{
	memset(cc, 0, sizeof(*cc));
	cc->max_age = cc->s_maxage = cc->max_stale = cc->min_fresh = -1;
	cc->swr = cc->sie = -1;
}

void
cache_cc_directive(struct cache_cc *cc, const char *name, size_t nlen,
    const char *arg, size_t alen, int has_arg)
{
	cc_apply(cc, name, nlen, arg, alen, has_arg, 0, 0);
}

void
cache_cc_parse(const struct http_field *fields, unsigned n, int is_request,
    struct cache_cc *cc)
{
	const struct http_field *f;
	unsigned	 i;
	int		 have_cc = 0, pragma = 0;

	/* a response's targeted field replaces Cache-Control (RFC 9213) */
	if (!is_request && cache_target_parse(fields, n, cc))
		return;
	cache_cc_init(cc);
	/* Several field lines are one comma-joined list (RFC 9110 5.3). */
	for (i = 0; i < n; i++) {
		f = &fields[i];
		if (name_is(f, "cache-control")) {
			have_cc = 1;
			cc_parse_value(cc, f->value, f->value_len);
		} else if (name_is(f, "pragma") &&
		    http_list_has(f->value, f->value_len, "no-cache"))
			pragma = 1;
	}
	/*
	 * Pragma: no-cache counts only in requests and only without
	 * Cache-Control (RFC 9111 5.4); in responses it means nothing.
	 */
	if (is_request && pragma && !have_cc)
		cc->flags |= CC_PRAGMA_NO_CACHE;
}

int
cache_request_lookup(const struct http_request *req)
{
	return req->method == HTTP_M_GET || req->method == HTTP_M_HEAD;
}

/* "Heuristically cacheable" status codes (RFC 9110 15.1). */
static int
default_cacheable(int status)
{
	switch (status) {
	case 200: case 203: case 204: case 206: case 300: case 301: case 308:
	case 404: case 405: case 410: case 414: case 501:
		return 1;
	}
	return 0;
}

static int
storable_part(const struct http_request *req, const struct http_response *resp)
{
	const struct http_field *cr;
	uint64_t	 a, b, n;
	unsigned	 i, k = 0;

	for (i = 0; i < resp->nfields; i++)
		if (name_is(&resp->fields[i], "content-range"))
			k++;
	return k == 1 && http_field_find(req->fields, req->nfields,
	    "range") != NULL && (cr = http_field_find(resp->fields,
	    resp->nfields, "content-range")) != NULL &&
	    cache_range_content(cr->value, cr->value_len, &a, &b, &n) &&
	    resp->body == HTTP_BODY_LENGTH && resp->content_length == b - a + 1;
}

/* Statuses whose caching rules porter knows (must-understand). */
static int
understood_status(int status)
{
	return default_cacheable(status) || status == 302 || status == 303 ||
	    status == 307;
}

/* RFC 9111 section 3 and 3.5, then porter's own two rules. */
const char *
cache_storable(const struct http_request *req, const struct cache_cc *req_cc,
    const struct http_response *resp, const struct cache_cc *resp_cc)
{
	const struct http_field *f = resp->fields;
	unsigned	 n = resp->nfields, i;

	/* HEAD is answered from a stored GET but never stored itself. */
	if (req->method != HTTP_M_GET)
		return "method is not GET";
	if (resp->status < 200)
		return "status is not final";
	/*
	 * A part is kept when it says plainly which (3.3): one range of a
	 * representation of known length, asked for by the request, whose
	 * body is exactly that long.  It answers later requests for ranges
	 * inside it.
	 */
	if (resp->status == 206 && !storable_part(req, resp))
		return "partial content";
	if (resp->status == 304)
		return "304 Not Modified";
	/* Request no-store covers any response to it (5.2.1.5). */
	if (req_cc->flags & CC_NO_STORE)
		return "no-store in request";
	/*
	 * must-understand (5.2.2.3): stored only with a status whose rules
	 * porter follows, and then its no-store is moot.
	 */
	if ((resp_cc->flags & CC_MUST_UNDERSTAND) &&
	    !understood_status(resp->status))
		return "must-understand with an unknown status";
	if ((resp_cc->flags & (CC_NO_STORE | CC_MUST_UNDERSTAND)) ==
	    CC_NO_STORE)
		return "no-store in response";
	/* A shared cache never stores private responses (5.2.2.7). */
	if (resp_cc->flags & (CC_PRIVATE | CC_QUALIFIED_PRIVATE))
		return "private";
	/* 3.5: these three directives alone let a shared cache keep it. */
	if (http_field_find(req->fields, req->nfields, "authorization") !=
	    NULL && !(resp_cc->flags & (CC_PUBLIC | CC_MUST_REVALIDATE)) &&
	    resp_cc->s_maxage < 0)
		return "Authorization without public, s-maxage or "
		    "must-revalidate";
	/* "Vary: *" never matches a later request (4.1): pointless. */
	for (i = 0; i < n; i++)
		if (name_is(&f[i], "vary") &&
		    http_list_has(f[i].value, f[i].value_len, "*"))
			return "Vary: *";
	/*
	 * Porter's policy, not the RFC's: a cookie set for one client must
	 * not be replayed to the next, and origins forget to say private.
	 */
	if (http_field_find(f, n, "set-cookie") != NULL)
		return "Set-Cookie";
	if (default_cacheable(resp->status) || resp_cc->max_age >= 0 ||
	    resp_cc->s_maxage >= 0 || (resp_cc->flags & CC_PUBLIC) ||
	    (!(resp_cc->flags & CC_TARGETED) &&
	    http_field_find(f, n, "expires") != NULL))
		return NULL;
	return "status not cacheable by default, no explicit freshness";
}

/* The first field named name as an HTTP-date, -1 if absent or invalid. */
static int64_t
field_date(const struct http_field *f, unsigned n, const char *name)
{
	const struct http_field *p = http_field_find(f, n, name);

	return p == NULL ? -1 : cache_date_parse(p->value, p->value_len);
}

void
cache_meta_fill(struct cache_meta *m, const struct http_response *resp,
    const struct cache_cc *cc, int64_t request_time, int64_t response_time)
{
	const struct http_field *f = resp->fields, *exp;
	unsigned	 n = resp->nfields, i;
	int64_t		 v, lm;

	memset(m, 0, sizeof(*m));
	m->request_time = request_time;
	m->response_time = response_time;
	m->status = resp->status;
	m->swr = cc->swr;
	m->sie = cc->sie;
	/* No usable Date: the time it was received (RFC 9110 6.6.1). */
	if ((m->date = field_date(f, n, "date")) < 0)
		m->date = response_time;
	/*
	 * Age = delta-seconds (5.1); the first valid one counts, and of a
	 * list ("Age: 7200, 0") its first member.
	 */
	for (i = 0; i < n; i++) {
		const char	*comma;
		size_t		 alen = f[i].value_len;

		if (!name_is(&f[i], "age"))
			continue;
		if ((comma = memchr(f[i].value, ',', alen)) != NULL)
			for (alen = (size_t)(comma - f[i].value); alen > 0 &&
			    IS_OWS(f[i].value[alen - 1]); alen--)
				;
		if ((v = parse_delta(f[i].value, alen, 0)) >= 0) {
			m->age = v;
			break;
		}
	}

	/* Freshness lifetime, first match wins (4.2.1). */
	lm = field_date(f, n, "last-modified");
	if (cc->s_maxage >= 0)
		m->lifetime = cc->s_maxage;
	else if (cc->max_age >= 0)
		m->lifetime = cc->max_age;
	else if (!(cc->flags & CC_TARGETED) &&
	    (exp = http_field_find(f, n, "expires")) != NULL) {
		/* An invalid Expires ("0") means already expired (5.3). */
		v = cache_date_parse(exp->value, exp->value_len);
		m->lifetime = v > m->date ? v - m->date : 0;
	} else if ((default_cacheable(resp->status) ||
	    (cc->flags & CC_PUBLIC)) && lm >= 0 && lm < m->date) {
		/*
		 * 4.2.2: a fraction of the time since the last change, for
		 * the statuses cacheable by default and "public" responses.
		 */
		m->lifetime = (m->date - lm) / 10;
		if (m->lifetime > HEURISTIC_MAX)
			m->lifetime = HEURISTIC_MAX;
		m->flags |= CM_HEURISTIC;
	}

	if (cc->flags & (CC_NO_CACHE | CC_QUALIFIED_NO_CACHE))
		m->flags |= CM_NO_CACHE;
	/* s-maxage implies proxy-revalidate (5.2.2.10). */
	if ((cc->flags & (CC_MUST_REVALIDATE | CC_PROXY_REVALIDATE)) ||
	    cc->s_maxage >= 0)
		m->flags |= CM_MUST_REVALIDATE;
	/* An unparseable Last-Modified is no use in If-Modified-Since. */
	if (http_field_find(f, n, "etag") != NULL || lm >= 0)
		m->flags |= CM_HAS_VALIDATOR;
}

/*
 * RFC 9111 4.2.3.  The two differences of wall-clock times are clamped
 * at zero: a clock stepped backwards must not make a response younger.
 */
int64_t
cache_age(const struct cache_meta *m, int64_t now)
{
	int64_t		 apparent_age, response_delay, corrected_age_value;
	int64_t		 corrected_initial_age, resident_time;

	apparent_age = m->response_time - m->date;
	if (apparent_age < 0)
		apparent_age = 0;
	response_delay = m->response_time - m->request_time;
	if (response_delay < 0)
		response_delay = 0;
	corrected_age_value = m->age + response_delay;
	corrected_initial_age = apparent_age > corrected_age_value ?
	    apparent_age : corrected_age_value;
	resident_time = now - m->response_time;
	if (resident_time < 0)
		resident_time = 0;
	return corrected_initial_age + resident_time;
}

enum cache_verdict
cache_judge(const struct cache_meta *m, const struct cache_cc *req_cc,
    int64_t now)
{
	int64_t		 age, staleness;

	/* 5.2.1.4, 5.4: the client wants the origin's word. */
	if (req_cc->flags &
	    (CC_NO_CACHE | CC_QUALIFIED_NO_CACHE | CC_PRAGMA_NO_CACHE))
		return CACHE_REVALIDATE;
	/* 5.2.2.4: never reused without a successful validation. */
	if (m->flags & CM_NO_CACHE)
		return CACHE_REVALIDATE;

	age = cache_age(m, now);
	/*
	 * Request max-age (5.2.1.1) caps the age of any answer, fresh or
	 * stale: max-stale relaxes freshness, not that cap.
	 */
	if (req_cc->max_age >= 0 && age > req_cc->max_age)
		return CACHE_REVALIDATE;
	/* min-fresh (5.2.1.3): still fresh that much longer, or nothing. */
	if (req_cc->min_fresh >= 0)
		return age < m->lifetime &&
		    m->lifetime - age >= req_cc->min_fresh ? CACHE_FRESH :
		    CACHE_REVALIDATE;
	/* Fresh while the lifetime exceeds the age (4.2). */
	if (age < m->lifetime)
		return CACHE_FRESH;

	staleness = age - m->lifetime;
	/* must-revalidate, proxy-revalidate, s-maxage (5.2.2.2, 4.2.4). */
	if (m->flags & CM_MUST_REVALIDATE)
		return CACHE_REVALIDATE;
	if (req_cc->max_stale >= 0 && staleness <= req_cc->max_stale)
		return CACHE_STALE_OK;
	/*
	 * RFC 5861 section 3, unless the client bounded the age itself: a
	 * max-age (it passed above, but asked for an exact answer) rules
	 * serving stale by the cache's own choice out.
	 */
	if (m->swr >= 0 && staleness <= m->swr && req_cc->max_age < 0)
		return CACHE_STALE_SWR;
	return CACHE_REVALIDATE;
}

/*
 * RFC 5861 section 4, within the limits of RFC 9111 4.2.4.  dflt > 0 is
 * the operator's stale-if-error for responses that give none.
 */
int
cache_stale_if_error(const struct cache_meta *m, int64_t dflt,
    const struct cache_cc *req_cc, int64_t now)
{
	int64_t		 age, limit;

	/* no-cache forbids any use without validation, even if fresh. */
	if (m->flags & CM_NO_CACHE)
		return 0;
	age = cache_age(m, now);
	if (age < m->lifetime)
		return 1;
	/* 4.2.4: must-revalidate forbids generating a stale response. */
	if (m->flags & CM_MUST_REVALIDATE)
		return 0;
	/*
	 * Either side may grant it (the response for all requests, the
	 * request for itself), so the larger window applies; but a client
	 * that asked for validation gets stale only if it said so.
	 */
	limit = m->sie >= 0 ? m->sie : dflt > 0 ? dflt : -1;
	if (req_cc->flags &
	    (CC_NO_CACHE | CC_QUALIFIED_NO_CACHE | CC_PRAGMA_NO_CACHE))
		limit = -1;
	if (req_cc->sie > limit)
		limit = req_cc->sie;
	return limit >= 0 && age - m->lifetime <= limit;
}

/*
 * entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE (RFC 9110 8.8.3) at v[*i];
 * on success *i is past it and tag/tlen the opaque-tag without quotes.
 */
static int
etag_parse(const char *v, size_t len, size_t *i, const char **tag,
    size_t *tlen)
{
	size_t		 j = *i, s;
	unsigned char	 c;

	if (j + 1 < len && v[j] == 'W' && v[j + 1] == '/')
		j += 2;
	if (j >= len || v[j] != '"')
		return 0;
	for (s = ++j; j < len && v[j] != '"'; j++) {
		c = (unsigned char)v[j];
		if (c < 0x21 || c == 0x7f)
			return 0;
	}
	if (j >= len)
		return 0;
	*tag = v + s;
	*tlen = j - s;
	*i = j + 1;
	return 1;
}

/*
 * One If-None-Match line (13.1.2) against the stored opaque-tag st (NULL
 * if none), weak comparison: W/ on either side is ignored (8.8.3.2).
 * 1 on a match, 0 if none, -1 if the line is malformed.
 */
static int
inm_match(const struct http_field *f, const char *st, size_t stlen)
{
	const char	*t;
	size_t		 i, tlen;
	int		 hit = 0;

	/* "*": the stored response is a current representation. */
	if (f->value_len == 1 && f->value[0] == '*')
		return 1;
	for (i = 0;;) {
		while (i < f->value_len &&
		    (IS_OWS(f->value[i]) || f->value[i] == ','))
			i++;
		if (i >= f->value_len)
			return hit;
		if (!etag_parse(f->value, f->value_len, &i, &t, &tlen))
			return -1;
		if (st != NULL && tlen == stlen && memcmp(t, st, tlen) == 0)
			hit = 1;
		while (i < f->value_len && IS_OWS(f->value[i]))
			i++;
		if (i < f->value_len && f->value[i] != ',')
			return -1;
	}
}

/* RFC 9110 13.2.2 steps 3 and 4, as a cache does them (RFC 9111 4.3.2). */
int
cache_not_modified(const struct http_request *req,
    const struct http_field *stored, unsigned nstored)
{
	const struct http_field *f = req->fields, *ims = NULL, *et;
	const char	*st = NULL;
	unsigned	 n = req->nfields, i, nims = 0;
	size_t		 stlen = 0, k = 0;
	int64_t		 since, lm;
	int		 inm = 0, hit = 0, bad = 0, r;

	if (req->method != HTTP_M_GET && req->method != HTTP_M_HEAD)
		return 0;
	if ((et = http_field_find(stored, nstored, "etag")) != NULL &&
	    (!etag_parse(et->value, et->value_len, &k, &st, &stlen) ||
	    k != et->value_len))
		st = NULL;
	/*
	 * Several If-None-Match lines are one list: any member may match,
	 * but a malformed one spoils it all and the client gets a full
	 * response.  If-None-Match ignores If-Modified-Since (13.1.3).
	 */
	for (i = 0; i < n; i++)
		if (name_is(&f[i], "if-none-match")) {
			inm = 1;
			if ((r = inm_match(&f[i], st, stlen)) < 0)
				bad = 1;
			hit |= r > 0;
		} else if (name_is(&f[i], "if-modified-since")) {
			ims = &f[i];
			nims++;
		}
	if (inm)
		return hit && !bad;
	if (nims != 1)
		return 0;
	if ((since = cache_date_parse(ims->value, ims->value_len)) < 0)
		return 0;
	/*
	 * Without Last-Modified, the stored Date stands in for it (RFC 9111
	 * 4.3.2); one present but unparseable proves nothing.
	 */
	if (http_field_find(stored, nstored, "last-modified") != NULL)
		lm = field_date(stored, nstored, "last-modified");
	else
		lm = field_date(stored, nstored, "date");
	return lm >= 0 && lm <= since;
}

/*
 * RFC 9111 3.2: a 304 updates every stored field except
 *  - Content-Length (MUST NOT);
 *  - fields never stored (3.1): hop-by-hop ones (RFC 9110 7.6.1) and the
 *    proxy authentication fields;
 *  - fields the stored content depends on: porter keeps the content as
 *    received, so its Content-Encoding must keep describing those bytes
 *    (Content-Type stays updatable: nothing was derived from it);
 *  - Content-Range, processed by the recipient (MAY ignore);
 *  - Set-Cookie, which porter never stores (cache_storable).
 * Fields named in a Connection field are for the caller to drop.
 */
int
cache_update_field(const struct http_field *f)
{
	static const char *const keep[] = {
		"content-length", "connection", "keep-alive",
		"proxy-connection", "te", "trailer", "transfer-encoding",
		"upgrade", "proxy-authenticate", "proxy-authentication-info",
		"proxy-authorization", "content-encoding", "content-range",
		"set-cookie",
	};
	size_t		 i;

	for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		if (name_is(f, keep[i]))
			return 0;
	return 1;
}

struct sbuf {
	char		*buf;
	size_t		 cap, len;
	int		 over;
};

static void
sb_add(struct sbuf *b, const char *s, size_t n)
{
	if (b->over || n > b->cap - b->len) {
		b->over = 1;
		return;
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

#define VARY_MEMBERS	64

struct vary_member {
	const char	*p;
	size_t		 len;
};

static int
vary_member_cmp(const void *a, const void *b)
{
	const struct vary_member *x = a, *y = b;
	size_t		 i;

	for (i = 0; i < x->len && i < y->len; i++)
		if (LOWER(x->p[i]) != LOWER(y->p[i]))
			return LOWER(x->p[i]) - LOWER(y->p[i]);
	return (x->len > y->len) - (x->len < y->len);
}

/*
 * The list members of one field value (commas inside quoted strings
 * kept), OWS around them dropped, empty ones skipped, appended to m;
 * -1 when there are more than VARY_MEMBERS.
 */
static int
vary_members(const char *v, size_t len, struct vary_member *m, size_t *n)
{
	size_t		 i = 0, s, e;
	int		 inq;

	while (i <= len) {
		for (s = i, inq = 0; i < len && (inq || v[i] != ','); i++) {
			if (inq && v[i] == '\\')
				i++;
			else if (v[i] == '"')
				inq = !inq;
		}
		e = i > len ? len : i;
		while (s < e && IS_OWS(v[s]))
			s++;
		while (e > s && IS_OWS(v[e - 1]))
			e--;
		if (e > s) {
			if (*n == VARY_MEMBERS)
				return -1;
			m[*n].p = v + s;
			m[(*n)++].len = e - s;
		}
		i++;
	}
	return 0;
}

/*
 * One Vary'd field of the request into the key: its members joined by
 * ",", whatever white space and line breaks the client used (RFC 9111
 * 4.1 lets a cache normalize); Accept-Encoding, Accept-Language and
 * Accept-Charset, whose members ignore case, lowercased, and
 * Accept-Encoding, whose order means nothing, sorted.
 */
static void
vary_value(struct sbuf *b, const char *name, size_t nlen,
    const struct http_request *req)
{
	struct vary_member m[VARY_MEMBERS];
	const struct http_field *f;
	size_t		 n = 0, i, k;
	unsigned	 j;
	int		 present = 0, ci, sorted, ok = 1;
	char		 c;

	ci = ci_eqn(name, nlen, "accept-encoding", 15) ||
	    ci_eqn(name, nlen, "accept-language", 15) ||
	    ci_eqn(name, nlen, "accept-charset", 14);
	sorted = ci_eqn(name, nlen, "accept-encoding", 15);
	for (j = 0; j < req->nfields; j++) {
		f = &req->fields[j];
		if (!ci_eqn(f->name, f->name_len, name, nlen))
			continue;
		present = 1;
		if (ok && vary_members(f->value, f->value_len, m, &n) == -1)
			ok = 0;
	}
	if (!present)
		return;
	sb_add(b, ":", 1);
	if (!ok) {
		/* too many members to normalize: the lines as they are */
		for (j = 0, k = 0; j < req->nfields; j++) {
			f = &req->fields[j];
			if (!ci_eqn(f->name, f->name_len, name, nlen))
				continue;
			if (k++ > 0)
				sb_add(b, ", ", 2);
			sb_add(b, f->value, f->value_len);
		}
		return;
	}
	if (sorted)
		qsort(m, n, sizeof(m[0]), vary_member_cmp);
	for (i = 0; i < n; i++) {
		if (i > 0)
			sb_add(b, ",", 1);
		if (!ci) {
			sb_add(b, m[i].p, m[i].len);
			continue;
		}
		for (k = 0; k < m[i].len; k++) {
			c = (char)LOWER(m[i].p[k]);
			sb_add(b, &c, 1);
		}
	}
}

/*
 * The secondary key (RFC 9111 4.1): "name:values\n" per Vary member, in
 * Vary's order, names lowercased, and the values normalized (vary_value)
 * so that one "a, b" line, two lines "a" and "b" and "a,b" give the same
 * key.  A field the request lacks is "name\n", without the colon: 4.1
 * lets an absent field match only an absent one, and an empty
 * Accept-Encoding (identity only) is not a missing one (anything goes).
 * The key is NUL-terminated (not counted).  A member that is not a token
 * makes the Vary unusable: -1, like "*".
 */
int
cache_vary_key(const char *vary, size_t vary_len,
    const struct http_request *req, char *buf, size_t cap)
{
	struct sbuf	 b = { buf, cap, 0, 0 };
	size_t		 i = 0, s, e, k;
	char		 c;

	if (cap == 0)
		return -1;
	b.cap = cap - 1;
	for (;;) {
		for (s = i; i < vary_len && vary[i] != ','; i++)
			;
		for (e = i; s < e && IS_OWS(vary[s]); s++)
			;
		while (e > s && IS_OWS(vary[e - 1]))
			e--;
		if (e - s == 1 && vary[s] == '*')
			return -1;
		for (k = s; k < e; k++) {
			if (!http_tchar((unsigned char)vary[k]))
				return -1;
			c = (char)LOWER(vary[k]);
			sb_add(&b, &c, 1);
		}
		/* Empty list members are allowed and mean nothing (5.6.1). */
		if (e > s) {
			vary_value(&b, vary + s, e - s, req);
			sb_add(&b, "\n", 1);
		}
		if (i >= vary_len)
			break;
		i++;
	}
	if (b.over || b.len > INT_MAX)
		return -1;
	buf[b.len] = '\0';
	return (int)b.len;
}
