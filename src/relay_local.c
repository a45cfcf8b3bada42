/*
 * relay_local.c - requests porter answers itself, and the checks before
 * any forwarding: the status pages of an [admin] address, a route's
 * return, its filters and rate limit, the real client behind trusted
 * proxies, and porter's identity in responses.
 */
#include <sys/socket.h>
#include <sys/uio.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "admin.h"
#include "config.h"
#include "health.h"
#include "limit.h"
#include "log.h"
#include "relay_int.h"
#include "util.h"

static int	relay_local_rate_limit(struct relay *, struct relay_req *,
		    const struct route_config *);

void
relay_local_identity(struct relay *r, struct http_edit *ed)
{
	memset(ed, 0, sizeof(*ed));
	ed->hide = r->cf->hide_headers;
	ed->nhide = r->cf->nhide_headers;
	ed->server = r->cf->server_tokens ? "porter" : NULL;
}

/*
 * A route's filters: allow/deny by address (403), allow_methods (405),
 * deny_path_regex on the normalized path and deny_header (403), then
 * its rate limit (429).  Returns 1 when the request was answered.
 */
int
relay_local_filter(struct relay *r, struct relay_req *q,
    const struct route_config *rt, const char *path)
{
	const struct http_field	*f;
	size_t			 i;
	int			 ok;
	char			 allow[512];
	size_t			 n = 0;

	if (rt->nallow > 0) {
		for (ok = 0, i = 0; i < rt->nallow && !ok; i++)
			ok = util_cidr_match(&rt->allow[i], r->peer_real);
		if (!ok)
			goto forbidden;
	}
	for (i = 0; i < rt->ndeny; i++)
		if (util_cidr_match(&rt->deny[i], r->peer_real))
			goto forbidden;
	if (rt->nallow_methods > 0) {
		for (ok = 0, i = 0; i < rt->nallow_methods; i++) {
			if (strlen(rt->allow_methods[i]) == q->req.method_len &&
			    memcmp(rt->allow_methods[i], q->req.method_str,
			    q->req.method_len) == 0)
				ok = 1;
			n += (size_t)snprintf(allow + n, sizeof(allow) - n,
			    "%s%s", i ? ", " : "", rt->allow_methods[i]);
			if (n >= sizeof(allow))
				n = sizeof(allow) - 1;
		}
		if (!ok) {
			snprintf(r->err_extra, sizeof(r->err_extra),
			    "Allow: %s\r\n", allow);
			relay_skip_body(r, q);
			relay_error(r, q, 405);
			r->err_extra[0] = '\0';
			return 1;
		}
	}
	if (rt->deny_path_regex != NULL &&
	    regexec(&rt->deny_regex, path, 0, NULL, 0) == 0)
		goto forbidden;
	for (i = 0; i < rt->ndeny_headers; i++) {
		f = http_field_find(q->req.fields, q->req.nfields,
		    rt->deny_headers[i].name);
		if (f != NULL && (rt->deny_headers[i].value == NULL ||
		    memmem(f->value, f->value_len, rt->deny_headers[i].value,
		    strlen(rt->deny_headers[i].value)) != NULL))
			goto forbidden;
	}
	return relay_local_rate_limit(r, q, rt);
forbidden:
	log_info("client %s: forbidden by [route %s]", r->client_ip,
	    rt->name);
	relay_skip_body(r, q);
	relay_error(r, q, 403);
	return 1;
}

/* rate_limit of a route: 429 with Retry-After when over. */
static int
relay_local_rate_limit(struct relay *r, struct relay_req *q,
    const struct route_config *rt)
{
	const struct http_field	*f = NULL;
	char			 buf[512];
	int64_t			 wait;
	int			 n;

	if (rt->rate == 0)
		return 0;
	if (rt->rate_key[0] != '\0')
		f = http_field_find(q->req.fields, q->req.nfields,
		    rt->rate_key);
	/* a bucket per route and client (or header value) */
	n = snprintf(buf, sizeof(buf), "r%s\n%.*s", rt->name,
	    f ? (int)(f->value_len < 400 ? f->value_len : 400) :
	    (int)strlen(r->real_ip), f ? f->value : r->real_ip);
	wait = limit_rate_take(util_hash64(buf, (size_t)n, 0), rt->rate,
	    rt->burst, util_now_ms());
	if (wait == 0)
		return 0;
	snprintf(r->err_extra, sizeof(r->err_extra), "Retry-After: %lld\r\n",
	    (long long)((wait + 999) / 1000));
	relay_skip_body(r, q);
	relay_error(r, q, 429);
	r->err_extra[0] = '\0';
	return 1;
}

/*
 * return = CODE [URL]: answer without a backend.  In URL, $host and
 * $request_uri stand for the request's.
 */
void
relay_local_return(struct relay *r, struct relay_req *q,
    const struct route_config *rt)
{
	char		 loc[4096], head[4608], body[512];
	const char	*u = rt->return_url, *v;
	size_t		 n = 0, vl;
	int		 hl, bl;
	struct iovec	 iov[2];

	q->status = rt->return_code;
	while (u != NULL && *u != '\0' && n < sizeof(loc) - 1) {
		if (strncmp(u, "$host", 5) == 0) {
			v = q->req.host;
			vl = v != NULL ? q->req.host_len : 0;
			u += 5;
		} else if (strncmp(u, "$request_uri", 12) == 0) {
			v = q->req.target;
			vl = q->req.target_len;
			u += 12;
		} else {
			v = u++;
			vl = 1;
		}
		if (vl > sizeof(loc) - 1 - n)
			vl = sizeof(loc) - 1 - n;
		if (vl > 0)
			memcpy(loc + n, v, vl);
		n += vl;
	}
	loc[n] = '\0';
	bl = snprintf(body, sizeof(body), "<html><body><h1>%d %s</h1>"
	    "</body></html>\n", q->status, http_reason(q->status));
	hl = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n%s%s%s"
	    "Content-Type: text/html\r\nContent-Length: %d\r\n%s\r\n",
	    q->status, http_reason(q->status), rt->return_url ? "Location: " :
	    "", rt->return_url ? loc : "", rt->return_url ? "\r\n" : "", bl,
	    q->keepalive ? "" : "Connection: close\r\n");
	if (hl < 0 || (size_t)hl >= sizeof(head)) {
		relay_error(r, q, 500);
		return;
	}
	iov[0].iov_base = head;
	iov[0].iov_len = (size_t)hl;
	iov[1].iov_base = body;
	iov[1].iov_len = q->req.method == HTTP_M_HEAD ? 0 : (size_t)bl;
	q->bytes = iov[1].iov_len;
	if (conn_writev(&r->cl, iov, 2, r->cf->send_timeout) == -1)
		q->keepalive = 0;
}

void
relay_local_simple(struct relay *r, struct relay_req *q, int status,
    const char *type, const char *body, size_t len)
{
	char		 head[512];
	struct iovec	 iov[2];
	int		 n;

	q->status = status;
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\nContent-Type: "
	    "%s\r\nContent-Length: %zu\r\nCache-Control: no-store\r\n%s"
	    "\r\n", status, http_reason(status), type, len, q->keepalive ?
	    "" : "Connection: close\r\n");
	iov[0].iov_base = head;
	iov[0].iov_len = (size_t)n;
	iov[1].iov_base = (void *)(uintptr_t)body;
	iov[1].iov_len = q->req.method == HTTP_M_HEAD ? 0 : len;
	q->bytes = iov[1].iov_len;
	if (conn_writev(&r->cl, iov, 2, r->cf->send_timeout) == -1)
		q->keepalive = 0;
}

/* A request to an [admin] address. */
void
relay_local_admin(struct relay *r, struct relay_req *q)
{
	const struct admin_config *ad = &r->cf->admin;
	struct admin_reply	 rep;
	struct iovec		 iov[2];
	char			 head[512], *buf;
	size_t			 i, cap;
	int			 n;

	for (i = 0; i < ad->nallow; i++)
		if (util_cidr_match(&ad->allow[i], r->peer))
			break;
	if (i == ad->nallow) {
		log_info("client %s: not allowed on the admin address",
		    r->client_ip);
		q->keepalive = 0;
		relay_error(r, q, 403);
		return;
	}
	if (q->req.method != HTTP_M_GET && q->req.method != HTTP_M_HEAD) {
		relay_error(r, q, 405);
		return;
	}
	/* room for every backend's lines; admin requests are rare */
	cap = 65536 + (size_t)health_nslots() * ADMIN_PER_BACKEND;
	if ((buf = malloc(cap)) == NULL) {
		relay_error(r, q, 500);
		return;
	}
	admin_render(r->cf, q->req.target, q->req.target_len, buf, cap, &rep);
	n = snprintf(head, sizeof(head), "HTTP/1.1 %d %s\r\n"
	    "Content-Type: %s\r\nContent-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n%s\r\n", rep.status,
	    http_reason(rep.status), rep.type, rep.len, q->keepalive ? "" :
	    "Connection: close\r\n");
	q->status = rep.status;
	iov[0].iov_base = head;
	iov[0].iov_len = (size_t)n;
	iov[1].iov_base = buf;
	iov[1].iov_len = q->req.method == HTTP_M_HEAD ? 0 : rep.len;
	q->bytes = iov[1].iov_len;
	if (conn_writev(&r->cl, iov, 2, r->cf->send_timeout) == -1)
		q->keepalive = 0;
	free(buf);
}

/* Is ss one of trusted_proxies? */
static int
relay_local_trusted(const struct relay *r, const struct sockaddr_storage *ss)
{
	size_t	 i;

	for (i = 0; i < r->cf->ntrusted; i++)
		if (util_cidr_match(&r->cf->trusted[i], ss))
			return 1;
	return 0;
}

/*
 * The client this request is really from: the connection's peer, or,
 * when that peer is a trusted proxy, the rightmost X-Forwarded-For
 * address that is not a trusted proxy.  Logs, filters and rate limits
 * use it; X-Forwarded-For still gets the peer appended.
 */
void
relay_local_client(struct relay *r, const struct http_request *req)
{
	struct sockaddr_storage	 ss;
	const struct http_field	*f;
	char			 ip[64];
	const char		*v, *end, *p;
	size_t			 len;
	int			 i;

	r->peer_real = &r->peer_store;
	/* every request passes here, so no snprintf */
	_Static_assert(sizeof(r->real_ip) == sizeof(r->client_ip),
	    "real_ip and client_ip differ in size");
	memcpy(r->real_ip, r->client_ip, sizeof(r->real_ip));
	r->real_ip[sizeof(r->real_ip) - 1] = '\0';
	if (r->cf->ntrusted == 0 || !relay_local_trusted(r, &r->peer_store))
		return;
	for (i = (int)req->nfields - 1; i >= 0; i--) {
		f = &req->fields[i];
		if (f->name_len != 15 || strncasecmp(f->name,
		    "x-forwarded-for", 15) != 0)
			continue;
		end = f->value + f->value_len;
		while (end > f->value) {
			for (p = end; p > f->value && p[-1] != ','; p--)
				;
			for (v = p; v < end && (*v == ' ' || *v == '\t'); v++)
				;
			len = (size_t)(end - v);
			while (len > 0 && (v[len - 1] == ' ' ||
			    v[len - 1] == '\t'))
				len--;
			end = p > f->value ? p - 1 : p;
			if (len == 0 || len >= sizeof(ip))
				continue;
			memcpy(ip, v, len);
			ip[len] = '\0';
			memset(&ss, 0, sizeof(ss));
			if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)
			    &ss)->sin_addr) == 1)
				ss.ss_family = AF_INET;
			else if (inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)
			    &ss)->sin6_addr) == 1)
				ss.ss_family = AF_INET6;
			else
				return;		/* garbage: trust no further */
			r->real_store = ss;
			r->peer_real = &r->real_store;
			snprintf(r->real_ip, sizeof(r->real_ip), "%s", ip);
			if (!relay_local_trusted(r, &ss))
				return;
		}
	}
}

