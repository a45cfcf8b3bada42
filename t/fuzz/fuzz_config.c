/*
 * fuzz_config.c - libFuzzer target for config_load() (porter.ini).
 *
 * The input is written to a memfd and loaded through its /proc/self/fd
 * path; the result, if any, is freed with config_free().  It must never
 * crash, leak or trip a sanitizer.  Beyond that the target checks what
 * config.h promises:
 *   - on failure, err holds NUL-terminated "file:line: message" lines,
 *     truncated to errlen (errlen is taken small for some inputs, and err
 *     is a heap block of exactly errlen bytes);
 *   - on success, the configuration is the validated one the workers rely
 *     on: listens with addresses, pools with servers, routes pointing at
 *     existing pools and listens, sane worker counts and cache sizes.
 *
 * The system's CA certificates are not loaded (SSL_CERT_FILE, SSL_CERT_DIR
 * point nowhere), and three library calls are confined, so that a run
 * stays hermetic and quick:
 *   - getaddrinfo() resolves numeric addresses only ("localhost" is taken
 *     as 127.0.0.1), so that no host name ever reaches DNS;
 *   - fopen() for reading (certificates, keys, CA files, error pages)
 *     opens regular files only, none under /proc or /sys, so that a
 *     fuzzed "tls_certificate = /dev/zero" or "/dev/stdin" cannot hang
 *     the run (libFuzzer's own writes pass through);
 *   - regcomp() must never be handed a pattern whose nested repetitions
 *     expand to more than REPEAT_MAX copies: glibc expands "{n,m}" and
 *     "+" by copying the subexpression, so "((a{1,255}){1,255}){1,255}"
 *     or 24 nested "(...+)" take gigabytes (t/fuzz/crashes/README).
 *     config.c is to refuse such patterns before it calls regcomp(); the
 *     wrapper checks that it did, and aborts with a message instead of
 *     running out of memory.
 *
 * Build: with every module but src/main.c, as porter is linked, and the
 * macros configure defines (PACKAGE_VERSION, PORTER_RUNSTATEDIR,
 * PORTER_CONFIG), plus $(pkg-config --cflags --libs inih openssl) -ldl;
 * t/fuzz/run does it.
 */
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define FUZZ_NAME "fuzz_config"
#include "fuzz.h"


static char	 cfg_path[64];
static int	 cfg_fd = -1;
static int	 verbose;	/* FUZZ_VERBOSE=1: print what config_load said */

/* --- confinement ------------------------------------------------------ */

int
getaddrinfo(const char *node, const char *service,
    const struct addrinfo *hints, struct addrinfo **res)
{
	static int	(*real)(const char *, const char *,
			    const struct addrinfo *, struct addrinfo **);
	struct addrinfo	 h;

	if (real == NULL &&
	    (real = (int (*)(const char *, const char *,
	    const struct addrinfo *, struct addrinfo **))
	    dlsym(RTLD_NEXT, "getaddrinfo")) == NULL)
		abort();
	memset(&h, 0, sizeof(h));
	if (hints != NULL)
		h = *hints;
	h.ai_flags |= AI_NUMERICHOST;
	if (node != NULL && strcmp(node, "localhost") == 0)
		node = "127.0.0.1";
	return real(node, service, &h, res);
}

static int
may_open(const char *path)
{
	struct stat	 st;
	char		*real;
	int		 ok;

	if (strcmp(path, cfg_path) == 0)
		return 1;
	/* regular files only (no FIFO, device, directory), none in procfs */
	if ((real = realpath(path, NULL)) == NULL)
		return 0;
	ok = strncmp(real, "/proc/", 6) != 0 && strncmp(real, "/sys/", 5) != 0 &&
	    stat(real, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size < 16 * 1024 * 1024;
	free(real);
	return ok;
}

#define FOPEN_WRAPPER(name)						\
FILE *name(const char *, const char *);					\
FILE *									\
name(const char *path, const char *mode)				\
{									\
	static FILE	*(*real)(const char *, const char *);		\
									\
	if (real == NULL && (real = (FILE *(*)(const char *,		\
	    const char *))dlsym(RTLD_NEXT, #name)) == NULL)		\
		abort();						\
	/* writes are libFuzzer's own: corpus, artifacts */		\
	if (path != NULL && mode != NULL && mode[0] == 'r' &&		\
	    strchr(mode, '+') == NULL && !may_open(path)) {		\
		errno = EACCES;						\
		return NULL;						\
	}								\
	return real(path, mode);					\
}
FOPEN_WRAPPER(fopen)
FOPEN_WRAPPER(fopen64)

/*
 * How many copies of its innermost atom glibc's regcomp() makes for an
 * ERE, roughly: it expands "x{n,m}" into m copies of x (n + 1 for
 * "x{n,}", m for "x{,m}") and "x+" into "xx*", so repetitions nested in
 * groups multiply.  The estimate is the largest product of factors along
 * one nesting path, saturating at REPEAT_MAX + 1; a bound over
 * RE_DUP_MAX, which regcomp() refuses at once, does not count.
 */
#define REPEAT_MAX	100000UL
#define BIG		1000000000UL
#define MAX_DEPTH	256

static unsigned long
mul(unsigned long a, unsigned long b)
{
	return b != 0 && a > (REPEAT_MAX + 1) / b ? REPEAT_MAX + 1 : a * b;
}

static unsigned long
repeat_estimate(const char *pattern)
{
	unsigned long	 inner[MAX_DEPTH + 1], atom = 0, f, n, m, best = 1;
	const char	*p = pattern;
	int		 depth = 0;

	inner[0] = 1;
	for (; *p != '\0'; p++) {
		switch (*p) {
		case '(':
			if (depth < MAX_DEPTH)
				inner[++depth] = 1;
			atom = 0;
			continue;
		case ')':
			atom = depth > 0 ? inner[depth--] : 1;
			if (atom > inner[depth])
				inner[depth] = atom;
			continue;
		case '|':
			atom = 0;
			continue;
		case '[':
			/* a bracket expression is one atom */
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			for (; *p != '\0' && *p != ']'; p++)
				if (*p == '[' && (p[1] == ':' || p[1] == '.' ||
				    p[1] == '=')) {
					const char *e = strchr(p + 2, p[1]);

					while (e != NULL && e[1] != ']')
						e = strchr(e + 1, p[1]);
					if (e == NULL)
						break;
					p = e + 1;
				}
			if (*p == '\0')
				p--;
			atom = 1;
			continue;
		case '\\':
			if (p[1] != '\0')
				p++;
			atom = 1;
			continue;
		case '+':
			f = 2;
			break;
		case '{':
			n = m = 0;
			while (p[1] >= '0' && p[1] <= '9')
				if ((n = n * 10 + (unsigned long)(*++p - '0')) >
				    BIG)
					n = BIG;
			m = n;
			if (p[1] == ',') {
				p++;
				m = n + 1;	/* "{n,}": n copies and a star */
				if (p[1] >= '0' && p[1] <= '9') {
					m = 0;
					while (p[1] >= '0' && p[1] <= '9')
						if ((m = m * 10 + (unsigned long)
						    (*++p - '0')) > BIG)
							m = BIG;
				}
			}
			f = n > RE_DUP_MAX || m > RE_DUP_MAX ? 1 :
			    m > n ? m : n;
			break;
		case '*':
		case '?':
			continue;
		default:
			atom = 1;
			continue;
		}
		/* a repetition of the atom before it */
		if (atom != 0) {
			atom = mul(atom, f ? f : 1);
			if (atom > inner[depth])
				inner[depth] = atom;
		}
	}
	while (depth > 0) {
		if (inner[depth] > inner[depth - 1])
			inner[depth - 1] = inner[depth];
		depth--;
	}
	if (inner[0] > best)
		best = inner[0];
	return best;
}

int
regcomp(regex_t *re, const char *pattern, int flags)
{
	static int	(*real)(regex_t *, const char *, int);

	if (real == NULL && (real = (int (*)(regex_t *, const char *, int))
	    dlsym(RTLD_NEXT, "regcomp")) == NULL)
		abort();
	if (repeat_estimate(pattern) > REPEAT_MAX)
		FAIL("config_load() hands regcomp() \"%s\", whose nested "
		    "repetitions expand to more than %lu copies (gigabytes "
		    "for glibc)", pattern, REPEAT_MAX);
	return real(re, pattern, flags);
}

/* --- checks ----------------------------------------------------------- */

static void
check_err(const char *err, size_t errlen)
{
	size_t	 n, plen = strlen(cfg_path);

	if (errlen == 0)
		return;
	n = strnlen(err, errlen);
	CHECK(n < errlen);			/* NUL-terminated in place */
	if (errlen > plen + 64) {
		CHECK(n > 0);			/* something was said */
		CHECK(strncmp(err, cfg_path, plen) == 0 && err[plen] == ':');
		CHECK(err[plen + 1] >= '0' && err[plen + 1] <= '9');
	}
}

static void
check_config(const struct config *c)
{
	size_t	 i, j;

	CHECK(c->file != NULL && strcmp(c->file, cfg_path) == 0);
	CHECK(c->workers >= 1 && c->workers <= c->max_workers);
	CHECK(c->max_spare_workers > c->min_spare_workers);
	CHECK(c->min_spare_workers <= c->max_workers);
	CHECK(c->pid_file != NULL && c->error_log != NULL);
	CHECK(c->max_headers >= 1 && c->max_headers <= 128);
	CHECK(c->max_uri_length >= 16);
	CHECK(c->max_header_size >= 1024);
	CHECK(c->nlistens >= 1 && c->listens != NULL);
	for (i = 0; i < c->nlistens; i++) {
		const struct listen_config *l = &c->listens[i];

		CHECK(l->naddrs >= 1 && l->addrs != NULL);
		CHECK(l->name[0] != '\0' &&
		    strlen(l->name) < CONFIG_NAME_MAX);
		CHECK((l->ncerts > 0) == (l->tls_ctx != NULL));
		for (j = 0; j < i; j++)
			CHECK(strcmp(c->listens[j].name, l->name) != 0);
	}
	CHECK(c->npools >= 1 && c->pools != NULL);
	for (i = 0; i < c->npools; i++) {
		const struct pool_config *p = &c->pools[i];

		CHECK(p->nservers >= 1 && p->servers != NULL);
		CHECK(p->tls == (p->tls_ctx != NULL));
		for (j = 0; j < p->nservers; j++)
			CHECK(p->servers[j].weight >= 1 &&
			    p->servers[j].weight <= 1000);
		if (p->balance == BALANCE_HASH)
			for (j = 1; j < p->nring; j++)
				CHECK(p->ring[j - 1].hash <= p->ring[j].hash &&
				    p->ring[j].server < p->nservers);
		CHECK(p->check_status_min >= 100 &&
		    p->check_status_min <= p->check_status_max &&
		    p->check_status_max <= 599);
	}
	if (c->nroutes == 0)
		CHECK(c->npools == 1);
	for (i = 0; i < c->nroutes; i++) {
		const struct route_config *r = &c->routes[i];

		if (r->pool_name[0] != '\0') {
			CHECK(r->pool < c->npools);
			CHECK(strcmp(c->pools[r->pool].name, r->pool_name) ==
			    0);
		} else
			CHECK(r->return_code >= 200 && r->return_code <= 599);
		for (j = 0; j < r->nlistens; j++)
			CHECK(r->listen_idx[j] < c->nlistens);
		if (r->cache)
			CHECK(c->cache.line != 0);
		if (r->path != NULL)
			CHECK(r->path[0] == '/');
		if (r->strip_prefix != NULL)
			CHECK(r->strip_prefix[0] == '/');
	}
	CHECK(c->cache.max_object_size <= c->cache.size / 4);
	CHECK(c->admin.nallow >= 1 && c->cache.npurge_allow >= 1);
	if (c->admin.line != 0)
		CHECK(c->admin.naddrs >= 1);
}

/* --- the target ------------------------------------------------------- */

int LLVMFuzzerInitialize(int *, char ***);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if ((cfg_fd = memfd_create("porter-fuzz.ini", MFD_CLOEXEC)) == -1) {
		perror("memfd_create");
		abort();
	}
	snprintf(cfg_path, sizeof(cfg_path), "/proc/self/fd/%d", cfg_fd);
	verbose = getenv("FUZZ_VERBOSE") != NULL;
	/*
	 * A pool with tls = on and no tls_ca_file loads the system's CA
	 * bundle, some 100 ms a time under the sanitizers: point OpenSSL at
	 * none (it then trusts nothing, which config_load does not mind).
	 */
	setenv("SSL_CERT_FILE", "/nonexistent/porter-fuzz/ca.pem", 1);
	setenv("SSL_CERT_DIR", "/nonexistent/porter-fuzz/certs", 1);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config	*c;
	char		*err;
	size_t		 errlen = 4096, i;
	uint32_t	 h = 2166136261u;

	if (ftruncate(cfg_fd, 0) == -1 ||
	    (size > 0 && pwrite(cfg_fd, data, size, 0) != (ssize_t)size))
		abort();
	/* one input in eight gets a short error buffer (0 to 63 bytes) */
	for (i = 0; i < size; i++)
		h = (h ^ data[i]) * 16777619u;
	if ((h & 7) == 0)
		errlen = (h >> 3) % 64;
	if ((err = malloc(errlen ? errlen : 1)) == NULL)
		return 0;
	c = config_load(cfg_path, err, errlen);
	if (verbose)
		fprintf(stderr, "config_load: %s (errlen %zu)\n%s", c ? "loaded" :
		    "failed", errlen, c || errlen == 0 ? "" : err);
	if (c == NULL)
		check_err(err, errlen);
	else {
		check_config(c);
		if (errlen > 0)
			CHECK(err[0] == '\0');
		config_free(c);
	}
	free(err);
	return 0;
}
