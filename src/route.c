/*
 * route.c - route selection.
 */
#include <string.h>
#include <strings.h>

#include "config.h"
#include "route.h"

/* Host score: 0 no match, 1 route has no host, 2+ wildcard, exact best. */
static size_t
route_host_score(const struct route_config *r, const char *host, size_t hl)
{
	size_t	 i, best = 0, sl;
	const char *h;

	if (r->nhosts == 0)
		return 1;
	for (i = 0; i < r->nhosts; i++) {
		h = r->hosts[i];
		if (h[0] == '*') {
			/* "*.example.com" matches "a.example.com" */
			sl = strlen(h + 1);
			if (hl > sl && strncasecmp(host + hl - sl, h + 1,
			    sl) == 0 && 2 + sl > best)
				best = 2 + sl;
		} else if (strlen(h) == hl && strncasecmp(h, host, hl) == 0)
			return (size_t)1 << 20;
	}
	return best;
}

int
route_match(const struct config *cf, const char *host, size_t host_len,
    const char *path, size_t path_len)
{
	const struct route_config *r;
	size_t		 i, hs, pl, best_h = 0, best_p = 0;
	int		 best = -1;
	const char	*colon;

	if (cf->nroutes == 0)
		return -2;
	/* compare the host without its port; an IPv6 literal keeps []s */
	if (host == NULL)
		host_len = 0;
	if (host_len > 0 && (colon = memrchr(host, ':', host_len)) != NULL &&
	    memchr(colon, ']', host_len - (size_t)(colon - host)) == NULL)
		host_len = (size_t)(colon - host);
	if (host_len > 0 && host[host_len - 1] == '.')
		host_len--;	/* "example.com." is "example.com" */
	for (i = 0; i < cf->nroutes; i++) {
		r = &cf->routes[i];
		if ((hs = route_host_score(r, host, host_len)) == 0)
			continue;
		pl = r->path != NULL ? strlen(r->path) : 0;
		if (pl > 0 && (pl > path_len || memcmp(r->path, path, pl) != 0))
			continue;
		if (best == -1 || hs > best_h || (hs == best_h && pl > best_p)) {
			best = (int)i;
			best_h = hs;
			best_p = pl;
		}
	}
	return best;
}
