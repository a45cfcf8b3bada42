/*
 * cache_range.c - which bytes of a stored response a Range asks for.
 *
 * Only single ranges are served from the cache; a request for several
 * gets the whole representation, which RFC 9110 14.2 allows (and which
 * avoids multipart/byteranges bodies).  If-Range needs a strong match
 * (13.1.5): an entity tag equal to the stored strong ETag, or a date
 * equal to a Last-Modified that is itself strong (one second or more
 * before the stored Date, 8.8.2.2).
 */
#include <string.h>
#include <strings.h>

#include "cache.h"
#include "cache_range.h"

#define RANGE_HUGE	UINT64_MAX

/* Digits at v[*i], saturating; 0 when there are none. */
static int
range_num(const char *v, size_t len, size_t *i, uint64_t *out)
{
	uint64_t	 n = 0;
	size_t		 j = *i;

	while (j < len && v[j] >= '0' && v[j] <= '9') {
		unsigned d = (unsigned)(v[j] - '0');

		n = n > (RANGE_HUGE - d) / 10 ? RANGE_HUGE : n * 10 + d;
		j++;
	}
	if (j == *i)
		return 0;
	*i = j;
	*out = n;
	return 1;
}

/* Does If-Range's value name the stored response, strongly? */
static int
range_if_matches(const struct http_field *ifr, const struct http_field *st,
    unsigned nst)
{
	const struct http_field	*et, *lmf;
	int64_t			 when, lm, date;

	if (ifr->value_len >= 2 && ifr->value[0] == 'W' &&
	    ifr->value[1] == '/')
		return 0;		/* weak: never a match */
	if (ifr->value_len > 0 && ifr->value[0] == '"') {
		et = http_field_find(st, nst, "etag");
		return et != NULL && et->value_len == ifr->value_len &&
		    ifr->value_len >= 2 &&
		    ifr->value[ifr->value_len - 1] == '"' &&
		    memcmp(et->value, ifr->value, ifr->value_len) == 0;
	}
	if ((when = cache_date_parse(ifr->value, ifr->value_len)) < 0 ||
	    (lmf = http_field_find(st, nst, "last-modified")) == NULL ||
	    (lm = cache_date_parse(lmf->value, lmf->value_len)) < 0 ||
	    lm != when)
		return 0;
	lmf = http_field_find(st, nst, "date");
	return lmf != NULL && (date = cache_date_parse(lmf->value,
	    lmf->value_len)) >= 0 && date - lm >= 1;
}

enum cache_range_kind
cache_range(const struct http_request *req, const struct http_field *stored,
    unsigned nstored, uint64_t size, uint64_t *first, uint64_t *last)
{
	const struct http_field	*range = NULL, *ifr = NULL;
	const char		*v;
	size_t			 len, i;
	uint64_t		 a = 0, b = RANGE_HUGE;
	unsigned		 k;
	int			 suffix = 0;

	if (req->method != HTTP_M_GET)
		return CACHE_RANGE_ALL;
	for (k = 0; k < req->nfields; k++) {
		const struct http_field *f = &req->fields[k];

		if (f->name_len == 5 && strncasecmp(f->name, "range", 5) == 0) {
			if (range != NULL)
				return CACHE_RANGE_ALL;	/* two: ambiguous */
			range = f;
		} else if (f->name_len == 8 &&
		    strncasecmp(f->name, "if-range", 8) == 0) {
			if (ifr != NULL)
				return CACHE_RANGE_ALL;
			ifr = f;
		}
	}
	if (range == NULL)
		return CACHE_RANGE_ALL;
	if (ifr != NULL && !range_if_matches(ifr, stored, nstored))
		return CACHE_RANGE_ALL;
	v = range->value;
	len = range->value_len;
	if (len < 6 || strncasecmp(v, "bytes=", 6) != 0)
		return CACHE_RANGE_ALL;
	/* one range-spec, perhaps amid empty list elements */
	for (i = 6; i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ',');
	    i++)
		;
	if (i < len && v[i] == '-') {
		i++;
		if (!range_num(v, len, &i, &b))
			return CACHE_RANGE_ALL;
		suffix = 1;
	} else {
		if (!range_num(v, len, &i, &a) || i >= len || v[i++] != '-')
			return CACHE_RANGE_ALL;
		if (i < len && v[i] >= '0' && v[i] <= '9') {
			(void)range_num(v, len, &i, &b);
			if (b < a)
				return CACHE_RANGE_ALL;	/* invalid */
		}
	}
	/* what follows may only be empty list elements */
	while (i < len && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
		i++;
	if (i != len)
		return CACHE_RANGE_ALL;	/* several ranges, or garbage */
	if (suffix) {
		if (b == 0 || size == 0)
			return CACHE_RANGE_UNSAT;
		*first = b >= size ? 0 : size - b;
		*last = size - 1;
		return CACHE_RANGE_PART;
	}
	if (a >= size)
		return CACHE_RANGE_UNSAT;
	*first = a;
	*last = b >= size ? size - 1 : b;
	return CACHE_RANGE_PART;
}

int
cache_range_content(const char *v, size_t len, uint64_t *first,
    uint64_t *last, uint64_t *total)
{
	size_t		 i = 6;

	/* Content-Range = "bytes" SP first "-" last "/" complete-length */
	if (len < 6 || strncasecmp(v, "bytes ", 6) != 0 ||
	    !range_num(v, len, &i, first) || i >= len || v[i++] != '-' ||
	    !range_num(v, len, &i, last) || i >= len || v[i++] != '/' ||
	    !range_num(v, len, &i, total) || i != len)
		return 0;
	return *first <= *last && *last < *total && *total < RANGE_HUGE;
}
