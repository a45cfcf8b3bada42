/*
 * relay.c - the request flow of one client connection.
 *
 * A worker serves one connection at a time with blocking I/O: read the
 * request head, parse it strictly, route it, take an idle backend
 * connection or connect, send a re-serialised head and the body in one
 * canonical framing, read the response head, and stream the body back,
 * re-framed for the client.  Then the next request on the same
 * connection, while keep-alive holds.
 *
 * Buffers are allocated once per worker: the client input buffer, the
 * backend input buffer and an output staging buffer.  Nothing is
 * allocated per request.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "admin.h"
#include "alog.h"
#include "balance.h"
#include "config.h"
#include "conn.h"
#include "gate_shed.h"
#include "handoff.h"
#include "http.h"
#include "limit.h"
#include "listener.h"
#include "proxyproto.h"
#include "log.h"
#include "relay.h"
#include "route.h"
#include "health.h"
#include "scoreboard.h"
#include "stats.h"
#include "tls.h"
#include "upstream.h"
#include "util.h"

#define RELAY_BUF	(64 * 1024)
/* Backend reads: a 64 KiB body and its head in one recv(2). */
#define RELAY_BE_BUF	(128 * 1024)
/* Body bytes up to this size join the staged head; more go by writev. */
#define RELAY_COPY_MAX	(16 * 1024)
/* Lingering close: read what still comes this long, at most. */
#define RELAY_LINGER_MS		5000
#define RELAY_LINGER_IDLE_MS	2000	/* ... until silent this long */

#include "relay_int.h"

static int	relay_safe_method(enum http_method);
static void	relay_extra_status(struct relay *, struct relay_req *);

struct relay		 relay;

void
relay_init(const struct config *cf, volatile sig_atomic_t *stop,
    unsigned slot)
{
	struct relay	*r = &relay;
	size_t		 ccap;

	memset(r, 0, sizeof(*r));
	r->cf = cf;
	r->stop = stop;
	ccap = cf->max_header_size + RELAY_BUF;
	r->ocap = cf->max_header_size + RELAY_BUF;
	if ((r->cl.buf = malloc(ccap)) == NULL ||
	    (r->be.buf = malloc(RELAY_BE_BUF)) == NULL ||
	    (r->obuf = malloc(r->ocap)) == NULL ||
	    (r->tbuf = malloc(3 * (size_t)cf->max_uri_length + 2)) == NULL ||
	    (r->npath = malloc(cf->max_uri_length + 2)) == NULL)
		fatal("malloc");
	r->ncap = cf->max_uri_length + 2;
	r->tcap = 3 * (size_t)cf->max_uri_length + 2;	/* re-encoding */
	balance_init(cf);
	r->cl.cap = ccap;
	r->be.cap = RELAY_BE_BUF;
	r->cl.fd = r->be.fd = -1;
	r->spool_fd = -1;
	r->pipe[0] = r->pipe[1] = -1;
	r->lim.max_header_size = cf->max_header_size;
	r->lim.max_uri_length = cf->max_uri_length;
	r->lim.max_headers = cf->max_headers;
	/* responses: the head must fit the backend buffer */
	r->resp_lim.max_header_size = RELAY_BUF / 2;
	r->resp_lim.max_uri_length = 0;
	r->resp_lim.max_headers = HTTP_MAX_HEADERS;
	r->fwd.proto = "http";
	r->fwd.client_ip = r->client_ip;
	upstream_init(64);
	r->slot = slot;
	relay_cache_init(r);
}

void
relay_fini(void)
{
	upstream_close_idle();
	relay_body_pipe_close(&relay);
	free(relay.cl.buf);
	free(relay.be.buf);
	free(relay.obuf);
	balance_fini();
	relay_cache_fini(&relay);
	relay_compress_fini(&relay);
	free(relay.tbuf);
	free(relay.npath);
	memset(&relay, 0, sizeof(relay));
}

/* Read more, riding out signals unless the caller wants to see them. */
ssize_t
relay_fill(struct conn *c, int timeout_ms)
{
	ssize_t	 n;

	do {
		n = conn_fill(c, timeout_ms);
	} while (n == -1 && errno == EINTR);
	return n;
}

/* Has the client closed its side (or reset)?  Never blocks. */
int
relay_client_gone(struct relay *r)
{
	char	 c;
	ssize_t	 n;

	if (r->cl.sink)
		return 0;	/* a background fetch goes on regardless */
	n = recv(r->cl.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
	    errno != EINTR);
}

/*
 * Read more from the backend, waiting up to timeout_ms.  The wait is cut
 * in one second slices so that a client that leaves meanwhile is noticed
 * (errno ECONNABORTED) and the backend request abandoned; a prompt
 * backend costs no extra system call.
 */
ssize_t
relay_fill_backend(struct relay *r, int timeout_ms)
{
	int64_t	 deadline = util_now_ms() + timeout_ms;
	int64_t	 left;
	ssize_t	 n;

	for (;;) {
		left = deadline - util_now_ms();
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		n = conn_fill(&r->be, left > 1000 ? 1000 : (int)left);
		if (n == -1 && errno == EINTR)
			continue;
		if (n != -1 || errno != ETIMEDOUT)
			return n;
		if (relay_client_gone(r)) {
			errno = ECONNABORTED;
			return -1;
		}
	}
}

/*
 * The access log line: the request's values are read where the parser
 * left them, in the pinned head, as every other reader does.
 */
static void
relay_log(struct relay *r, struct relay_req *q)
{
	const struct http_request *req = &q->req;
	const struct http_field	*f;
	struct alog_entry	 e;

	memset(&e, 0, sizeof(e));
	e.client_ip = r->real_ip[0] ? r->real_ip : r->client_ip;
	if (q->parsed) {
		e.method = req->method_str;
		e.method_len = req->method_len;
		e.target = req->target;
		e.target_len = req->target_len;
		e.host = req->host;
		e.host_len = req->host != NULL ? req->host_len : 0;
		if ((f = http_field_find(req->fields, req->nfields,
		    "referer")) != NULL) {
			e.referer = f->value;
			e.referer_len = f->value_len;
		}
		if ((f = http_field_find(req->fields, req->nfields,
		    "user-agent")) != NULL) {
			e.agent = f->value;
			e.agent_len = f->value_len;
		}
	}
	e.version = q->version;
	e.status = q->status;
	/* compressed: what went out, not what the origin sent */
	e.bytes = q->zcoding ? q->zout : q->bytes;
	e.compression = compress_neg_name(q->zcoding);
	e.upstream = q->upstream;
	e.cache = q->cache_status != NULL ? q->cache_status + 8 : NULL;
	e.waf = q->waf_mode ? relay_waf_var(q) : NULL;
	e.upstream_ms = q->up0 != 0 ? (q->up1 ? q->up1 : util_now_ms()) -
	    q->up0 : -1;
	e.total_ms = util_now_ms() - q->t0;
	alog_write(&e);
	scoreboard_count_request();
	stats_request(q->status, e.bytes, e.total_ms);
}

/* Send one of porter's own error responses. */
void
relay_error(struct relay *r, struct relay_req *q, int status)
{
	const struct error_page	*ep = NULL;
	struct iovec		 iov[2];
	size_t			 i;
	int			 n, after;

	q->status = status;
	for (i = 0; i < r->cf->nerror_pages; i++)
		if (r->cf->error_pages[i].status == status)
			ep = &r->cf->error_pages[i];
	n = http_error_response(r->obuf, r->ocap, status, q->keepalive,
	    r->cf->server_tokens, q->req.method == HTTP_M_HEAD,
	    ep ? ep->body : NULL, ep ? ep->len : 0, r->err_extra, &after);
	if (n <= 0)
		return;
	iov[0].iov_base = r->obuf;
	iov[0].iov_len = (size_t)n;
	iov[1].iov_base = after ? ep->body : NULL;
	iov[1].iov_len = after ? ep->len : 0;
	if (conn_writev(&r->cl, iov, after ? 2 : 1, r->cf->send_timeout) ==
	    -1)
		q->keepalive = 0;
}

/*
 * Keep the bytes of the request head put until the exchange ends.  The
 * parsed request points into them (target, Host, every field), and the
 * response phase still reads it after the body went by: the cache's key,
 * Vary and Authorization checks, invalidation, return's variables, the
 * access log.  The client connection's buffer becomes the part after the
 * head, so body bytes (streamed, decoded, tunnelled) never land on it.
 * The head lies at the front of the buffer (relay_unpin_head put it
 * there); what came after it stays pending.
 */
static void
relay_pin_head(struct relay *r, size_t head_len)
{
	size_t	 pin = r->cl.start + head_len;

	r->cl.buf += pin;
	r->cl.cap -= pin;
	r->cl.start = 0;
	r->cl.end -= pin;
	r->pinned = pin;
}

/*
 * The exchange is over: the whole buffer is the connection's again, with
 * what is pending (a pipelined request) moved to its front, where the
 * next head will be parsed and pinned.
 */
static void
relay_unpin_head(struct relay *r)
{
	r->cl.buf -= r->pinned;
	r->cl.cap += r->pinned;
	r->cl.start += r->pinned;
	r->cl.end += r->pinned;
	r->pinned = 0;
	if (conn_pending(&r->cl) == 0)
		r->cl.start = r->cl.end = 0;
	else
		conn_compact(&r->cl);
}

/*
 * Read and parse the next request head.  Returns 1 with q->req filled
 * and its head pinned (the buffer holds what came after it), 0 when the connection should just close (EOF, idle timeout, stop), or
 * -1 after an error response was sent.
 */
static int
relay_read_head(struct relay *r, struct relay_req *q)
{
	const struct config	*cf = r->cf;
	int64_t			 deadline = 0, drain = 0, now, park_at, start;
	int64_t			 idle_end = 0;
	ssize_t			 n;
	int			 rc, timeout, pressed = 0;

	scoreboard_state(r->nreq == 0 ? SB_READING : SB_KEEPALIVE);
	start = util_now_ms();
	park_at = relay_park_at(r, start);
	for (;;) {
		if (conn_pending(&r->cl) > 0) {
			if (deadline == 0) {
				/* the request starts with its first byte */
				q->t0 = r->head_t0 != 0 ? r->head_t0 :
				    util_now_ms();
				r->head_t0 = 0;
				deadline = q->t0 + cf->client_header_timeout;
				scoreboard_state(SB_READING);
			}
			rc = http_parse_request(&q->req, r->cl.buf +
			    r->cl.start, conn_pending(&r->cl), &r->lim);
			if (rc > 0) {
				relay_pin_head(r, q->req.head_len);
				return 1;
			}
			if (rc < 0) {
				log_info("client %s: bad request (%d)",
				    r->client_ip, -rc);
				goto reject;
			}
		}
		now = util_now_ms();
		if (deadline != 0) {
			timeout = (int)(deadline - now);
			if (timeout <= 0)
				goto timedout;
		} else if (r->nreq == 0)
			timeout = cf->client_header_timeout;
		else
			timeout = cf->keepalive_timeout;
		if (*r->stop == 1 && deadline == 0) {
			/* retiring: a short wait for a next request */
			if (drain == 0)
				drain = now + (cf->keepalive_timeout <
				    cf->shutdown_timeout / 2 ?
				    cf->keepalive_timeout :
				    cf->shutdown_timeout / 2);
			if (drain - now < timeout)
				timeout = (int)(drain - now);
			if (timeout <= 0)
				return 0;
		}
		if (*r->stop > 1 && deadline == 0)
			return 0;	/* stopping: idle closes now */
		if (park_at > now && r->nreq == 0 && !pressed) {
			/* clients wait for a worker: no grace for a slow one */
			pressed = 1;
			if (relay_park_pressed())
				park_at = now;
		}
		if (park_at != 0 && !*r->stop) {
			/* waiting past the grace: the gate waits instead */
			if (now >= park_at) {
				if (relay_park(r, deadline != 0 ? q->t0 : 0,
				    start) == 0)
					return 0;
				park_at = 0;
			} else if (park_at - now < timeout)
				timeout = (int)(park_at - now);
		}
		if (r->cl.ssl != NULL && deadline == 0 && r->nreq > 0) {
			/*
			 * Idle on TLS: the session cannot go to the gate, so
			 * look now and then whether clients wait for this
			 * worker (gate_shed.c).
			 */
			if (idle_end == 0) {
				idle_end = start + cf->keepalive_timeout;
				gate_shed_idle(1);
			}
			if (gate_shed_asked()) {
				log_info("client %s: idle TLS connection closed: "
				    "clients wait for a worker", r->client_ip);
				return 0;
			}
			if (idle_end - now < timeout)
				timeout = (int)(idle_end - now);
			if (timeout > GATE_SHED_MS)
				timeout = GATE_SHED_MS;
		}
		n = conn_fill(&r->cl, timeout);
		if (idle_end != 0) {
			now = util_now_ms();
			if (n == -1 && errno == ETIMEDOUT && now < idle_end &&
			    (drain == 0 || now < drain))
				continue;
			gate_shed_idle(0);
			idle_end = 0;
		}
		if (n > 0)
			continue;
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == ETIMEDOUT && park_at != 0 &&
		    util_now_ms() >= park_at)
			continue;
		if (n == -1 && errno == ETIMEDOUT && drain != 0 &&
		    deadline == 0)
			return 0;
		if (n == -1 && errno == ENOBUFS) {
			/* the parser's size limit is lower: cannot happen */
			rc = -431;
			goto reject;
		}
		if (n == -1 && errno == ETIMEDOUT && deadline != 0)
			goto timedout;
		if (conn_pending(&r->cl) > 0)
			log_info("client %s: closed in the middle of a "
			    "request head", r->client_ip);
		return 0;
	}
timedout:
	rc = -408;
	log_info("client %s: timed out sending the request head",
	    r->client_ip);
reject:
	q->keepalive = 0;
	q->version = 11;
	relay_error(r, q, -rc);
	return -1;
}

/*
 * client_min_rate: a body that trickles in slower than that (after a
 * grace of five seconds) holds a worker for nothing; such a client gets
 * 408.  Headers are bounded as a whole by client_header_timeout.
 */
int
relay_too_slow(struct relay *r, struct relay_req *q, uint64_t got)
{
	int64_t	 now = util_now_ms(), took;

	if (r->cf->client_min_rate == 0)
		return 0;
	if (q->body_start == 0)
		q->body_start = now;
	q->body_got += got;
	took = now - q->body_start;
	if (took < 5000 ||
	    q->body_got * 1000 / (uint64_t)took >= r->cf->client_min_rate)
		return 0;
	log_info("client %s: request body slower than %u bytes/s",
	    r->client_ip, r->cf->client_min_rate);
	return 1;
}

/* Flush the output staging buffer to conn c. */
int
relay_flush(struct relay *r, struct conn *c, int timeout)
{
	if (r->olen == 0)
		return 0;
	if (conn_write(c, r->obuf, r->olen, timeout) == -1)
		return -1;
	r->olen = 0;
	return 0;
}

/*
 * Append data to the staging buffer as one chunk ("size CRLF data CRLF"),
 * flushing to c when full.  Large data is written straight through, with
 * whatever was staged, in one writev.
 */
int
relay_put_chunk(struct relay *r, struct conn *c, const char *data,
    size_t len, int chunked, int timeout)
{
	char		 sz[24];
	struct iovec	 iov[4];
	int		 szl = 0;

	if (len == 0)
		return 0;
	if (chunked)
		szl = snprintf(sz, sizeof(sz), "%zx\r\n", len);
	if (len <= RELAY_COPY_MAX && r->olen + (size_t)szl + len + 2 <=
	    r->ocap) {
		memcpy(r->obuf + r->olen, sz, (size_t)szl);
		r->olen += (size_t)szl;
		memcpy(r->obuf + r->olen, data, len);
		r->olen += len;
		if (chunked) {
			memcpy(r->obuf + r->olen, "\r\n", 2);
			r->olen += 2;
		}
		return 0;
	}
	iov[0].iov_base = r->obuf;
	iov[0].iov_len = r->olen;
	iov[1].iov_base = sz;
	iov[1].iov_len = (size_t)szl;
	iov[2].iov_base = (void *)(uintptr_t)data;
	iov[2].iov_len = len;
	iov[3].iov_base = (void *)(uintptr_t)"\r\n";
	iov[3].iov_len = chunked ? 2 : 0;
	r->olen = 0;
	return conn_writev(c, iov, 4, timeout);
}

int
relay_put(struct relay *r, struct conn *c, const char *s, size_t len,
    int timeout)
{
	return relay_put_chunk(r, c, s, len, 0, timeout);
}

/*
 * Send the request (head already in obuf[0..hlen)) and its body.  When
 * the whole body is in the client buffer it is sent without consuming
 * it, so that a retry can send it again; *resendable says so.
 */
static enum relay_err
relay_send_request(struct relay *r, struct relay_req *q, size_t hlen,
    int *resendable)
{
	const struct config	*cf = r->cf;
	const struct pool_config *pc = &cf->pools[r->be_pool];
	struct http_request	*req = &q->req;
	struct iovec		 iov[2];
	uint64_t		 left;
	size_t			 avail;
	ssize_t			 n;

	iov[0].iov_base = r->obuf;
	iov[0].iov_len = hlen;
	iov[1].iov_base = r->cl.buf + r->cl.start;
	iov[1].iov_len = 0;
	if (r->spool_fd != -1)
		return relay_spool_send(r, q, hlen, resendable);
	if (q->waf_body != NULL)
		iov[1].iov_base = (void *)(uintptr_t)q->waf_body;
	if (req->body == HTTP_BODY_NONE || q->waf_body != NULL ||
	    (req->body == HTTP_BODY_LENGTH &&
	    req->content_length <= conn_pending(&r->cl))) {
		if (req->body == HTTP_BODY_LENGTH)
			iov[1].iov_len = (size_t)req->content_length;
		*resendable = 1;
		if (conn_writev(&r->be, iov, 2, pc->send_timeout) == -1)
			return r->be_reused ? RE_RETRY : RE_BACKEND;
		return RE_OK;
	}
	*resendable = 0;
	if (req->body == HTTP_BODY_CHUNKED) {
		r->olen = hlen;
		return relay_body_chunked(r, q, &r->cl, &r->be, 1,
		    cf->client_max_body_size, cf->client_body_timeout,
		    pc->send_timeout, 1);
	}
	left = req->content_length;
	for (;;) {
		avail = conn_pending(&r->cl);
		if (avail > left)
			avail = (size_t)left;
		iov[1].iov_base = r->cl.buf + r->cl.start;
		iov[1].iov_len = avail;
		if (conn_writev(&r->be, iov, 2, pc->send_timeout) == -1)
			return RE_BACKEND;
		iov[0].iov_len = 0;
		conn_consume(&r->cl, avail);
		left -= avail;
		if (left == 0)
			return RE_OK;
		n = relay_fill(&r->cl, cf->client_body_timeout);
		if (n > 0 && relay_too_slow(r, q, (uint64_t)n)) {
			q->keepalive = 0;
			q->status = 408;
			return RE_CLIENT;
		}
		if (n <= 0) {
			q->status = (n == -1 && errno == ETIMEDOUT) ? 408 : 400;
			log_info("client %s: %s while sending the request body",
			    r->client_ip, n == 0 ? "closed" : "timed out");
			q->keepalive = 0;
			return RE_CLIENT;
		}
	}
}

/* Give the backend connection back to the idle cache, or close it. */
static void
relay_release_backend(struct relay *r, int reusable)
{
	int	 timeo[2] = { r->be.rcvtimeo, r->be.sndtimeo };

	if (r->be.fd == -1)
		return;
	if (reusable && conn_pending(&r->be) == 0)
		upstream_put(r->be.fd, r->be.ssl, timeo, r->be_pool, r->be_srv,
		    &r->cf->pools[r->be_pool]);
	else
		upstream_close(r->be.fd, r->be.ssl);
	r->be.fd = -1;
	r->be.ssl = NULL;
	r->be.start = r->be.end = 0;
}

/*
 * Read the response head, pass interim responses on, send the final head
 * and relay the body.  Returns RE_OK, RE_RETRY (nothing received on a
 * reused connection), RE_BACKEND (no response: 502/504 still possible),
 * or RE_ABORT.
 */
static enum relay_err
relay_response(struct relay *r, struct relay_req *q)
{
	const struct config	*cf = r->cf;
	struct http_response	 resp;
	struct http_edit	 ied;
	enum http_out		 framing;
	enum relay_err		 e;
	int			 rc, hlen, got_any = 0, reusable;
	ssize_t			 n;

	for (;;) {
		rc = 0;
		if (conn_pending(&r->be) > 0)
			rc = http_parse_response(&resp, r->be.buf +
			    r->be.start, conn_pending(&r->be), q->req.method,
			    &r->resp_lim);
		if (rc < 0) {
			log_warnx("upstream %s: invalid response head",
			    q->upstream);
			q->status = 502;
			return RE_BACKEND;
		}
		if (rc == 0) {
			n = relay_fill_backend(r, q->rto);
			if (n > 0) {
				got_any = 1;
				continue;
			}
			if (n == -1 && errno == ECONNABORTED) {
				log_info("client %s: gone while waiting for "
				    "upstream %s", r->client_ip, q->upstream);
				q->status = 499;
				return RE_ABORT;
			}
			if (!got_any && r->be_reused && n == 0)
				return RE_RETRY;
			if (!got_any && r->be_reused && n == -1 &&
			    errno == ECONNRESET)
				return RE_RETRY;
			q->status = (n == -1 && errno == ETIMEDOUT) ? 504 : 502;
			log_warnx("upstream %s: %s before a complete response "
			    "head", q->upstream, n == 0 ? "closed" :
			    n == -1 && errno == ETIMEDOUT ? "timed out" :
			    strerror(errno));
			return RE_BACKEND;
		}
		if (resp.status >= 100 && resp.status < 200 &&
		    resp.status != 101) {
			/*
			 * interim: pass on to HTTP/1.1 clients, without
			 * what a final response hides (the server's Server,
			 * hide_headers, the route's removals); what porter
			 * adds belongs to the final response
			 */
			if (q->req.version == 11 && !(resp.status == 100 &&
			    q->sent_continue)) {
				ied = r->resp_ed;
				ied.add = ied.add2 = ied.server = NULL;
				hlen = http_response_head(r->obuf, r->ocap,
				    &resp, &ied, HTTP_OUT_NONE, 1, 11, 0);
				if (hlen > 0 && conn_write(&r->cl, r->obuf,
				    (size_t)hlen, cf->send_timeout) == -1)
					return RE_ABORT;
			}
			conn_consume(&r->be, (size_t)rc);
			continue;
		}
		break;
	}
	if (resp.status == 101 && !q->upgrade) {
		log_warnx("upstream %s: 101 to a request that did not ask to "
		    "upgrade", q->upstream);
		q->status = 502;
		return RE_BACKEND;
	}
	q->status = q->be_status = resp.status;
	if (q->waf != NULL && relay_waf_response(r, q, &resp)) {
		q->up1 = util_now_ms();
		relay_release_backend(r, 0);
		return RE_OK;
	}
	if (resp.status == 101) {
		hlen = http_response_head(r->obuf, r->ocap, &resp, &r->resp_ed,
		    HTTP_OUT_NONE, 1, q->req.version, 1);
		if (hlen < 0 || conn_write(&r->cl, r->obuf, (size_t)hlen,
		    cf->send_timeout) == -1)
			return RE_ABORT;
		conn_consume(&r->be, (size_t)rc);
		q->up1 = util_now_ms();
		scoreboard_state(SB_PROXYING);
		relay_body_tunnel(r);
		q->keepalive = 0;
		return RE_ABORT;	/* neither connection can be reused */
	}
	if (resp.status < 400 && !relay_safe_method(q->req.method))
		relay_cache_invalidate(r, q, &resp);
	if (relay_cache_response(r, q, &resp, r->be.buf + r->be.start,
	    (size_t)rc)) {
		/* answered from the cache: the origin's body is not wanted */
		conn_consume(&r->be, (size_t)rc);
		q->up1 = util_now_ms();
		relay_release_backend(r, resp.body == HTTP_BODY_NONE &&
		    resp.version == 11 && !(resp.flags & HTTP_F_CONN_CLOSE));
		return RE_OK;
	}
	relay_extra_status(r, q);
	switch (resp.body) {
	case HTTP_BODY_NONE:
		framing = HTTP_OUT_NONE;
		break;
	case HTTP_BODY_LENGTH:
		framing = HTTP_OUT_LENGTH;
		break;
	default:
		framing = q->req.version == 11 ? HTTP_OUT_CHUNKED :
		    HTTP_OUT_CLOSE;
		break;
	}
	relay_compress_response(r, q, &resp, &framing);
	if (framing == HTTP_OUT_CLOSE || *r->stop)
		q->keepalive = 0;
	hlen = http_response_head(r->obuf, r->ocap, &resp, &r->resp_ed, framing,
	    q->keepalive, q->req.version, 0);
	if (hlen < 0) {
		log_warnx("upstream %s: response head too large", q->upstream);
		q->status = 502;
		return RE_BACKEND;
	}
	reusable = resp.version == 11 && !(resp.flags & HTTP_F_CONN_CLOSE) &&
	    resp.body != HTTP_BODY_CLOSE;
	conn_consume(&r->be, (size_t)rc);
	/* the head goes out with the first body bytes */
	r->olen = (size_t)hlen;
	/*
	 * The object is committed as soon as the origin's body is whole,
	 * before its last bytes reach the client: a client's next request
	 * finds it stored.
	 */
	if (resp.body == HTTP_BODY_NONE)
		relay_cache_done(r, q, 1);
	e = relay_body_response(r, q, &resp, framing);
	if (e == RE_OK && relay_flush(r, &r->cl, cf->send_timeout) == -1)
		e = RE_ABORT;
	r->olen = 0;
	q->up1 = util_now_ms();
	relay_release_backend(r, e == RE_OK && reusable);
	relay_cache_done(r, q, e == RE_OK);
	return e;
}

static int
relay_safe_method(enum http_method m)
{
	return m == HTTP_M_GET || m == HTTP_M_HEAD || m == HTTP_M_OPTIONS ||
	    m == HTTP_M_TRACE;
}

/* Cache-Status joins the fields a response gets (after a sticky cookie). */
static void
relay_extra_status(struct relay *r, struct relay_req *q)
{
	if (q->cache_status != NULL)
		util_append(r->resp_extra, sizeof(r->resp_extra),
		    "Cache-Status: ", q->cache_status, "\r\n", (char *)NULL);
}

static int
relay_idempotent(enum http_method m)
{
	return m == HTTP_M_GET || m == HTTP_M_HEAD || m == HTTP_M_PUT ||
	    m == HTTP_M_DELETE || m == HTTP_M_OPTIONS || m == HTTP_M_TRACE;
}

/* TLS toward a backend: the handshake, bounded by connect_timeout. */
static void *
relay_tls_connect(struct relay_req *q, const struct pool_config *pc,
    const struct server_config *s, int fd)
{
	struct timeval	 tv;
	char		 name[128];

	tv.tv_sec = q->cto / 1000;
	tv.tv_usec = (q->cto % 1000) * 1000;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	config_tls_name(pc, s, name, sizeof(name));
	return tls_connect(fd, pc->tls_ctx, name, upstream_session(s->hslot));
}

/*
 * Pick a server of the pool and connect to it (or take an idle connection
 * to it), moving on to another server when connecting fails, up to the
 * pool's retries.  Returns -1 with q->status set when no server can take
 * the request: 503 when none is up (or all stay full for queue_timeout),
 * else the failure's 502 or 504.
 */
static int
relay_connect(struct relay *r, struct relay_req *q, size_t pool,
    unsigned *tries, struct balance_req *br)
{
	const struct pool_config *pc = &r->cf->pools[pool];
	const struct server_config *s;
	int64_t			 queue_end = 0;
	int			 srv, fd, cookie;
	char			 id[32];
	void			*ssl;
	int			 timeo[2];

	for (;;) {
		srv = balance_pick(r->cf, pool, br, &cookie);
		if (srv == BALANCE_FULL) {
			/* every usable server is at max_conns: wait a bit */
			if (queue_end == 0)
				queue_end = util_now_ms() + pc->queue_timeout;
			if (util_now_ms() < queue_end &&
			    !relay_client_gone(r)) {
				(void)poll(NULL, 0, 5);
				continue;
			}
			log_warnx("pool %s: every server is at max_conns",
			    pc->name);
			q->status = 503;
			return -1;
		}
		if (srv == BALANCE_NONE) {
			if (*tries == 0) {
				log_warnx("pool %s: no server is up", pc->name);
				q->status = 503;
			}
			return -1;
		}
		if (br->ntried < BALANCE_MAX_TRIES)
			br->tried[br->ntried++] = (unsigned)srv;
		s = &pc->servers[srv];
		q->upstream = s->addr.str;
		if (q->up0 == 0)
			q->up0 = util_now_ms();
		r->be_pool = pool;
		r->be_srv = (size_t)srv;
		r->be_sc = s;
		r->resp_extra[0] = '\0';
		if (cookie) {
			balance_cookie_value(s->id, id, sizeof(id));
			snprintf(r->resp_extra, sizeof(r->resp_extra),
			    "Set-Cookie: %s=%s; Path=/; HttpOnly\r\n",
			    pc->sticky_cookie, id);
		}
		ssl = NULL;
		timeo[0] = timeo[1] = -1;
		if (!r->be_fresh && (fd = upstream_take(pool, (size_t)srv, pc,
		    &ssl, timeo)) != -1) {
			r->be_reused = 1;
			break;
		}
		r->be_reused = 0;
		if ((fd = upstream_connect(&s->addr, q->cto)) != -1) {
			if (pc->tls_ctx == NULL || (ssl = relay_tls_connect(q,
			    pc, s, fd)) != NULL)
				break;
			close(fd);
			q->status = 502;
		} else {
			q->status = errno == ETIMEDOUT ? 504 : 502;
			log_warn("upstream %s: connect", s->addr.str);
		}
		health_end(pc, s, 0, 0);
		if (++*tries > pc->retries)
			return -1;
	}
	conn_init(&r->be, fd, r->be.buf, r->be.cap);
	r->be.ssl = ssl;
	/* a reused connection keeps the timeouts already set on it */
	r->be.rcvtimeo = timeo[0];
	r->be.sndtimeo = timeo[1];
	return 0;
}

void
relay_skip_body(struct relay *r, struct relay_req *q)
{
	if (r->spool_fd != -1)
		;	/* in the spool file, not on the connection */
	else if (q->waf_body != NULL)
		;	/* read already (relay_waf.c) */
	else if (q->req.body == HTTP_BODY_LENGTH &&
	    q->req.content_length <= conn_pending(&r->cl))
		conn_consume(&r->cl, (size_t)q->req.content_length);
	else if (q->req.body != HTTP_BODY_NONE) {
		q->keepalive = 0;
		q->linger = 1;
	}
	/* dealt with: a second call changes nothing */
	q->req.body = HTTP_BODY_NONE;
}

/*
 * strip_prefix, on the normalized path that routing matched (so
 * "/%61pi/x" loses "/api" as "/api/x" does): the rest of that path,
 * re-encoded where a request-target needs it, and the original query,
 * into r->tbuf.  "/api/x?y" less "/api" is "/x?y"; nothing left is "/".
 */
static void
relay_strip(struct relay *r, const struct route_config *rt,
    const struct http_request *req, struct http_edit *ed)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t		 pl = strlen(rt->strip_prefix), n = 0, ql;
	const char	*p, *q;
	unsigned char	 c;

	if (strncmp(r->npath, rt->strip_prefix, pl) != 0)
		return;
	p = r->npath + pl;
	if (*p != '/')
		r->tbuf[n++] = '/';
	for (; *p != '\0'; p++) {
		if (n + 4 > r->tcap)
			return;
		c = (unsigned char)*p;
		if (c <= 0x20 || c >= 0x7f || strchr("\"#%<>?\\^`{|}", c)) {
			r->tbuf[n++] = '%';
			r->tbuf[n++] = hex[c >> 4];
			r->tbuf[n++] = hex[c & 15];
		} else
			r->tbuf[n++] = (char)c;
	}
	if ((q = memchr(req->target, '?', req->target_len)) != NULL) {
		ql = req->target_len - (size_t)(q - req->target);
		if (n + ql > r->tcap)
			return;
		memcpy(r->tbuf + n, q, ql);
		n += ql;
	}
	ed->target = r->tbuf;
	ed->target_len = n;
}

/* The Host a server wants (set_host): its name as configured. */
static const char *
relay_server_host(const struct server_config *sc)
{
	return strncmp(sc->name, "unix:", 5) == 0 ? "localhost" : sc->name;
}

/* Forward one parsed request and relay its response. */
static void
relay_forward(struct relay *r, struct relay_req *q,
    const struct route_config *rt)
{
	struct http_request	*req = &q->req;
	size_t			 pool = rt != NULL ? rt->pool : 0;
	const struct pool_config *pc = &r->cf->pools[pool];
	struct http_edit	 red;
	struct balance_req	 br;
	enum http_out		 framing;
	enum relay_err		 e;
	unsigned		 tries = 0, fresh_retries = 0;
	int			 hlen, resendable = 0;
	int64_t			 t0;

	framing = req->body == HTTP_BODY_CHUNKED ? HTTP_OUT_CHUNKED :
	    req->body == HTTP_BODY_LENGTH ? HTTP_OUT_LENGTH : HTTP_OUT_NONE;
	memset(&red, 0, sizeof(red));
	relay_local_identity(r, &r->resp_ed);
	r->resp_ed.add2 = r->resp_extra;
	q->cto = pc->connect_timeout;
	q->rto = pc->read_timeout;
	if (rt != NULL) {
		if (rt->strip_prefix != NULL)
			relay_strip(r, rt, req, &red);
		red.add = rt->req_add;
		red.remove = rt->req_remove;
		red.nremove = rt->nreq_remove;
		r->resp_ed.add = rt->resp_add;
		r->resp_ed.remove = rt->resp_remove;
		r->resp_ed.nremove = rt->nresp_remove;
		if (rt->connect_timeout)
			q->cto = rt->connect_timeout;
		if (rt->read_timeout)
			q->rto = rt->read_timeout;
	}
	memset(&br, 0, sizeof(br));
	br.client_ip = r->client_ip;
	br.uri = req->target;
	br.uri_len = req->target_len;
	br.fields = req->fields;
	br.nfields = req->nfields;
	r->be_fresh = 0;
	scoreboard_state(SB_PROXYING);
	for (;;) {
		if (relay_connect(r, q, pool, &tries, &br) == -1) {
			relay_skip_body(r, q);
			if (!relay_cache_error(r, q))
				relay_error(r, q, q->status);
			return;
		}
		/* HTTP/1.1 needs a Host: without one, the server's name */
		if ((rt != NULL && rt->set_host) || req->host == NULL ||
		    req->host_len == 0)
			red.host = relay_server_host(r->be_sc);
		red.add2 = relay_cache_conditional(q);
		hlen = http_request_head(r->obuf, r->ocap, req, &r->fwd,
		    framing, q->upgrade, &red);
		if (hlen < 0) {
			relay_release_backend(r, 0);
			health_end(pc, r->be_sc, -1, 0);
			q->keepalive = 0;
			relay_error(r, q, 431);
			return;
		}
		if (q->req.flags & HTTP_F_EXPECT_CONTINUE &&
		    q->req.version == 11 && !q->sent_continue &&
		    req->body != HTTP_BODY_NONE && !(req->body ==
		    HTTP_BODY_LENGTH && req->content_length <=
		    conn_pending(&r->cl))) {
			/* answer the client ourselves; the backend never
			 * sees Expect */
			q->sent_continue = 1;
			if (conn_write(&r->cl, "HTTP/1.1 100 Continue\r\n\r\n",
			    25, r->cf->send_timeout) == -1) {
				relay_release_backend(r, 0);
				health_end(pc, r->be_sc, -1, 0);
				q->keepalive = 0;
				q->status = 499;
				return;
			}
		}
		t0 = util_now_ms();
		q->be_status = 0;
		e = relay_send_request(r, q, (size_t)hlen, &resendable);
		if (e == RE_OK)
			e = relay_response(r, q);
		/*
		 * A response (even cut short) or none at all.  Health hears
		 * the origin's status, not the stored one a client may have
		 * got instead (stale-if-error, a 304 made a 200).
		 */
		health_end(pc, r->be_sc, e == RE_CLIENT || e == RE_RETRY ||
		    q->status == 499 ? -1 : e == RE_OK || (e == RE_ABORT &&
		    q->status >= 100) ? (q->be_status != 0 ? q->be_status :
		    q->status) : 0, util_now_ms() - t0);
		if (e == RE_OK) {
			if (resendable && req->body == HTTP_BODY_LENGTH &&
			    q->waf_body == NULL && r->spool_fd == -1)
				conn_consume(&r->cl,
				    (size_t)req->content_length);
			return;
		}
		relay_release_backend(r, 0);
		switch (e) {
		case RE_RETRY:
			if (resendable && relay_idempotent(req->method) &&
			    fresh_retries++ < 1) {
				log_info("upstream %s: reused connection "
				    "closed, retrying", q->upstream);
				/* the same server may take it, on a new
				 * connection: its idle ones may be dead too */
				br.ntried--;
				r->be_fresh = 1;
				continue;
			}
			q->status = 502;
			log_warnx("upstream %s: closed a reused connection "
			    "before answering", q->upstream);
			break;
		case RE_BACKEND:
			if (q->status == 0)
				q->status = 502;
			if (resendable && relay_idempotent(req->method) &&
			    ++tries <= pc->retries && pc->nservers > 1)
				continue;
			break;
		case RE_CLIENT:
			/* the rest of the body may still be coming */
			q->keepalive = 0;
			q->linger = 1;
			relay_error(r, q, q->status ? q->status : 400);
			return;
		default:
			q->keepalive = 0;
			return;
		}
		/* no response was sent: tell the client */
		if (resendable)
			relay_skip_body(r, q);
		else {
			q->keepalive = 0;
			q->linger = 1;
		}
		if (!relay_cache_error(r, q))
			relay_error(r, q, q->status);
		return;
	}
}

/* Fill q's fields that depend on the parsed request. */
static void
relay_prepare(struct relay *r, struct relay_req *q)
{
	struct http_request	*req = &q->req;
	const struct http_field	*f;

	relay_local_client(r, req);
	q->parsed = 1;
	q->version = req->version;
	if (req->version == 11)
		q->keepalive = !(req->flags & HTTP_F_CONN_CLOSE);
	else
		q->keepalive = (req->flags & HTTP_F_CONN_KEEPALIVE) &&
		    !(req->flags & HTTP_F_CONN_CLOSE);
	if (r->nreq >= r->cf->keepalive_requests ||
	    r->cf->keepalive_timeout == 0 || *r->stop)
		q->keepalive = 0;
	/* h2c is never passed on: the backend would speak HTTP/2 to us */
	q->upgrade = 0;
	if ((req->flags & HTTP_F_UPGRADE) && (req->flags & HTTP_F_CONN_UPGRADE) &&
	    (f = http_field_find(req->fields, req->nfields, "upgrade")) != NULL)
		q->upgrade = !http_list_has(f->value, f->value_len, "h2c");
}

/* A parsed request: answer it one way or another. */
static void
relay_dispatch(struct relay *r, struct relay_req *q, const struct listener *l)
{
	const struct route_config *rt = NULL;
	uint64_t		 max = r->cf->client_max_body_size;
	int			 route, plen;

	if (q->req.body == HTTP_BODY_LENGTH && max != 0 &&
	    q->req.content_length > max) {
		q->keepalive = 0;
		q->linger = 1;
		relay_error(r, q, 413);
		return;
	}
	if (q->req.method == HTTP_M_CONNECT) {
		q->keepalive = 0;
		relay_error(r, q, 405);
		return;
	}
	/* answered here: the body is skipped */
	if (l->admin) {
		relay_skip_body(r, q);
		relay_local_admin(r, q);
		return;
	}
	if ((plen = route_normalize(q->req.target, q->req.target_len, r->npath,
	    r->ncap)) < 0) {
		log_info("client %s: request-target rejected by normalization",
		    r->client_ip);
		q->keepalive = 0;
		relay_error(r, q, 400);
		return;
	}
	route = route_match(r->cf, r->listen, &q->req, r->npath, (size_t)plen);
	if (route >= 0)
		rt = &r->cf->routes[route];
	/* a spooled body's request passed its filters before */
	if (route == ROUTE_NONE || (rt != NULL && !r->spooled &&
	    relay_local_filter(r, q, rt, r->npath)) ||
	    (rt != NULL && rt->return_code) || (r->cf->cache.line != 0 &&
	    q->req.method_len == 5 &&
	    memcmp(q->req.method_str, "PURGE", 5) == 0)) {
		relay_skip_body(r, q);
		if (q->status != 0)
			return;		/* a filter answered */
		if (route == ROUTE_NONE)
			relay_error(r, q, 404);
		else if (rt != NULL && rt->return_code)
			relay_local_return(r, q, rt);
		else
			relay_cache_purge(r, q);
		return;
	}
	q->zcf = rt != NULL ? &rt->compress : &r->cf->compress;
	/* a body the gate spooled was not seen by the WAF (see relay_spool) */
	if (r->cf->waf.loaded != NULL && !r->spooled &&
	    relay_waf_request(r, q, rt))
		return;
	q->cacheable = r->cf->cache.line != 0 && (rt ? rt->cache : 1) &&
	    (q->req.method == HTTP_M_GET || q->req.method == HTTP_M_HEAD);
	if (relay_spool(r, q, rt))
		return;		/* the gate has it, or it was answered */
	if (relay_cache_request(r, q, rt))
		relay_skip_body(r, q);
	else
		relay_forward(r, q, rt);
	relay_cache_done(r, q, 0);
	if (q->waf != NULL)
		relay_waf_end(r, q);
}

/*
 * stale-while-revalidate: the client got the stale object and its log
 * line; now revalidate it as a forwarded request whose answer goes
 * nowhere, before the connection's next request is read.  The request
 * still lies in the input buffer; what came after it is kept aside.
 */
static void
relay_refresh(struct relay *r, struct relay_req *q)
{
	const struct route_config *rt;
	size_t		 start = r->cl.start, end = r->cl.end;
	int		 keepalive = q->keepalive;

	if (!relay_cache_refresh(r, q, &rt))
		return;
	q->status = 0;
	q->bytes = 0;
	q->upstream = NULL;
	q->up0 = q->up1 = 0;
	r->cl.sink = 1;
	r->cl.start = r->cl.end = 0;	/* nothing of the client is read */
	relay_forward(r, q, rt);
	relay_cache_done(r, q, 0);
	r->cl.sink = 0;
	r->cl.start = start;
	r->cl.end = end;
	r->olen = 0;
	q->keepalive = keepalive;
}

/*
 * The connection's first bytes: the PROXY header if the listener wants
 * one, the TLS handshake if it is a TLS listener.  0 to go on, -1 to
 * close.
 */
static int
relay_open(struct relay *r, const struct listener *l)
{
	const struct listen_config *lc = l->admin ? NULL :
	    &r->cf->listens[l->listen];

	if (lc == NULL)
		return 0;
	if (lc->proxy_protocol || lc->tls_ctx != NULL) {
		/* both within client_header_timeout */
		if (conn_set_rcvtimeo(&r->cl, r->cf->client_header_timeout) ==
		    -1 || conn_set_sndtimeo(&r->cl, r->cf->send_timeout) == -1)
			return -1;
	}
	/* back from the gate, the PROXY header was read before */
	if (lc->proxy_protocol && r->resume == NULL) {
		if (proxyproto_read(r->cl.fd, &r->peer_store) == -1) {
			log_info("client %s: no valid PROXY protocol header",
			    r->client_ip);
			return -1;
		}
		util_ip_string(&r->peer_store, r->client_ip,
		    sizeof(r->client_ip));
	}
	if (lc->tls_ctx != NULL) {
		if (r->resume == NULL && relay_park_hello(r) == 1)
			return -1;	/* the gate has it */
		if ((r->cl.ssl = tls_accept(r->cl.fd, lc->tls_ctx,
		    r->client_ip)) == NULL)
			return -1;
		r->fwd.proto = "https";
		if (lc->tls_verify_client != TLS_VC_OFF) {
			/* the backend hears who the client proved to be */
			switch (tls_peer_subject(r->cl.ssl, r->cert_subject,
			    sizeof(r->cert_subject))) {
			case 1:
				r->fwd.cert_verify = "SUCCESS";
				r->fwd.cert_subject = r->cert_subject;
				break;
			case 0:
				r->fwd.cert_verify = "NONE";
				break;
			default:
				log_info("client %s: certificate did not "
				    "verify", r->client_ip);
				return -1;
			}
		}
	}
	return 0;
}

/* Are bytes of the client's waiting, unread, in the buffer or socket? */
static int
relay_client_sending(struct relay *r)
{
	char	 c;

	if (conn_pending(&r->cl) > 0)
		return 1;
	if (r->cl.ssl != NULL && tls_pending(r->cl.ssl) > 0)
		return 1;
	return recv(r->cl.fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) > 0;
}

/*
 * Lingering close, as nginx does it.  An answer given before the
 * request's body was read (403, 405, 413, 429, a bad request) is
 * followed by close(2) with the client's bytes unread, and then the
 * kernel sends RST: a client still uploading may lose the answer it
 * was sent to "connection reset".  So end our side (close_notify, FIN)
 * and read and drop what still comes until the client closes, is
 * silent for RELAY_LINGER_IDLE_MS, or RELAY_LINGER_MS have passed.
 */
static void
relay_linger(struct relay *r)
{
	int64_t	 end = util_now_ms() + RELAY_LINGER_MS, left;
	ssize_t	 n;

	if (r->cl.ssl != NULL) {
		/* the rest is ciphertext to drop unread */
		tls_free(r->cl.ssl, 1);
		r->cl.ssl = NULL;
	}
	if (shutdown(r->cl.fd, SHUT_WR) == -1)
		return;
	for (;;) {
		left = end - util_now_ms();
		if (left <= 0 || *r->stop > 1)
			return;
		n = conn_read(&r->cl, r->cl.buf, r->cl.cap, left <
		    RELAY_LINGER_IDLE_MS ? (int)left : RELAY_LINGER_IDLE_MS);
		if (n == 0 || (n == -1 && errno != EINTR))
			return;
	}
}

unsigned
relay_serve(int fd, const struct sockaddr_storage *peer,
    const struct listener *l)
{
	struct relay		*r = &relay;
	struct relay_req	 q;
	int			 rc, one = 1, limited = 0, linger = 0;
	uint64_t		 key;

	conn_init(&r->cl, fd, r->cl.buf, r->cl.cap);
	r->peer_store = *peer;
	r->peer = &r->peer_store;
	r->peer_real = &r->peer_store;
	r->real_ip[0] = '\0';
	r->listen = l->listen;
	r->nreq = 0;
	r->fwd.proto = "http";
	r->fwd.cert_verify = r->fwd.cert_subject = NULL;
	util_ip_string(peer, r->client_ip, sizeof(r->client_ip));
	r->lsock = l;
	if (r->resume != NULL && r->resume->kind != HANDOFF_TLS_HELLO) {
		/* back from the gate: set up and counted when accepted */
		relay_park_resumed(r);
		if (r->cf->max_conns_per_ip != 0 && !l->admin)
			limited = limit_conn_acquire(util_hash64(r->client_ip,
			    strlen(r->client_ip), 0x636f6e6e), UINT32_MAX,
			    r->slot);	/* let in before: counted, not judged */
		goto serve;
	}
	/* what the listening socket passed on needs no system call */
	if (l->nodelay != 1)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	r->cl.rcvtimeo = l->rcvtimeo;
	r->cl.sndtimeo = l->sndtimeo;
	if (r->resume != NULL)	/* as the worker that parked it left them */
		r->cl.rcvtimeo = r->cl.sndtimeo = -1;
	if (relay_open(r, l) == -1)
		goto done;
	/*
	 * The listening socket defers accept until the request arrives
	 * (listener.c): take it now, before any timeout is set.
	 */
	if (r->cl.ssl == NULL && (l->admin ||
	    !r->cf->listens[l->listen].proxy_protocol))
		(void)conn_fill_ready(&r->cl);
	scoreboard_count_connection();
	stats_connection();
	if (r->cf->max_conns_per_ip != 0 && !l->admin) {
		/* one address cannot take every worker */
		key = util_hash64(r->client_ip, strlen(r->client_ip), 0x636f6e6e);
		if (!limit_conn_acquire(key, r->cf->max_conns_per_ip,
		    r->slot)) {
			log_info("client %s: over max_conns_per_ip",
			    r->client_ip);
			goto done;
		}
		limited = 1;
	}
serve:
	for (;;) {
		/* the scalars only: see struct relay_req */
		memset(&q, 0, offsetof(struct relay_req, req));
		q.req.method = HTTP_M_OTHER;
		q.req.nfields = 0;
		q.t0 = util_now_ms();
		relay_unpin_head(r);
		rc = relay_read_head(r, &q);
		if (rc == 0)
			break;
		r->nreq++;
		if (rc < 0) {
			relay_log(r, &q);
			linger = relay_client_sending(r);
			break;
		}
		relay_prepare(r, &q);
		relay_dispatch(r, &q, l);
		if (r->cl.fd == -1 && !q.tailed) {
			/* its body is spooled: counted and logged when sent */
			r->nreq--;
			break;
		}
		relay_log(r, &q);
		relay_spool_done(r);
		if (q.refresh_later)
			relay_refresh(r, &q);
		if (!q.keepalive) {
			linger = q.linger || relay_client_sending(r);
			break;
		}
	}
done:
	relay_spool_done(r);
	relay_unpin_head(r);
	if (linger)
		relay_linger(r);
	if (limited)
		limit_conn_release(r->slot);
	relay_release_backend(r, 0);
	scoreboard_state(SB_CLOSING);
	conn_close(&r->cl);
	return r->nreq;
}
