/*
 * cache_range.h - byte ranges of stored responses (RFC 9110 section 14):
 * a GET with one Range answered from a complete stored 200 gets 206 with
 * that part, or 416 when the range lies past the end.
 */
#ifndef CACHE_RANGE_H
#define CACHE_RANGE_H

#include <stdint.h>

#include "http_parse.h"

enum cache_range_kind {
	CACHE_RANGE_ALL = 0,	/* no usable Range: the whole response */
	CACHE_RANGE_PART,	/* 206 with bytes [*first, *last] */
	CACHE_RANGE_UNSAT	/* 416: nothing of the range exists */
};

/*
 * What to send of a stored 200 response of size body bytes (its fields
 * stored) for req.  Range is honoured for GET only, when it names one
 * range of bytes and an If-Range, if any, matches the stored response
 * by a strong validator; several ranges, another unit or a malformed
 * value get the whole response (servers may ignore Range).
 */
enum cache_range_kind cache_range(const struct http_request *req,
	    const struct http_field *stored, unsigned nstored, uint64_t size,
	    uint64_t *first, uint64_t *last);

/*
 * A Content-Range of one part with its complete length ("bytes 5-9/100")
 * into *first, *last and *total; 0 when it is anything else.
 */
int	cache_range_content(const char *v, size_t len, uint64_t *first,
	    uint64_t *last, uint64_t *total);

#endif /* CACHE_RANGE_H */
