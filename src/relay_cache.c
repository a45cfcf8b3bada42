/*
 * relay_cache.c - the cache's side of the request flow: look up, serve
 * hits from shared memory, coalesce misses, fill while the response
 * streams to the client, revalidate stale objects, serve stale ones when
 * allowed, invalidate and purge.  The rules are cache.c's; the storage is
 * cache_store.c's.
 *
 * Keys: "O" host \1 target \2 epoch \2 vary-values for objects, and
 * "V" host \1 target for the Vary record of a URL, whose body is
 * "epoch\nVary value".  Removing the Vary record (invalidation, purge)
 * orphans every variant at once, since a new record gets a new epoch;
 * orphans age out of the CLOCK like any unused object.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cache.h"
#include "cache_range.h"
#include "cache_store.h"
#include "config.h"
#include "log.h"
#include "relay_int.h"
#include "stats.h"
#include "util.h"

#define RC_KEY_MAX	(16 * 1024)
#define RC_HEAD_MAX	(64 * 1024)

/* Stored with each object: the rules' view plus the key's epoch. */
struct rc_meta {
	struct cache_meta	 m;
	uint64_t		 epoch;
	/* a stored 206: bytes [first, last] of total (partial set) */
	uint64_t		 part_first, part_last, part_total;
	uint64_t		 partial;
	/* the store copies CS_META bytes in and out */
	unsigned char		 pad[CS_META - sizeof(struct cache_meta) - 40];
};
_Static_assert(sizeof(struct rc_meta) == CS_META, "meta size");

/* Per request state kept beside struct relay_req (one request at a time). */
static struct {
	struct cache_cc	 req_cc;
	struct rc_meta	 stale_meta;
	char		*objkey;	/* into relay.ckey */
	size_t		 objkey_len;
	char		 primary[RC_KEY_MAX];
	size_t		 primary_len;
	uint64_t	 epoch;
	char		 vary[1024];	/* Vary value used for objkey */
	int		 have_vary;
	int64_t		 request_time;
	struct rc_meta	 fill_meta;
	size_t		 fill_head;
	const struct route_config *route;
	int		 refresh;	/* holding the refresh marker */
	uint32_t	 refresh_idx;
	char		 status[128];
} rc;

static char	*rc_head;		/* a stored head, parsed */
/*
 * The last head parsed, kept to skip the parse when the next one is the
 * same bytes (a popular object served again); its fields point into
 * rc_head, which then holds those same bytes again.
 */
static char	*rc_prev;
static size_t	 rc_prev_len;		/* 0: none */
static struct http_response rc_prev_resp;

void
relay_cache_init(struct relay *r)
{
	r->ckey_cap = 2 * RC_KEY_MAX + 4096;
	if ((r->ckey = malloc(r->ckey_cap)) == NULL ||
	    (rc_head = malloc(RC_HEAD_MAX)) == NULL ||
	    (rc_prev = malloc(RC_HEAD_MAX)) == NULL)
		fatal("malloc");
	rc_prev_len = 0;
}

void
relay_cache_fini(struct relay *r)
{
	free(r->ckey);
	free(rc_head);
	free(rc_prev);
	r->ckey = NULL;
	rc_head = rc_prev = NULL;
	rc_prev_len = 0;
}

static int64_t
rc_now(void)
{
	return (int64_t)time(NULL);
}

/* Cache-Status value: "porter; " a b. */
static void
rc_status(struct relay_req *q, const char *a, const char *b)
{
	rc.status[0] = '\0';
	util_append(rc.status, sizeof(rc.status), "porter; ", a, b,
	    (char *)NULL);
	q->cache_status = rc.status;
}

/* fwd=miss with a detail in words: a quoted string (RFC 9211). */
static void
rc_status_why(struct relay_req *q, const char *why)
{
	char	 w[96];
	size_t	 i, n = 0;

	for (i = 0; why[i] != '\0' && n < sizeof(w) - 1; i++)
		if (why[i] != '"' && why[i] != '\\')
			w[n++] = why[i];
	w[n] = '\0';
	snprintf(rc.status, sizeof(rc.status), "porter; fwd=miss; "
	    "detail=\"%s\"", w);
	q->cache_status = rc.status;
}

/* "host \1 target", host lowercased and without a trailing dot. */
static size_t
rc_primary(const char *host, size_t hl, const char *target, size_t tl,
    char *out, size_t cap)
{
	size_t	 i, n = 0;

	if (hl > 0 && host[hl - 1] == '.')
		hl--;
	if (hl + tl + 2 > cap)
		return 0;
	for (i = 0; i < hl; i++)
		out[n++] = (char)((host[i] >= 'A' && host[i] <= 'Z') ?
		    host[i] + 32 : host[i]);
	out[n++] = '\1';
	memcpy(out + n, target, tl);
	return n + tl;
}

/* Copy bytes [off, off+len) of a referenced object into buf. */
static size_t
rc_read(uint32_t idx, uint64_t off, char *buf, size_t len)
{
	struct iovec	 iov[64];
	uint64_t	 covered;
	size_t		 n = 0;
	int		 k, i;

	while (n < len) {
		k = cache_store_iov(idx, off + n, len - n, iov, 64, &covered);
		if (k == 0)
			break;
		for (i = 0; i < k; i++) {
			memcpy(buf + n, iov[i].iov_base, iov[i].iov_len);
			n += iov[i].iov_len;
		}
	}
	return n;
}

static int	rc_objkey_rebuild(struct relay *, struct relay_req *);

/*
 * The object key for this request: look up the URL's Vary record and
 * build "O" primary \2 epoch \2 vary-values into relay.ckey.  -1 when the
 * request cannot be matched (Vary: *).
 */
static int
rc_objkey(struct relay *r, struct relay_req *q)
{
	char		 buf[1200], *nl;
	size_t		 head, n;
	uint64_t	 body;
	uint32_t	 idx;

	rc.have_vary = 0;
	rc.epoch = 0;
	r->ckey[0] = 'V';
	memcpy(r->ckey + 1, rc.primary, rc.primary_len);
	if (cache_store_lookup(r->ckey, rc.primary_len + 1, util_now_ms(),
	    r->slot, &idx, NULL) == CS_HIT) {
		cache_store_sizes(idx, &head, &body);
		n = rc_read(idx, head, buf, body < sizeof(buf) - 1 ?
		    (size_t)body : sizeof(buf) - 1);
		cache_store_release(idx, r->slot);
		buf[n] = '\0';
		if ((nl = strchr(buf, '\n')) != NULL) {
			*nl = '\0';
			rc.epoch = strtoull(buf, NULL, 16);
			snprintf(rc.vary, sizeof(rc.vary), "%s", nl + 1);
			rc.have_vary = 1;
		}
	}
	return rc_objkey_rebuild(r, q);
}

/* v in lower-case hex, no leading zeros, into out (16 bytes at most). */
static size_t
rc_hex(char *out, uint64_t v)
{
	char	 d[16];
	size_t	 i = sizeof(d);

	do {
		d[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v > 0);
	memcpy(out, d + i, sizeof(d) - i);
	return sizeof(d) - i;
}

/* "O" primary \2 epoch \2 vary-values, from rc's primary, epoch, vary. */
static int
rc_objkey_rebuild(struct relay *r, struct relay_req *q)
{
	size_t	 n;
	int	 vl;

	r->ckey[0] = 'O';
	memcpy(r->ckey + 1, rc.primary, rc.primary_len);
	n = 1 + rc.primary_len;
	/* "\2" epoch in hex "\2" (ckey_cap leaves room for it) */
	r->ckey[n++] = '\2';
	n += rc_hex(r->ckey + n, rc.epoch);
	r->ckey[n++] = '\2';
	if (rc.have_vary) {
		vl = cache_vary_key(rc.vary, strlen(rc.vary), &q->req,
		    r->ckey + n, r->ckey_cap - n);
		if (vl < 0)
			return -1;
		n += (size_t)vl;
	}
	rc.objkey = r->ckey;
	rc.objkey_len = n;
	return 0;
}

/* A stored value of field name in the stored head, or NULL. */
static const struct http_field *
rc_stored_field(const struct http_response *resp, const char *name)
{
	return http_field_find(resp->fields, resp->nfields, name);
}

/* Read and parse the head of a referenced object into rc_head/resp. */
static int
rc_parse_head(uint32_t idx, struct http_response *resp)
{
	struct http_limits	 lim = { RC_HEAD_MAX, 0, HTTP_MAX_HEADERS };
	size_t			 head;
	uint64_t		 body;

	cache_store_sizes(idx, &head, &body);
	if (head > RC_HEAD_MAX || rc_read(idx, 0, rc_head, head) != head)
		return -1;
	if (head != 0 && head == rc_prev_len &&
	    memcmp(rc_head, rc_prev, head) == 0)
		memcpy(resp, &rc_prev_resp, offsetof(struct http_response,
		    fields) + rc_prev_resp.nfields * sizeof(resp->fields[0]));
	else {
		rc_prev_len = 0;
		if (http_parse_response(resp, rc_head, head, HTTP_M_GET,
		    &lim) <= 0)
			return -1;
		memcpy(&rc_prev_resp, resp, offsetof(struct http_response,
		    fields) + resp->nfields * sizeof(resp->fields[0]));
		memcpy(rc_prev, rc_head, head);
		rc_prev_len = head;
	}
	resp->body = HTTP_BODY_LENGTH;
	resp->content_length = body;
	return 0;
}

/* Answer the client from object idx (referenced). */
static void
rc_serve(struct relay *r, struct relay_req *q, uint32_t idx,
    const struct rc_meta *meta, const char *status)
{
	struct http_response	 resp;
	struct http_edit	 ed;
	struct iovec		 iov[64];
	char			 add[256], num[21];
	char			*rm[35];
	int64_t			 age;
	size_t			 nrm, i;
	enum http_out		 framing = HTTP_OUT_LENGTH;
	uint64_t		 off, left, covered, body, first, last;
	uint64_t		 base, total;
	size_t			 head;
	int			 hlen, k, head_only, own_range = 0, wr;

	if (rc_parse_head(idx, &resp) == -1) {
		relay_error(r, q, 502);
		return;
	}
	cache_store_sizes(idx, &head, &body);
	head_only = q->req.method == HTTP_M_HEAD;
	if (resp.status >= 200 && resp.status < 300 &&
	    cache_not_modified(&q->req, resp.fields, resp.nfields)) {
		/* the client's own validators match: 304 from the cache */
		resp.status = 304;
		resp.reason = "Not Modified";
		resp.reason_len = 12;
		framing = HTTP_OUT_NONE;
		head_only = 1;
	} else if (resp.status == 204 || resp.status == 304) {
		framing = HTTP_OUT_NONE;
		head_only = 1;
	}
	age = cache_age(&meta->m, rc_now());
	add[0] = '\0';
	util_append(add, sizeof(add), "Age: ", util_u64_dec(age > 0 ?
	    (uint64_t)age : 0, num), "\r\nCache-Status: porter; ", status,
	    "\r\n", (char *)NULL);
	off = head;
	left = head_only ? 0 : body;
	/* a stored part holds bytes [base, ...] of a representation of total */
	base = meta->partial ? meta->part_first : 0;
	total = meta->partial ? meta->part_total : body;
	if ((resp.status == 200 || meta->partial) &&
	    framing == HTTP_OUT_LENGTH)
		switch (cache_range(&q->req, resp.fields, resp.nfields, total,
		    &first, &last)) {
		case CACHE_RANGE_PART:
			resp.status = 206;
			resp.reason = "Partial Content";
			resp.reason_len = 15;
			resp.content_length = last - first + 1;
			off = head + (first - base);
			own_range = 1;
			left = head_only ? 0 : resp.content_length;
			util_append(add, sizeof(add), "Content-Range: bytes ",
			    util_u64_dec(first, num), "-", (char *)NULL);
			util_append(add, sizeof(add), util_u64_dec(last, num),
			    "/", (char *)NULL);
			util_append(add, sizeof(add), util_u64_dec(total, num),
			    "\r\n", (char *)NULL);
			break;
		case CACHE_RANGE_UNSAT:
			resp.status = 416;
			own_range = 1;
			resp.reason = "Range Not Satisfiable";
			resp.reason_len = 21;
			resp.content_length = 0;
			left = 0;
			util_append(add, sizeof(add), "Content-Range: bytes */",
			    util_u64_dec(total, num), "\r\n", (char *)NULL);
			break;
		default:
			break;
		}
	rc_status(q, status, "");
	/* what a forwarded response gets: Server, hidden fields, the route */
	relay_local_identity(r, &ed);
	ed.add = add;
	ed.add2 = rc.route != NULL ? rc.route->resp_add : NULL;
	/* our Age and Cache-Status replace stored ones; the route's go too */
	nrm = 0;
	rm[nrm++] = "age";
	rm[nrm++] = "cache-status";
	if (own_range)
		rm[nrm++] = "content-range";	/* a stored part's */
	for (i = 0; rc.route != NULL && i < rc.route->nresp_remove &&
	    nrm < sizeof(rm) / sizeof(rm[0]); i++)
		rm[nrm++] = rc.route->resp_remove[i];
	ed.remove = rm;
	ed.nremove = nrm;
	if (framing == HTTP_OUT_NONE)
		/* no Content-Length from the stored head on a 304 */
		resp.content_length = 0;
	/* the stored identity, compressed for this client */
	if (!own_range && !head_only)
		relay_compress_response(r, q, &resp, &framing);
	if (framing == HTTP_OUT_CLOSE)
		q->keepalive = 0;
	hlen = http_response_head(r->obuf, r->ocap, &resp, &ed, framing,
	    q->keepalive, q->req.version, 0);
	if (hlen < 0) {
		relay_error(r, q, 502);
		return;
	}
	q->status = resp.status;
	r->olen = (size_t)hlen;
	if (q->zcoding) {
		if (relay_compress_stored(r, q, idx, off, left, framing ==
		    HTTP_OUT_CHUNKED) == -1)
			goto fail;
		left = 0;
	}
	while (left > 0) {
		k = cache_store_iov(idx, off, left, iov, 64, &covered);
		if (k == 0)
			break;
		/* a slow client's rest may go to the gate (relay_tail.c) */
		if (r->olen > 0) {
			/* the head goes out with the first body bytes */
			struct iovec	 all[65];
			size_t		 hl = r->olen;

			all[0].iov_base = r->obuf;
			all[0].iov_len = r->olen;
			memcpy(all + 1, iov, (size_t)k * sizeof(*iov));
			r->olen = 0;
			wr = relay_tail_store_write(r, q, all, k + 1, hl, idx,
			    off, left);
		} else
			wr = relay_tail_store_write(r, q, iov, k, 0, idx, off,
			    left);
		if (wr == -1)
			goto fail;
		if (wr == 1)
			return;
		off += covered;
		left -= covered;
		q->bytes += covered;
	}
	if (relay_flush(r, &r->cl, r->cf->send_timeout) == -1)
		goto fail;
	return;
fail:
	r->olen = 0;
	q->keepalive = 0;
	if (q->status < 400)
		q->status = 499;
}

/* The operator's default stale-if-error, in seconds. */
static int64_t
rc_sie(const struct relay *r)
{
	return r->cf->cache.stale_if_error / 1000;
}

/* Wait for another worker's fill of key; the state at the end. */
static enum cs_lookup
rc_wait(struct relay *r, uint32_t idx)
{
	int64_t		 end = util_now_ms() + r->cf->cache.lock_timeout;
	enum cs_lookup	 st;

	for (;;) {
		st = cache_store_state(idx, rc.objkey, rc.objkey_len);
		if (st != CS_FILLING || util_now_ms() >= end)
			return st;
		(void)poll(NULL, 0, 5);
	}
}

/* Our validators from the stored head, for a conditional request. */
static void
rc_conditional(uint32_t idx, struct relay_req *q)
{
	struct http_response	 resp;
	const struct http_field	*etag, *lm;
	size_t			 n = 0;

	q->cond[0] = '\0';
	q->revalidating = 0;
	if (http_field_find(q->req.fields, q->req.nfields,
	    "if-none-match") != NULL || http_field_find(q->req.fields,
	    q->req.nfields, "if-modified-since") != NULL)
		return;		/* the client's own validators go as they are */
	if (rc_parse_head(idx, &resp) == -1)
		return;
	etag = rc_stored_field(&resp, "etag");
	lm = rc_stored_field(&resp, "last-modified");
	if (etag != NULL && etag->value_len < 200)
		n += (size_t)snprintf(q->cond + n, sizeof(q->cond) - n,
		    "If-None-Match: %.*s\r\n", (int)etag->value_len,
		    etag->value);
	if (lm != NULL && lm->value_len < 100)
		n += (size_t)snprintf(q->cond + n, sizeof(q->cond) - n,
		    "If-Modified-Since: %.*s\r\n", (int)lm->value_len,
		    lm->value);
	q->revalidating = n > 0;
}

/* Does the client send conditions of its own (RFC 9110 13.1)? */
static int
rc_client_conditional(const struct relay_req *q)
{
	static const char *const cond[] = {
		"if-none-match", "if-modified-since", "if-range", "if-match",
		"if-unmodified-since"
	};
	size_t		 i;

	for (i = 0; i < sizeof(cond) / sizeof(cond[0]); i++)
		if (http_field_find(q->req.fields, q->req.nfields, cond[i]) !=
		    NULL)
			return 1;
	return 0;
}

/*
 * Can this request's forwarding refresh the stored object?  A plain GET
 * without a body, without the client's own conditions or a Range.
 */
static int
rc_can_refresh(const struct relay_req *q)
{
	return q->req.method == HTTP_M_GET &&
	    q->req.body == HTTP_BODY_NONE && !q->upgrade &&
	    !rc_client_conditional(q) && http_field_find(q->req.fields,
	    q->req.nfields, "range") == NULL;
}

int
relay_cache_refresh(struct relay *r, struct relay_req *q,
    const struct route_config **rt)
{
	struct rc_meta		 meta;
	uint32_t		 idx;
	enum cs_lookup		 got;

	q->refresh_later = 0;
	*rt = rc.route;
	if (!rc.refresh)
		return 0;
	q->filling = q->have_stale = q->revalidating = 0;
	got = cache_store_lookup(rc.objkey, rc.objkey_len, util_now_ms(),
	    r->slot, &idx, &meta);
	if (got != CS_HIT) {
		/* purged or replaced meanwhile: nothing to refresh */
		cache_store_fill_abort(rc.refresh_idx, r->slot, 0);
		rc.refresh = 0;
		return 0;
	}
	q->stale = idx;
	q->have_stale = 1;
	rc.stale_meta = meta;
	rc.request_time = rc_now();
	rc_conditional(idx, q);
	got = cache_store_fill_begin(rc.objkey, rc.objkey_len, r->slot,
	    util_now_ms(), &q->fill);
	q->filling = got == CS_MISS;
	rc_status(q, "fwd=", "stale");
	return 1;
}

const char *
relay_cache_conditional(struct relay_req *q)
{
	return q->revalidating ? q->cond : NULL;
}

/*
 * Can the stored part (meta) answer q?  A fresh part, for a GET with one
 * Range inside it (or past the end: 416), no validators of its own.
 */
static int
rc_part_serves(const struct relay_req *q, const struct rc_meta *meta)
{
	uint64_t	 a, b;

	if (q->req.method != HTTP_M_GET || rc_client_conditional(q) ||
	    cache_judge(&meta->m, &rc.req_cc, rc_now()) != CACHE_FRESH)
		return 0;
	switch (cache_range(&q->req, NULL, 0, meta->part_total, &a, &b)) {
	case CACHE_RANGE_PART:
		return a >= meta->part_first && b <= meta->part_last;
	case CACHE_RANGE_UNSAT:
		return 1;
	default:
		return 0;
	}
}

int
relay_cache_request(struct relay *r, struct relay_req *q,
    const struct route_config *rt)
{
	struct stats_shm	*st = stats_get();
	struct rc_meta		 meta;
	enum cache_verdict	 v;
	enum cs_lookup		 got;
	uint32_t		 idx;
	int			 tries;

	rc.route = rt;
	q->filling = q->have_stale = q->revalidating = 0;
	rc.refresh = 0;
	if (!q->cacheable || !cache_store_enabled())
		return 0;
	cache_cc_parse(q->req.fields, q->req.nfields, 1, &rc.req_cc);
	rc.request_time = rc_now();
	rc.primary_len = rc_primary(q->req.host, q->req.host ? q->req.host_len :
	    0, q->req.target, q->req.target_len, rc.primary,
	    sizeof(rc.primary));
	if (rc.primary_len == 0 || rc_objkey(r, q) == -1) {
		rc_status(q, "fwd=uri-miss; detail=", "uncacheable");
		return 0;
	}
	for (tries = 0; tries < 3; tries++) {
		got = cache_store_lookup(rc.objkey, rc.objkey_len,
		    util_now_ms(), r->slot, &idx, &meta);
		if (got == CS_HIT && meta.partial && !rc_part_serves(q,
		    &meta)) {
			/* a part that does not answer this: fetch anew */
			cache_store_release(idx, r->slot);
			got = CS_MISS;
		}
		if (got == CS_HIT) {
			v = cache_judge(&meta.m, &rc.req_cc, rc_now());
			if (v == CACHE_STALE_SWR) {
				/*
				 * Everyone gets it stale now; one request
				 * then refreshes it, after its answer went
				 * out (RFC 5861 3).
				 */
				if (rc_can_refresh(q)) {
					r->ckey[0] = 'R';
					if (cache_store_fill_begin(rc.objkey,
					    rc.objkey_len, r->slot,
					    util_now_ms(), &rc.refresh_idx) ==
					    CS_MISS)
						rc.refresh = 1;
					r->ckey[0] = 'O';
				}
				q->refresh_later = rc.refresh;
				v = CACHE_STALE_OK;
			}
			if (v == CACHE_FRESH || v == CACHE_STALE_OK) {
				atomic_fetch_add(&st->cache_hits, 1);
				if (v == CACHE_STALE_OK)
					atomic_fetch_add(&st->cache_stale, 1);
				rc_serve(r, q, idx, &meta, v == CACHE_FRESH ?
				    "hit" : "hit; detail=stale");
				cache_store_release(idx, r->slot);
				return 1;
			}
			if (rc.req_cc.flags & CC_ONLY_IF_CACHED) {
				cache_store_release(idx, r->slot);
				goto only_if_cached;
			}
			/* stale: revalidate, keeping it for a 304 or an error */
			q->stale = idx;
			q->have_stale = 1;
			rc.stale_meta = meta;
			rc_conditional(idx, q);
			/* a HEAD's answer can refresh the object too (4.3.5) */
			got = cache_store_fill_begin(rc.objkey, rc.objkey_len,
			    r->slot, util_now_ms(), &q->fill);
			q->filling = got == CS_MISS;
			rc_status(q, "fwd=", "stale");
			return 0;
		}
		if (rc.req_cc.flags & CC_ONLY_IF_CACHED)
			goto only_if_cached;
		if (got == CS_MISS) {
			/* a Range request stores the part it gets (or all) */
			if (q->req.method == HTTP_M_HEAD) {
				rc_status(q, "fwd=", "miss");
				return 0;
			}
			got = cache_store_fill_begin(rc.objkey, rc.objkey_len,
			    r->slot, util_now_ms(), &idx);
			if (got == CS_MISS) {
				q->fill = idx;
				q->filling = 1;
				atomic_fetch_add(&st->cache_misses, 1);
				rc_status(q, "fwd=", "miss");
				return 0;
			}
		}
		if (got == CS_PASS)
			break;
		if (got == CS_FILLING) {
			/* coalesce: wait for the worker filling it */
			got = rc_wait(r, idx);
			if (got == CS_FILLING || got == CS_PASS)
				break;
		}
	}
	atomic_fetch_add(&st->cache_misses, 1);
	rc_status(q, "fwd=", "miss; detail=pass");
	return 0;
only_if_cached:
	/* RFC 9111 5.2.1.7: 504 when nothing stored will do */
	rc_status(q, "fwd=", "miss; detail=only-if-cached");
	relay_error(r, q, 504);
	return 1;
}

static int
rc_put_field(char *out, size_t cap, size_t *n, const struct http_field *f)
{
	int	 w;

	w = snprintf(out + *n, cap - *n, "%.*s: %.*s\r\n", (int)f->name_len,
	    f->name, (int)f->value_len, f->value);
	if (w < 0 || (size_t)w >= cap - *n)
		return -1;
	*n += (size_t)w;
	return 0;
}

/* The new head for a 304: the stored one with the 304's fields over it. */
static size_t
rc_merge_304(const struct http_response *stored,
    const struct http_response *notmod, char *out, size_t cap)
{
	const struct http_field	*f;
	size_t			 n = 0;
	unsigned		 i, j;
	int			 w, replaced;

	w = snprintf(out, cap, "HTTP/1.1 %d %.*s\r\n", stored->status,
	    (int)stored->reason_len, stored->reason);
	if (w < 0 || (size_t)w >= cap)
		return 0;
	n = (size_t)w;
	for (i = 0; i < stored->nfields; i++) {
		f = &stored->fields[i];
		replaced = 0;
		for (j = 0; j < notmod->nfields; j++)
			if (notmod->fields[j].name_len == f->name_len &&
			    strncasecmp(notmod->fields[j].name, f->name,
			    f->name_len) == 0 &&
			    cache_update_field(&notmod->fields[j]))
				replaced = 1;
		if (!replaced && rc_put_field(out, cap, &n, f) == -1)
			return 0;
	}
	for (j = 0; j < notmod->nfields; j++)
		if (cache_update_field(&notmod->fields[j]) &&
		    rc_put_field(out, cap, &n, &notmod->fields[j]) == -1)
			return 0;
	if (n + 3 > cap)
		return 0;
	memcpy(out + n, "\r\n", 3);
	return n + 2;
}

/*
 * Commit the fill q holds as the stale object's body under the new head
 * mhead (with meta): the object refreshed.  -1 when the store cannot
 * take it (the fill is still q's to abort).
 */
static int
rc_refill(struct relay *r, struct relay_req *q, const char *mhead,
    size_t hl, const struct rc_meta *meta)
{
	char		 chunk[16384];
	size_t		 head, n;
	uint64_t	 body, off;

	cache_store_sizes(q->stale, &head, &body);
	if (cache_store_fill_append(q->fill, mhead, hl) == -1)
		return -1;
	for (off = 0; off < body; off += n) {
		n = rc_read(q->stale, head + off, chunk, body - off <
		    sizeof(chunk) ? (size_t)(body - off) : sizeof(chunk));
		if (n == 0 || cache_store_fill_append(q->fill, chunk, n) == -1)
			return -1;
	}
	cache_store_fill_commit(q->fill, hl, meta, r->slot);
	q->filling = 0;
	return 0;
}

/*
 * Answer from the object just refreshed (rc_refill), under a reference
 * of our own in place of the stale one.  0 when it is gone already.
 */
static int
rc_serve_fresh(struct relay *r, struct relay_req *q, const char *status)
{
	struct rc_meta	 meta;

	cache_store_release(q->stale, r->slot);
	q->have_stale = 0;
	if (cache_store_lookup(rc.objkey, rc.objkey_len, util_now_ms(),
	    r->slot, &q->stale, &meta) != CS_HIT)
		return 0;
	q->have_stale = 1;
	rc_serve(r, q, q->stale, &meta, status);
	return 1;
}

/*
 * RFC 9111 4.3.5: a 200 to the HEAD sent for a stale object.  When it
 * describes the stored representation (each validator it has equal to
 * the stored one, its Content-Length that of the stored body), its
 * fields refresh the object, and the client gets the refreshed head
 * (1); otherwise the object is out of date and goes, and the answer is
 * relayed as it is (0).
 */
static int
rc_head_update(struct relay *r, struct relay_req *q,
    const struct http_response *resp)
{
	static const char *const vf[] = { "etag", "last-modified" };
	struct http_response	 stored, merged;
	struct http_limits	 lim = { RC_HEAD_MAX, 0, HTTP_MAX_HEADERS };
	const struct http_field	*a, *b;
	struct cache_cc		 cc;
	struct rc_meta		 meta;
	static char		 mhead[RC_HEAD_MAX];
	char			 num[21];
	size_t			 hl, head, i;
	uint64_t		 body;
	int			 same;

	same = rc_parse_head(q->stale, &stored) == 0;
	for (i = 0; same && i < sizeof(vf) / sizeof(vf[0]); i++)
		if ((a = http_field_find(resp->fields, resp->nfields,
		    vf[i])) != NULL)
			same = (b = rc_stored_field(&stored, vf[i])) != NULL &&
			    a->value_len == b->value_len &&
			    memcmp(a->value, b->value, a->value_len) == 0;
	cache_store_sizes(q->stale, &head, &body);
	if (same && (a = http_field_find(resp->fields, resp->nfields,
	    "content-length")) != NULL)
		same = strlen(util_u64_dec(body, num)) == a->value_len &&
		    memcmp(num, a->value, a->value_len) == 0;
	if (same && (hl = rc_merge_304(&stored, resp, mhead,
	    sizeof(mhead))) > 0 && http_parse_response(&merged, mhead, hl,
	    HTTP_M_GET, &lim) > 0) {
		cache_cc_parse(merged.fields, merged.nfields, 0, &cc);
		memset(&meta, 0, sizeof(meta));
		cache_meta_fill(&meta.m, &merged, &cc, rc.request_time,
		    rc_now());
		meta.epoch = rc.epoch;
		/* fields that now forbid storing it take it out */
		if (cc.flags & (CC_NO_STORE | CC_PRIVATE |
		    CC_QUALIFIED_PRIVATE))
			same = 0;
		else if (q->filling && rc_refill(r, q, mhead, hl, &meta) ==
		    0 && rc_serve_fresh(r, q, "hit; fwd=stale; fwd-status=200"))
			return 1;
	}
	if (q->filling) {
		cache_store_fill_abort(q->fill, r->slot, 0);
		q->filling = 0;
	}
	if (!same)
		(void)cache_store_remove(rc.objkey, rc.objkey_len);
	return 0;
}

/* A 304 to our revalidation: refresh the stored object and serve it. */
static int
rc_revalidated(struct relay *r, struct relay_req *q,
    const struct http_response *notmod)
{
	struct http_response	 stored, merged;
	struct http_limits	 lim = { RC_HEAD_MAX, 0, HTTP_MAX_HEADERS };
	struct cache_cc		 cc;
	struct rc_meta		 meta;
	static char		 mhead[RC_HEAD_MAX];
	size_t			 hl;

	atomic_fetch_add(&stats_get()->cache_revalidated, 1);
	if (rc_parse_head(q->stale, &stored) == -1 ||
	    (hl = rc_merge_304(&stored, notmod, mhead, sizeof(mhead))) == 0 ||
	    http_parse_response(&merged, mhead, hl, HTTP_M_GET, &lim) <= 0) {
		/* cannot merge: serve what we have, as it is */
		rc_serve(r, q, q->stale, &rc.stale_meta,
		    "hit; fwd=stale; fwd-status=304");
		return 1;
	}
	cache_cc_parse(merged.fields, merged.nfields, 0, &cc);
	memset(&meta, 0, sizeof(meta));
	cache_meta_fill(&meta.m, &merged, &cc, rc.request_time, rc_now());
	meta.epoch = rc.epoch;
	if (q->filling) {
		if (rc_refill(r, q, mhead, hl, &meta) == -1)
			goto nofill;
		if (!rc_serve_fresh(r, q, "hit; fwd=stale; fwd-status=304"))
			relay_error(r, q, 502);
		return 1;
	}
nofill:
	if (q->filling) {
		cache_store_fill_abort(q->fill, r->slot, 0);
		q->filling = 0;
	}
	rc_serve(r, q, q->stale, &meta, "hit; fwd=stale; fwd-status=304");
	return 1;
}

int
relay_cache_response(struct relay *r, struct relay_req *q,
    const struct http_response *resp, const char *raw, size_t raw_len)
{
	struct cache_cc		 cc;
	const struct http_field	*vary;
	const char		*why;
	char			 rec[1200];
	uint32_t		 nidx;
	int			 n;

	if (q->have_stale && resp->status == 304 && q->revalidating)
		return rc_revalidated(r, q, resp);
	if (q->have_stale && q->req.method == HTTP_M_HEAD &&
	    resp->status == 200)
		return rc_head_update(r, q, resp);
	if (q->have_stale && resp->status >= 500 &&
	    cache_stale_if_error(&rc.stale_meta.m, rc_sie(r), &rc.req_cc,
	    rc_now())) {
		atomic_fetch_add(&stats_get()->cache_stale, 1);
		rc_serve(r, q, q->stale, &rc.stale_meta,
		    "hit; detail=stale-if-error");
		return 1;
	}
	if (!q->filling)
		return 0;
	cache_cc_parse(resp->fields, resp->nfields, 0, &cc);
	why = cache_storable(&q->req, &rc.req_cc, resp, &cc);
	if (why != NULL) {
		/*
		 * Uncacheable by nature: let the waiters go now and send the
		 * next requests straight on for a while.  Errors and answers
		 * to the client's own conditionals are not the URL's nature.
		 */
		cache_store_fill_abort(q->fill, r->slot, resp->status >= 500 ||
		    resp->status == 304 || resp->status == 206 ||
		    q->req.method != HTTP_M_GET ||
		    (rc.req_cc.flags & CC_NO_STORE) ? 0 : r->cf->cache.pass_ttl);
		q->filling = 0;
		rc_status_why(q, why);
		return 0;
	}
	memset(&rc.fill_meta, 0, sizeof(rc.fill_meta));
	cache_meta_fill(&rc.fill_meta.m, resp, &cc, rc.request_time, rc_now());
	if (resp->status == 206) {
		const struct http_field *cr = http_field_find(resp->fields,
		    resp->nfields, "content-range");

		/* cache_storable checked it */
		rc.fill_meta.partial = cr != NULL && cache_range_content(
		    cr->value, cr->value_len, &rc.fill_meta.part_first,
		    &rc.fill_meta.part_last, &rc.fill_meta.part_total);
	}
	vary = http_field_find(resp->fields, resp->nfields, "vary");
	if ((vary != NULL) != rc.have_vary || (vary != NULL &&
	    (vary->value_len != strlen(rc.vary) ||
	    memcmp(vary->value, rc.vary, vary->value_len) != 0))) {
		/* a new Vary: a new record, a new epoch, a new key */
		cache_store_fill_abort(q->fill, r->slot, 0);
		q->filling = 0;
		r->ckey[0] = 'V';
		memcpy(r->ckey + 1, rc.primary, rc.primary_len);
		if (vary != NULL) {
			rc.epoch = util_hash64(rc.primary, rc.primary_len,
			    (uint64_t)util_now_ms()) | 1;
			n = snprintf(rec, sizeof(rec), "%llx\n%.*s",
			    (unsigned long long)rc.epoch,
			    (int)vary->value_len, vary->value);
			if (n < 0 || (size_t)n >= sizeof(rec) ||
			    vary->value_len >= sizeof(rc.vary) ||
			    cache_store_fill_begin(r->ckey, rc.primary_len + 1,
			    r->slot, util_now_ms(), &nidx) != CS_MISS)
				return 0;
			if (cache_store_fill_append(nidx, rec, (size_t)n) ==
			    -1) {
				cache_store_fill_abort(nidx, r->slot, 0);
				return 0;
			}
			cache_store_fill_commit(nidx, 0, &rc.fill_meta, r->slot);
			memcpy(rc.vary, vary->value, vary->value_len);
			rc.vary[vary->value_len] = '\0';
			rc.have_vary = 1;
		} else {
			cache_store_remove(r->ckey, rc.primary_len + 1);
			rc.have_vary = 0;
			rc.epoch = 0;
		}
		r->ckey[0] = 'O';
		if (rc_objkey_rebuild(r, q) == -1 ||
		    cache_store_fill_begin(rc.objkey, rc.objkey_len, r->slot,
		    util_now_ms(), &q->fill) != CS_MISS)
			return 0;
		q->filling = 1;
	}
	rc.fill_meta.epoch = rc.epoch;
	if (raw_len > RC_HEAD_MAX ||
	    cache_store_fill_append(q->fill, raw, raw_len) == -1) {
		cache_store_fill_abort(q->fill, r->slot, 0);
		q->filling = 0;
		return 0;
	}
	rc.fill_head = raw_len;
	q->fill_bytes = 0;
	rc_status(q, "fwd=", q->have_stale ? "stale; stored" :
	    "miss; stored");
	return 0;
}

void
relay_cache_tee(struct relay *r, struct relay_req *q, const char *p,
    size_t n)
{
	if (!q->filling)
		return;
	q->fill_bytes += n;
	if (q->fill_bytes > r->cf->cache.max_object_size ||
	    cache_store_fill_append(q->fill, p, n) == -1) {
		/* too large for the cache: later requests go straight on */
		cache_store_fill_abort(q->fill, r->slot,
		    q->fill_bytes > r->cf->cache.max_object_size ?
		    r->cf->cache.pass_ttl : 0);
		q->filling = 0;
	}
}

void
relay_cache_done(struct relay *r, struct relay_req *q, int ok)
{
	if (q->filling) {
		if (ok && rc.fill_head > 0) {
			cache_store_fill_commit(q->fill, rc.fill_head,
			    &rc.fill_meta, r->slot);
			atomic_fetch_add(&stats_get()->cache_stored, 1);
		} else
			cache_store_fill_abort(q->fill, r->slot, 0);
		q->filling = 0;
	}
	rc.fill_head = 0;
	if (q->have_stale) {
		cache_store_release(q->stale, r->slot);
		q->have_stale = 0;
	}
	/* a refresh still to come keeps its marker until it is done */
	if (rc.refresh && !q->refresh_later) {
		cache_store_fill_abort(rc.refresh_idx, r->slot, 0);
		rc.refresh = 0;
	}
}

int
relay_cache_error(struct relay *r, struct relay_req *q)
{
	if (!q->have_stale ||
	    !cache_stale_if_error(&rc.stale_meta.m, rc_sie(r), &rc.req_cc,
	    rc_now()))
		return 0;
	atomic_fetch_add(&stats_get()->cache_stale, 1);
	rc_serve(r, q, q->stale, &rc.stale_meta, "hit; detail=stale-if-error");
	return 1;
}

/* Remove the objects of one URL (all its variants). */
static unsigned
rc_remove_url(struct relay *r, const char *host, size_t hl,
    const char *target, size_t tl)
{
	size_t		 n;
	unsigned	 removed;

	n = rc_primary(host, hl, target, tl, r->ckey + 1, r->ckey_cap - 4);
	if (n == 0)
		return 0;
	r->ckey[0] = 'V';
	removed = cache_store_remove(r->ckey, n + 1);
	r->ckey[0] = 'O';
	memcpy(r->ckey + 1 + n, "\2" "0" "\2", 3);
	removed += cache_store_remove(r->ckey, n + 4);
	return removed;
}

void
relay_cache_invalidate(struct relay *r, struct relay_req *q,
    const struct http_response *resp)
{
	static const char *const names[] = { "location", "content-location" };
	const struct http_field	*f;
	const char		*p, *slash;
	size_t			 i, hl;

	if (!cache_store_enabled() || q->req.host == NULL)
		return;
	(void)rc_remove_url(r, q->req.host, q->req.host_len, q->req.target,
	    q->req.target_len);
	/* RFC 9111 4.4: and the URIs it names, on the same host only */
	for (i = 0; i < 2; i++) {
		if ((f = http_field_find(resp->fields, resp->nfields,
		    names[i])) == NULL || f->value_len == 0)
			continue;
		p = f->value;
		if (p[0] == '/' && (f->value_len < 2 || p[1] != '/')) {
			(void)rc_remove_url(r, q->req.host, q->req.host_len,
			    p, f->value_len);
			continue;
		}
		if (f->value_len > 7 && strncasecmp(p, "http://", 7) == 0)
			p += 7;
		else if (f->value_len > 8 && strncasecmp(p, "https://", 8) == 0)
			p += 8;
		else
			continue;
		slash = memchr(p, '/', f->value_len - (size_t)(p - f->value));
		hl = slash ? (size_t)(slash - p) : f->value_len -
		    (size_t)(p - f->value);
		if (hl != q->req.host_len ||
		    strncasecmp(p, q->req.host, hl) != 0)
			continue;
		(void)rc_remove_url(r, p, hl, slash ? slash : "/", slash ?
		    f->value_len - (size_t)(slash - f->value) : 1);
	}
}

int
relay_cache_purge(struct relay *r, struct relay_req *q)
{
	const struct cache_config *cc = &r->cf->cache;
	char			 body[64];
	size_t			 i, n;
	unsigned		 removed;
	int			 len;

	for (i = 0; i < cc->npurge_allow; i++)
		if (util_cidr_match(&cc->purge_allow[i], r->peer))
			break;
	if (i == cc->npurge_allow) {
		log_info("client %s: PURGE not allowed", r->client_ip);
		relay_error(r, q, 403);
		return 1;
	}
	if (q->req.target_len > 0 &&
	    q->req.target[q->req.target_len - 1] == '*') {
		/* by prefix: one bounded pass over the store */
		n = rc_primary(q->req.host, q->req.host ? q->req.host_len : 0,
		    q->req.target, q->req.target_len - 1, r->ckey + 1,
		    r->ckey_cap - 1);
		if (n == 0) {
			/* no key is that long: an empty prefix is everything */
			relay_error(r, q, 414);
			return 1;
		}
		r->ckey[0] = 'O';
		removed = cache_store_remove_prefix(r->ckey, n + 1);
		r->ckey[0] = 'V';
		removed += cache_store_remove_prefix(r->ckey, n + 1);
	} else
		removed = rc_remove_url(r, q->req.host, q->req.host ?
		    q->req.host_len : 0, q->req.target, q->req.target_len);
	len = snprintf(body, sizeof(body), "purged %u\n", removed);
	q->status = removed > 0 ? 200 : 404;
	relay_local_simple(r, q, q->status, "text/plain", body, (size_t)len);
	return 1;
}
