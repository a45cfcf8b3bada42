/*
 * cache.h - HTTP caching rules for a shared cache (RFC 9111), with no I/O
 * and no storage: which requests may be answered from the cache, which
 * responses may be stored, how fresh a stored response is, when it may be
 * served stale, and how a 304 updates it.  The store is cache_store.c;
 * relay.c glues the two.
 */
#ifndef CACHE_H
#define CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "cache_date.h"
#include "http_parse.h"

/*
 * The format of what the cache store holds for porter (keys, meta
 * records): a store handed over by a binary upgrade is taken only by a
 * binary of the same format.  Change it with any change to them.
 */
#define CACHE_FORMAT	3

/* Cache-Control directives porter understands, parsed from one message. */
struct cache_cc {
	unsigned	 flags;		/* CC_* */
	int64_t		 max_age;	/* seconds, -1 absent */
	int64_t		 s_maxage;	/* seconds, -1 absent */
	int64_t		 max_stale;	/* request: -1 absent, INT64_MAX bare */
	int64_t		 min_fresh;	/* request: -1 absent */
	int64_t		 swr;		/* stale-while-revalidate, -1 absent */
	int64_t		 sie;		/* stale-if-error, -1 absent */
};

#define CC_NO_STORE		0x0001
#define CC_NO_CACHE		0x0002	/* unqualified no-cache */
#define CC_PRIVATE		0x0004	/* unqualified private */
#define CC_PUBLIC		0x0008
#define CC_MUST_REVALIDATE	0x0010
#define CC_PROXY_REVALIDATE	0x0020
#define CC_ONLY_IF_CACHED	0x0040
#define CC_NO_TRANSFORM		0x0080
#define CC_IMMUTABLE		0x0100
#define CC_PRAGMA_NO_CACHE	0x0200	/* request: Pragma: no-cache, no CC */
#define CC_QUALIFIED_NO_CACHE	0x0400	/* no-cache="field": treated as
					   no-cache (revalidate), the safe
					   reading for a shared cache */
#define CC_QUALIFIED_PRIVATE	0x0800	/* private="field": not stored */
#define CC_MUST_UNDERSTAND	0x1000
#define CC_TARGETED		0x2000	/* response: from CDN-Cache-Control
					   or Surrogate-Control, which
					   replace Cache-Control and Expires */

/*
 * Parse every Cache-Control field of fields[0..n) (and, for requests,
 * Pragma: no-cache when there is no Cache-Control).  Unknown directives
 * are ignored; a malformed or duplicated value makes the directive count
 * in its most conservative reading (e.g. an invalid max-age is 0).  In a
 * response, a valid CDN-Cache-Control or else Surrogate-Control is used
 * instead (see cache_target.h), with CC_TARGETED set.
 */
void	cache_cc_parse(const struct http_field *fields, unsigned n,
	    int is_request, struct cache_cc *cc);
/* An empty set: every value absent. */
void	cache_cc_init(struct cache_cc *cc);
/* Apply one directive name[=arg] as Cache-Control would. */
void	cache_cc_directive(struct cache_cc *cc, const char *name, size_t nlen,
	    const char *arg, size_t alen, int has_arg);

/*
 * May the response be answered from/looked up in the cache?  GET and HEAD
 * only; HEAD is answered from a stored GET.  Returns 1 to look up, 0 to
 * bypass the cache entirely.
 */
int	cache_request_lookup(const struct http_request *req);

/*
 * Why a response cannot be stored (RFC 9111 section 3), or NULL when it
 * can: method GET, a final status that is cacheable by default or has
 * explicit freshness, no no-store (request or response), not private,
 * Authorization only with public, s-maxage or must-revalidate, no
 * "Vary: *", no Set-Cookie (a shared cache keeps cookies to one client).
 */
const char *cache_storable(const struct http_request *req,
	    const struct cache_cc *req_cc, const struct http_response *resp,
	    const struct cache_cc *resp_cc);

/* What porter keeps about a stored response to judge it later. */
struct cache_meta {
	int64_t		 request_time;	/* s, when the request was sent */
	int64_t		 response_time;	/* s, when the response arrived */
	int64_t		 date;		/* Date value, or response_time */
	int64_t		 age;		/* Age value received, or 0 */
	int64_t		 lifetime;	/* freshness lifetime, s */
	int64_t		 swr;		/* stale-while-revalidate, -1 */
	int64_t		 sie;		/* stale-if-error, -1 */
	uint32_t	 flags;		/* CM_* */
	int		 status;
};

#define CM_NO_CACHE		0x01	/* always revalidate */
#define CM_MUST_REVALIDATE	0x02	/* never serve stale */
#define CM_HAS_VALIDATOR	0x04	/* ETag or Last-Modified */
#define CM_HEURISTIC		0x08	/* lifetime was guessed */

/*
 * Fill m for a response about to be stored (RFC 9111 section 4.2.1:
 * s-maxage, then max-age, then Expires - Date, then a heuristic of 10% of
 * Date - Last-Modified, at most a day, for statuses cacheable by
 * default).  request_time/response_time are seconds (wall clock).
 */
void	cache_meta_fill(struct cache_meta *m, const struct http_response *resp,
	    const struct cache_cc *cc, int64_t request_time,
	    int64_t response_time);

/* current_age (RFC 9111 section 4.2.3) at now, in seconds. */
int64_t	cache_age(const struct cache_meta *m, int64_t now);

enum cache_verdict {
	CACHE_FRESH = 0,	/* serve it */
	CACHE_STALE_OK,		/* stale, but may be served (max-stale) */
	CACHE_STALE_SWR,	/* stale: serve it and refresh it after */
	CACHE_REVALIDATE,	/* ask the origin (conditionally if possible) */
};

/*
 * Judge a stored response m for a request with directives req_cc at now
 * (freshness, request max-age, min-fresh, max-stale, no-cache,
 * must-revalidate, stale-while-revalidate).
 */
enum cache_verdict cache_judge(const struct cache_meta *m,
	    const struct cache_cc *req_cc, int64_t now);

/* May m be served when the origin fails (stale-if-error) at now? */
int	cache_stale_if_error(const struct cache_meta *m, int64_t dflt,
	    const struct cache_cc *req_cc, int64_t now);

/*
 * Does the stored response (its fields) satisfy the client's
 * conditional request, so that 304 is the answer?  If-None-Match (weak
 * comparison, "*") takes precedence over If-Modified-Since (RFC 9110
 * section 13.2.2).  Only for GET/HEAD.
 */
int	cache_not_modified(const struct http_request *req,
	    const struct http_field *stored, unsigned nstored);

/*
 * Fields of a 304 that replace the stored ones (RFC 9111 section 3.2):
 * returns 1 when field f of the 304 should replace/add to the stored
 * header, 0 when it must be ignored (Content-Length, Transfer-Encoding,
 * hop-by-hop, Content-Encoding/Content-Range and the like).
 */
int	cache_update_field(const struct http_field *f);

/*
 * Build the secondary (Vary) part of the key for req into buf: for each
 * field name listed in the stored Vary value, the request's values of
 * that field, normalized (OWS trimmed, several fields joined with ", ").
 * Returns the length, or -1 if it does not fit or Vary is "*".
 */
int	cache_vary_key(const char *vary, size_t vary_len,
	    const struct http_request *req, char *buf, size_t cap);

#endif /* CACHE_H */
