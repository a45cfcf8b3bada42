/*
 * tls_ocsp.h - OCSP stapling from files: a DER OCSP response, fetched by
 * the operator (openssl ocsp, a cron job) and named by tls_ocsp_response,
 * is sent to clients that ask for the certificate's status.
 */
#ifndef TLS_OCSP_H
#define TLS_OCSP_H

#include <stddef.h>

#include <openssl/ssl.h>

struct tls_ocsp;

/*
 * Read the response in file for the certificate ctx holds now (the one
 * just loaded), check that it is a successful response about that
 * certificate (its issuer must be in the chain) and not past its
 * nextUpdate, and staple it from then on.  *op holds the context's
 * responses (one per certificate of the context); made on first use.
 * -1 with err on failure.
 */
int	tls_ocsp_add(struct tls_ocsp **op, SSL_CTX *ctx, const char *file,
	    char *err, size_t errlen);
void	tls_ocsp_free(struct tls_ocsp *);

#endif /* TLS_OCSP_H */
