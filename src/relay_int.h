/*
 * relay_int.h - the state of the request flow, shared by relay.c,
 * relay_body.c (bodies), relay_cache.c (the cache's side of the flow) and
 * relay_local.c (what porter answers itself).  Not for other modules.
 */
#ifndef RELAY_INT_H
#define RELAY_INT_H

#include <sys/socket.h>
#include <signal.h>
#include <stdint.h>

#include "conn.h"
#include "http.h"
#include "http_parse.h"
#include "waf.h"

struct compress;
struct compress_config;
struct config;
struct handoff;
struct listener;
struct route_config;
struct server_config;

/* What went wrong while forwarding, to pick the status and who to blame. */
enum relay_err {
	RE_OK = 0,
	RE_CLIENT,	/* client failed or misbehaved: status in r->status */
	RE_BACKEND,	/* backend failed before a response: 502/504 */
	RE_RETRY,	/* reused backend connection died unused: try again */
	RE_ABORT	/* failure after the response head was sent */
};

struct relay_req {
	int			 upgrade;
	int			 keepalive;	/* client connection stays */
	int			 sent_continue;
	int64_t			 body_start;	/* client_min_rate */
	uint64_t		 body_got;
	int			 cto, rto;	/* connect, read timeouts */
	int			 status;
	int			 be_status;	/* the origin's, for health */
	uint64_t		 bytes;		/* body bytes to the client */
	int64_t			 t0, up0, up1;
	const char		*upstream;
	int			 parsed;	/* req holds this request */
	int			 linger;	/* answered, body unread */
	int			 version;
	/* the cache's view of this request */
	int			 cacheable;	/* route caches, GET/HEAD */
	const char		*cache_status;	/* Cache-Status value */
	uint32_t		 fill;		/* object being filled */
	int			 filling;
	uint64_t		 fill_bytes;
	uint32_t		 stale;		/* stored object, referenced */
	int			 have_stale;
	int			 revalidating;	/* sent our own validators */
	int			 refresh_later;	/* served stale: refresh next */
	/* compression of the response (relay_compress.c) */
	const struct compress_config *zcf;	/* the route's keys */
	int			 zcoding;	/* enum compress_coding */
	uint64_t		 zin, zout;	/* body bytes in, out */
	/* the WAF's (relay_waf.c); waf_v is valid while waf_mode is set */
	int			 waf_mode;	/* enum waf_mode, 0: none */
	int			 waf_too_large;	/* body over body_limit */
	int			 waf_logged;	/* its error log line */
	struct waf_tx		*waf;		/* open transaction */
	const char		*waf_body;	/* held body to forward */
	int			 tailed;	/* the gate writes the rest */
	/*
	 * From here on nothing is cleared between requests (relay_serve):
	 * the parser sets up req, whose strings point into the pinned head
	 * (relay_pin_head) and stay valid until the next request is read,
	 * for the response phase, the variables and the log alike; cond
	 * holds what its own NUL says.
	 */
	struct http_request	 req;
	char			 cond[512];	/* our own validators */
	struct waf_verdict	 waf_v;
};


struct relay {
	const struct config	*cf;
	volatile sig_atomic_t	*stop;
	struct conn		 cl, be;
	char			*obuf;
	size_t			 ocap, olen;
	char			 client_ip[64];
	struct http_fwd		 fwd;
	struct http_limits	 lim, resp_lim;
	size_t			 be_pool, be_srv;
	const struct server_config *be_sc;
	int			 be_fresh;	/* connect, take no idle one */
	char			 resp_extra[256];	/* fields to add */
	struct http_edit	 resp_ed;	/* the route's, for responses */
	char			*tbuf;		/* rewritten request-target */
	size_t			 tcap;
	size_t			 listen;	/* [listen] of the connection */
	int			 be_reused;
	unsigned		 nreq;
	const struct sockaddr_storage *peer;
	unsigned		 slot;		/* scoreboard slot */
	struct sockaddr_storage	 peer_store;	/* the client (PROXY may say) */
	const struct sockaddr_storage *peer_real;
	struct sockaddr_storage	 real_store;	/* from X-Forwarded-For */
	char			 real_ip[64];
	char			 cert_subject[512];	/* client certificate */
	char			 err_extra[640];	/* fields for errors */
	char			*npath;		/* normalized path */
	size_t			 ncap;
	int			 pipe[2];	/* for splice(2), or -1 */
	size_t			 pipe_size;
	char			*ckey;		/* cache key being built */
	size_t			 ckey_cap;
	/*
	 * The request head in use, kept put at the front of the client
	 * buffer: cl's buffer is the part after it (relay_pin_head).
	 */
	size_t			 pinned;
	/* the gate (relay_park.c) */
	const struct listener	*lsock;		/* the connection's listener */
	const struct handoff	*resume;	/* handed back: set up so */
	int64_t			 head_t0;	/* its head's first byte */
	struct compress		*z;		/* the worker's encoder */
	/* a body the gate spooled (relay_spool.c) */
	int			 spooled;	/* this request's came whole */
	int			 spool_fd;	/* its file, or -1: inline */
	uint64_t		 spool_len;
};


extern struct relay	 relay;

/* relay.c */
int	relay_put(struct relay *, struct conn *, const char *, size_t, int);
/* data as one chunk ("size CRLF data CRLF") when chunked, else as is */
int	relay_put_chunk(struct relay *, struct conn *, const char *data,
	    size_t len, int chunked, int timeout);
int	relay_flush(struct relay *, struct conn *, int);
void	relay_error(struct relay *, struct relay_req *, int);
/* Read more into c's buffer (EINTR retried); conn_fill's returns. */
ssize_t	relay_fill(struct conn *c, int timeout_ms);
/* Read more from the backend, noticing a client that left meanwhile. */
ssize_t	relay_fill_backend(struct relay *, int timeout_ms);
/* Has the client closed (or reset) its connection? */
int	relay_client_gone(struct relay *);
/* Is a request body arriving slower than client_min_rate (q->status)? */
int	relay_too_slow(struct relay *, struct relay_req *, uint64_t got);
/*
 * The request is answered without forwarding it: drop a body that is
 * all in the buffer, or say the connection closes after the answer (and
 * lingers), so that body bytes are never read as the next request.  Call
 * it before the answer is written: the answer says whether the
 * connection stays.  A second call does nothing.
 */
void	relay_skip_body(struct relay *, struct relay_req *);

/* relay_waf.c */
/*
 * On a route with waf = on or detect: run the request through the rules,
 * holding its body (then sent from q->waf_body).  1 when the request was
 * answered here (stopped, 413, a client fault), 0 to forward it.
 */
int	relay_waf_request(struct relay *, struct relay_req *,
	    const struct route_config *);
/* The response head, before it goes out: 1 when stopped and answered. */
int	relay_waf_response(struct relay *, struct relay_req *,
	    const struct http_response *);
/* Close the transaction (logs, counters); nothing when none is open. */
void	relay_waf_end(struct relay *, struct relay_req *);
/* The $waf access log value, NULL when the request was not inspected. */
const char *relay_waf_var(const struct relay_req *);

/* relay_body.c */
enum relay_err relay_body_chunked(struct relay *, struct relay_req *,
	    struct conn *src, struct conn *dst, int rechunk, uint64_t max,
	    int src_timeout, int dst_timeout, int src_is_client);
enum relay_err relay_body_response(struct relay *, struct relay_req *,
	    const struct http_response *, enum http_out framing);
void	relay_body_tunnel(struct relay *);
/* Can the rest of this body (left bytes, some buffered) be spliced? */
int	relay_body_can_splice(struct relay *, struct relay_req *,
	    uint64_t left);
void	relay_body_pipe_close(struct relay *);
/* A complete small response of porter's own. */
void	relay_local_simple(struct relay *, struct relay_req *, int status,
	    const char *type, const char *body, size_t len);

/* relay_local.c */
/* The Server and hide_headers rules for a response head. */
void	relay_local_identity(struct relay *, struct http_edit *);
/* A route's filters and rate limit; 1 when the request was answered. */
int	relay_local_filter(struct relay *, struct relay_req *,
	    const struct route_config *, const char *path);
/* return = CODE [URL]. */
void	relay_local_return(struct relay *, struct relay_req *,
	    const struct route_config *);
/* A request to an [admin] address. */
void	relay_local_admin(struct relay *, struct relay_req *);
/* The real client of this request (trusted_proxies). */
void	relay_local_client(struct relay *, const struct http_request *);

/* relay_compress.c */
/*
 * The final response head resp (a copy the caller writes next) of a
 * request q: when q's route compresses and the response may be
 * compressed, add Vary: Accept-Encoding; when the client accepts a coding
 * too, start the encoder, set q->zcoding, edit resp's fields (Content-
 * Encoding added, a strong ETag made weak, Accept-Ranges and
 * Content-Length gone) and turn a LENGTH *framing into chunked (HTTP/1.1)
 * or close-delimited.
 */
void	relay_compress_response(struct relay *, struct relay_req *,
	    struct http_response *resp, enum http_out *framing);
/*
 * Body bytes for the client: through the encoder when q->zcoding (flush:
 * all so far made decodable, for a backend's read), else as
 * relay_put_chunk.  -1 when the client's write failed or the library
 * did (logged; the response cannot go on).
 */
int	relay_compress_put(struct relay *, struct relay_req *, const char *,
	    size_t, int chunked, int flush);
/* The body ended: the encoder's last bytes, if q->zcoding.  As above. */
int	relay_compress_end(struct relay *, struct relay_req *, int chunked);
/*
 * A stored body, bytes [off, off+left) of object idx (referenced),
 * compressed to the client and ended (the last chunk when chunked).
 */
int	relay_compress_stored(struct relay *, struct relay_req *,
	    uint32_t idx, uint64_t off, uint64_t left, int chunked);
void	relay_compress_fini(struct relay *);

/* relay_park.c */
/* When a head not yet arrived goes to the gate (0: never), from now. */
int64_t	relay_park_at(struct relay *, int64_t now);
/*
 * Hand the connection to the gate with what was read of its head
 * (head_t0: when that began, 0 if nothing) and the time the wait began.
 * 0 when the gate has it (r->cl.fd is then -1), -1 to go on waiting here.
 */
int	relay_park(struct relay *, int64_t head_t0, int64_t wait_start);
/*
 * A new connection on a TLS listener: wait park_after for its first
 * record, then park it.  1: the gate has it (the connection is gone
 * from here); 0: go on with the handshake.
 */
int	relay_park_hello(struct relay *);
/*
 * Connections wait for a worker (in a listen queue or the gate's ready
 * queue)?  Asked only where a head is not whole at once, off the fast
 * path: a new connection that is slow then goes to the gate without
 * waiting park_after.
 */
int	relay_park_pressed(void);
/* relay_serve for a connection handed back: buffer, peer, counts. */
void	relay_park_resumed(struct relay *);

/* relay_spool.c */
/*
 * After the route and its limits, before forwarding: a body not whole
 * within park_after goes to the gate to be spooled (1: the request was
 * handed on, r->cl.fd is then -1, or answered), or 0 to forward it.  A
 * request back from the gate is set up to go with a Content-Length.
 */
int	relay_spool(struct relay *, struct relay_req *,
	    const struct route_config *);
/* relay_resume: the record's body (file: its spool file, or -1). */
void	relay_spool_resumed(struct relay *, const struct handoff *, int file);
/* The request is over: its spool goes. */
void	relay_spool_done(struct relay *);
/* Send the head in obuf[0..hlen) and the body from the spool file. */
enum relay_err relay_spool_send(struct relay *, struct relay_req *,
	    size_t hlen, int *resendable);
/* The connection's listener as an index the gate passes back. */
uint32_t relay_park_index(const struct relay *);

/*
 * relay_body.c: splice up to want bytes of the response body from the
 * backend into r->pipe, waiting at most read_timeout while the client is
 * still there.  The bytes moved, or -1 after logging why (the pipe is
 * then closed: it may hold a part).
 */
ssize_t	relay_body_splice_in(struct relay *, struct relay_req *, size_t want);

/* relay_tail.c */
/* Can this response's tail go to the gate when the client is slow? */
int	relay_tail_can(struct relay *, struct relay_req *,
	    const struct http_response *);
/*
 * Relay the body as relay_body_response does, handing the rest to the
 * gate when the client takes no write within park_after (q->tailed is
 * then set, both connections are gone from here and RE_OK returned).
 */
enum relay_err relay_tail_response(struct relay *, struct relay_req *,
	    const struct http_response *, enum http_out framing);
/*
 * Write iov[0..n) of a stored answer: hlen bytes of r->obuf (the head),
 * then bytes of object idx (referenced) from off, of which left are
 * still to go in all.  0 when written, 1 when the client was slow and
 * the gate writes the rest (q->tailed; the connection is gone from
 * here), -1 on failure.
 */
int	relay_tail_store_write(struct relay *, struct relay_req *,
	    struct iovec *iov, int n, size_t hlen, uint32_t idx,
	    uint64_t off, uint64_t left);

/* relay_cache.c */
void	relay_cache_init(struct relay *);
void	relay_cache_fini(struct relay *);
/*
 * Before forwarding: answer from the cache (returns 1: done), or set up a
 * fill or a revalidation and return 0 to forward.
 */
int	relay_cache_request(struct relay *, struct relay_req *,
	    const struct route_config *);
/*
 * After a stale answer (stale-while-revalidate) was sent and logged:
 * set up the revalidation of that object, as relay_cache_request does
 * for a stale one, with *rt the request's route.  0 when there is
 * nothing to do.
 */
int	relay_cache_refresh(struct relay *, struct relay_req *,
	    const struct route_config **rt);
/* Our validators for a revalidation, to add to the request head. */
const char *relay_cache_conditional(struct relay_req *);
/*
 * The final response head arrived: decide to store it, or answer from
 * the stored object (a 304 to our revalidation, or stale-if-error on a
 * 5xx).  Returns 1 when the client was answered from the cache.
 */
int	relay_cache_response(struct relay *, struct relay_req *,
	    const struct http_response *, const char *raw, size_t raw_len);
/* Body bytes that went to the client: into the object being filled. */
void	relay_cache_tee(struct relay *, struct relay_req *, const char *,
	    size_t);
/* The exchange ended (ok: the whole body was relayed): commit or drop. */
void	relay_cache_done(struct relay *, struct relay_req *, int ok);
/*
 * The origin failed before a response: serve a stale object if allowed
 * (stale-if-error).  Returns 1 when the client was answered.
 */
int	relay_cache_error(struct relay *, struct relay_req *);
/* An unsafe method succeeded: invalidate what it names. */
void	relay_cache_invalidate(struct relay *, struct relay_req *,
	    const struct http_response *);
/* PURGE from an allowed address; returns 1 when handled. */
int	relay_cache_purge(struct relay *, struct relay_req *);

#endif /* RELAY_INT_H */
