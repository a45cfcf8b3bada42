/*
 * http_parse.h - I/O-free HTTP/1.1 message parser (RFC 9110, RFC 9112).
 *
 * The parser never reads or writes a socket and never allocates: it is
 * handed the bytes received so far and either asks for more, reports a
 * complete head, or rejects the message with the status code to send.
 * All strings it returns point into the caller's buffer, which must stay
 * put until the caller is done with the message (the one exception is the
 * constant "/" or "*" target of an absolute-form URI without a path).
 *
 * It is strict on purpose: anything that two HTTP implementations could
 * read two ways (obs-fold, bare CR or LF, whitespace before a colon,
 * Content-Length with Transfer-Encoding, odd chunk sizes) is an error, so
 * that nothing ambiguous is ever forwarded.
 */
#ifndef HTTP_PARSE_H
#define HTTP_PARSE_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_MAX_HEADERS	128	/* hard cap; limits.max_headers <= this */

enum http_method {
	HTTP_M_OTHER = 0,
	HTTP_M_GET,
	HTTP_M_HEAD,
	HTTP_M_POST,
	HTTP_M_PUT,
	HTTP_M_DELETE,
	HTTP_M_OPTIONS,
	HTTP_M_TRACE,
	HTTP_M_PATCH,
	HTTP_M_CONNECT
};

/* How the body of a message is delimited (RFC 9112 section 6.3). */
enum http_body {
	HTTP_BODY_NONE = 0,	/* no body at all */
	HTTP_BODY_LENGTH,	/* content_length bytes */
	HTTP_BODY_CHUNKED,	/* chunked transfer coding */
	HTTP_BODY_CLOSE		/* response only: until the connection closes */
};

/*
 * Field names the proxy acts on, recognised once by the parser so that
 * forwarding compares numbers instead of strings.
 */
enum http_hdr {
	HTTP_H_OTHER = 0,
	HTTP_H_CONNECTION,
	HTTP_H_CONTENT_LENGTH,
	HTTP_H_EXPECT,
	HTTP_H_HOST,
	HTTP_H_HTTP2_SETTINGS,
	HTTP_H_KEEP_ALIVE,
	HTTP_H_PROXY_CONNECTION,
	HTTP_H_SERVER,
	HTTP_H_TE,
	HTTP_H_TRANSFER_ENCODING,
	HTTP_H_UPGRADE,
	HTTP_H_X_CLIENT_SUBJECT,
	HTTP_H_X_CLIENT_VERIFY,
	HTTP_H_X_FORWARDED_FOR,
	HTTP_H_X_FORWARDED_HOST,
	HTTP_H_X_FORWARDED_PROTO,
	/*
	 * A name that reads as one of the above with "_" for "-" (for
	 * example Transfer_Encoding or X_Client_Verify): servers that map
	 * names to CGI-style variables cannot tell the two apart, so such
	 * fields are not forwarded in requests.
	 */
	HTTP_H_LOOKALIKE
};

struct http_field {
	const char	*name;
	size_t		 name_len;
	const char	*value;		/* leading/trailing OWS trimmed */
	size_t		 value_len;
	enum http_hdr	 id;		/* HTTP_H_OTHER unless a known name */
};

struct http_limits {
	size_t		 max_header_size;	/* whole head incl. request line */
	size_t		 max_uri_length;	/* request-target bytes */
	unsigned	 max_headers;		/* number of fields */
};

/* Flags derived from the header fields. */
#define HTTP_F_CONN_CLOSE	0x0001	/* Connection: close */
#define HTTP_F_CONN_KEEPALIVE	0x0002	/* Connection: keep-alive */
#define HTTP_F_CONN_UPGRADE	0x0004	/* Connection: upgrade */
#define HTTP_F_UPGRADE		0x0008	/* an Upgrade field is present */
#define HTTP_F_EXPECT_CONTINUE	0x0010	/* Expect: 100-continue */
#define HTTP_F_ABSOLUTE_FORM	0x0020	/* request-target was absolute-form */
#define HTTP_F_HAS_TE		0x0040	/* a TE (not Transfer-Encoding) field */
#define HTTP_F_CONN_OTHER	0x0080	/* Connection names another field */

struct http_request {
	enum http_method method;
	const char	*method_str;
	size_t		 method_len;
	/*
	 * For origin-form and asterisk-form this is the request-target as
	 * received.  For absolute-form it is the path-and-query part only
	 * ("/" when the URI had no path, "*" for OPTIONS) and host points
	 * at the authority.
	 */
	const char	*target;
	size_t		 target_len;
	int		 version;	/* 10 or 11 */
	/* Host field value, or the authority of an absolute-form target. */
	const char	*host;
	size_t		 host_len;
	unsigned	 nfields;
	enum http_body	 body;		/* NONE, LENGTH or CHUNKED */
	uint64_t	 content_length;
	unsigned	 flags;		/* HTTP_F_* */
	size_t		 head_len;	/* bytes of the head incl. final CRLF */
	/* last: the parser clears what comes before, not these */
	struct http_field fields[HTTP_MAX_HEADERS];
};

struct http_response {
	int		 status;	/* 100..599 */
	int		 version;	/* 10 or 11 */
	const char	*reason;
	size_t		 reason_len;
	unsigned	 nfields;
	enum http_body	 body;
	uint64_t	 content_length;
	unsigned	 flags;		/* HTTP_F_CONN_* and HTTP_F_UPGRADE */
	size_t		 head_len;
	struct http_field fields[HTTP_MAX_HEADERS];	/* last, as above */
};

/*
 * Parse a request head from buf[0..len).  Leading empty lines (CRLF) are
 * skipped, at most a few of them.
 * Returns the head length (> 0) when the head is complete and valid and
 * fills *req; 0 when more bytes are needed (and nothing seen so far is
 * invalid or over a limit); or a negative HTTP status when the request
 * must be rejected:
 *   -400 malformed or ambiguous (see the rules in http_parse.c),
 *   -414 request-target longer than max_uri_length,
 *   -431 head larger than max_header_size or more than max_headers fields,
 *   -501 Transfer-Encoding other than exactly "chunked",
 *   -505 HTTP version other than 1.0 or 1.1,
 *   -417 Expect with anything but 100-continue.
 * Errors are reported as soon as the bytes seen prove them, so a caller
 * feeding the request byte by byte gets the same answer as one feeding it
 * whole (possibly earlier, never different).
 */
int	http_parse_request(struct http_request *req, const char *buf, size_t len,
	    const struct http_limits *lim);

/*
 * Parse a response head.  req_method and the status decide the body
 * framing (HEAD, 1xx, 204, 304 and 2xx to CONNECT have none).
 * Returns as http_parse_request; every error is -502 (the backend sent
 * something we will not relay).
 */
int	http_parse_response(struct http_response *resp, const char *buf,
	    size_t len, enum http_method req_method, const struct http_limits *lim);

/*
 * The HTTP_H_* of a field name (HTTP_H_OTHER for any other name); not
 * HTTP_H_LOOKALIKE, which the parser sets on top.
 */
enum http_hdr http_hdr_lookup(const char *name, size_t len);
/* Is ch a tchar (RFC 9110 5.6.2), a byte of a token? */
int	http_tchar(unsigned char ch);

/* Case-insensitive lookup of the first field named name; NULL if none. */
const struct http_field *http_field_find(const struct http_field *fields,
	    unsigned nfields, const char *name);

/* Does the comma-separated list value contain token (case-insensitive)? */
int	http_list_has(const char *value, size_t len, const char *token);

enum http_method http_method_lookup(const char *s, size_t len);

/*
 * Chunked transfer coding decoder (RFC 9112 section 7.1), resumable at any
 * byte boundary.  Chunk sizes are hex digits only (no sign, no 0x, no
 * spaces), at most 15 significant digits and 64 in all; chunk extensions
 * are syntax-checked and dropped; chunk data must be followed by CRLF;
 * trailer fields are syntax-checked like header fields and their raw
 * bytes are handed back so the caller can re-serialise them.
 */
enum http_chunk_rc {
	HTTP_CHUNK_AGAIN = 0,	/* all input consumed, need more */
	HTTP_CHUNK_DATA,	/* *out / *out_len is body data */
	HTTP_CHUNK_TRAILER,	/* *out / *out_len is one trailer field line incl. CRLF */
	HTTP_CHUNK_DONE,	/* message complete; *used bytes consumed */
	HTTP_CHUNK_ERROR	/* malformed: reject the message */
};

struct http_chunked {
	int		 state;
	uint64_t	 remaining;	/* bytes left in the current chunk */
	unsigned	 digits;	/* hex digits read in the size line */
	size_t		 line_len;	/* bytes in the current ext/trailer line */
	size_t		 trailer_bytes;	/* total trailer bytes so far */
	size_t		 max_line;	/* limit on ext and trailer lines */
};

void	http_chunked_init(struct http_chunked *c, size_t max_line);

/*
 * Decode from in[0..len).  Sets *used to the bytes consumed (always <= len)
 * and, for DATA and TRAILER, *out and *out_len to a span inside in.  Call
 * again with the rest of the input after DATA or TRAILER.  A trailer line
 * split across two calls is returned when complete only if it lies whole in
 * one input buffer; the caller keeps unconsumed bytes and calls again with
 * them at the front (so *used stops before an incomplete trailer line).
 */
enum http_chunk_rc http_chunked_decode(struct http_chunked *c, const char *in,
	    size_t len, size_t *used, const char **out, size_t *out_len);

#endif /* HTTP_PARSE_H */
