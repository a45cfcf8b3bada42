/*
 * relay_compress.c - response compression on the way to the client: the
 * decision per request (compress_neg.c), the fields a compressed answer
 * changes, and the body through the worker's one encoder (compress.c).
 * The cache stores what the origin sent; a hit is compressed again for
 * each client that asks (relay_compress_stored).
 */
#include <sys/uio.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "cache_store.h"
#include "compress.h"
#include "compress_neg.h"
#include "config.h"
#include "http.h"
#include "http_parse.h"
#include "log.h"
#include "relay_int.h"
#include "stats.h"

/*
 * The values the edited head points to until it is written (one request
 * at a time per worker), and the encoder's state between calls.
 */
static char	rz_vary[512];
static char	rz_etag[256];
static int	rz_dirty;	/* bytes in since the last flush */
static int	rz_ended;

struct rz_sink {
	struct relay		*r;
	struct relay_req	*q;
	int			 chunked;
};

static int
rz_out(void *arg, const char *p, size_t len)
{
	struct rz_sink	*s = arg;

	s->q->zout += len;
	return relay_put_chunk(s->r, &s->r->cl, p, len, s->chunked,
	    s->r->cf->send_timeout);
}

static int
rz_name_is(const struct http_field *f, const char *name, size_t len)
{
	return f->name_len == len && strncasecmp(f->name, name, len) == 0;
}

static void
rz_append(struct http_response *resp, const char *name, const char *value)
{
	struct http_field	*f = &resp->fields[resp->nfields++];

	memset(f, 0, sizeof(*f));
	f->name = name;
	f->name_len = strlen(name);
	f->value = value;
	f->value_len = strlen(value);
	f->id = HTTP_H_OTHER;
}

/* Vary: Accept-Encoding, merged into the first Vary the origin sent. */
static void
rz_vary_add(struct http_response *resp)
{
	struct http_field	*f, *first = NULL;
	unsigned		 i;

	for (i = 0; i < resp->nfields; i++) {
		f = &resp->fields[i];
		if (!rz_name_is(f, "vary", 4))
			continue;
		if (http_list_has(f->value, f->value_len, "accept-encoding") ||
		    http_list_has(f->value, f->value_len, "*"))
			return;
		if (first == NULL)
			first = f;
	}
	if (first != NULL && first->value_len > 0 && first->value_len + 18 <
	    sizeof(rz_vary)) {
		memcpy(rz_vary, first->value, first->value_len);
		memcpy(rz_vary + first->value_len, ", Accept-Encoding", 18);
		first->value = rz_vary;
		first->value_len += 17;
	} else
		rz_append(resp, "Vary", "Accept-Encoding");
}

/* The coding the request's Accept-Encoding fields choose. */
static enum compress_coding
rz_choose(const struct http_request *req)
{
	struct compress_accept	 a;
	unsigned		 i;

	compress_neg_init(&a);
	for (i = 0; i < req->nfields; i++)
		if (rz_name_is(&req->fields[i], "accept-encoding", 15))
			compress_neg_feed(&a, req->fields[i].value,
			    req->fields[i].value_len);
	return compress_neg_choose(&a);
}

void
relay_compress_response(struct relay *r, struct relay_req *q,
    struct http_response *resp, enum http_out *framing)
{
	struct http_field	*f;
	enum compress_coding	 c;
	unsigned		 i, n;
	char			 err[128];

	q->zcoding = COMPRESS_NONE;
	rz_dirty = rz_ended = 0;
	/* a refresh's answer goes nowhere; two fields may be added */
	if (r->cl.sink || resp->nfields + 2 > HTTP_MAX_HEADERS ||
	    !compress_neg_eligible(q->zcf, resp->status,
	    q->req.method == HTTP_M_HEAD, *framing != HTTP_OUT_NONE,
	    resp->body == HTTP_BODY_LENGTH, resp->content_length,
	    resp->fields, resp->nfields))
		return;
	/* caches on the way learn that the answer depends on the field */
	rz_vary_add(resp);
	if ((c = rz_choose(&q->req)) == COMPRESS_NONE)
		return;
	err[0] = '\0';
	if ((r->z == NULL && (r->z = compress_new()) == NULL) ||
	    compress_start(r->z, c, (int)q->zcf->level, err,
	    sizeof(err)) == -1) {
		log_warnx("client %s: compression not started: %s",
		    r->client_ip, err[0] ? err : "out of memory");
		return;
	}
	for (i = n = 0; i < resp->nfields; i++) {
		f = &resp->fields[i];
		/* the length and byte ranges were the identity's */
		if (rz_name_is(f, "accept-ranges", 13) ||
		    rz_name_is(f, "content-length", 14))
			continue;
		if (rz_name_is(f, "etag", 4) && !(f->value_len >= 2 &&
		    f->value[0] == 'W' && f->value[1] == '/')) {
			/* other bytes: the strong validator no longer holds */
			if (f->value_len + 3 > sizeof(rz_etag))
				continue;
			memcpy(rz_etag, "W/", 2);
			memcpy(rz_etag + 2, f->value, f->value_len);
			rz_etag[f->value_len + 2] = '\0';
			f->value = rz_etag;
			f->value_len += 2;
		}
		resp->fields[n++] = *f;
	}
	resp->nfields = n;
	rz_append(resp, "Content-Encoding", compress_neg_name(c));
	q->zcoding = c;
	if (*framing == HTTP_OUT_LENGTH)
		*framing = q->req.version == 11 ? HTTP_OUT_CHUNKED :
		    HTTP_OUT_CLOSE;
	atomic_fetch_add(&stats_get()->compressed[c], 1);
}

static int
rz_write(struct relay *r, struct relay_req *q, const char *p, size_t len,
    enum compress_op op, int chunked)
{
	struct rz_sink	 s = { r, q, chunked };
	char		 err[128];

	err[0] = '\0';
	if (compress_write(r->z, p, len, op, rz_out, &s, err,
	    sizeof(err)) == -1) {
		/* a client that went away is not worth a line */
		if (err[0] != '\0')
			log_warnx("client %s: %s compression failed: %s",
			    r->client_ip, compress_neg_name(q->zcoding), err);
		return -1;
	}
	return 0;
}

int
relay_compress_put(struct relay *r, struct relay_req *q, const char *p,
    size_t len, int chunked, int flush)
{
	if (q->zcoding == COMPRESS_NONE)
		return relay_put_chunk(r, &r->cl, p, len, chunked,
		    r->cf->send_timeout);
	if (rz_ended)
		return 0;
	q->zin += len;
	if (len > 0)
		rz_dirty = 1;
	if (len == 0 && (!flush || !rz_dirty))
		return 0;
	if (flush)
		rz_dirty = 0;
	return rz_write(r, q, p, len, flush ? COMPRESS_FLUSH : COMPRESS_RUN,
	    chunked);
}

int
relay_compress_end(struct relay *r, struct relay_req *q, int chunked)
{
	struct stats_shm	*st;

	if (q->zcoding == COMPRESS_NONE || rz_ended)
		return 0;
	rz_ended = 1;
	if (rz_write(r, q, NULL, 0, COMPRESS_FINISH, chunked) == -1)
		return -1;
	st = stats_get();
	atomic_fetch_add(&st->compress_in, q->zin);
	atomic_fetch_add(&st->compress_out, q->zout);
	if (q->zin > q->zout)
		atomic_fetch_add(&st->compress_saved, q->zin - q->zout);
	return 0;
}

int
relay_compress_stored(struct relay *r, struct relay_req *q, uint32_t idx,
    uint64_t off, uint64_t left, int chunked)
{
	struct iovec	 iov[64];
	uint64_t	 covered;
	int		 k, i;

	while (left > 0) {
		k = cache_store_iov(idx, off, left, iov, 64, &covered);
		if (k == 0)
			break;
		for (i = 0; i < k; i++)
			if (relay_compress_put(r, q, iov[i].iov_base,
			    iov[i].iov_len, chunked, 0) == -1)
				return -1;
		off += covered;
		left -= covered;
	}
	if (relay_compress_end(r, q, chunked) == -1 || (chunked &&
	    relay_put(r, &r->cl, "0\r\n\r\n", 5, r->cf->send_timeout) == -1))
		return -1;
	return 0;
}

void
relay_compress_fini(struct relay *r)
{
	compress_free(r->z);
	r->z = NULL;
}
