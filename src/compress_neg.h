/*
 * compress_neg.h - which content-coding a response gets: the client's
 * Accept-Encoding (RFC 9110 12.5.3) and the response's own fields.  No
 * I/O, no allocation.
 */
#ifndef COMPRESS_NEG_H
#define COMPRESS_NEG_H

#include <stddef.h>
#include <stdint.h>

struct http_field;

enum compress_coding {
	COMPRESS_NONE = 0,	/* identity */
	COMPRESS_GZIP,
	COMPRESS_BR,
	COMPRESS_ZSTD,
	COMPRESS_NCODINGS
};

/* A route's compression keys, or [porter]'s when there are no routes. */
struct compress_config {
	int		 on;
	char		**types;	/* media types, lower case */
	size_t		 ntypes;
	uint64_t	 min_length;	/* bytes, when the length is known */
	unsigned	 level;		/* gzip 1..9; br, zstd mapped */
};

/*
 * What Accept-Encoding said so far: q-values in thousandths, -1 for a
 * coding it did not name.  Fed field by field (a request may send the
 * field more than once: the lines form one list).
 */
struct compress_accept {
	int		 q[COMPRESS_NCODINGS];	/* [COMPRESS_NONE]: identity */
	int		 star;
	int		 seen;
};

void	compress_neg_init(struct compress_accept *);
/*
 * One Accept-Encoding field value, value[0..len).  Elements that do not
 * parse (a bad q-value, a stray character) are skipped, the rest count.
 */
void	compress_neg_feed(struct compress_accept *, const char *value,
	    size_t len);
/*
 * The coding to send: among gzip, br and zstd the acceptable one with the
 * highest q (zstd, then br, then gzip on a tie), unless identity was
 * named with a higher q.  COMPRESS_NONE when no Accept-Encoding was fed
 * or nothing but identity is acceptable.
 */
enum compress_coding compress_neg_choose(const struct compress_accept *);

/* "gzip", "br", "zstd"; NULL for COMPRESS_NONE. */
const char *compress_neg_name(enum compress_coding);

/*
 * May a response with these fields be compressed under cf?  status and
 * head_request of the exchange; has_body and length (known_length: its
 * Content-Length) of the response.  No for 1xx, 204, 206, 304, HEAD,
 * a Content-Encoding or Content-Range already there, Cache-Control:
 * no-transform, a type not in cf's list, a known length below
 * min_length.
 */
int	compress_neg_eligible(const struct compress_config *cf, int status,
	    int head_request, int has_body, int known_length, uint64_t length,
	    const struct http_field *fields, unsigned nfields);

#endif /* COMPRESS_NEG_H */
