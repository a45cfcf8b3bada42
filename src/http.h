/*
 * http.h - HTTP message rules for a proxy: which fields are hop-by-hop,
 * how a forwarded request and a relayed response head are written, and
 * the error responses porter makes itself.  No I/O.
 */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>

#include "http_parse.h"

/* How porter frames a body it writes out. */
enum http_out {
	HTTP_OUT_NONE = 0,	/* no body, or pass the field through */
	HTTP_OUT_LENGTH,	/* Content-Length: n */
	HTTP_OUT_CHUNKED,	/* re-encoded chunked */
	HTTP_OUT_CLOSE		/* delimited by closing the connection */
};

/* Changes a route makes to a head porter writes. */
struct http_edit {
	const char	*target;	/* request-target to send, or NULL */
	size_t		 target_len;
	const char	*host;		/* Host to send (set_host), or NULL */
	const char	*add;		/* "Name: value\r\n" lines, or NULL */
	const char	*add2;		/* more of them, or NULL */
	char *const	*remove;	/* field names to drop */
	size_t		 nremove;
	char *const	*hide;		/* responses: hide_headers */
	size_t		 nhide;
	const char	*server;	/* responses: our Server, or NULL */
};

/* Facts about the client connection used in forwarding fields. */
struct http_fwd {
	const char	*client_ip;
	const char	*proto;		/* "http" or "https" */
	/* client certificates: NULL when the listener does not ask */
	const char	*cert_verify;	/* "SUCCESS" or "NONE" */
	const char	*cert_subject;	/* when SUCCESS */
};

const char *http_reason(int status);

/*
 * Is field f hop-by-hop for the message whose fields are fields[0..n)?
 * That is: one of the fixed list (RFC 9110 section 7.6.1) or named in a
 * Connection field.  Content-Length and Transfer-Encoding count too,
 * because porter always writes its own framing.  flags are the message's
 * HTTP_F_*: without HTTP_F_CONN_OTHER no Connection field names others.
 */
int	http_hop_by_hop(const struct http_field *f,
	    const struct http_field *fields, unsigned n, unsigned flags);
/*
 * May a trailer field line (name, colon, value, CRLF) be passed on?  0
 * for fields not allowed in trailers (RFC 9110 6.5.1) and those porter
 * sets itself, "_" read as "-".
 */
int	http_trailer_allowed(const char *line, size_t len);

/*
 * Write the request head porter sends to a backend into out[0..cap).
 * framing is HTTP_OUT_NONE, _LENGTH or _CHUNKED.  For an upgrade request
 * the Upgrade field and "Connection: upgrade" are kept.  ed (may be NULL)
 * applies a route's rewrites.  Returns the length, or -1 when it does not
 * fit.
 */
int	http_request_head(char *out, size_t cap, const struct http_request *req,
	    const struct http_fwd *fwd, enum http_out framing, int upgrade,
	    const struct http_edit *ed);

/*
 * Write the response head porter sends to the client.  keepalive says
 * whether the client connection stays open; client_version decides
 * whether "Connection: keep-alive" must be spelled out (HTTP/1.0).
 * For HTTP_OUT_NONE a Content-Length from the backend is kept as it was
 * (HEAD, 304).  Returns the length, or -1 when it does not fit.
 */
int	http_response_head(char *out, size_t cap,
	    const struct http_response *resp, const struct http_edit *ed,
	    enum http_out framing, int keepalive, int client_version,
	    int upgrade);

/*
 * A complete error response made by porter (head and small HTML body, or
 * page when given), always with "Connection: close" unless keepalive.
 * Returns the length.  *body_after is set when page did not fit after
 * the head: the caller sends page itself, after the head.
 */
int	http_error_response(char *out, size_t cap, int status, int keepalive,
	    int server_tokens, int head_only, const char *page, size_t page_len,
	    const char *extra, int *body_after);

#endif /* HTTP_H */
