/*
 * route.c - route selection.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "http_parse.h"
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

/* The other matchers; returns how many there are, -1 on a mismatch. */
static int
route_others(const struct route_config *r, size_t listen,
    const struct http_request *req, const char *path)
{
	const struct http_field	*f;
	size_t			 i;
	int			 n = 0;

	if (r->nlistens > 0) {
		for (i = 0; i < r->nlistens; i++)
			if (r->listen_idx[i] == listen)
				break;
		if (i == r->nlistens)
			return -1;
		n++;
	}
	if (r->nmethods > 0) {
		for (i = 0; i < r->nmethods; i++)
			if (strlen(r->methods[i]) == req->method_len &&
			    memcmp(r->methods[i], req->method_str,
			    req->method_len) == 0)
				break;
		if (i == r->nmethods)
			return -1;
		n++;
	}
	for (i = 0; i < r->nheaders; i++) {
		f = http_field_find(req->fields, req->nfields,
		    r->headers[i].name);
		if (f == NULL || strlen(r->headers[i].value) != f->value_len ||
		    memcmp(f->value, r->headers[i].value, f->value_len) != 0)
			return -1;
		n++;
	}
	if (r->path_regex != NULL) {
		if (regexec(&r->regex, path, 0, NULL, 0) != 0)
			return -1;
		n++;
	}
	return n;
}

int
route_match(const struct config *cf, size_t listen,
    const struct http_request *req, const char *path, size_t path_len)
{
	const struct route_config *r;
	size_t		 i, hs, pl, host_len, best_h = 0, best_p = 0;
	int		 best = ROUTE_NONE, others, best_o = 0;
	const char	*colon, *host = req->host;

	if (cf->nroutes == 0)
		return ROUTE_IMPLIED;
	/* compare the host without its port; an IPv6 literal keeps []s */
	host_len = host != NULL ? req->host_len : 0;
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
		if ((others = route_others(r, listen, req, path)) == -1)
			continue;
		if (best == ROUTE_NONE || hs > best_h || (hs == best_h &&
		    (pl > best_p || (pl == best_p && others > best_o)))) {
			best = (int)i;
			best_h = hs;
			best_p = pl;
			best_o = others;
		}
	}
	return best;
}

static int
route_hex(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
route_normalize(const char *target, size_t len, char *out, size_t cap)
{
	size_t		 i, n = 0, seg;
	int		 hi, lo, c;

	if (len == 1 && target[0] == '*') {
		if (cap < 2)
			return -1;
		memcpy(out, "*", 2);
		return 1;
	}
	if (len == 0 || target[0] != '/' || cap < 2)
		return -1;
	for (i = 0; i < len && target[i] != '?'; i++) {
		c = (unsigned char)target[i];
		if (c == '%') {
			if (i + 2 >= len)
				return -1;
			if ((hi = route_hex(target[i + 1])) < 0 ||
			    (lo = route_hex(target[i + 2])) < 0)
				return -1;
			c = hi * 16 + lo;
			i += 2;
			/* "%25" followed by an escape is double encoding */
			if (c == '%' && i + 2 < len &&
			    route_hex(target[i + 1]) >= 0 &&
			    route_hex(target[i + 2]) >= 0)
				return -1;
			if (c < 0x20 || c == 0x7f)
				return -1;
		}
		if (c == '/' && n > 0 && out[n - 1] == '/')
			continue;	/* "//" is "/" */
		if (n + 2 > cap)
			return -1;
		out[n++] = (char)c;
		/* a segment just ended or the path does: resolve dots */
		if (c == '/' || i + 1 >= len || target[i + 1] == '?') {
			seg = c == '/' ? n - 1 : n;
			if (seg >= 2 && out[seg - 1] == '.' &&
			    out[seg - 2] == '/') {
				n = seg - 1;		/* "/./" */
			} else if (seg >= 3 && out[seg - 1] == '.' &&
			    out[seg - 2] == '.' && out[seg - 3] == '/') {
				if (seg == 3)
					return -1;	/* above the root */
				n = seg - 3;
				while (n > 0 && out[n - 1] != '/')
					n--;
			}
		}
	}
	if (n == 0)
		out[n++] = '/';
	out[n] = '\0';
	return (int)n;
}
