/*
 * route.h - choosing the route (and so the pool) for a request.
 */
#ifndef ROUTE_H
#define ROUTE_H

#include <stddef.h>

struct config;
struct http_request;

#define ROUTE_NONE	(-1)	/* no route matches: 404 */
#define ROUTE_IMPLIED	(-2)	/* no routes at all: the only pool */

/*
 * The route for a request that came in on [listen] section listen.  A
 * route matches when every matcher it has matches: listen names, host
 * (exact or "*.suffix", port ignored, case-insensitive), path prefix,
 * path_regex (POSIX ERE on the path without the query), methods, and
 * header (NAME: value, exact).  Among matching routes the most specific
 * wins, compared in this order: an exact host beats a wildcard (a longer
 * wildcard beats a shorter one), which beats no host; then the longer
 * path prefix; then the route with more of the other matchers (listen,
 * path_regex, methods, header); then the first in the file.
 */
int	route_match(const struct config *cf, size_t listen,
	    const struct http_request *req);

#endif /* ROUTE_H */
