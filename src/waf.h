/*
 * waf.h - the web application firewall: libmodsecurity3 rules loaded by
 * the master, a transaction per inspected request in the workers, and
 * the counters /metrics shows.
 */
#ifndef WAF_H
#define WAF_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

struct waf_config;
struct waf_rules;

/* A route's waf = (route_config.waf). */
enum waf_mode {
	WAF_OFF = 0,
	WAF_ON,		/* interventions answer the client */
	WAF_DETECT	/* interventions are logged; the request goes on */
};

#define WAF_ID_MAX	24	/* an id with its NUL */
#define WAF_RULES_MAX	96	/* "942100,949110,..." with its NUL */
#define WAF_TOP		16	/* rule ids counted in /metrics */

/* Counters in the shared segment (shm.c places them). */
struct waf_shm {
	_Atomic uint64_t inspected;	/* transactions */
	_Atomic uint64_t blocked;	/* answered with the intervention */
	_Atomic uint64_t detected;	/* would have been (detect) */
	_Atomic uint64_t body_too_large;	/* over body_limit */
	/* the first WAF_TOP rule ids that matched, then "other" */
	_Atomic uint32_t rule_id[WAF_TOP];
	_Atomic uint64_t rule_hits[WAF_TOP];
	_Atomic uint64_t rule_other;
};

/* What a transaction decided: status 0 while nothing intervened. */
struct waf_verdict {
	int		 status;
	char		 id[WAF_ID_MAX];	/* this transaction's */
	char		 rules[WAF_RULES_MAX];	/* ids of rules that matched */
	char		 msg[256];		/* the intervention's rule */
};

struct waf_tx;

/* Was porter built with libmodsecurity? */
int	waf_available(void);
/*
 * Load wc's rule files (and its audit log) into a new rule set, in the
 * master, before the workers fork (they share it copy-on-write).  On a
 * broken file: -1, err holding "file:line: message".  waf_rules_free
 * releases what waf_load returned.
 */
struct waf_rules *waf_load(const struct waf_config *wc, char *err,
	    size_t errlen);
void	waf_rules_free(struct waf_rules *);
void	waf_shm_init(struct waf_shm *);
struct waf_shm *waf_shm(void);

/*
 * One transaction, in a worker: waf_begin, the request's parts in
 * order, waf_end.  Each step returns 1 when the rules intervened (v
 * says how), else 0.  Nothing is allocated by porter between begin and
 * end but what libmodsecurity does itself.
 */
struct waf_tx *waf_begin(struct waf_rules *, const char *client_ip,
	    int client_port, const char *server_ip, int server_port,
	    struct waf_verdict *v);
int	waf_uri(struct waf_tx *, const char *uri, size_t len,
	    const char *method, size_t mlen, int version);
int	waf_header(struct waf_tx *, const char *name, size_t nlen,
	    const char *value, size_t vlen);
int	waf_headers_done(struct waf_tx *);
int	waf_body(struct waf_tx *, const char *data, size_t len);
int	waf_body_done(struct waf_tx *);
int	waf_response_header(struct waf_tx *, const char *name, size_t nlen,
	    const char *value, size_t vlen);
int	waf_response_done(struct waf_tx *, int status, int version);
/*
 * Count the verdict so far in waf_shm (once each: a later call adds
 * only what changed), before the answer goes out, so that a client
 * holding the answer finds it counted.
 */
void	waf_count(struct waf_tx *, int mode, int too_large);
/*
 * Finish: the audit log, the counters (mode says blocked or detected),
 * and free the transaction.  Returns nothing; v keeps what it said.
 */
void	waf_end(struct waf_tx *, int mode, int too_large);

#endif /* WAF_H */
