/*
 * tls_ocsp.c - OCSP stapling from files.
 *
 * Each server context may hold more than one certificate (RSA beside
 * ECDSA), so a context keeps a list of (certificate, response) and the
 * status callback staples the response of the certificate the handshake
 * chose.  A response past its nextUpdate is no longer sent: clients
 * would refuse it, and no stapling is better than a stale one.  Reading
 * a fresh file is a reload.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include "log.h"
#include "tls_ocsp.h"

#define TLS_OCSP_MAX	(256 * 1024)	/* larger is not a response */

struct tls_ocsp_resp {
	X509		*cert;
	unsigned char	*der;
	long		 len;
	time_t		 next;		/* nextUpdate; 0: none given */
};

struct tls_ocsp {
	struct tls_ocsp_resp	*r;
	size_t			 n;
};

static int
tls_ocsp_cb(SSL *s, void *arg)
{
	struct tls_ocsp		*o = arg;
	X509			*x = SSL_get_certificate(s);
	unsigned char		*copy;
	size_t			 i;

	if (x == NULL)
		return SSL_TLSEXT_ERR_NOACK;
	for (i = 0; i < o->n; i++) {
		if (X509_cmp(x, o->r[i].cert) != 0)
			continue;
		if (o->r[i].next != 0 && time(NULL) >= o->r[i].next)
			return SSL_TLSEXT_ERR_NOACK;
		/* OpenSSL frees what it is given */
		if ((copy = OPENSSL_memdup(o->r[i].der,
		    (size_t)o->r[i].len)) == NULL)
			return SSL_TLSEXT_ERR_NOACK;
		if (SSL_set_tlsext_status_ocsp_resp(s, copy,
		    o->r[i].len) != 1) {
			OPENSSL_free(copy);
			return SSL_TLSEXT_ERR_NOACK;
		}
		return SSL_TLSEXT_ERR_OK;
	}
	return SSL_TLSEXT_ERR_NOACK;
}

/* The whole file, at most TLS_OCSP_MAX bytes. */
static unsigned char *
tls_ocsp_read(const char *file, long *len, char *err, size_t errlen)
{
	FILE		*f;
	unsigned char	*buf;
	size_t		 n;

	if ((f = fopen(file, "rb")) == NULL) {
		snprintf(err, errlen, "tls_ocsp_response %s: cannot open: %s",
		    file, strerror(errno));
		return NULL;
	}
	if ((buf = malloc(TLS_OCSP_MAX + 1)) == NULL)
		fatal("malloc");
	n = fread(buf, 1, TLS_OCSP_MAX + 1, f);
	fclose(f);
	if (n == 0 || n > TLS_OCSP_MAX) {
		snprintf(err, errlen, "tls_ocsp_response %s: %s", file,
		    n ? "too large" : "empty or unreadable");
		free(buf);
		return NULL;
	}
	*len = (long)n;
	return buf;
}

/* The issuer of x among the certificates of ctx's current chain. */
static X509 *
tls_ocsp_issuer(SSL_CTX *ctx, X509 *x)
{
	STACK_OF(X509)	*chain = NULL;
	X509		*c;
	int		 i;

	if (SSL_CTX_get0_chain_certs(ctx, &chain) != 1 || chain == NULL)
		return NULL;
	for (i = 0; i < sk_X509_num(chain); i++) {
		c = sk_X509_value(chain, i);
		if (X509_check_issued(c, x) == X509_V_OK)
			return c;
	}
	return NULL;
}

/*
 * Is der a successful response about x?  Its nextUpdate in *next.  The
 * signature is the client's to check, as with a response it fetched.
 */
static int
tls_ocsp_check(const unsigned char *der, long len, X509 *x, X509 *issuer,
    time_t *next, char *err, size_t errlen)
{
	const unsigned char	*p = der;
	OCSP_RESPONSE		*resp;
	OCSP_BASICRESP		*bs = NULL;
	OCSP_CERTID		*id = NULL;
	ASN1_GENERALIZEDTIME	*thisupd, *nextupd;
	struct tm		 tm;
	int			 status, reason, rc = -1;

	*next = 0;
	if ((resp = d2i_OCSP_RESPONSE(NULL, &p, len)) == NULL ||
	    p != der + len) {
		snprintf(err, errlen, "not a DER OCSP response");
		goto done;
	}
	if (OCSP_response_status(resp) != OCSP_RESPONSE_STATUS_SUCCESSFUL) {
		snprintf(err, errlen, "OCSP response status is %s",
		    OCSP_response_status_str(OCSP_response_status(resp)));
		goto done;
	}
	if ((bs = OCSP_response_get1_basic(resp)) == NULL) {
		snprintf(err, errlen, "not a basic OCSP response");
		goto done;
	}
	if ((id = OCSP_cert_to_id(NULL, x, issuer)) == NULL ||
	    OCSP_resp_find_status(bs, id, &status, &reason, NULL, &thisupd,
	    &nextupd) != 1) {
		snprintf(err, errlen, "the response is not about the "
		    "certificate");
		goto done;
	}
	if (nextupd != NULL) {
		if (ASN1_TIME_to_tm(nextupd, &tm) != 1) {
			snprintf(err, errlen, "bad nextUpdate");
			goto done;
		}
		*next = timegm(&tm);
		if (*next <= time(NULL)) {
			snprintf(err, errlen, "the response expired (its "
			    "nextUpdate is past)");
			goto done;
		}
	}
	rc = 0;
done:
	ERR_clear_error();
	OCSP_CERTID_free(id);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	return rc;
}

int
tls_ocsp_add(struct tls_ocsp **op, SSL_CTX *ctx, const char *file,
    char *err, size_t errlen)
{
	X509			*x = SSL_CTX_get0_certificate(ctx), *issuer;
	struct tls_ocsp		*o = *op;
	struct tls_ocsp_resp	*r;
	unsigned char		*der;
	long			 len;
	time_t			 next;
	char			 why[200];

	if (x == NULL) {
		snprintf(err, errlen, "tls_ocsp_response %s: no certificate",
		    file);
		return -1;
	}
	if ((issuer = tls_ocsp_issuer(ctx, x)) == NULL) {
		snprintf(err, errlen, "tls_ocsp_response %s: the issuer's "
		    "certificate is not in the tls_certificate file", file);
		return -1;
	}
	if ((der = tls_ocsp_read(file, &len, err, errlen)) == NULL)
		return -1;
	if (tls_ocsp_check(der, len, x, issuer, &next, why,
	    sizeof(why)) == -1) {
		snprintf(err, errlen, "tls_ocsp_response %s: %s", file, why);
		free(der);
		return -1;
	}
	if (o == NULL) {
		if ((o = calloc(1, sizeof(*o))) == NULL)
			fatal("calloc");
		*op = o;
		SSL_CTX_set_tlsext_status_cb(ctx, tls_ocsp_cb);
		SSL_CTX_set_tlsext_status_arg(ctx, o);
	}
	if ((r = reallocarray(o->r, o->n + 1, sizeof(*r))) == NULL)
		fatal("reallocarray");
	o->r = r;
	r = &o->r[o->n++];
	X509_up_ref(x);
	r->cert = x;
	r->der = der;
	r->len = len;
	r->next = next;
	return 0;
}

void
tls_ocsp_free(struct tls_ocsp *o)
{
	size_t	 i;

	if (o == NULL)
		return;
	for (i = 0; i < o->n; i++) {
		X509_free(o->r[i].cert);
		free(o->r[i].der);
	}
	free(o->r);
	free(o);
}
