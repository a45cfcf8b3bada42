/*
 * relay_tail.c - a response tail leaves the worker.
 *
 * A client that reads slower than the backend sends would hold this
 * worker until the last byte or send_timeout.  So a response body on a
 * plain connection is relayed here with writes bounded by park_after:
 * when the client has not taken the bytes in that time, the client and
 * the backend connections go to the gate (gate_tail.c) with the bytes
 * not yet written and the framing state, and the gate relays the rest at
 * the client's pace.  Both frame with tail.c, so they agree on where the
 * body ends.
 *
 * What stays here: TLS on either side (the session lives in this
 * process), an object being stored in the cache (the fill needs the
 * body), event streams (long-lived by design), and any tail the gate has
 * no room for.
 */
#include <sys/socket.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cache_store.h"
#include "compress_neg.h"
#include "config.h"
#include "gate.h"
#include "handoff.h"
#include "http.h"
#include "listener.h"
#include "log.h"
#include "stats.h"
#include "tail.h"
#include "util.h"

#include "relay_int.h"

#define RELAY_TAIL_LINE	4096	/* limit on chunk-ext/trailer lines */

static int64_t	 relay_tail_warned;

int
relay_tail_can(struct relay *r, struct relay_req *q,
    const struct http_response *resp)
{
	const struct http_field	*f;

	if (r->cf->park_after == 0 || gate_park_fd() == -1 ||
	    r->cl.ssl != NULL || r->be.ssl != NULL || r->cl.sink ||
	    r->lsock == NULL || q->filling || q->upgrade)
		return 0;
	/* the gate relays bytes as they are; the encoder is here */
	if (q->zcoding != COMPRESS_NONE)
		return 0;
	if (resp->body != HTTP_BODY_LENGTH && resp->body != HTTP_BODY_CHUNKED &&
	    resp->body != HTTP_BODY_CLOSE)
		return 0;
	/* an event stream is meant to last: it streams from here */
	f = http_field_find(resp->fields, resp->nfields, "Content-Type");
	if (f != NULL && f->value_len >= 17 &&
	    strncasecmp(f->value, "text/event-stream", 17) == 0)
		return 0;
	return 1;
}

/*
 * Write p[0..len) to the client, giving up when park_after passes before
 * all of it is taken.  The bytes written, or -1 on an error.
 */
static ssize_t
relay_tail_write(struct relay *r, const char *p, size_t len)
{
	int64_t	 deadline = util_now_ms() + r->cf->park_after, left;
	size_t	 done = 0;
	ssize_t	 n;

	while (done < len) {
		left = deadline - util_now_ms();
		if (left <= 0)
			break;
		if (conn_set_sndtimeo(&r->cl, (int)left) == -1)
			return -1;
		n = send(r->cl.fd, p + done, len - done, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

/* As relay_tail_write, for iov[0..n) (left as it was). */
static ssize_t
relay_tail_writev(struct relay *r, const struct iovec *iov0, int n)
{
	struct iovec	 iov[65];
	struct msghdr	 msg;
	int64_t		 deadline = util_now_ms() + r->cf->park_after, left;
	size_t		 done = 0;
	ssize_t		 k;
	int		 i = 0;

	if (n > 65)
		n = 65;
	memcpy(iov, iov0, (size_t)n * sizeof(*iov));
	while (i < n) {
		if (iov[i].iov_len == 0) {
			i++;
			continue;
		}
		left = deadline - util_now_ms();
		if (left <= 0)
			break;
		if (conn_set_sndtimeo(&r->cl, (int)left) == -1)
			return -1;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = iov + i;
		msg.msg_iovlen = (size_t)(n - i);
		k = sendmsg(r->cl.fd, &msg, MSG_NOSIGNAL);
		if (k == -1) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		done += (size_t)k;
		while (i < n && (size_t)k >= iov[i].iov_len) {
			k -= (ssize_t)iov[i].iov_len;
			i++;
		}
		if (i < n) {
			iov[i].iov_base = (char *)iov[i].iov_base + k;
			iov[i].iov_len -= (size_t)k;
		}
	}
	return (ssize_t)done;
}

/*
 * Hand the client and the backend to the gate with out[0..olen) still
 * to write.  0 when the gate has them (both fds are then -1 here), -1
 * to go on here.
 */
static int
relay_tail_hand(struct relay *r, struct relay_req *q, struct tail_state *ts,
    const char *out, size_t olen)
{
	struct stats_shm	*st = stats_get();
	struct handoff		 h;
	size_t			 raw = conn_pending(&r->be);
	size_t			 cl = conn_pending(&r->cl), len;
	char			*buf;
	int			 fds[2] = { r->cl.fd, r->be.fd };
	int			 store = ts->mode == TAIL_STORE;
	uint32_t		 max;

	if (st == NULL)
		return -1;
	/* the gate holds what waits, and tails, within max_connections */
	max = atomic_load(&st->gate_max_conns);
	if (atomic_load(&st->gate_held) + atomic_load(&st->tail_held) >= max)
		return -1;
	ts->flags &= ~TAIL_F_KEEPALIVE;
	if (q->keepalive)
		ts->flags |= TAIL_F_KEEPALIVE;
	ts->send_timeout = (uint32_t)r->cf->send_timeout;
	ts->read_timeout = (uint32_t)q->rto;
	ts->keepalive_timeout = (uint32_t)r->cf->keepalive_timeout;
	if (store)
		raw = 0;	/* the backend is not part of it */
	/*
	 * The client's buffer may still hold the request's own body (one
	 * sent whole is consumed after the response, for a retry): only
	 * without a body is what follows the next request; else the
	 * connection closes after the tail.
	 */
	if (q->req.body != HTTP_BODY_NONE) {
		cl = 0;
		ts->flags &= ~TAIL_F_KEEPALIVE;
	}
	ts->out_len = (uint32_t)olen;
	ts->raw_len = (uint32_t)raw;
	ts->client_len = (uint32_t)cl;
	len = sizeof(*ts) + olen + raw + cl;
	if (len > TAIL_RECORD_MAX - sizeof(h) || (buf = malloc(len)) == NULL)
		return -1;
	memcpy(buf, ts, sizeof(*ts));
	memcpy(buf + sizeof(*ts), out, olen);
	memcpy(buf + sizeof(*ts) + olen, r->be.buf + r->be.start, raw);
	memcpy(buf + sizeof(*ts) + olen + raw, r->cl.buf + r->cl.start, cl);
	memset(&h, 0, sizeof(h));
	h.magic = HANDOFF_MAGIC;
	h.kind = HANDOFF_TAIL_RELAY;
	h.len = (uint32_t)len;
	h.nfds = store ? 1 : 2;
	h.listener = relay_park_index(r);
	h.nreq = r->nreq;
	/* for the keep-alive wait after it */
	h.head_timeout = (uint32_t)r->cf->client_header_timeout;
	h.max_head = (uint32_t)r->cf->max_header_size;
	h.peer = r->peer_store;
	snprintf(h.listen_addr, sizeof(h.listen_addr), "%s",
	    r->lsock->addr.str);
	if (handoff_send(gate_park_fd(), &h, fds, buf, MSG_DONTWAIT) == -1) {
		free(buf);
		if (util_now_ms() - relay_tail_warned > 10000) {
			log_warn("cannot hand a response tail to the gate");
			relay_tail_warned = util_now_ms();
		}
		return -1;
	}
	free(buf);
	/* the gate has its own descriptors: these just go */
	close(r->cl.fd);
	r->cl.fd = -1;
	r->cl.start = r->cl.end = 0;
	if (!store) {
		close(r->be.fd);
		r->be.fd = -1;
		r->be.start = r->be.end = 0;
	}
	q->keepalive = 0;
	q->tailed = 1;
	return 0;
}

/*
 * Splice the rest of a Content-Length body (ts->left bytes, none
 * buffered) as relay_body.c does, each pipeful written within
 * park_after or handed to the gate with what the pipe still holds.
 */
static enum relay_err
relay_tail_splice(struct relay *r, struct relay_req *q, struct tail_state *ts)
{
	int64_t		 deadline, t;
	size_t		 want, inpipe;
	ssize_t		 n;
	char		*rest;

	while (ts->left > 0) {
		want = ts->left < r->pipe_size ? (size_t)ts->left :
		    r->pipe_size;
		if ((n = relay_body_splice_in(r, q, want)) == -1)
			return RE_ABORT;
		ts->left -= (uint64_t)n;
		q->bytes += (uint64_t)n;
		inpipe = (size_t)n;
		deadline = util_now_ms() + r->cf->park_after;
		while (inpipe > 0) {
			if ((t = deadline - util_now_ms()) <= 0)
				break;		/* park_after passed */
			if (conn_set_sndtimeo(&r->cl, (int)t) == -1) {
				relay_body_pipe_close(r);
				return RE_ABORT;
			}
			n = splice(r->pipe[0], NULL, r->cl.fd, NULL, inpipe,
			    SPLICE_F_MOVE | (ts->left > 0 ? SPLICE_F_MORE : 0));
			if (n > 0) {
				inpipe -= (size_t)n;
				continue;
			}
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && (errno == EAGAIN ||
			    errno == EWOULDBLOCK))
				break;		/* likewise */
			relay_body_pipe_close(r);
			return RE_ABORT;
		}
		if (inpipe == 0)
			continue;
		/* the client is slow: what the pipe holds goes along */
		if (ts->left == 0)
			ts->flags |= TAIL_F_DONE;
		if ((rest = malloc(inpipe)) == NULL ||
		    read(r->pipe[0], rest, inpipe) != (ssize_t)inpipe) {
			free(rest);
			relay_body_pipe_close(r);
			return RE_ABORT;
		}
		if (relay_tail_hand(r, q, ts, rest, inpipe) == 0) {
			free(rest);
			return RE_OK;
		}
		n = conn_write(&r->cl, rest, inpipe, r->cf->send_timeout);
		free(rest);
		if (n == -1)
			return RE_ABORT;
	}
	ts->flags |= TAIL_F_DONE;
	return RE_OK;
}

/*
 * A Content-Length body goes out as it came: out[0..*olen) (what is
 * staged, the head at first) and the body bytes buffered from the
 * backend in one write, without copying them.  When the client is slow
 * the rest goes to the gate (q->tailed), else it is written here.  0, or
 * -1 on failure.
 */
static int
relay_tail_direct(struct relay *r, struct relay_req *q, struct tail_state *ts,
    char *out, size_t *olen)
{
	struct iovec	 iov[2];
	size_t		 avail = conn_pending(&r->be), hw, bw;
	ssize_t		 w;

	if ((uint64_t)avail > ts->left)
		avail = (size_t)ts->left;
	iov[0].iov_base = out;
	iov[0].iov_len = *olen;
	iov[1].iov_base = r->be.buf + r->be.start;
	iov[1].iov_len = avail;
	if ((w = relay_tail_writev(r, iov, 2)) == -1)
		return -1;
	hw = (size_t)w < *olen ? (size_t)w : *olen;
	bw = (size_t)w - hw;
	memmove(out, out + hw, *olen - hw);
	*olen -= hw;
	conn_consume(&r->be, bw);
	q->bytes += bw;
	ts->left -= bw;
	if (ts->left == 0 && *olen == 0)
		ts->flags |= TAIL_F_DONE;
	if (*olen == 0 && bw == avail)
		return 0;
	/* the client is slow: what is left of both goes along */
	if (relay_tail_hand(r, q, ts, out, *olen) == 0)
		return 0;
	/* no room in the gate: the slow way, as before */
	iov[0].iov_len = *olen;
	iov[1].iov_base = r->be.buf + r->be.start;
	iov[1].iov_len = avail - bw;
	if (conn_writev(&r->cl, iov, 2, r->cf->send_timeout) == -1)
		return -1;
	*olen = 0;
	conn_consume(&r->be, avail - bw);
	q->bytes += avail - bw;
	ts->left -= avail - bw;
	if (ts->left == 0)
		ts->flags |= TAIL_F_DONE;
	return 0;
}

enum relay_err
relay_tail_response(struct relay *r, struct relay_req *q,
    const struct http_response *resp, enum http_out framing)
{
	struct tail_state	 ts;
	char			*out = r->obuf;
	size_t			 olen = r->olen, used;
	uint64_t		 data;
	ssize_t			 n;

	memset(&ts, 0, sizeof(ts));
	switch (resp->body) {
	case HTTP_BODY_LENGTH:
		ts.mode = TAIL_LENGTH;
		ts.left = resp->content_length;
		if (ts.left == 0)
			ts.flags |= TAIL_F_DONE;
		break;
	case HTTP_BODY_CHUNKED:
		ts.mode = TAIL_CHUNKED;
		http_chunked_init(&ts.ch, RELAY_TAIL_LINE);
		break;
	default:
		ts.mode = TAIL_CLOSE;
		break;
	}
	if (framing == HTTP_OUT_CHUNKED)
		ts.flags |= TAIL_F_RECHUNK;
	r->olen = 0;
	for (;;) {
		if (ts.mode == TAIL_LENGTH && conn_pending(&r->be) > 0 &&
		    !(ts.flags & TAIL_F_DONE)) {
			/* as is: straight from the input, the head with it */
			if (relay_tail_direct(r, q, &ts, out, &olen) == -1)
				return RE_ABORT;
			if (q->tailed)
				return RE_OK;
			continue;
		}
		if (olen > 0) {
			if ((n = relay_tail_write(r, out, olen)) == -1)
				return RE_ABORT;
			olen -= (size_t)n;
			memmove(out, out + n, olen);
			if (olen > 0 && relay_tail_hand(r, q, &ts, out,
			    olen) == 0)
				return RE_OK;
			/* no room in the gate: the slow way, as before */
			if (olen > 0 && conn_write(&r->cl, out, olen,
			    r->cf->send_timeout) == -1)
				return RE_ABORT;
			olen = 0;
		}
		if (ts.flags & TAIL_F_DONE)
			return RE_OK;
		if (conn_pending(&r->be) > 0) {
			n = tail_frame(&ts, r->be.buf + r->be.start,
			    conn_pending(&r->be), &used, out, r->ocap, &data);
			if (n == -1) {
				log_info("client %s: malformed chunked body "
				    "from the backend", r->client_ip);
				return RE_ABORT;
			}
			conn_consume(&r->be, used);
			q->bytes += data;
			olen = (size_t)n;
			if (n > 0 || used > 0 || (ts.flags & TAIL_F_DONE))
				continue;
		}
		if (ts.mode == TAIL_LENGTH && relay_body_can_splice(r, q,
		    ts.left))
			return relay_tail_splice(r, q, &ts);
		conn_compact(&r->be);
		n = relay_fill_backend(r, q->rto);
		if (n == 0) {
			if ((n = tail_eof(&ts, out, r->ocap)) == -1) {
				log_warnx("upstream %s: closed in the middle "
				    "of a response body", q->upstream);
				return RE_ABORT;
			}
			olen = (size_t)n;
			continue;
		}
		if (n < 0) {
			log_warnx("upstream %s: %s in the middle of a response "
			    "body", q->upstream, errno == ETIMEDOUT ?
			    "timed out" : strerror(errno));
			return RE_ABORT;
		}
	}
}

int
relay_tail_store_write(struct relay *r, struct relay_req *q,
    struct iovec *iov, int n, size_t hlen, uint32_t idx, uint64_t off,
    uint64_t left)
{
	struct tail_state	 ts;
	size_t			 total = 0, skip, unsent;
	ssize_t			 w;
	int			 i, slot;

	if (r->cf->park_after == 0 || gate_park_fd() == -1 ||
	    r->cl.ssl != NULL || r->cl.sink || r->lsock == NULL)
		return conn_writev(&r->cl, iov, n, r->cf->send_timeout);
	for (i = 0; i < n; i++)
		total += iov[i].iov_len;
	if ((w = relay_tail_writev(r, iov, n)) == -1)
		return -1;
	if ((size_t)w == total)
		return 0;
	/* what of the head (r->obuf) did not go, then the body's place */
	unsent = hlen > (size_t)w ? hlen - (size_t)w : 0;
	skip = (size_t)w > hlen ? (size_t)w - hlen : 0;
	memset(&ts, 0, sizeof(ts));
	ts.mode = TAIL_STORE;
	ts.left = left - skip;
	ts.store_off = off + skip;
	ts.store_idx = idx;
	if ((slot = cache_store_hand(idx)) != -1) {
		ts.store_slot = (uint32_t)slot;
		if (relay_tail_hand(r, q, &ts, r->obuf + hlen - unsent,
		    unsent) == 0)
			return 1;
		cache_store_release(idx, (unsigned)slot);
	}
	/* the gate cannot take it: the rest from here, as before */
	for (i = 0; i < n && (size_t)w >= iov[i].iov_len; i++)
		w -= (ssize_t)iov[i].iov_len;
	iov[i].iov_base = (char *)iov[i].iov_base + w;
	iov[i].iov_len -= (size_t)w;
	return conn_writev(&r->cl, iov + i, n - i, r->cf->send_timeout);
}
