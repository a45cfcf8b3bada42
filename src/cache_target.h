/*
 * cache_target.h - cache directives aimed at caches like porter rather
 * than at every cache: CDN-Cache-Control (RFC 9213, a Structured Field
 * dictionary) and Surrogate-Control (W3C Edge Architecture 1.0).
 */
#ifndef CACHE_TARGET_H
#define CACHE_TARGET_H

#include "cache.h"

/*
 * When a response has a valid, non-empty CDN-Cache-Control or, failing
 * that, a Surrogate-Control with a directive porter knows, fill cc from
 * it (CC_TARGETED set) and return 1: the response's Cache-Control and
 * Expires then do not count for porter's storing and freshness.  An
 * invalid field is ignored as if absent.  0 when none applies.
 */
int	cache_target_parse(const struct http_field *fields, unsigned n,
	    struct cache_cc *cc);

#endif /* CACHE_TARGET_H */
