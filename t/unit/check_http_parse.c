/*
 * check_http_parse.c - unit tests for the HTTP/1.1 parser.
 *
 * Every table case is parsed whole and then again byte by byte (len = 1,
 * 2, 3, ... of the same bytes), each prefix copied into a buffer of
 * exactly that size so that AddressSanitizer catches any read past len.
 * Both runs must give the same result and the same parsed fields, and a
 * complete head must be reported exactly when its last byte arrives.
 * On top of the table, every valid case is mutated a few hundred times
 * and whole versus byte-by-byte agreement is checked on the mutants; and
 * mutants of kinds whose verdict the grammar decides (verdict_mutate)
 * must also get that verdict.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

#define GOOD		1	/* expected rc: a complete head, len - extra */
#define RAW(s)		.raw = (s), .len = sizeof(s) - 1
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))
#define MUTATIONS	200

static const struct http_limits lim_def = { 8192, 1024, 64 };
/* Small enough to hit every limit with short literals. */
static const struct http_limits lim_small = { 64, 16, 3 };

struct req_case {
	const char	*name;
	const char	*raw;
	size_t		 len;
	int		 rc;
	size_t		 extra;		/* body bytes after the head */
	const struct http_limits *lim;
	enum http_method method;
	const char	*target;
	const char	*host;		/* NULL: no host at all */
	int		 version;
	enum http_body	 body;
	uint64_t	 cl;
	unsigned	 flags;
	unsigned	 nfields;
};

#define H11	"GET / HTTP/1.1\r\nHost: h\r\n"
#define S_GET	H11 "\r\n"

static const struct req_case req_cases[] = {
	/* Valid requests. */
	{ "simple GET", RAW("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_GET, "/", "example.com", 11, HTTP_BODY_NONE,
	  0, 0, 1 },
	{ "POST with body", RAW("POST /submit?x=1 HTTP/1.1\r\n"
	  "Host: a.example:8080\r\nContent-Length: 5\r\n\r\nhello"),
	  GOOD, 5, NULL, HTTP_M_POST, "/submit?x=1", "a.example:8080", 11,
	  HTTP_BODY_LENGTH, 5, 0, 2 },
	{ "CL with OWS", RAW("PUT /x HTTP/1.1\r\nHost: h\r\n"
	  "Content-Length: \t 12 \t\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_PUT, "/x", "h", 11, HTTP_BODY_LENGTH, 12, 0,
	  2 },
	{ "CL 0 is no body", RAW("POST / HTTP/1.1\r\nHost: h\r\n"
	  "Content-Length: 0\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_POST, "/", "h", 11, HTTP_BODY_NONE, 0, 0, 2 },
	{ "CL leading zeros", RAW("POST / HTTP/1.1\r\nHost: h\r\n"
	  "Content-Length: 007\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_POST, "/", "h", 11, HTTP_BODY_LENGTH, 7, 0, 2 },
	{ "CL 2^62", RAW("POST / HTTP/1.1\r\nHost: h\r\n"
	  "Content-Length: 4611686018427387904\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_POST, "/", "h", 11, HTTP_BODY_LENGTH,
	  (uint64_t)1 << 62, 0, 2 },
	{ "identical CLs", RAW("POST / HTTP/1.1\r\nHost: h\r\n"
	  "Content-Length: 3\r\ncontent-length: 3\r\n\r\nabc"),
	  GOOD, 3, NULL, HTTP_M_POST, "/", "h", 11, HTTP_BODY_LENGTH, 3, 0,
	  3 },
	{ "TE chunked", RAW("POST /up HTTP/1.1\r\nHost: h\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_POST, "/up", "h", 11, HTTP_BODY_CHUNKED, 0, 0,
	  2 },
	{ "TE Chunked", RAW("POST / HTTP/1.1\r\nHost: h\r\n"
	  "transfer-encoding: Chunked\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_POST, "/", "h", 11, HTTP_BODY_CHUNKED, 0, 0,
	  2 },
	{ "TE ' chunked '", RAW("POST / HTTP/1.1\r\nHost: h\r\n"
	  "Transfer-Encoding:  chunked \t\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_POST, "/", "h", 11, HTTP_BODY_CHUNKED, 0, 0,
	  2 },
	{ "absolute-form", RAW("GET http://example.com/p?q=1 HTTP/1.1\r\n"
	  "Host: example.com\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_GET, "/p?q=1", "example.com", 11,
	  HTTP_BODY_NONE, 0, HTTP_F_ABSOLUTE_FORM, 1 },
	{ "absolute-form no path no Host",
	  RAW("GET HTTP://Example.COM:80 HTTP/1.1\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_GET, "/", "Example.COM:80", 11,
	  HTTP_BODY_NONE, 0, HTTP_F_ABSOLUTE_FORM, 0 },
	{ "absolute-form https v6", RAW("GET https://[::1]:8443/a HTTP/1.1\r\n"
	  "Host: [::1]:8443\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_GET, "/a", "[::1]:8443", 11, HTTP_BODY_NONE,
	  0, HTTP_F_ABSOLUTE_FORM, 1 },
	{ "absolute-form authority wins",
	  RAW("GET http://real.example/x HTTP/1.1\r\nHost: other.example\r\n"
	  "\r\n"),
	  GOOD, 0, NULL, HTTP_M_GET, "/x", "real.example", 11, HTTP_BODY_NONE,
	  0, HTTP_F_ABSOLUTE_FORM, 1 },
	{ "absolute-form server-wide OPTIONS",
	  RAW("OPTIONS http://h:8001 HTTP/1.1\r\nHost: h:8001\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_OPTIONS, "*", "h:8001", 11, HTTP_BODY_NONE, 0,
	  HTTP_F_ABSOLUTE_FORM, 1 },
	{ "asterisk-form", RAW("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_OPTIONS, "*", "h", 11, HTTP_BODY_NONE, 0, 0,
	  1 },
	{ "CONNECT authority-form", RAW("CONNECT example.com:443 HTTP/1.1\r\n"
	  "Host: example.com:443\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_CONNECT, "example.com:443", "example.com:443",
	  11, HTTP_BODY_NONE, 0, 0, 1 },
	{ "leading CRLF", RAW("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_GET, "/", "h", 11, HTTP_BODY_NONE, 0, 0, 1 },
	{ "4 leading CRLF", RAW("\r\n\r\n\r\n\r\n" H11 "\r\n"),
	  GOOD, 0, NULL, HTTP_M_GET, "/", "h", 11, HTTP_BODY_NONE, 0, 0, 1 },
	{ "HTTP/1.0 no Host", RAW("GET /old HTTP/1.0\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_GET, "/old", NULL, 10, HTTP_BODY_NONE, 0, 0,
	  0 },
	{ "empty Host", RAW("GET / HTTP/1.1\r\nHost:\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_GET, "/", "", 11, HTTP_BODY_NONE, 0, 0, 1 },
	{ "connection flags", RAW(H11 "Connection: keep-alive, Upgrade\r\n"
	  "Upgrade: websocket\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_GET, "/", "h", 11, HTTP_BODY_NONE, 0,
	  HTTP_F_CONN_KEEPALIVE | HTTP_F_CONN_UPGRADE | HTTP_F_UPGRADE, 3 },
	{ "HTTP/1.0 Upgrade ignored", RAW("GET / HTTP/1.0\r\n"
	  "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_GET, "/", NULL, 10, HTTP_BODY_NONE, 0,
	  HTTP_F_CONN_UPGRADE, 2 },
	{ "HTTP/1.2 reads as 1.1", RAW("GET / HTTP/1.2\r\nHost: h\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_GET, "/", "h", 11, HTTP_BODY_NONE, 0, 0, 1 },
	{ "HTTP/1.9 needs Host as 1.1", RAW("GET / HTTP/1.9\r\n\r\n"), -400 },
	{ "connection close, TE", RAW(H11 "Connection: ,close,\r\n"
	  "TE: trailers\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_GET, "/", "h", 11, HTTP_BODY_NONE, 0,
	  HTTP_F_CONN_CLOSE | HTTP_F_HAS_TE, 3 },
	{ "Expect 100-continue", RAW("PUT / HTTP/1.1\r\nHost: h\r\n"
	  "Expect: 100-Continue\r\nContent-Length: 1\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_PUT, "/", "h", 11, HTTP_BODY_LENGTH, 1,
	  HTTP_F_EXPECT_CONTINUE, 3 },
	{ "Expect ignored in 1.0", RAW("PUT / HTTP/1.0\r\n"
	  "Expect: 100-continue\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_PUT, "/", NULL, 10, HTTP_BODY_NONE, 0, 0, 1 },
	{ "obs-text and empty values", RAW(H11 "X-A: caf\xc3\xa9\r\n"
	  "X-Empty:\r\nX-Ws: \t \r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_GET, "/", "h", 11, HTTP_BODY_NONE, 0, 0, 4 },
	{ "unknown method, 8-bit target",
	  RAW("PROPFIND /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_OTHER, "/caf\xc3\xa9", "h", 11,
	  HTTP_BODY_NONE, 0, 0, 1 },
	{ "lowercase method", RAW("get / HTTP/1.1\r\nHost: h\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_OTHER, "/", "h", 11, HTTP_BODY_NONE, 0, 0, 1 },
	{ "pipelined bytes after head", RAW(H11 "\r\nGET / HTTP/1.1\r\n"),
	  GOOD, 16, NULL, HTTP_M_GET, "/", "h", 11, HTTP_BODY_NONE, 0, 0, 1 },
	{ "uri at limit", RAW("GET /0123456789abcde HTTP/1.1\r\nHost: h\r\n"
	  "\r\n"),
	  GOOD, 0, &lim_small, HTTP_M_GET, "/0123456789abcde", "h", 11,
	  HTTP_BODY_NONE, 0, 0, 1 },
	{ "head exactly at limit", RAW(H11 "X: "
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"),
	  GOOD, 0, &lim_small, HTTP_M_GET, "/", "h", 11, HTTP_BODY_NONE, 0, 0,
	  2 },
	{ "fields at limit", RAW(H11 "A: 1\r\nB: 2\r\n\r\n"),
	  GOOD, 0, &lim_small, HTTP_M_GET, "/", "h", 11, HTTP_BODY_NONE, 0, 0,
	  3 },
	{ "incomplete", RAW(H11), 0 },
	{ "incomplete CR", RAW(H11 "\r"), 0 },

	/* Request line. */
	{ "5 leading CRLF", RAW("\r\n\r\n\r\n\r\n\r\n" H11 "\r\n"), -400 },
	{ "leading bare LF", RAW("\n" H11 "\r\n"), -400 },
	{ "leading bare CR", RAW("\rGET / HTTP/1.1\r\n"), -400 },
	{ "double SP", RAW("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), -400 },
	{ "SP before version", RAW("GET /  HTTP/1.1\r\nHost: h\r\n\r\n"),
	  -400 },
	{ "HTAB separator", RAW("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n"), -400 },
	{ "no method", RAW(" / HTTP/1.1\r\nHost: h\r\n\r\n"), -400 },
	{ "bad method char", RAW("G(T / HTTP/1.1\r\nHost: h\r\n\r\n"), -400 },
	{ "HTTP/0.9", RAW("GET /\r\n\r\n"), -400 },
	{ "HTTP/2.0", RAW("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), -505 },
	{ "fragment in the target", RAW("GET /a#b HTTP/1.1\r\nHost: h\r\n\r\n"),
	  -400 },
	{ "HTTP/0.9 spelled", RAW("GET / HTTP/0.9\r\n\r\n"), -505 },
	{ "HTTP/1.10", RAW("GET / HTTP/1.10\r\nHost: h\r\n\r\n"), -400 },
	{ "http/1.1", RAW("GET / http/1.1\r\nHost: h\r\n\r\n"), -400 },
	{ "HTTP/1", RAW("GET / HTTP/1\r\nHost: h\r\n\r\n"), -400 },
	{ "SP after version", RAW("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"),
	  -400 },
	{ "bare LF request line", RAW("GET / HTTP/1.1\nHost: h\r\n\r\n"),
	  -400 },
	{ "bare CR request line", RAW("GET / HTTP/1.1\rHost: h\r\n\r\n"),
	  -400 },
	{ "DEL in target", RAW("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n"),
	  -400 },
	{ "CTL in target", RAW("GET /a\x01 HTTP/1.1\r\nHost: h\r\n\r\n"),
	  -400 },
	{ "NUL in target", RAW("GET /a\0b HTTP/1.1\r\nHost: h\r\n\r\n"),
	  -400 },
	{ "HTAB in target", RAW("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n"),
	  -400 },
	{ "asterisk with GET", RAW("GET * HTTP/1.1\r\nHost: h\r\n\r\n"),
	  -400 },
	{ "authority-form with GET", RAW("GET h:80 HTTP/1.1\r\nHost: h\r\n"
	  "\r\n"), -400 },
	{ "CONNECT origin-form", RAW("CONNECT / HTTP/1.1\r\nHost: h\r\n\r\n"),
	  -400 },
	{ "CONNECT without port", RAW("CONNECT h HTTP/1.1\r\nHost: h\r\n\r\n"),
	  -400 },
	{ "CONNECT userinfo", RAW("CONNECT u@h:443 HTTP/1.1\r\nHost: h\r\n"
	  "\r\n"), -400 },
	{ "other scheme", RAW("GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n"),
	  -400 },
	{ "absolute userinfo", RAW("GET http://u:p@h/ HTTP/1.1\r\nHost: h\r\n"
	  "\r\n"), -400 },
	{ "absolute empty host", RAW("GET http:///x HTTP/1.1\r\nHost: h\r\n"
	  "\r\n"), -400 },
	{ "absolute query no path", RAW("GET http://h?x HTTP/1.1\r\n"
	  "Host: h\r\n\r\n"), -400 },
	{ "absolute, bad Host", RAW("GET http://h/ HTTP/1.1\r\nHost: a b\r\n"
	  "\r\n"), -400 },
	{ "absolute, two Hosts", RAW("GET http://h/ HTTP/1.1\r\nHost: a\r\n"
	  "Host: a\r\n\r\n"), -400 },
	{ "414", RAW("GET /0123456789abcdef HTTP/1.1\r\nHost: h\r\n\r\n"),
	  -414, 0, &lim_small },
	{ "414 before SP", RAW("GET /0123456789abcdef"), -414, 0, &lim_small },

	/* Field syntax. */
	{ "obs-fold", RAW(H11 "X-A: b\r\n c\r\n\r\n"), -400 },
	{ "obs-fold HTAB", RAW(H11 "X-A: b\r\n\tc\r\n\r\n"), -400 },
	{ "first field indented", RAW("GET / HTTP/1.1\r\n Host: h\r\n\r\n"),
	  -400 },
	{ "SP before colon", RAW("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), -400 },
	{ "HTAB before colon", RAW(H11 "X-A\t: b\r\n\r\n"), -400 },
	{ "bare CR in value", RAW(H11 "X-A: b\rc\r\n\r\n"), -400 },
	{ "bare CR end of head", RAW(H11 "\rX"), -400 },
	{ "bare LF field end", RAW("GET / HTTP/1.1\r\nHost: h\n\r\n"), -400 },
	{ "bare LF end of head", RAW(H11 "\n"), -400 },
	{ "all bare LF", RAW("GET / HTTP/1.1\nHost: h\n\n"), -400 },
	{ "NUL in value", RAW(H11 "X-A: a\0b\r\n\r\n"), -400 },
	{ "CTL in value", RAW(H11 "X-A: a\x01" "b\r\n\r\n"), -400 },
	{ "ESC in value", RAW(H11 "X-A: a\x1b[0m\r\n\r\n"), -400 },
	{ "DEL in value", RAW(H11 "X-A: a\x7f\r\n\r\n"), -400 },
	{ "bad name char", RAW(H11 "X(A): b\r\n\r\n"), -400 },
	{ "8-bit name", RAW(H11 "X\xc3\xa9: b\r\n\r\n"), -400 },
	{ "empty name", RAW(H11 ": b\r\n\r\n"), -400 },
	{ "no colon", RAW(H11 "Foo\r\n\r\n"), -400 },
	{ "bad Connection", RAW(H11 "Connection: close;x\r\n\r\n"), -400 },

	/* Host. */
	{ "missing Host", RAW("GET / HTTP/1.1\r\n\r\n"), -400 },
	{ "two Hosts", RAW("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n"),
	  -400 },
	{ "Host userinfo", RAW("GET / HTTP/1.1\r\nHost: u@h\r\n\r\n"), -400 },
	{ "Host inner SP", RAW("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), -400 },
	{ "Host bad port", RAW("GET / HTTP/1.1\r\nHost: h:8x\r\n\r\n"), -400 },
	{ "Host empty port", RAW("GET / HTTP/1.1\r\nHost: h:\r\n\r\n"),
	  GOOD, 0, NULL, HTTP_M_GET, "/", "h:", 11, HTTP_BODY_NONE, 0, 0, 1 },
	{ "Host port, leading zeros", RAW("GET / HTTP/1.1\r\n"
	  "Host: h:0000080\r\n\r\n"), GOOD, 0, NULL, HTTP_M_GET, "/",
	  "h:0000080", 11, HTTP_BODY_NONE, 0, 0, 1 },
	{ "Host port, 11 digits", RAW("GET / HTTP/1.1\r\n"
	  "Host: h:00000000080\r\n\r\n"), -400 },
	{ "Host big port", RAW("GET / HTTP/1.1\r\nHost: h:65536\r\n\r\n"),
	  -400 },
	{ "Host no name", RAW("GET / HTTP/1.1\r\nHost: :80\r\n\r\n"), -400 },
	{ "Host slash", RAW("GET / HTTP/1.1\r\nHost: h/x\r\n\r\n"), -400 },
	{ "Host bad v6", RAW("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"), -400 },
	{ "Host bad pct", RAW("GET / HTTP/1.1\r\nHost: a%2\r\n\r\n"), -400 },
	{ "Host in 1.0 checked", RAW("GET / HTTP/1.0\r\nHost: u@h\r\n\r\n"),
	  -400 },

	/* Content-Length. */
	{ "CL+TE", RAW(H11 "Content-Length: 5\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n"), -400 },
	{ "TE+CL", RAW(H11 "Transfer-Encoding: chunked\r\n"
	  "Content-Length: 5\r\n\r\n"), -400 },
	{ "TE gzip + CL", RAW(H11 "Transfer-Encoding: gzip\r\n"
	  "Content-Length: 5\r\n\r\n"), -400 },
	{ "CL list", RAW(H11 "Content-Length: 5, 5\r\n\r\n"), -400 },
	{ "CL plus sign", RAW(H11 "Content-Length: +5\r\n\r\n"), -400 },
	{ "CL minus", RAW(H11 "Content-Length: -1\r\n\r\n"), -400 },
	{ "CL hex", RAW(H11 "Content-Length: 0x5\r\n\r\n"), -400 },
	{ "CL inner SP", RAW(H11 "Content-Length: 5 5\r\n\r\n"), -400 },
	{ "CL empty", RAW(H11 "Content-Length:\r\n\r\n"), -400 },
	{ "CL 2^62+1", RAW(H11 "Content-Length: 4611686018427387905\r\n\r\n"),
	  -400 },
	{ "CL overflow", RAW(H11 "Content-Length: 99999999999999999999999\r\n"
	  "\r\n"), -400 },
	{ "differing CLs", RAW(H11 "Content-Length: 5\r\n"
	  "Content-Length: 6\r\n\r\n"), -400 },
	{ "CLs 5 and 05", RAW(H11 "Content-Length: 5\r\n"
	  "Content-Length: 05\r\n\r\n"), -400 },

	/* Transfer-Encoding. */
	{ "TE chunked, identity", RAW(H11 "Transfer-Encoding: chunked, "
	  "identity\r\n\r\n"), -400 },
	{ "TE xchunked", RAW(H11 "Transfer-Encoding: xchunked\r\n\r\n"),
	  -400 },
	{ "TE gzip, chunked", RAW(H11 "Transfer-Encoding: gzip, chunked\r\n"
	  "\r\n"), -501 },
	{ "TE chunked twice", RAW(H11 "Transfer-Encoding: chunked,chunked\r\n"
	  "\r\n"), -501 },
	{ "TE identity", RAW(H11 "Transfer-Encoding: identity\r\n\r\n"), -400 },
	{ "TE quoted", RAW(H11 "Transfer-Encoding: \"chunked\"\r\n\r\n"),
	  -400 },
	{ "TE param", RAW(H11 "Transfer-Encoding: chunked;x\r\n\r\n"), -400 },
	{ "TE trailing comma", RAW(H11 "Transfer-Encoding: chunked,\r\n\r\n"),
	  -400 },
	{ "TE leading comma", RAW(H11 "Transfer-Encoding: , chunked\r\n\r\n"),
	  -400 },
	{ "TE empty", RAW(H11 "Transfer-Encoding:\r\n\r\n"), -400 },
	{ "TE two fields", RAW(H11 "Transfer-Encoding: chunked\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n"), -400 },
	{ "TE gzip then second", RAW(H11 "Transfer-Encoding: gzip\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n"), -400 },
	{ "TE in HTTP/1.0", RAW("POST / HTTP/1.0\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n"), -400 },
	{ "TE 501 loses to 400", RAW("GET / HTTP/1.1\r\n"
	  "Transfer-Encoding: gzip\r\nX y\r\n\r\n"), -400 },
	{ "TE 501 loses to no Host", RAW("GET / HTTP/1.1\r\n"
	  "Transfer-Encoding: gzip\r\n\r\n"), -400 },

	/* Expect. */
	{ "Expect other", RAW(H11 "Expect: 200-ok\r\n\r\n"), -417 },
	{ "Expect list", RAW(H11 "Expect: 100-continue, x\r\n\r\n"), -417 },
	{ "Expect other in 1.0", RAW("GET / HTTP/1.0\r\nExpect: x\r\n\r\n"),
	  -417 },

	/* Limits. */
	{ "431 size", RAW(H11 "X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"), -431, 0, &lim_small },
	{ "431 size by one", RAW(H11 "X: "
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"), -431, 0, &lim_small },
	{ "431 count", RAW(H11 "A: 1\r\nB: 2\r\nC: 3\r\n\r\n"), -431, 0,
	  &lim_small },
	{ "400 before 431", RAW(H11 "X\x01: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"), -400, 0,
	  &lim_small },
	{ "431 via long target", RAW("GET /0123456789abcdef HTTP/1.1\r\n"),
	  -431, 0, &(const struct http_limits){ 24, 1024, 8 } },
};

struct resp_case {
	const char	*name;
	const char	*raw;
	size_t		 len;
	int		 rc;
	size_t		 extra;
	enum http_method method;
	int		 status;
	int		 version;
	enum http_body	 body;
	uint64_t	 cl;
	unsigned	 flags;
	const char	*reason;
};

static const struct resp_case resp_cases[] = {
	{ "200 CL", RAW("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"),
	  GOOD, 5, HTTP_M_GET, 200, 11, HTTP_BODY_LENGTH, 5, 0, "OK" },
	{ "200 other fields", RAW("HTTP/1.1 200 OK\r\n"
	  "Content-Type: text/plain; charset=utf-8\r\nETag: \"v1\"\r\n"
	  "Cache-Control: max-age=60\r\nContent-Length: 2\r\n\r\nok"),
	  GOOD, 2, HTTP_M_GET, 200, 11, HTTP_BODY_LENGTH, 2, 0, "OK" },
	{ "200 chunked", RAW("HTTP/1.1 200 OK\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n"),
	  GOOD, 0, HTTP_M_GET, 200, 11, HTTP_BODY_CHUNKED, 0, 0, "OK" },
	{ "200 close-delimited", RAW("HTTP/1.1 200 OK\r\n"
	  "Connection: close\r\n\r\n"),
	  GOOD, 0, HTTP_M_GET, 200, 11, HTTP_BODY_CLOSE, 0, HTTP_F_CONN_CLOSE,
	  "OK" },
	{ "1.0 close-delimited", RAW("HTTP/1.0 200 Fine today\r\n\r\n"),
	  GOOD, 0, HTTP_M_POST, 200, 10, HTTP_BODY_CLOSE, 0, 0, "Fine today" },
	{ "CL 0", RAW("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
	  GOOD, 0, HTTP_M_GET, 404, 11, HTTP_BODY_NONE, 0, 0, "Not Found" },
	{ "204 CL ignored", RAW("HTTP/1.1 204 No Content\r\n"
	  "Content-Length: 5\r\n\r\n"),
	  GOOD, 0, HTTP_M_GET, 204, 11, HTTP_BODY_NONE, 0, 0, "No Content" },
	{ "304 CL ignored", RAW("HTTP/1.1 304 Not Modified\r\n"
	  "Content-Length: 5\r\n\r\n"),
	  GOOD, 0, HTTP_M_GET, 304, 11, HTTP_BODY_NONE, 0, 0, "Not Modified" },
	{ "204 CL+TE ignored", RAW("HTTP/1.1 204 No Content\r\n"
	  "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"),
	  GOOD, 0, HTTP_M_GET, 204, 11, HTTP_BODY_NONE, 0, 0, "No Content" },
	{ "204 TE not chunked", RAW("HTTP/1.1 204 No Content\r\n"
	  "Transfer-Encoding: gzip\r\n\r\n"), -502 },
	{ "HEAD CL", RAW("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n"),
	  GOOD, 0, HTTP_M_HEAD, 200, 11, HTTP_BODY_NONE, 0, 0, "OK" },
	{ "HEAD chunked", RAW("HTTP/1.1 200 OK\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n"),
	  GOOD, 0, HTTP_M_HEAD, 200, 11, HTTP_BODY_NONE, 0, 0, "OK" },
	{ "100 continue", RAW("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200"),
	  GOOD, 12, HTTP_M_POST, 100, 11, HTTP_BODY_NONE, 0, 0, "Continue" },
	{ "101 upgrade", RAW("HTTP/1.1 101 Switching Protocols\r\n"
	  "Connection: Upgrade\r\nUpgrade: websocket\r\n\r\n"),
	  GOOD, 0, HTTP_M_GET, 101, 11, HTTP_BODY_NONE, 0,
	  HTTP_F_CONN_UPGRADE | HTTP_F_UPGRADE, "Switching Protocols" },
	{ "CONNECT 200", RAW("HTTP/1.1 200 Connection established\r\n\r\n"),
	  GOOD, 0, HTTP_M_CONNECT, 200, 11, HTTP_BODY_NONE, 0, 0,
	  "Connection established" },
	{ "CONNECT 407", RAW("HTTP/1.1 407 Auth\r\nContent-Length: 2\r\n\r\n"),
	  GOOD, 0, HTTP_M_CONNECT, 407, 11, HTTP_BODY_LENGTH, 2, 0, "Auth" },
	{ "empty reason", RAW("HTTP/1.1 200 \r\nContent-Length: 1\r\n\r\n"),
	  GOOD, 0, HTTP_M_GET, 200, 11, HTTP_BODY_LENGTH, 1, 0, "" },
	{ "no reason no SP", RAW("HTTP/1.1 200\r\nContent-Length: 1\r\n\r\n"),
	  GOOD, 0, HTTP_M_GET, 200, 11, HTTP_BODY_LENGTH, 1, 0, NULL },
	{ "incomplete", RAW("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"), 0 },

	{ "CL+TE", RAW("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n"), -502 },
	{ "TE gzip", RAW("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n"),
	  -502 },
	{ "TE gzip, chunked", RAW("HTTP/1.1 200 OK\r\n"
	  "Transfer-Encoding: gzip, chunked\r\n\r\n"), -502 },
	{ "TE in 1.0", RAW("HTTP/1.0 200 OK\r\n"
	  "Transfer-Encoding: chunked\r\n\r\n"), -502 },
	{ "differing CLs", RAW("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	  "Content-Length: 2\r\n\r\n"), -502 },
	{ "bad CL on 304", RAW("HTTP/1.1 304 NM\r\nContent-Length: x\r\n\r\n"),
	  -502 },
	{ "HTTP/2.0", RAW("HTTP/2.0 200 OK\r\n\r\n"), -502 },
	{ "two-digit status", RAW("HTTP/1.1 20 OK\r\n\r\n"), -502 },
	{ "status 600", RAW("HTTP/1.1 600 X\r\n\r\n"), -502 },
	{ "status 099", RAW("HTTP/1.1 099 X\r\n\r\n"), -502 },
	{ "status 4 digits", RAW("HTTP/1.1 2000 X\r\n\r\n"), -502 },
	{ "obs-fold", RAW("HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n"), -502 },
	{ "bare LF", RAW("HTTP/1.1 200 OK\nContent-Length: 0\n\n"), -502 },
	{ "CTL in reason", RAW("HTTP/1.1 200 O\x01K\r\n\r\n"), -502 },
	{ "SP before colon", RAW("HTTP/1.1 200 OK\r\nContent-Length : 0\r\n"
	  "\r\n"), -502 },
	{ "leading CRLF", RAW("\r\nHTTP/1.1 200 OK\r\n\r\n"), -502 },
};

struct chunk_case {
	const char	*name;
	const char	*raw;
	size_t		 len;
	enum http_chunk_rc rc;
	const char	*data;
	const char	*trailers;
	size_t		 extra;		/* unconsumed bytes after DONE */
	size_t		 max_line;
};

/* 16 bytes a line, 16 lines: exactly the total for max_line 16. */
#define TRL1	"X-Trailer-0: a\r\n"
#define TRL4	TRL1 TRL1 TRL1 TRL1
#define TRL16	TRL4 TRL4 TRL4 TRL4

static const struct chunk_case chunk_cases[] = {
	{ "simple", RAW("5\r\nhello\r\n0\r\n\r\n"), HTTP_CHUNK_DONE, "hello",
	  "" },
	{ "multiple", RAW("5\r\nhello\r\n1\r\n \r\n6\r\nworld!\r\n0\r\n\r\n"),
	  HTTP_CHUNK_DONE, "hello world!", "" },
	{ "hex sizes", RAW("A\r\n0123456789\r\nb\r\nabcdefghijk\r\n0\r\n\r\n"),
	  HTTP_CHUNK_DONE, "0123456789abcdefghijk", "" },
	{ "15 digits", RAW("000000000000005\r\nhello\r\n000\r\n\r\n"),
	  HTTP_CHUNK_DONE, "hello", "" },
	{ "CRLF in data", RAW("4\r\n\r\n\r\n\r\n0\r\n\r\n"), HTTP_CHUNK_DONE,
	  "\r\n\r\n", "" },
	{ "extensions", RAW("5;foo=bar\r\nhello\r\n3 ; a = \"q\\\"x;\" ;b ;c=d"
	  "\r\nabc\r\n0;last\r\n\r\n"), HTTP_CHUNK_DONE, "helloabc", "" },
	{ "trailers", RAW("3\r\nabc\r\n0\r\nX-Sum: 1f\r\nX-B:\r\n\r\n"),
	  HTTP_CHUNK_DONE, "abc", "X-Sum: 1f\r\nX-B:\r\n" },
	{ "pipelined", RAW("3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n"),
	  HTTP_CHUNK_DONE, "abc", "", 16 },
	{ "pipelined after trailer", RAW("0\r\nA: b\r\n\r\n\r\n"),
	  HTTP_CHUNK_DONE, "", "A: b\r\n", 2 },
	{ "incomplete data", RAW("5\r\nhel"), HTTP_CHUNK_AGAIN, "hel", "" },
	{ "incomplete trailer", RAW("0\r\nX-A: b"), HTTP_CHUNK_AGAIN, "", "" },
	{ "ext at max_line", RAW("5;aaaaaa\r\nhello\r\n0\r\n\r\n"),
	  HTTP_CHUNK_DONE, "hello", "", 0, 8 },
	{ "trailer at max_line", RAW("0\r\nAbc: def\r\n\r\n"), HTTP_CHUNK_DONE,
	  "", "Abc: def\r\n", 0, 8 },
	{ "trailers at total", RAW("0\r\n" TRL16 "\r\n"), HTTP_CHUNK_DONE,
	  "", TRL16, 0, 16 },

	{ "0x5", RAW("0x5\r\nhello\r\n0\r\n\r\n"), HTTP_CHUNK_ERROR },
	{ "+5", RAW("+5\r\nhello\r\n0\r\n\r\n"), HTTP_CHUNK_ERROR },
	{ "-5", RAW("-5\r\nhello\r\n0\r\n\r\n"), HTTP_CHUNK_ERROR },
	{ "leading SP", RAW(" 5\r\nhello\r\n0\r\n\r\n"), HTTP_CHUNK_ERROR },
	{ "trailing SP", RAW("5 \r\nhello\r\n0\r\n\r\n"), HTTP_CHUNK_ERROR },
	{ "empty size", RAW("\r\nhello\r\n0\r\n\r\n"), HTTP_CHUNK_ERROR },
	{ "16 digits, leading zeros", RAW("0000000000000005\r\nhello\r\n0\r\n"
	  "\r\n"), HTTP_CHUNK_DONE, "hello", "" },
	{ "16 significant digits", RAW("1000000000000000\r\n"),
	  HTTP_CHUNK_ERROR },
	{ "15 significant digits", RAW("fffffffffffffff\r\n"),
	  HTTP_CHUNK_AGAIN },
	{ "65 digits", RAW("00000000000000000000000000000000000000000000000000"
	  "000000000000005\r\nhello\r\n0\r\n\r\n"), HTTP_CHUNK_ERROR },
	{ "huge size", RAW("ffffffffffffffffff\r\n"), HTTP_CHUNK_ERROR },
	{ "bare LF after size", RAW("5\nhello\r\n0\r\n\r\n"), HTTP_CHUNK_ERROR },
	{ "bare CR after size", RAW("5\rhello\r\n0\r\n\r\n"), HTTP_CHUNK_ERROR },
	{ "data too long", RAW("5\r\nhelloX\r\n0\r\n\r\n"), HTTP_CHUNK_ERROR,
	  "hello" },
	{ "no CRLF after data", RAW("5\r\nhello0\r\n\r\n"), HTTP_CHUNK_ERROR,
	  "hello" },
	{ "bare LF after data", RAW("5\r\nhello\n0\r\n\r\n"), HTTP_CHUNK_ERROR,
	  "hello" },
	{ "empty ext", RAW("5;\r\nhello\r\n0\r\n\r\n"), HTTP_CHUNK_ERROR },
	{ "empty ext value", RAW("5;a=\r\nhello\r\n0\r\n\r\n"),
	  HTTP_CHUNK_ERROR },
	{ "ext trailing SP", RAW("5;a \r\nhello\r\n0\r\n\r\n"),
	  HTTP_CHUNK_ERROR },
	{ "ext open quote", RAW("5;a=\"x\r\nhello\r\n0\r\n\r\n"),
	  HTTP_CHUNK_ERROR },
	{ "ext bad char", RAW("5;a@b\r\nhello\r\n0\r\n\r\n"), HTTP_CHUNK_ERROR },
	{ "ext too long", RAW("5;aaaaaaa\r\nhello\r\n0\r\n\r\n"),
	  HTTP_CHUNK_ERROR, "", "", 0, 8 },
	{ "trailer obs-fold", RAW("0\r\nX: a\r\n b\r\n\r\n"), HTTP_CHUNK_ERROR,
	  "", "X: a\r\n" },
	{ "trailer no colon", RAW("0\r\nXa\r\n\r\n"), HTTP_CHUNK_ERROR },
	{ "trailer bare LF", RAW("0\r\nX: a\n\r\n"), HTTP_CHUNK_ERROR },
	{ "trailer NUL", RAW("0\r\nX: a\0\r\n\r\n"), HTTP_CHUNK_ERROR },
	{ "final bare LF", RAW("0\r\n\n"), HTTP_CHUNK_ERROR },
	{ "final bare CR", RAW("0\r\n\rX"), HTTP_CHUNK_ERROR },
	{ "trailer too long", RAW("0\r\nAbcd: def\r\n\r\n"), HTTP_CHUNK_ERROR,
	  "", "", 0, 8 },
	{ "trailers over total", RAW("0\r\n" TRL16 TRL1 "\r\n"),
	  HTTP_CHUNK_ERROR, "", TRL16, 0, 16 },
};

/* A copy of exactly n bytes, so ASan sees any read past the end. */
static char *
dup_exact(const char *s, size_t n)
{
	char		*p;

	p = malloc(n ? n : 1);
	ck_assert_ptr_nonnull(p);
	memcpy(p, s, n);
	return p;
}

static int
span_eq(const char *p, size_t len, const char *want)
{
	return want != NULL && len == strlen(want) &&
	    memcmp(p, want, len) == 0;
}

/* Same parse outcome, pointers compared by content. */
static int
span_same(const char *a, size_t alen, const char *b, size_t blen)
{
	if ((a == NULL) != (b == NULL) || alen != blen)
		return 0;
	return alen == 0 || memcmp(a, b, alen) == 0;
}

static int
fields_same(const struct http_field *a, const struct http_field *b,
    unsigned n)
{
	unsigned	 i;

	for (i = 0; i < n; i++)
		if (!span_same(a[i].name, a[i].name_len, b[i].name,
		    b[i].name_len) || !span_same(a[i].value, a[i].value_len,
		    b[i].value, b[i].value_len) || a[i].id != b[i].id)
			return 0;
	return 1;
}

static int
req_same(const struct http_request *a, const struct http_request *b)
{
	return a->method == b->method && a->version == b->version &&
	    a->body == b->body && a->content_length == b->content_length &&
	    a->flags == b->flags && a->head_len == b->head_len &&
	    a->nfields == b->nfields &&
	    span_same(a->method_str, a->method_len, b->method_str,
	    b->method_len) &&
	    span_same(a->target, a->target_len, b->target, b->target_len) &&
	    span_same(a->host, a->host_len, b->host, b->host_len) &&
	    fields_same(a->fields, b->fields, a->nfields);
}

static int
resp_same(const struct http_response *a, const struct http_response *b)
{
	return a->status == b->status && a->version == b->version &&
	    a->body == b->body && a->content_length == b->content_length &&
	    a->flags == b->flags && a->head_len == b->head_len &&
	    a->nfields == b->nfields &&
	    span_same(a->reason, a->reason_len, b->reason, b->reason_len) &&
	    fields_same(a->fields, b->fields, a->nfields);
}

/*
 * Parse raw whole, then byte by byte, and check the two agree: the byte
 * by byte run must return 0 until it returns the whole run's answer, and
 * a complete head must show up exactly when its last byte arrives.
 * Returns the whole run's code; *whole holds its parse.
 */
static int
req_both(const char *name, const char *raw, size_t len,
    const struct http_limits *lim, struct http_request *whole)
{
	static struct http_request part;
	char		*wbuf, *pbuf;
	size_t		 n;
	int		 rc, prc = 0;

	wbuf = dup_exact(raw, len);
	rc = http_parse_request(whole, wbuf, len, lim);
	for (n = 1; n <= len; n++) {
		pbuf = dup_exact(raw, n);
		prc = http_parse_request(&part, pbuf, n, lim);
		if (prc != 0) {
			ck_assert_msg(prc == rc, "%s: byte %zu: got %d, whole "
			    "gave %d", name, n, prc, rc);
			if (rc > 0) {
				ck_assert_msg((size_t)rc == n, "%s: head done "
				    "at %zu, not %d", name, n, rc);
				ck_assert_msg(req_same(whole, &part),
				    "%s: fields differ", name);
			}
			free(pbuf);
			break;
		}
		free(pbuf);
	}
	if (prc == 0)
		ck_assert_msg(rc == 0, "%s: byte by byte incomplete, whole "
		    "gave %d", name, rc);
	/* Keep the strings of *whole valid for the caller. */
	if (rc > 0) {
		whole->method_str = raw + (whole->method_str - wbuf);
		if (whole->target != NULL && whole->target >= wbuf &&
		    whole->target < wbuf + len)
			whole->target = raw + (whole->target - wbuf);
		if (whole->host != NULL)
			whole->host = raw + (whole->host - wbuf);
	}
	free(wbuf);
	return rc;
}

static int
resp_both(const char *name, const char *raw, size_t len,
    enum http_method m, struct http_response *whole)
{
	static struct http_response part;
	char		*wbuf, *pbuf;
	size_t		 n;
	int		 rc, prc = 0;

	wbuf = dup_exact(raw, len);
	rc = http_parse_response(whole, wbuf, len, m, &lim_def);
	for (n = 1; n <= len; n++) {
		pbuf = dup_exact(raw, n);
		prc = http_parse_response(&part, pbuf, n, m, &lim_def);
		if (prc != 0) {
			ck_assert_msg(prc == rc, "%s: byte %zu: got %d, whole "
			    "gave %d", name, n, prc, rc);
			if (rc > 0) {
				ck_assert_msg((size_t)rc == n, "%s: head done "
				    "at %zu, not %d", name, n, rc);
				ck_assert_msg(resp_same(whole, &part),
				    "%s: fields differ", name);
			}
			free(pbuf);
			break;
		}
		free(pbuf);
	}
	if (prc == 0)
		ck_assert_msg(rc == 0, "%s: byte by byte incomplete, whole "
		    "gave %d", name, rc);
	if (rc > 0 && whole->reason != NULL)
		whole->reason = raw + (whole->reason - wbuf);
	free(wbuf);
	return rc;
}

START_TEST(test_request)
{
	static struct http_request req;
	const struct req_case *tc = &req_cases[_i];
	int		 rc;

	rc = req_both(tc->name, tc->raw, tc->len,
	    tc->lim ? tc->lim : &lim_def, &req);
	if (tc->rc != GOOD) {
		ck_assert_msg(rc == tc->rc, "%s: got %d, want %d", tc->name, rc,
		    tc->rc);
		return;
	}
	ck_assert_msg(rc == (int)(tc->len - tc->extra), "%s: got %d, want "
	    "%zu", tc->name, rc, tc->len - tc->extra);
	ck_assert_msg(req.head_len == (size_t)rc, "%s: head_len", tc->name);
	ck_assert_msg(req.method == tc->method, "%s: method %d", tc->name,
	    req.method);
	ck_assert_msg(span_eq(req.target, req.target_len, tc->target),
	    "%s: target \"%.*s\"", tc->name, (int)req.target_len, req.target);
	if (tc->host == NULL)
		ck_assert_msg(req.host == NULL && req.host_len == 0,
		    "%s: host set", tc->name);
	else
		ck_assert_msg(span_eq(req.host, req.host_len, tc->host),
		    "%s: host \"%.*s\"", tc->name, (int)req.host_len,
		    req.host);
	ck_assert_msg(req.version == tc->version, "%s: version %d", tc->name,
	    req.version);
	ck_assert_msg(req.body == tc->body, "%s: body %d", tc->name,
	    req.body);
	ck_assert_msg(req.content_length == tc->cl, "%s: content_length",
	    tc->name);
	ck_assert_msg(req.flags == tc->flags, "%s: flags %#x, want %#x",
	    tc->name, req.flags, tc->flags);
	ck_assert_msg(req.nfields == tc->nfields, "%s: nfields %u", tc->name,
	    req.nfields);
}
END_TEST

START_TEST(test_response)
{
	static struct http_response resp;
	const struct resp_case *tc = &resp_cases[_i];
	int		 rc;

	rc = resp_both(tc->name, tc->raw, tc->len, tc->method, &resp);
	if (tc->rc != GOOD) {
		ck_assert_msg(rc == tc->rc, "%s: got %d, want %d", tc->name, rc,
		    tc->rc);
		return;
	}
	ck_assert_msg(rc == (int)(tc->len - tc->extra), "%s: got %d",
	    tc->name, rc);
	ck_assert_msg(resp.status == tc->status, "%s: status %d", tc->name,
	    resp.status);
	ck_assert_msg(resp.version == tc->version, "%s: version", tc->name);
	ck_assert_msg(resp.body == tc->body, "%s: body %d", tc->name,
	    resp.body);
	ck_assert_msg(resp.content_length == tc->cl, "%s: content_length",
	    tc->name);
	ck_assert_msg(resp.flags == tc->flags, "%s: flags %#x", tc->name,
	    resp.flags);
	if (tc->reason == NULL)
		ck_assert_msg(resp.reason == NULL, "%s: reason set", tc->name);
	else
		ck_assert_msg(span_eq(resp.reason, resp.reason_len, tc->reason),
		    "%s: reason", tc->name);
}
END_TEST

/*
 * Drive the chunked decoder the way a connection would: the input shows
 * up step bytes at a time, consumed bytes are dropped, unconsumed ones
 * are presented again at the front of the next call.
 */
struct chunk_out {
	enum http_chunk_rc rc;
	char		 data[1024];
	size_t		 dlen;
	char		 trl[1024];
	size_t		 tlen;
	size_t		 consumed;
};

static void
chunk_feed(const char *raw, size_t len, size_t max_line, size_t step,
    struct chunk_out *o)
{
	struct http_chunked c;
	enum http_chunk_rc rc;
	const char	*out;
	char		*buf;
	size_t		 off = 0, avail = 0, n, used, olen;

	memset(o, 0, sizeof(*o));
	http_chunked_init(&c, max_line);
	for (;;) {
		avail = avail + step >= len ? len : avail + step;
		for (;;) {
			n = avail - off;
			buf = dup_exact(raw + off, n);
			rc = http_chunked_decode(&c, buf, n, &used, &out, &olen);
			ck_assert(used <= n);
			if (rc == HTTP_CHUNK_DATA || rc == HTTP_CHUNK_TRAILER) {
				ck_assert(used > 0 && olen > 0);
				ck_assert(out >= buf && out + olen <= buf + n);
			}
			if (rc == HTTP_CHUNK_DATA) {
				ck_assert(o->dlen + olen <= sizeof(o->data));
				memcpy(o->data + o->dlen, out, olen);
				o->dlen += olen;
			} else if (rc == HTTP_CHUNK_TRAILER) {
				ck_assert(olen >= 2 && out[olen - 2] == '\r' &&
				    out[olen - 1] == '\n');
				ck_assert(o->tlen + olen <= sizeof(o->trl));
				memcpy(o->trl + o->tlen, out, olen);
				o->tlen += olen;
			}
			free(buf);
			off += used;
			if (rc == HTTP_CHUNK_DONE || rc == HTTP_CHUNK_ERROR) {
				o->rc = rc;
				o->consumed = off;
				return;
			}
			if (rc == HTTP_CHUNK_AGAIN)
				break;
		}
		if (avail == len) {
			o->rc = HTTP_CHUNK_AGAIN;
			o->consumed = off;
			return;
		}
	}
}

static const size_t chunk_steps[] = { 0, 1, 2, 3, 5, 7 };	/* 0: whole */

/* Whole and every step size give the same outcome, data and trailers. */
static void
chunk_both(const char *name, const char *raw, size_t len, size_t max_line,
    struct chunk_out *whole)
{
	static struct chunk_out o;
	size_t		 i;

	chunk_feed(raw, len, max_line, len ? len : 1, whole);
	for (i = 1; i < NELEM(chunk_steps); i++) {
		chunk_feed(raw, len, max_line, chunk_steps[i], &o);
		ck_assert_msg(o.rc == whole->rc, "%s: step %zu: rc %d, whole "
		    "%d", name, chunk_steps[i], o.rc, whole->rc);
		ck_assert_msg(o.dlen == whole->dlen &&
		    memcmp(o.data, whole->data, o.dlen) == 0,
		    "%s: step %zu: data differs", name, chunk_steps[i]);
		ck_assert_msg(o.tlen == whole->tlen &&
		    memcmp(o.trl, whole->trl, o.tlen) == 0,
		    "%s: step %zu: trailers differ", name, chunk_steps[i]);
		if (o.rc == HTTP_CHUNK_DONE)
			ck_assert_msg(o.consumed == whole->consumed,
			    "%s: step %zu: used %zu, whole %zu", name,
			    chunk_steps[i], o.consumed, whole->consumed);
	}
}

START_TEST(test_chunked)
{
	static struct chunk_out o;
	const struct chunk_case *tc = &chunk_cases[_i];
	const char	*data = tc->data ? tc->data : "";
	const char	*trl = tc->trailers ? tc->trailers : "";

	chunk_both(tc->name, tc->raw, tc->len, tc->max_line, &o);
	ck_assert_msg(o.rc == tc->rc, "%s: rc %d, want %d", tc->name, o.rc,
	    tc->rc);
	ck_assert_msg(o.dlen == strlen(data) &&
	    memcmp(o.data, data, o.dlen) == 0, "%s: data \"%.*s\"", tc->name,
	    (int)o.dlen, o.data);
	ck_assert_msg(o.tlen == strlen(trl) && memcmp(o.trl, trl, o.tlen) == 0,
	    "%s: trailers \"%.*s\"", tc->name, (int)o.tlen, o.trl);
	if (tc->rc == HTTP_CHUNK_DONE)
		ck_assert_msg(o.consumed == tc->len - tc->extra,
		    "%s: consumed %zu, want %zu", tc->name, o.consumed,
		    tc->len - tc->extra);
}
END_TEST

START_TEST(test_chunked_after_done)
{
	struct http_chunked c;
	const char	*out;
	size_t		 used, olen;

	http_chunked_init(&c, 0);
	ck_assert_int_eq(http_chunked_decode(&c, "0\r\n\r\nX", 6, &used,
	    &out, &olen), HTTP_CHUNK_DONE);
	ck_assert_uint_eq(used, 5);
	/* Once done it stays done and eats nothing more. */
	ck_assert_int_eq(http_chunked_decode(&c, "X", 1, &used, &out, &olen),
	    HTTP_CHUNK_DONE);
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(http_chunked_decode(&c, "", 0, &used, &out, &olen),
	    HTTP_CHUNK_DONE);

	http_chunked_init(&c, 0);
	ck_assert_int_eq(http_chunked_decode(&c, "g", 1, &used, &out, &olen),
	    HTTP_CHUNK_ERROR);
	ck_assert_int_eq(http_chunked_decode(&c, "0\r\n\r\n", 5, &used, &out,
	    &olen), HTTP_CHUNK_ERROR);
}
END_TEST

START_TEST(test_field_ids)
{
	static const struct {
		const char	*name;
		enum http_hdr	 id;
	} t[] = {
		{ "Connection", HTTP_H_CONNECTION },
		{ "content-LENGTH", HTTP_H_CONTENT_LENGTH },
		{ "Expect", HTTP_H_EXPECT }, { "HOST", HTTP_H_HOST },
		{ "HTTP2-Settings", HTTP_H_HTTP2_SETTINGS },
		{ "Keep-Alive", HTTP_H_KEEP_ALIVE },
		{ "Proxy-Connection", HTTP_H_PROXY_CONNECTION },
		{ "Server", HTTP_H_SERVER }, { "te", HTTP_H_TE },
		{ "Transfer-Encoding", HTTP_H_TRANSFER_ENCODING },
		{ "Upgrade", HTTP_H_UPGRADE },
		{ "X-Client-Subject", HTTP_H_X_CLIENT_SUBJECT },
		{ "x-client-verify", HTTP_H_X_CLIENT_VERIFY },
		{ "X-Forwarded-For", HTTP_H_X_FORWARDED_FOR },
		{ "X-Forwarded-Host", HTTP_H_X_FORWARDED_HOST },
		{ "X-Forwarded-Proto", HTTP_H_X_FORWARDED_PROTO },
		/* near misses */
		{ "Hosts", HTTP_H_OTHER }, { "Hos", HTTP_H_OTHER },
		{ "t", HTTP_H_OTHER }, { "TEE", HTTP_H_OTHER },
		{ "Content-Lengthx", HTTP_H_OTHER },
		{ "Transfer-Encodinx", HTTP_H_OTHER },
		{ "X-Forwarded-Fo", HTTP_H_OTHER }, { "Via", HTTP_H_OTHER },
	};
	struct http_request req;
	const char	*r;
	size_t		 i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		ck_assert_msg(http_hdr_lookup(t[i].name, strlen(t[i].name)) ==
		    t[i].id, "%s", t[i].name);

	/* The parser marks every field it stores. */
	r = "GET / HTTP/1.1\r\nhost: a\r\nX-Other: 1\r\n"
	    "CONNECTION: keep-alive\r\n\r\n";
	ck_assert_int_gt(http_parse_request(&req, r, strlen(r), NULL), 0);
	ck_assert_uint_eq(req.nfields, 3);
	ck_assert_int_eq(req.fields[0].id, HTTP_H_HOST);
	ck_assert_int_eq(req.fields[1].id, HTTP_H_OTHER);
	ck_assert_int_eq(req.fields[2].id, HTTP_H_CONNECTION);
	ck_assert_uint_eq(req.flags & (HTTP_F_CONN_KEEPALIVE |
	    HTTP_F_CONN_OTHER), HTTP_F_CONN_KEEPALIVE);

	/* A Connection token that is not an option names a field. */
	r = "GET / HTTP/1.1\r\nHost: a\r\nConnection: close, X-Secret\r\n"
	    "X-Secret: 1\r\n\r\n";
	ck_assert_int_gt(http_parse_request(&req, r, strlen(r), NULL), 0);
	ck_assert_uint_eq(req.flags & (HTTP_F_CONN_CLOSE | HTTP_F_CONN_OTHER),
	    HTTP_F_CONN_CLOSE | HTTP_F_CONN_OTHER);
	r = "GET / HTTP/1.1\r\nHost: a\r\nConnection: , Upgrade ,\r\n\r\n";
	ck_assert_int_gt(http_parse_request(&req, r, strlen(r), NULL), 0);
	ck_assert_uint_eq(req.flags & (HTTP_F_CONN_UPGRADE | HTTP_F_CONN_OTHER),
	    HTTP_F_CONN_UPGRADE);
	r = "GET / HTTP/1.1\r\nHost: a\r\nConnection: a b\r\n\r\n";
	ck_assert_int_eq(http_parse_request(&req, r, strlen(r), NULL), -400);

	/* "_" for "-" in a name porter acts on: a look-alike */
	r = "GET / HTTP/1.1\r\nHost: a\r\nTransfer_Encoding: chunked\r\n"
	    "x_client_verify: SUCCESS\r\nX_Other: 1\r\nContent_Length: 5\r\n"
	    "X-Forwarded_For: 1.2.3.4\r\n\r\n";
	ck_assert_int_gt(http_parse_request(&req, r, strlen(r), NULL), 0);
	ck_assert_uint_eq(req.nfields, 6);
	ck_assert_int_eq(req.fields[1].id, HTTP_H_LOOKALIKE);
	ck_assert_int_eq(req.fields[2].id, HTTP_H_LOOKALIKE);
	ck_assert_int_eq(req.fields[3].id, HTTP_H_OTHER);
	ck_assert_int_eq(req.fields[4].id, HTTP_H_LOOKALIKE);
	ck_assert_int_eq(req.fields[5].id, HTTP_H_LOOKALIKE);
	ck_assert_int_eq(req.body, HTTP_BODY_NONE);
}
END_TEST

START_TEST(test_helpers)
{
	static const struct http_field f[] = {
		{ "Host", 4, "h", 1, HTTP_H_OTHER },
		{ "X-A", 3, "1", 1, HTTP_H_OTHER },
		{ "x-a", 3, "2", 1, HTTP_H_OTHER },
	};
	const struct http_field *p;

	p = http_field_find(f, 3, "x-A");
	ck_assert_ptr_eq(p, &f[1]);
	ck_assert_ptr_eq(http_field_find(f, 3, "HOST"), &f[0]);
	ck_assert_ptr_null(http_field_find(f, 3, "X"));
	ck_assert_ptr_null(http_field_find(f, 3, "X-AB"));
	ck_assert_ptr_null(http_field_find(f, 0, "Host"));

	ck_assert(http_list_has("keep-alive, Upgrade", 19, "upgrade"));
	ck_assert(http_list_has("keep-alive, Upgrade", 19, "Keep-Alive"));
	ck_assert(!http_list_has("keep-alive", 10, "alive"));
	ck_assert(!http_list_has("keep-alive", 10, "keep"));
	ck_assert(http_list_has(" ,\tclose\t, ", 11, "close"));
	ck_assert(!http_list_has("closed", 6, "close"));
	ck_assert(!http_list_has("close;x", 7, "close"));
	ck_assert(!http_list_has("", 0, "close"));
	/* len is honoured: the token past it does not count. */
	ck_assert(!http_list_has("a, close", 1, "close"));

	ck_assert_int_eq(http_method_lookup("GET", 3), HTTP_M_GET);
	ck_assert_int_eq(http_method_lookup("HEAD", 4), HTTP_M_HEAD);
	ck_assert_int_eq(http_method_lookup("POST", 4), HTTP_M_POST);
	ck_assert_int_eq(http_method_lookup("PUT", 3), HTTP_M_PUT);
	ck_assert_int_eq(http_method_lookup("DELETE", 6), HTTP_M_DELETE);
	ck_assert_int_eq(http_method_lookup("OPTIONS", 7), HTTP_M_OPTIONS);
	ck_assert_int_eq(http_method_lookup("TRACE", 5), HTTP_M_TRACE);
	ck_assert_int_eq(http_method_lookup("PATCH", 5), HTTP_M_PATCH);
	ck_assert_int_eq(http_method_lookup("CONNECT", 7), HTTP_M_CONNECT);
	ck_assert_int_eq(http_method_lookup("get", 3), HTTP_M_OTHER);
	ck_assert_int_eq(http_method_lookup("GETX", 3), HTTP_M_GET);
	ck_assert_int_eq(http_method_lookup("GE", 2), HTTP_M_OTHER);
}
END_TEST

/* max_headers above HTTP_MAX_HEADERS is capped at the array size. */
START_TEST(test_hard_cap)
{
	static struct http_request req;
	static const struct http_limits big = { 65536, 1024, 1000 };
	static char	 buf[8192];
	size_t		 len;
	int		 i;

	len = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n");
	for (i = 0; i < HTTP_MAX_HEADERS; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "%s: %d\r\n", i == 0 ? "Host" : "X", i);
	memcpy(buf + len, "\r\n", 2);
	ck_assert_int_eq(http_parse_request(&req, buf, len + 2, &big),
	    (int)len + 2);
	ck_assert_uint_eq(req.nfields, HTTP_MAX_HEADERS);
	len += (size_t)snprintf(buf + len, sizeof(buf) - len, "X: y\r\n\r\n");
	ck_assert_int_eq(http_parse_request(&req, buf, len, &big), -431);

	/* A NULL or zeroed limits struct means the defaults. */
	ck_assert_int_eq(http_parse_request(&req, S_GET, sizeof(S_GET) - 1,
	    NULL), (int)sizeof(S_GET) - 1);
	ck_assert_int_eq(http_parse_request(&req, S_GET, sizeof(S_GET) - 1,
	    &(const struct http_limits){ 0, 0, 0 }), (int)sizeof(S_GET) - 1);
}
END_TEST

/* Tiny deterministic PRNG so failures reproduce. */
static uint32_t
rnd(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

/*
 * Mutate raw: overwrite, insert or delete one or two bytes, drawing from
 * the characters that matter to the grammar.
 */
static size_t
mutate(const char *raw, size_t len, char *out, size_t cap, uint32_t *seed)
{
	static const char pick[] = "\r\n \t:,;\"=\\/@*?[]0123456789aAfFxX"
	    "\0\x01\x7f\x80\xff";
	size_t		 pos, n = len, k, rounds = 1 + rnd(seed) % 2;
	char		 ch;

	ck_assert(len + 2 <= cap);
	memcpy(out, raw, len);
	for (k = 0; k < rounds; k++) {
		pos = n ? rnd(seed) % n : 0;
		ch = pick[rnd(seed) % (sizeof(pick) - 1)];
		switch (rnd(seed) % 3) {
		case 0:
			if (n > 0)
				out[pos] = ch;
			break;
		case 1:
			memmove(out + pos + 1, out + pos, n - pos);
			out[pos] = ch;
			n++;
			break;
		default:
			if (n > 0) {
				memmove(out + pos, out + pos + 1, n - pos - 1);
				n--;
			}
			break;
		}
	}
	return n;
}

/*
 * req_both() and friends assert whole versus byte-by-byte agreement, so
 * the mutants need no expected results.  Fixed seeds: failures reproduce.
 */
START_TEST(test_mutants_req)
{
	static struct http_request req;
	const struct req_case *tc;
	char		 buf[512];
	uint32_t	 seed = 0x9e3779b9u;
	size_t		 i, n;
	int		 k;

	for (i = 0; i < NELEM(req_cases); i++) {
		tc = &req_cases[i];
		for (k = 0; k < MUTATIONS; k++) {
			n = mutate(tc->raw, tc->len, buf, sizeof(buf), &seed);
			req_both(tc->name, buf, n, tc->lim ? tc->lim :
			    &lim_def, &req);
		}
	}
}
END_TEST

START_TEST(test_mutants_resp)
{
	static struct http_response resp;
	const struct resp_case *tc;
	char		 buf[512];
	uint32_t	 seed = 0x85ebca6bu;
	size_t		 i, n;
	int		 k;

	for (i = 0; i < NELEM(resp_cases); i++) {
		tc = &resp_cases[i];
		for (k = 0; k < MUTATIONS; k++) {
			n = mutate(tc->raw, tc->len, buf, sizeof(buf), &seed);
			resp_both(tc->name, buf, n, tc->method, &resp);
		}
	}
}
END_TEST

START_TEST(test_mutants_chunked)
{
	static struct chunk_out o;
	const struct chunk_case *tc;
	char		 buf[512];
	uint32_t	 seed = 0xc2b2ae35u;
	size_t		 i, n;
	int		 k;

	for (i = 0; i < NELEM(chunk_cases); i++) {
		tc = &chunk_cases[i];
		for (k = 0; k < MUTATIONS; k++) {
			n = mutate(tc->raw, tc->len, buf, sizeof(buf), &seed);
			chunk_both(tc->name, buf, n, tc->max_line, &o);
		}
	}
}
END_TEST

/*
 * Mutants whose verdict the grammar decides, one mutation each, made of
 * every valid case: a field picked at random, then one of
 *   MV_CTL      NUL, 0x01 or DEL written over or put before any byte of
 *               the head: nothing in a head may hold one (RFC 9110 5.5,
 *               RFC 9112 3): rejected;
 *   MV_NAME     a byte that is not a tchar put inside the field's name:
 *               rejected (RFC 9110 5.1);
 *   MV_COLON    SP or HTAB put right before its colon: rejected (RFC 9112
 *               5.1);
 *   MV_BREAK    a bare CR or LF put inside its value: rejected (RFC 9112
 *               2.2);
 *   MV_VALUE    a visible character or obs-text written over or put
 *               inside the value of a field porter gives no meaning to
 *               (HTTP_H_OTHER): accepted, the head as long as before (one
 *               more byte when put in), the same number of fields, that
 *               field's value as long as before (or one longer).
 * The result of the mutation goes to out; returns the kind, with *want
 * the expected head length (MV_VALUE) or -1 (rejected) and *fi, *vlen
 * the field changed and its expected value length.
 */
enum mv_kind { MV_CTL, MV_NAME, MV_COLON, MV_BREAK, MV_VALUE, MV_KINDS };

static enum mv_kind
verdict_mutate(const char *raw, size_t len, size_t head,
    const struct http_field *fields, unsigned nfields, char *out,
    size_t *outlen, uint32_t *seed, long *want, unsigned *fi, size_t *vlen)
{
	static const char ctl[] = { '\0', '\x01', '\x7f' };
	static const char nontchar[] = "\"(),/;<=>?@[\\]{} \t\x01\x80\xff";
	static const char visible[] = "aZ09:,;\"=\\/@*?[]~!\x80\xff";
	const struct http_field *f;
	enum mv_kind	 kind;
	size_t		 pos, vstart;
	int		 over = 0;
	char		 ch;
	unsigned	 i, tries;

	kind = (enum mv_kind)(rnd(seed) % MV_KINDS);
	*fi = nfields ? (unsigned)(rnd(seed) % nfields) : 0;
	if (nfields == 0)
		kind = MV_CTL;
	if (kind == MV_VALUE) {
		/* a field porter does not interpret; none: a CTL instead */
		for (tries = 0, i = *fi; tries < nfields; tries++,
		    i = (i + 1) % nfields)
			if (fields[i].id == HTTP_H_OTHER)
				break;
		if (tries == nfields)
			kind = MV_CTL;
		else
			*fi = i;
	}
	f = &fields[*fi];
	vstart = (size_t)(f->value - raw);
	*want = -1;
	*vlen = f->value_len;
	switch (kind) {
	case MV_CTL:
		ch = ctl[rnd(seed) % sizeof(ctl)];
		pos = rnd(seed) % head;
		over = rnd(seed) % 2;
		break;
	case MV_NAME:
		ch = nontchar[rnd(seed) % (sizeof(nontchar) - 1)];
		if (f->name_len < 2) {
			/* no inside: before the colon, as MV_COLON */
			ch = ' ';
			pos = (size_t)(f->name - raw) + f->name_len;
		} else
			pos = (size_t)(f->name - raw) + 1 +
			    rnd(seed) % (f->name_len - 1);
		break;
	case MV_COLON:
		ch = rnd(seed) % 2 ? ' ' : '\t';
		pos = (size_t)(f->name - raw) + f->name_len;
		break;
	case MV_BREAK:
		ch = rnd(seed) % 2 ? '\r' : '\n';
		pos = vstart + rnd(seed) % (f->value_len + 1);
		break;
	default:
		ch = visible[rnd(seed) % (sizeof(visible) - 1)];
		over = f->value_len > 0 && rnd(seed) % 2;
		pos = vstart + rnd(seed) % (f->value_len + !over);
		*want = (long)head + !over;
		*vlen = f->value_len + !over;
		break;
	}
	ck_assert(pos <= len);
	memcpy(out, raw, pos);
	out[pos] = ch;
	memcpy(out + pos + 1, raw + pos + over, len - pos - over);
	*outlen = len + 1 - (size_t)over;
	return kind;
}

START_TEST(test_mutant_verdicts_req)
{
	static struct http_request orig, req;
	static const char *kinds[] = { "ctl", "name", "colon", "break",
	    "value" };
	const struct req_case *tc;
	char		 copy[512], buf[520];
	uint32_t	 seed = 0x2545f491u;
	unsigned	 fi, seen[MV_KINDS] = { 0 };
	size_t		 i, n, vlen;
	long		 want;
	int		 k, rc;
	enum mv_kind	 kind;

	for (i = 0; i < NELEM(req_cases); i++) {
		tc = &req_cases[i];
		if (tc->rc != GOOD || tc->lim != NULL)
			continue;
		memcpy(copy, tc->raw, tc->len);
		rc = http_parse_request(&orig, copy, tc->len, &lim_def);
		ck_assert_msg(rc > 0, "%s: %d", tc->name, rc);
		for (k = 0; k < MUTATIONS; k++) {
			kind = verdict_mutate(copy, tc->len, (size_t)rc,
			    orig.fields, orig.nfields, buf, &n, &seed, &want,
			    &fi, &vlen);
			seen[kind]++;
			if (want < 0) {
				ck_assert_msg(req_both(tc->name, buf, n, &lim_def,
				    &req) == -400, "%s: %s mutant %d not "
				    "rejected", tc->name, kinds[kind], k);
				continue;
			}
			ck_assert_msg(req_both(tc->name, buf, n, &lim_def, &req)
			    == want, "%s: %s mutant %d: not %ld", tc->name,
			    kinds[kind], k, want);
			ck_assert_uint_eq(req.nfields, orig.nfields);
			ck_assert_uint_eq(req.fields[fi].value_len, vlen);
			ck_assert_uint_eq(req.target_len, orig.target_len);
			ck_assert_int_eq(req.body, orig.body);
		}
	}
	/* every kind was drawn, many times */
	for (k = 0; k < MV_KINDS; k++)
		ck_assert_msg(seen[k] > 40, "%s: %u", kinds[k], seen[k]);
}
END_TEST

START_TEST(test_mutant_verdicts_resp)
{
	static struct http_response orig, resp;
	const struct resp_case *tc;
	char		 copy[512], buf[520];
	uint32_t	 seed = 0x68e31da4u;
	unsigned	 fi, seen[MV_KINDS] = { 0 };
	size_t		 i, n, vlen;
	long		 want;
	int		 k, rc;
	enum mv_kind	 kind;

	for (i = 0; i < NELEM(resp_cases); i++) {
		tc = &resp_cases[i];
		if (tc->rc != GOOD)
			continue;
		memcpy(copy, tc->raw, tc->len);
		rc = http_parse_response(&orig, copy, tc->len, tc->method,
		    &lim_def);
		ck_assert_msg(rc > 0, "%s: %d", tc->name, rc);
		for (k = 0; k < MUTATIONS; k++) {
			kind = verdict_mutate(copy, tc->len, (size_t)rc,
			    orig.fields, orig.nfields, buf, &n, &seed, &want,
			    &fi, &vlen);
			seen[kind]++;
			rc = resp_both(tc->name, buf, n, tc->method, &resp);
			if (want < 0) {
				ck_assert_msg(rc == -502, "%s: mutant %d (kind "
				    "%d) not rejected: %d", tc->name, k, kind,
				    rc);
				rc = http_parse_response(&orig, copy, tc->len,
				    tc->method, &lim_def);
				continue;
			}
			ck_assert_msg(rc == want, "%s: mutant %d (kind %d): "
			    "%d, not %ld", tc->name, k, kind, rc, want);
			ck_assert_uint_eq(resp.nfields, orig.nfields);
			ck_assert_uint_eq(resp.fields[fi].value_len, vlen);
			ck_assert_int_eq(resp.status, orig.status);
			rc = http_parse_response(&orig, copy, tc->len,
			    tc->method, &lim_def);
		}
	}
	for (k = 0; k < MV_KINDS; k++)
		ck_assert_msg(seen[k] > 40, "kind %d: %u", k, seen[k]);
}
END_TEST

static Suite *
http_parse_suite(void)
{
	Suite		*s;
	TCase		*tc;

	s = suite_create("http_parse");

	tc = tcase_create("request");
	tcase_add_loop_test(tc, test_request, 0, (int)NELEM(req_cases));
	tcase_add_test(tc, test_hard_cap);
	suite_add_tcase(s, tc);

	tc = tcase_create("response");
	tcase_add_loop_test(tc, test_response, 0, (int)NELEM(resp_cases));
	suite_add_tcase(s, tc);

	tc = tcase_create("chunked");
	tcase_add_loop_test(tc, test_chunked, 0, (int)NELEM(chunk_cases));
	tcase_add_test(tc, test_chunked_after_done);
	suite_add_tcase(s, tc);

	tc = tcase_create("helpers");
	tcase_add_test(tc, test_helpers);
	tcase_add_test(tc, test_field_ids);
	suite_add_tcase(s, tc);

	tc = tcase_create("mutants");
	/* Seconds under ASan, more under valgrind: beyond check's 4s. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_mutants_req);
	tcase_add_test(tc, test_mutants_resp);
	tcase_add_test(tc, test_mutants_chunked);
	tcase_add_test(tc, test_mutant_verdicts_req);
	tcase_add_test(tc, test_mutant_verdicts_resp);
	suite_add_tcase(s, tc);

	return s;
}

int
main(void)
{
	SRunner		*sr;
	int		 failed;

	sr = srunner_create(http_parse_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
