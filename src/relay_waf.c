/*
 * relay_waf.c - the request flow's side of the web application firewall:
 * what a transaction is fed, the body held back until it is judged, and
 * the answer to a request the rules stop.
 *
 * The rules see what the backend will: the request-target as forwarded
 * (before strip_prefix), the fields porter passes on (no hop-by-hop
 * field, none a route removes, the framing porter sends), and the whole
 * body, decoded, read into memory up to [waf] body_limit before any of
 * it goes to the backend.  A request they stop is answered here (its
 * status through the error pages, with the block's id in the page and
 * in X-Porter-WAF-Id) and never forwarded.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "conn.h"
#include "http.h"
#include "log.h"
#include "relay.h"
#include "relay_int.h"
#include "waf.h"

#define RELAY_WAF_CHUNK_LINE	4096

static char	*rw_buf;		/* the held body, for this worker */
static size_t	 rw_cap;

/* Room for n more body bytes (at most body_limit in all). */
static int
relay_waf_room(size_t used, size_t n)
{
	size_t	 want;

	if (used + n <= rw_cap)
		return 0;
	want = rw_cap ? rw_cap : 64 * 1024;
	while (want < used + n)
		want *= 2;
	if ((rw_buf = realloc(rw_buf, want)) == NULL)
		fatal("realloc");
	rw_cap = want;
	return 0;
}

static void
relay_waf_addr(const struct sockaddr_storage *ss, char *buf, size_t len,
    int *port)
{
	const struct sockaddr_in	*s4 = (const void *)ss;
	const struct sockaddr_in6	*s6 = (const void *)ss;

	snprintf(buf, len, "0.0.0.0");
	*port = 0;
	if (ss->ss_family == AF_INET) {
		inet_ntop(AF_INET, &s4->sin_addr, buf, (socklen_t)len);
		*port = ntohs(s4->sin_port);
	} else if (ss->ss_family == AF_INET6) {
		inet_ntop(AF_INET6, &s6->sin6_addr, buf, (socklen_t)len);
		*port = ntohs(s6->sin6_port);
	}
}

/* Would porter pass field f on to the backend? */
static int
relay_waf_forwarded(const struct http_request *req,
    const struct route_config *rt, const struct http_field *f)
{
	size_t	 i;

	if (http_hop_by_hop(f, req->fields, req->nfields, req->flags))
		return 0;
	switch (f->id) {
	case HTTP_H_LOOKALIKE:
	case HTTP_H_X_FORWARDED_PROTO:
	case HTTP_H_X_FORWARDED_HOST:
	case HTTP_H_X_CLIENT_VERIFY:
	case HTTP_H_X_CLIENT_SUBJECT:
		return 0;
	default:
		break;
	}
	for (i = 0; rt != NULL && i < rt->nreq_remove; i++)
		if (strlen(rt->req_remove[i]) == f->name_len &&
		    strncasecmp(rt->req_remove[i], f->name, f->name_len) == 0)
			return 0;
	return 1;
}

/*
 * Read the whole body into rw_buf, decoded, at most max bytes.  Returns
 * the length, -1 after a client fault (q->status set), or -2 when the
 * body is larger than max.
 */
static int64_t
relay_waf_read_body(struct relay *r, struct relay_req *q, uint64_t max)
{
	struct http_request	*req = &q->req;
	struct http_chunked	 ch;
	enum http_chunk_rc	 rc;
	const char		*out;
	size_t			 used, olen, n, len = 0;
	uint64_t		 left;
	ssize_t			 got;

	if (req->body == HTTP_BODY_LENGTH) {
		if (req->content_length > max)
			return -2;
		left = req->content_length;
		relay_waf_room(0, (size_t)left);
		while (left > 0) {
			if ((n = conn_pending(&r->cl)) == 0) {
				conn_compact(&r->cl);
				got = relay_fill(&r->cl, r->cf->client_body_timeout);
				if (got <= 0)
					goto short_body;
				if (relay_too_slow(r, q, (uint64_t)got))
					goto slow;
				continue;
			}
			if (n > left)
				n = (size_t)left;
			memcpy(rw_buf + len, r->cl.buf + r->cl.start, n);
			conn_consume(&r->cl, n);
			len += n;
			left -= n;
		}
		return (int64_t)len;
	}
	http_chunked_init(&ch, RELAY_WAF_CHUNK_LINE);
	for (;;) {
		rc = http_chunked_decode(&ch, r->cl.buf + r->cl.start,
		    conn_pending(&r->cl), &used, &out, &olen);
		switch (rc) {
		case HTTP_CHUNK_DATA:
			if (r->cf->client_max_body_size != 0 && len + olen >
			    r->cf->client_max_body_size) {
				q->status = 413;	/* as relay_body_chunked */
				return -1;
			}
			if (len + olen > max)
				return -2;
			relay_waf_room(len, olen);
			memcpy(rw_buf + len, out, olen);
			len += olen;
			conn_consume(&r->cl, used);
			break;
		case HTTP_CHUNK_TRAILER:
			conn_consume(&r->cl, used);	/* not passed on */
			break;
		case HTTP_CHUNK_DONE:
			conn_consume(&r->cl, used);
			return (int64_t)len;
		case HTTP_CHUNK_ERROR:
			log_info("client %s: malformed chunked body from the "
			    "client", r->client_ip);
			q->status = 400;
			return -1;
		case HTTP_CHUNK_AGAIN:
			conn_consume(&r->cl, used);
			conn_compact(&r->cl);
			got = relay_fill(&r->cl, r->cf->client_body_timeout);
			if (got <= 0)
				goto short_body;
			if (relay_too_slow(r, q, (uint64_t)got))
				goto slow;
			break;
		}
	}
short_body:
	q->status = (got == -1 && errno == ETIMEDOUT) ? 408 : 400;
	log_info("client %s: %s while sending the request body", r->client_ip,
	    got == 0 ? "closed" : "timed out");
	return -1;
slow:
	q->status = 408;
	return -1;
}

/*
 * Answer a request the rules stopped: the verdict's status through the
 * error pages; the default page and X-Porter-WAF-Id carry the id.
 */
static void
relay_waf_block(struct relay *r, struct relay_req *q)
{
	const struct error_page	*ep = NULL;
	char			 page[512];
	struct iovec		 iov[2];
	size_t			 i, plen;
	int			 n, after, status = q->waf_v.status;

	for (i = 0; i < r->cf->nerror_pages; i++)
		if (r->cf->error_pages[i].status == status)
			ep = &r->cf->error_pages[i];
	n = snprintf(page, sizeof(page), "<html><head><title>%d %s</title>"
	    "</head><body><h1>%d %s</h1><p>The web application firewall "
	    "refused this request.  Reference: %s</p></body></html>\n",
	    status, http_reason(status), status, http_reason(status),
	    q->waf_v.id);
	plen = n > 0 && (size_t)n < sizeof(page) ? (size_t)n : 0;
	snprintf(r->err_extra, sizeof(r->err_extra), "X-Porter-WAF-Id: %s\r\n"
	    "Cache-Control: no-store\r\n", q->waf_v.id);
	q->status = status;
	n = http_error_response(r->obuf, r->ocap, status, q->keepalive,
	    r->cf->server_tokens, q->req.method == HTTP_M_HEAD,
	    ep ? ep->body : page, ep ? ep->len : plen, r->err_extra, &after);
	r->err_extra[0] = '\0';
	if (n <= 0)
		return;
	iov[0].iov_base = r->obuf;
	iov[0].iov_len = (size_t)n;
	iov[1].iov_base = after ? (ep ? ep->body : page) : NULL;
	iov[1].iov_len = after ? (ep ? ep->len : plen) : 0;
	if (conn_writev(&r->cl, iov, after ? 2 : 1, r->cf->send_timeout) ==
	    -1)
		q->keepalive = 0;
}

/*
 * The error log hears of a verdict once, before the answer goes out (a
 * client holding a refusal or a detected request's response finds it
 * logged), with the rules that matched so far.
 */
static void
relay_waf_log(struct relay *r, struct relay_req *q)
{
	if (q->waf_v.status == 0 || q->waf_logged)
		return;
	q->waf_logged = 1;
	log_notice("waf: %s %s, client %s, %.*s %.*s: rules %s%s%s",
	    q->waf_mode == WAF_ON ? "blocked" : "detected", q->waf_v.id,
	    r->client_ip, (int)q->req.method_len, q->req.method_str,
	    (int)(q->req.target_len > 256 ? 256 : q->req.target_len),
	    q->req.target, q->waf_v.rules[0] ? q->waf_v.rules : "-",
	    q->waf_v.msg[0] ? ": " : "", q->waf_v.msg);
}

/* The transaction ends: the audit log, the counters, the error log. */
static void
relay_waf_finish(struct relay *r, struct relay_req *q)
{
	if (q->waf == NULL)
		return;
	relay_waf_log(r, q);
	waf_end(q->waf, q->waf_mode, q->waf_too_large);
	q->waf = NULL;
}

/* The rules stopped the request: block it (on) or note it (detect). */
static int
relay_waf_stopped(struct relay *r, struct relay_req *q)
{
	waf_count(q->waf, q->waf_mode, q->waf_too_large);
	if (q->waf_mode != WAF_ON)
		return 0;
	relay_waf_log(r, q);
	relay_skip_body(r, q);
	relay_waf_block(r, q);
	relay_waf_finish(r, q);
	return 1;
}

int
relay_waf_request(struct relay *r, struct relay_req *q,
    const struct route_config *rt)
{
	const struct config	*cf = r->cf;
	struct http_request	*req = &q->req;
	struct sockaddr_storage	 local;
	socklen_t		 slen = sizeof(local);
	const struct http_field	*f;
	char			 cip[INET6_ADDRSTRLEN], sip[INET6_ADDRSTRLEN];
	char			 cl[32];
	int64_t			 blen = -3;
	unsigned		 i;
	int			 cport, sport, mode;

	mode = rt != NULL ? rt->waf : cf->nroutes == 0 ? WAF_ON : WAF_OFF;
	if (mode == WAF_OFF)
		return 0;
	q->waf_mode = mode;
	relay_waf_addr(r->peer_real != NULL ? r->peer_real : r->peer, cip,
	    sizeof(cip), &cport);
	memset(&local, 0, sizeof(local));
	if (getsockname(r->cl.fd, (struct sockaddr *)&local, &slen) == -1)
		local.ss_family = AF_UNSPEC;
	relay_waf_addr(&local, sip, sizeof(sip), &sport);
	if ((q->waf = waf_begin(cf->waf.loaded, cip, cport, sip, sport,
	    &q->waf_v)) == NULL) {
		log_warnx("waf: cannot start a transaction");
		q->waf_mode = WAF_OFF;
		return 0;
	}
	if (waf_uri(q->waf, req->target, req->target_len, req->method_str,
	    req->method_len, req->version) && relay_waf_stopped(r, q))
		return 1;
	for (i = 0; i < req->nfields; i++) {
		f = &req->fields[i];
		if (relay_waf_forwarded(req, rt, f))
			waf_header(q->waf, f->name, f->name_len, f->value,
			    f->value_len);
	}
	/* the framing as the backend will see it, when it is known */
	if (req->body == HTTP_BODY_LENGTH) {
		snprintf(cl, sizeof(cl), "%llu",
		    (unsigned long long)req->content_length);
		waf_header(q->waf, "Content-Length", 14, cl, strlen(cl));
	} else if (req->body == HTTP_BODY_CHUNKED)
		waf_header(q->waf, "Transfer-Encoding", 17, "chunked", 7);
	if (waf_headers_done(q->waf) && relay_waf_stopped(r, q))
		return 1;
	if (req->body == HTTP_BODY_LENGTH || req->body == HTTP_BODY_CHUNKED) {
		if (req->flags & HTTP_F_EXPECT_CONTINUE && req->version == 11 &&
		    !q->sent_continue && !(req->body == HTTP_BODY_LENGTH &&
		    req->content_length <= conn_pending(&r->cl)) &&
		    !(req->body == HTTP_BODY_LENGTH &&
		    req->content_length > cf->waf.body_limit)) {
			/* the body is read here, before the backend is asked */
			q->sent_continue = 1;
			if (conn_write(&r->cl, "HTTP/1.1 100 Continue\r\n\r\n",
			    25, cf->send_timeout) == -1) {
				q->keepalive = 0;
				q->status = 499;
				relay_waf_finish(r, q);
				return 1;
			}
		}
		blen = relay_waf_read_body(r, q, cf->waf.body_limit);
		if (blen == -1) {
			q->keepalive = 0;
			q->linger = 1;
			relay_error(r, q, q->status);
			relay_waf_finish(r, q);
			return 1;
		}
		if (blen == -2) {
			q->waf_too_large = 1;
			waf_count(q->waf, mode, 1);
			/* a chunked body is partly read: it cannot go on */
			if (mode == WAF_ON || req->body == HTTP_BODY_CHUNKED) {
				q->keepalive = 0;
				q->linger = 1;
				relay_error(r, q, 413);
				relay_waf_finish(r, q);
				return 1;
			}
		}
	}
	if (blen >= 0) {
		/* the backend gets this body, Content-Length framed */
		waf_body(q->waf, rw_buf, (size_t)blen);
		req->body = HTTP_BODY_LENGTH;
		req->content_length = (uint64_t)blen;
		q->waf_body = rw_buf;
		q->sent_continue = 1;	/* the client has sent it all */
	}
	if (waf_body_done(q->waf) && relay_waf_stopped(r, q))
		return 1;
	waf_count(q->waf, mode, q->waf_too_large);
	relay_waf_log(r, q);	/* detect: before the request goes on */
	return 0;
}

int
relay_waf_response(struct relay *r, struct relay_req *q,
    const struct http_response *resp)
{
	const struct http_field	*f;
	unsigned		 i;

	for (i = 0; i < resp->nfields; i++) {
		f = &resp->fields[i];
		waf_response_header(q->waf, f->name, f->name_len, f->value,
		    f->value_len);
	}
	if (!waf_response_done(q->waf, resp->status, resp->version))
		return 0;
	waf_count(q->waf, q->waf_mode, q->waf_too_large);
	relay_waf_log(r, q);
	if (q->waf_mode != WAF_ON)
		return 0;
	relay_waf_block(r, q);
	return 1;
}

void
relay_waf_end(struct relay *r, struct relay_req *q)
{
	relay_waf_finish(r, q);
}

const char *
relay_waf_var(const struct relay_req *q)
{
	static char	 v[16 + WAF_ID_MAX + WAF_RULES_MAX];

	if (q->waf_mode == WAF_OFF)
		return NULL;
	if (q->waf_v.status != 0)
		snprintf(v, sizeof(v), "%s:%s:%s", q->waf_mode == WAF_ON ?
		    "block" : "detect", q->waf_v.id, q->waf_v.rules[0] ?
		    q->waf_v.rules : "-");
	else
		snprintf(v, sizeof(v), "%s", q->waf_too_large ? "over-limit" :
		    "pass");
	return v;
}
