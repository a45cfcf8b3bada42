/*
 * route.h - choosing the route (and so the pool) for a request.
 */
#ifndef ROUTE_H
#define ROUTE_H

#include <stddef.h>

struct config;

/*
 * The route for host (Host value, port allowed) and path.  The most
 * specific route wins: an exact host beats a wildcard host (a longer
 * wildcard beats a shorter one), which beats a route without host; among
 * equals the longest path prefix wins; among full equals, the first in
 * the file.  Returns the route index, -1 when none matches, or -2 when
 * the configuration has no routes (everything goes to its only pool).
 */
int	route_match(const struct config *cf, const char *host, size_t host_len,
	    const char *path, size_t path_len);

#endif /* ROUTE_H */
