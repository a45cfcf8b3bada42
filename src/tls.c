/*
 * tls.c - TLS with OpenSSL.
 *
 * A [listen] section with certificates gets one SSL_CTX per certificate
 * (or per name set, holding an RSA and an ECDSA certificate side by
 * side); the first is the default for clients without SNI, and the
 * servername callback switches to the context whose certificate names
 * (subjectAltName DNS entries, else the CN; "*.x" wildcards) match.
 *
 * Resumption works across workers through session tickets only: the
 * ticket keys are in the shared segment, made and rotated by the master,
 * and every context encrypts with the current key and accepts the
 * previous one.  A per-process session cache would be useless here.
 */
#include <sys/socket.h>
#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "config.h"
#include "log.h"
#include "tls.h"
#include "tls_ocsp.h"

#define TLS_CIPHERS_12 \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:" \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:" \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:" \
	"DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:" \
	"DHE-RSA-CHACHA20-POLY1305"
#define TLS_CURVES	"X25519:prime256v1:secp384r1"

struct tls_key {
	unsigned char	 name[16];
	unsigned char	 aes[32];
	unsigned char	 hmac[32];
};

/* In the shared segment: written by the master under a sequence count. */
struct tls_keys_shm {
	_Atomic uint32_t seq;		/* odd while being written */
	uint32_t	 pad;
	struct tls_key	 k[2];		/* current, previous */
};

struct tls_cert {
	SSL_CTX		*ctx;
	char		**names;
	size_t		 nnames;
	struct tls_ocsp	*ocsp;		/* stapled responses, or NULL */
};

struct tls_server {
	struct tls_cert	*certs;
	size_t		 ncerts;
};

static struct tls_keys_shm	*tls_keys;

size_t
tls_keys_size(void)
{
	return sizeof(struct tls_keys_shm);
}

static void
tls_key_new(struct tls_key *k)
{
	if (RAND_bytes((unsigned char *)k, sizeof(*k)) != 1)
		fatalx("RAND_bytes failed");
}

void
tls_keys_init(void *mem)
{
	tls_keys = mem;
	atomic_store(&tls_keys->seq, 1);
	tls_key_new(&tls_keys->k[0]);
	tls_key_new(&tls_keys->k[1]);
	atomic_store(&tls_keys->seq, 2);
}

void
tls_keys_rotate(void)
{
	if (tls_keys == NULL)
		return;
	atomic_fetch_add(&tls_keys->seq, 1);
	tls_keys->k[1] = tls_keys->k[0];
	tls_key_new(&tls_keys->k[0]);
	atomic_fetch_add(&tls_keys->seq, 1);
}

/* A consistent copy of the keys (retry while the master writes). */
static int
tls_keys_copy(struct tls_key k[2])
{
	uint32_t	 s1, s2;
	int		 tries;

	for (tries = 0; tries < 1000; tries++) {
		s1 = atomic_load(&tls_keys->seq);
		if (s1 & 1)
			continue;
		memcpy(k, tls_keys->k, 2 * sizeof(*k));
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load(&tls_keys->seq);
		if (s1 == s2)
			return 0;
	}
	return -1;
}

static int
tls_ticket_cb(SSL *s, unsigned char name[16], unsigned char *iv,
    EVP_CIPHER_CTX *cctx, EVP_MAC_CTX *hctx, int enc)
{
	struct tls_key	 k[2];
	OSSL_PARAM	 params[3];
	int		 i;

	(void)s;
	if (tls_keys == NULL || tls_keys_copy(k) == -1)
		return enc ? -1 : 0;
	if (enc) {
		i = 0;
		memcpy(name, k[0].name, 16);
		if (RAND_bytes(iv, 16) != 1)
			return -1;
	} else {
		for (i = 0; i < 2; i++)
			if (memcmp(name, k[i].name, 16) == 0)
				break;
		if (i == 2)
			return 0;	/* unknown key: a full handshake */
	}
	params[0] = OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY,
	    k[i].hmac, sizeof(k[i].hmac));
	params[1] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
	    (char *)(uintptr_t)"SHA256", 0);
	params[2] = OSSL_PARAM_construct_end();
	if (EVP_MAC_CTX_set_params(hctx, params) != 1)
		return -1;
	if (enc)
		return EVP_EncryptInit_ex(cctx, EVP_aes_256_cbc(), NULL,
		    k[i].aes, iv) == 1 ? 1 : -1;
	if (EVP_DecryptInit_ex(cctx, EVP_aes_256_cbc(), NULL, k[i].aes,
	    iv) != 1)
		return -1;
	return i == 0 ? 1 : 2;	/* 2: a ticket under the old key: renew */
}

static int
tls_alpn_cb(SSL *s, const unsigned char **out, unsigned char *outlen,
    const unsigned char *in, unsigned int inlen, void *arg)
{
	unsigned int	 i;

	(void)s;
	(void)arg;
	for (i = 0; i + 1 <= inlen && i + 1 + in[i] <= inlen; i += 1 + in[i])
		if (in[i] == 8 && memcmp(in + i + 1, "http/1.1", 8) == 0) {
			*out = in + i + 1;
			*outlen = 8;
			return SSL_TLSEXT_ERR_OK;
		}
	return SSL_TLSEXT_ERR_NOACK;
}

static int
tls_name_match(const char *pattern, const char *name)
{
	const char	*dot;

	if (strcasecmp(pattern, name) == 0)
		return 1;
	/* "*.example.com" covers one label: "a.example.com" */
	if (pattern[0] == '*' && pattern[1] == '.' &&
	    (dot = strchr(name, '.')) != NULL && dot != name)
		return strcasecmp(pattern + 1, dot) == 0;
	return 0;
}

static int
tls_sni_cb(SSL *s, int *al, void *arg)
{
	struct tls_server	*ts = arg;
	const char		*name;
	size_t			 i, j;

	(void)al;
	name = SSL_get_servername(s, TLSEXT_NAMETYPE_host_name);
	if (name == NULL)
		return SSL_TLSEXT_ERR_OK;	/* the default certificate */
	for (i = 0; i < ts->ncerts; i++)
		for (j = 0; j < ts->certs[i].nnames; j++)
			if (tls_name_match(ts->certs[i].names[j], name)) {
				if (i > 0)
					SSL_set_SSL_CTX(s, ts->certs[i].ctx);
				return SSL_TLSEXT_ERR_OK;
			}
	return SSL_TLSEXT_ERR_OK;
}

/* The names a certificate is for: SAN DNS entries, else the CN. */
static int
tls_cert_names(SSL_CTX *ctx, struct tls_cert *tc)
{
	X509			*x = SSL_CTX_get0_certificate(ctx);
	GENERAL_NAMES		*gens;
	const GENERAL_NAME	*g;
	char			 cn[256];
	int			 i, n;

	tc->names = NULL;
	tc->nnames = 0;
	if (x == NULL)
		return -1;
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	n = gens ? sk_GENERAL_NAME_num(gens) : 0;
	tc->names = calloc((size_t)n + 1, sizeof(*tc->names));
	if (tc->names == NULL)
		fatal("calloc");
	for (i = 0; i < n; i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == GEN_DNS)
			tc->names[tc->nnames++] = strndup((const char *)
			    ASN1_STRING_get0_data(g->d.dNSName),
			    (size_t)ASN1_STRING_length(g->d.dNSName));
	}
	GENERAL_NAMES_free(gens);
	if (tc->nnames == 0 && X509_NAME_get_text_by_NID(
	    X509_get_subject_name(x), NID_commonName, cn, sizeof(cn)) > 0)
		tc->names[tc->nnames++] = strdup(cn);
	return 0;
}

static void
tls_err(char *err, size_t errlen, const char *what, const char *file)
{
	unsigned long	 e = ERR_peek_last_error();
	char		 buf[256];

	ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s%s%s: %s", what, file ? " " : "",
	    file ? file : "", e ? buf : "unknown error");
	ERR_clear_error();
}

static int
tls_protocols(SSL_CTX *ctx, const char *spec, char *err, size_t errlen)
{
	char	*dup, *tok, *save = NULL;
	int	 lo = 0, hi = 0, v;

	if (spec == NULL)
		spec = "TLSv1.2 TLSv1.3";
	if ((dup = strdup(spec)) == NULL)
		fatal("strdup");
	for (tok = strtok_r(dup, " ,", &save); tok != NULL;
	    tok = strtok_r(NULL, " ,", &save)) {
		if (strcmp(tok, "TLSv1.2") == 0)
			v = TLS1_2_VERSION;
		else if (strcmp(tok, "TLSv1.3") == 0)
			v = TLS1_3_VERSION;
		else {
			snprintf(err, errlen, "tls_protocols: \"%s\" is not "
			    "TLSv1.2 or TLSv1.3", tok);
			free(dup);
			return -1;
		}
		if (lo == 0 || v < lo)
			lo = v;
		if (v > hi)
			hi = v;
	}
	free(dup);
	SSL_CTX_set_min_proto_version(ctx, lo ? lo : TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(ctx, hi ? hi : TLS1_3_VERSION);
	return 0;
}

static SSL_CTX *
tls_server_base(const struct listen_config *l, char *err, size_t errlen)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		tls_err(err, errlen, "SSL_CTX_new", NULL);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* a record in one read(2), not its header and then its body */
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_session_id_context(ctx, (const unsigned char *)"porter",
	    6);
	/* the DHE suites of the list need parameters */
	(void)SSL_CTX_set_dh_auto(ctx, 1);
	SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, tls_ticket_cb);
	SSL_CTX_set_alpn_select_cb(ctx, tls_alpn_cb, NULL);
	if (tls_protocols(ctx, l->tls_protocols, err, errlen) == -1)
		goto fail;
	if (SSL_CTX_set_cipher_list(ctx, l->tls_ciphers ? l->tls_ciphers :
	    TLS_CIPHERS_12) != 1) {
		tls_err(err, errlen, "tls_ciphers", NULL);
		goto fail;
	}
	if (l->tls_ciphersuites != NULL &&
	    SSL_CTX_set_ciphersuites(ctx, l->tls_ciphersuites) != 1) {
		tls_err(err, errlen, "tls_ciphersuites", NULL);
		goto fail;
	}
	if (SSL_CTX_set1_groups_list(ctx, l->tls_curves ? l->tls_curves :
	    TLS_CURVES) != 1) {
		tls_err(err, errlen, "tls_curves", NULL);
		goto fail;
	}
	if (l->tls_verify_client != TLS_VC_OFF && l->tls_client_ca != NULL) {
		STACK_OF(X509_NAME)	*names;

		/* ask for a certificate from these CAs; check it */
		if (SSL_CTX_load_verify_locations(ctx, l->tls_client_ca,
		    NULL) != 1 || (names = SSL_load_client_CA_file(
		    l->tls_client_ca)) == NULL) {
			tls_err(err, errlen, "cannot load tls_client_ca",
			    l->tls_client_ca);
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
		    (l->tls_verify_client == TLS_VC_ON ?
		    SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static void
tls_cert_drop(struct tls_cert *tc)
{
	size_t	 j;

	SSL_CTX_free(tc->ctx);
	for (j = 0; j < tc->nnames; j++)
		free(tc->names[j]);
	free(tc->names);
	tls_ocsp_free(tc->ocsp);
	memset(tc, 0, sizeof(*tc));
}

/*
 * An RSA and an ECDSA certificate for the same names go into one context,
 * which then offers whichever the client supports.  Returns the earlier
 * context pair i (the last context) was added to, or NULL.
 */
static struct tls_cert *
tls_merge(struct tls_server *ts, const struct listen_config *l, size_t i)
{
	struct tls_cert	*last = &ts->certs[ts->ncerts - 1], *tc;
	size_t		 k, j;

	for (k = 0; k + 1 < ts->ncerts; k++) {
		tc = &ts->certs[k];
		if (tc->nnames != last->nnames)
			continue;
		for (j = 0; j < tc->nnames; j++)
			if (strcasecmp(tc->names[j], last->names[j]) != 0)
				break;
		if (j < tc->nnames)
			continue;
		if (EVP_PKEY_get_base_id(SSL_CTX_get0_privatekey(tc->ctx)) ==
		    EVP_PKEY_get_base_id(SSL_CTX_get0_privatekey(last->ctx)))
			continue;	/* same key type: a second context */
		if (SSL_CTX_use_certificate_chain_file(tc->ctx,
		    l->certs[i].cert) == 1 && SSL_CTX_use_PrivateKey_file(
		    tc->ctx, l->certs[i].key ? l->certs[i].key :
		    l->certs[i].cert, SSL_FILETYPE_PEM) == 1)
			return tc;
		ERR_clear_error();
	}
	return NULL;
}

void
tls_ctx_free(void *p)
{
	struct tls_server	*ts = p;
	size_t			 i;

	if (ts == NULL)
		return;
	for (i = 0; i < ts->ncerts; i++)
		tls_cert_drop(&ts->certs[i]);
	free(ts->certs);
	free(ts);
}

int
tls_server_ctx(struct listen_config *l, int *line, char *err, size_t errlen)
{
	struct tls_server	*ts;
	struct tls_cert		*tc, *into;
	size_t			 i;

	if ((ts = calloc(1, sizeof(*ts))) == NULL ||
	    (ts->certs = calloc(l->ncerts, sizeof(*ts->certs))) == NULL)
		fatal("calloc");
	for (i = 0; i < l->ncerts; i++) {
		*line = l->certs[i].line;
		tc = &ts->certs[ts->ncerts];
		if ((tc->ctx = tls_server_base(l, err, errlen)) == NULL)
			goto fail;
		ts->ncerts++;
		if (SSL_CTX_use_certificate_chain_file(tc->ctx,
		    l->certs[i].cert) != 1) {
			tls_err(err, errlen, "cannot load certificate",
			    l->certs[i].cert);
			goto fail;
		}
		if (SSL_CTX_use_PrivateKey_file(tc->ctx, l->certs[i].key ?
		    l->certs[i].key : l->certs[i].cert,
		    SSL_FILETYPE_PEM) != 1) {
			tls_err(err, errlen, "cannot load key",
			    l->certs[i].key ? l->certs[i].key :
			    l->certs[i].cert);
			goto fail;
		}
		if (SSL_CTX_check_private_key(tc->ctx) != 1) {
			tls_err(err, errlen, "key does not match certificate",
			    l->certs[i].cert);
			goto fail;
		}
		if (tls_cert_names(tc->ctx, tc) == -1) {
			snprintf(err, errlen, "no certificate in %s",
			    l->certs[i].cert);
			goto fail;
		}
		if ((into = tls_merge(ts, l, i)) != NULL) {
			/* same names: one context holds both key types */
			tls_cert_drop(&ts->certs[--ts->ncerts]);
			tc = into;
		}
		if (l->certs[i].ocsp != NULL)
			*line = l->certs[i].ocsp_line;
		if (l->certs[i].ocsp != NULL && tls_ocsp_add(&tc->ocsp,
		    tc->ctx, l->certs[i].ocsp, err, errlen) == -1)
			goto fail;
	}
	/* SNI is looked at in the first context, the default */
	SSL_CTX_set_tlsext_servername_callback(ts->certs[0].ctx, tls_sni_cb);
	SSL_CTX_set_tlsext_servername_arg(ts->certs[0].ctx, ts);
	l->tls_ctx = ts;
	return 0;
fail:
	tls_ctx_free(ts);
	return -1;
}

/* SSL ex_data index of a backend connection's session slot (void **) */
static int	tls_slot_idx = -1;

/*
 * A new session toward a backend: at the end of a TLS 1.2 handshake, or
 * when a TLS 1.3 server's ticket arrives, which is after the handshake
 * (the session SSL_connect leaves then cannot be resumed).  Kept in the
 * connection's slot; returning 1 keeps our reference.
 */
static int
tls_new_session(SSL *ssl, SSL_SESSION *s)
{
	void	**slot = SSL_get_ex_data(ssl, tls_slot_idx);

	if (slot == NULL || !SSL_SESSION_is_resumable(s))
		return 0;
	if (*slot != NULL)
		tls_session_free(*slot);
	*slot = s;
	return 1;
}

int
tls_client_ctx(struct pool_config *pc, char *err, size_t errlen)
{
	SSL_CTX	*ctx;

	if (tls_slot_idx == -1 && (tls_slot_idx = SSL_get_ex_new_index(0,
	    NULL, NULL, NULL, NULL)) == -1) {
		tls_err(err, errlen, "SSL_get_ex_new_index", NULL);
		return -1;
	}

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		tls_err(err, errlen, "SSL_CTX_new", NULL);
		return -1;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/*
	 * Not SSL_OP_IGNORE_UNEXPECTED_EOF: it makes a backend's unclean
	 * EOF look like its close_notify, and a close-delimited body cut
	 * short must not pass for whole (tls_eof_clean).
	 */
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION |
	    SSL_OP_NO_RENEGOTIATION);
	SSL_CTX_set_read_ahead(ctx, 1);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
	    SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, tls_new_session);
	(void)SSL_CTX_set_alpn_protos(ctx, (const unsigned char *)
	    "\x08http/1.1", 9);
	if (pc->tls_verify) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		if (pc->tls_ca_file != NULL ?
		    SSL_CTX_load_verify_locations(ctx, pc->tls_ca_file,
		    NULL) != 1 : SSL_CTX_set_default_verify_paths(ctx) != 1) {
			tls_err(err, errlen, "cannot load CA file",
			    pc->tls_ca_file);
			goto fail;
		}
	}
	if (pc->tls_certificate != NULL) {
		if (SSL_CTX_use_certificate_chain_file(ctx,
		    pc->tls_certificate) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, pc->tls_key ?
		    pc->tls_key : pc->tls_certificate, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			tls_err(err, errlen, "cannot load client certificate",
			    pc->tls_certificate);
			goto fail;
		}
	}
	/* a pool's context is freed like a server's: wrap it */
	{
		struct tls_server *ts;

		if ((ts = calloc(1, sizeof(*ts))) == NULL ||
		    (ts->certs = calloc(1, sizeof(*ts->certs))) == NULL)
			fatal("calloc");
		ts->certs[0].ctx = ctx;
		ts->ncerts = 1;
		pc->tls_ctx = ts;
	}
	return 0;
fail:
	SSL_CTX_free(ctx);
	return -1;
}

/* The reason of the last TLS failure, for a log line. */
static const char *
tls_reason(int ret, SSL *ssl, char *buf, size_t len)
{
	unsigned long	 e = ERR_get_error();
	int		 se = SSL_get_error(ssl, ret);

	if (e != 0)
		ERR_error_string_n(e, buf, len);
	else if (se == SSL_ERROR_SYSCALL)
		snprintf(buf, len, "%s", errno == 0 ? "connection closed" :
		    errno == EAGAIN ? "timed out" : strerror(errno));
	else if (se == SSL_ERROR_WANT_READ || se == SSL_ERROR_WANT_WRITE)
		snprintf(buf, len, "timed out");
	else
		snprintf(buf, len, "TLS error %d", se);
	ERR_clear_error();
	return buf;
}

void *
tls_accept(int fd, void *server_ctx, const char *client)
{
	struct tls_server	*ts = server_ctx;
	SSL			*ssl;
	char			 why[256];
	int			 rc;

	if ((ssl = SSL_new(ts->certs[0].ctx)) == NULL)
		return NULL;
	SSL_set_fd(ssl, fd);
	errno = 0;
	if ((rc = SSL_accept(ssl)) != 1) {
		log_info("client %s: TLS handshake failed: %s", client,
		    tls_reason(rc, ssl, why, sizeof(why)));
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

void *
tls_connect(int fd, void *client_ctx, const char *name, void **session)
{
	struct tls_server	*ts = client_ctx;
	struct in6_addr		 a6;
	struct in_addr		 a4;
	SSL			*ssl;
	char			 why[256];
	int			 rc, ip;

	if ((ssl = SSL_new(ts->certs[0].ctx)) == NULL)
		return NULL;
	SSL_set_fd(ssl, fd);
	ip = inet_pton(AF_INET, name, &a4) == 1 ||
	    inet_pton(AF_INET6, name, &a6) == 1;
	if (!ip)
		(void)SSL_set_tlsext_host_name(ssl, name);
	/* the certificate must be for the name (or the address) */
	if (ip)
		X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name);
	else
		(void)SSL_set1_host(ssl, name);
	if (*session != NULL)
		(void)SSL_set_session(ssl, *session);
	/* new sessions go to *session as they come (tls_new_session) */
	(void)SSL_set_ex_data(ssl, tls_slot_idx, session);
	errno = 0;
	if ((rc = SSL_connect(ssl)) != 1) {
		log_warnx("upstream %s: TLS handshake failed: %s", name,
		    tls_reason(rc, ssl, why, sizeof(why)));
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

ssize_t
tls_read(void *p, void *buf, size_t len)
{
	SSL	*ssl = p;
	int	 n, e;

	errno = 0;
	n = SSL_read(ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (n > 0)
		return n;
	e = SSL_get_error(ssl, n);
	/* EOF without close_notify: an EOF still, but not a clean one */
	if (e == SSL_ERROR_SSL && ERR_GET_REASON(ERR_peek_error()) ==
	    SSL_R_UNEXPECTED_EOF_WHILE_READING)
		e = SSL_ERROR_ZERO_RETURN;
	ERR_clear_error();
	switch (e) {
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		errno = ETIMEDOUT;
		return -1;
	case SSL_ERROR_SYSCALL:
		if (errno == 0)
			return 0;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			errno = ETIMEDOUT;
		return -1;
	default:
		errno = EPROTO;
		return -1;
	}
}

ssize_t
tls_write(void *p, const void *buf, size_t len)
{
	SSL	*ssl = p;
	int	 n, e;

	errno = 0;
	n = SSL_write(ssl, buf, len > INT32_MAX ? INT32_MAX : (int)len);
	if (n > 0)
		return n;
	e = SSL_get_error(ssl, n);
	ERR_clear_error();
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ||
	    errno == EAGAIN)
		errno = ETIMEDOUT;
	else if (errno == 0)
		errno = EPIPE;
	return -1;
}

int
tls_pending(void *ssl)
{
	/* read-ahead bytes too: poll(2) cannot see what OpenSSL holds */
	return SSL_has_pending(ssl);
}


void
tls_free(void *p, int shutdown)
{
	SSL	*ssl = p;

	if (ssl == NULL)
		return;
	if (shutdown)
		(void)SSL_shutdown(ssl);	/* close_notify, no wait */
	ERR_clear_error();
	SSL_free(ssl);
}

int
tls_eof_clean(void *ssl)
{
	return (SSL_get_shutdown(ssl) & SSL_RECEIVED_SHUTDOWN) != 0;
}

void
tls_session_free(void *session)
{
	SSL_SESSION_free(session);
}

int
tls_peer_subject(void *p, char *buf, size_t len)
{
	SSL	*ssl = p;
	X509	*x;

	if ((x = SSL_get_peer_certificate(ssl)) == NULL)
		return 0;
	if (SSL_get_verify_result(ssl) != X509_V_OK) {
		X509_free(x);
		return -1;
	}
	X509_NAME_oneline(X509_get_subject_name(x), buf, (int)len);
	X509_free(x);
	return 1;
}
