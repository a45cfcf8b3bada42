/*
 * fuzz_response.c - libFuzzer target for http_parse_response().
 *
 * The input is one response head (plus whatever follows).  For a GET and
 * for a HEAD request, and with the default limits and small ones, it is
 * parsed whole and then prefix by prefix; as for requests, every prefix
 * must answer 0 or the whole-input answer, never 0 again after a non-zero
 * answer, and the same length once the head is complete.  A complete
 * head is checked for consistency (status, body framing, spans inside the
 * input), and the HEAD parse must accept whatever the GET parse accepts
 * (without a body, Content-Length and Transfer-Encoding are only
 * syntax-checked), with the same length and fields.  Any violation aborts.
 *
 * Build: clang -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc \
 *	t/fuzz/fuzz_response.c src/http_parse.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_parse.h"

#define FUZZ_NAME "fuzz_response"
#include "fuzz.h"


#define TAIL_CHECKS	64

static const struct http_limits small_limits = {
	160,	/* max_header_size */
	16,	/* max_uri_length (unused by responses) */
	4	/* max_headers */
};

static void
check_response(const struct http_response *r, int rc, const char *buf,
    size_t len, enum http_method m, const struct http_limits *lim)
{
	size_t		 head = (size_t)rc;
	unsigned	 maxf;
	int		 nobody;

	maxf = lim && lim->max_headers ? lim->max_headers : 100;
	if (maxf > HTTP_MAX_HEADERS)
		maxf = HTTP_MAX_HEADERS;
	CHECK(head <= len);
	CHECK(r->head_len == head);
	CHECK(head >= 14);	/* "HTTP/1.1 200\r\n" */
	CHECK(buf[head - 2] == '\r' && buf[head - 1] == '\n');
	if (lim && lim->max_header_size)
		CHECK(head <= lim->max_header_size);
	CHECK(r->status >= 100 && r->status <= 599);
	CHECK(r->version == 10 || r->version == 11);
	if (r->reason != NULL)
		CHECK(fuzz_inside(r->reason, r->reason_len, buf, head));
	else
		CHECK(r->reason_len == 0);
	CHECK(r->nfields <= maxf);
	fuzz_check_fields(r->fields, r->nfields, buf, head);
	nobody = m == HTTP_M_HEAD || r->status < 200 || r->status == 204 ||
	    r->status == 304;
	if (nobody)
		CHECK(r->body == HTTP_BODY_NONE);
	switch (r->body) {
	case HTTP_BODY_NONE:
	case HTTP_BODY_CLOSE:
		CHECK(r->content_length == 0);
		break;
	case HTTP_BODY_LENGTH:
		CHECK(r->content_length > 0 &&
		    r->content_length <= ((uint64_t)1 << 62));
		CHECK(http_field_find(r->fields, r->nfields,
		    "transfer-encoding") == NULL);
		break;
	case HTTP_BODY_CHUNKED:
		CHECK(r->content_length == 0);
		CHECK(r->version == 11);
		CHECK(http_field_find(r->fields, r->nfields,
		    "content-length") == NULL);
		break;
	default:
		FAIL("response body kind %d", (int)r->body);
	}
	if (r->body == HTTP_BODY_CLOSE)
		CHECK(http_field_find(r->fields, r->nfields,
		    "content-length") == NULL);
}

static int
parse_prefix(struct http_response *r, char *tail, size_t cap,
    const uint8_t *data, size_t n, enum http_method m,
    const struct http_limits *lim)
{
	char	*p = tail + cap - n;

	if (n > 0)
		memcpy(p, data, n);
	return http_parse_response(r, p, n, m, lim);
}

static int
run(struct http_response *resp, const uint8_t *data, size_t size,
    char *tail, enum http_method m, const struct http_limits *lim)
{
	static struct http_response presp;
	const char	*buf = (const char *)data;
	size_t		 i, stop;
	int		 whole, rc, settled = -1;

	whole = http_parse_response(resp, buf, size, m, lim);
	if (whole > 0)
		check_response(resp, whole, buf, size, m, lim);
	else
		CHECK(whole == 0 || whole == -502);

	stop = size;
	for (i = 0; i <= size && i <= stop; i++) {
		rc = parse_prefix(&presp, tail, size, data, i, m, lim);
		if (rc != 0 && rc != whole)
			FAIL("method %d: prefix of %zu bytes (of %zu) gives "
			    "%d, whole input gives %d", (int)m, i, size, rc,
			    whole);
		if (rc == 0 && settled >= 0)
			FAIL("method %d: prefix of %zu bytes gives 0 after %d "
			    "at %d bytes", (int)m, i, whole, settled);
		if (rc != 0 && settled < 0) {
			settled = (int)i;
			stop = i + TAIL_CHECKS;
		}
		if (rc > 0) {
			check_response(&presp, rc, tail + size - i, i, m, lim);
			CHECK(presp.status == resp->status);
			CHECK(presp.nfields == resp->nfields);
			CHECK(presp.body == resp->body);
			CHECK(presp.content_length == resp->content_length);
			CHECK(presp.flags == resp->flags);
			CHECK(presp.reason_len == resp->reason_len);
		}
	}
	if (whole != 0)
		CHECK(settled >= 0);
	return whole;
}

static void
run_limits(const uint8_t *data, size_t size, char *tail,
    const struct http_limits *lim)
{
	static struct http_response get, head;
	int		 g, h;
	unsigned	 i;

	g = run(&get, data, size, tail, HTTP_M_GET, lim);
	h = run(&head, data, size, tail, HTTP_M_HEAD, lim);
	/* HEAD only drops checks: what GET takes, HEAD takes alike. */
	if (g > 0) {
		CHECK(h == g);
		CHECK(head.status == get.status && head.nfields == get.nfields);
		for (i = 0; i < get.nfields; i++) {
			CHECK(head.fields[i].name == get.fields[i].name);
			CHECK(head.fields[i].value_len ==
			    get.fields[i].value_len);
		}
		CHECK(head.flags == get.flags);
	}
	if (h < 0)
		CHECK(g < 0);
	if (h == 0)
		CHECK(g <= 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	*tail;

	if ((tail = malloc(size ? size : 1)) == NULL)
		return 0;
	run_limits(data, size, tail, NULL);
	run_limits(data, size, tail, &small_limits);
	free(tail);
	return 0;
}
