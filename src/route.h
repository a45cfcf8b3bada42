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
 * (exact or "*.suffix", port ignored, case-insensitive), path prefix and
 * path_regex (POSIX ERE), both on the normalized path, methods, and
 * header (NAME: value, exact).  Among matching routes the most specific
 * wins, compared in this order: an exact host beats a wildcard (a longer
 * wildcard beats a shorter one), which beats no host; then the longer
 * path prefix; then the route with more of the other matchers (listen,
 * path_regex, methods, header); then the first in the file.
 */
int	route_match(const struct config *cf, size_t listen,
	    const struct http_request *req, const char *path, size_t path_len);

/*
 * The path of target (no query) in the form routes and filters compare:
 * percent-encoding decoded, "." and ".." segments resolved, repeated
 * slashes merged, so "/./admin", "/a/../admin", "//admin" and
 * "/%61dmin" are all "/admin".  Returns the length written to out (NUL
 * terminated), or -1 for a target to reject with 400: ".." above the
 * root, an encoded NUL or control character, double encoding ("%2561"),
 * a malformed escape.
 */
int	route_normalize(const char *target, size_t len, char *out, size_t cap);

#endif /* ROUTE_H */
