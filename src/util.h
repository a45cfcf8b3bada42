/*
 * util.h - parsing of sizes, durations, numbers, switches and addresses,
 * and small time helpers.
 */
#ifndef UTIL_H
#define UTIL_H

#include <sys/socket.h>
#include <stddef.h>
#include <stdint.h>

struct addr {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 str[64];	/* "1.2.3.4:80", "[::1]:80" */
};

/* Each returns 0 and sets *out, or -1 and writes a reason into err. */
int	util_parse_size(const char *s, uint64_t *out, char *err, size_t errlen);
/* Durations: "150ms", "30s", "5m", "1h"; a bare number is seconds. */
int	util_parse_duration(const char *s, int *ms, char *err, size_t errlen);
int	util_parse_uint(const char *s, unsigned long min, unsigned long max,
	    unsigned long *out, char *err, size_t errlen);
int	util_parse_bool(const char *s, int *out, char *err, size_t errlen);
/*
 * "HOST:PORT", "[V6]:PORT", "*:PORT" or "PORT" (all addresses).  HOST may
 * be a name, resolved now with getaddrinfo (first address).
 */
int	util_parse_addr(const char *s, struct addr *a, char *err, size_t errlen);
/* Format a socket address as "ip:port" / "[ip]:port" (into a->str). */
void	util_addr_format(struct addr *a);
unsigned util_addr_port(const struct addr *a);
/* Only the IP of ss, no port. */
void	util_ip_string(const struct sockaddr_storage *ss, char *buf, size_t len);

struct cidr {
	int		 family;	/* AF_INET or AF_INET6 */
	unsigned char	 addr[16];
	unsigned	 bits;
};

/* "10.0.0.0/8", "::1", "192.168.1.7" (a host): 0, or -1 with err. */
int	util_parse_cidr(const char *s, struct cidr *c, char *err, size_t errlen);
/* Is the address in ss inside c?  IPv4-mapped IPv6 counts as IPv4. */
int	util_cidr_match(const struct cidr *c, const struct sockaddr_storage *ss);

/* A well-mixed 64-bit hash of s[0..len) (FNV-1a, then splitmix64). */
uint64_t util_hash64(const void *s, size_t len, uint64_t seed);

/*
 * Append the strings that follow (up to a NULL) to dst, which holds a
 * string and has room for cap bytes; what does not fit is cut.  Returns
 * the new length.  For per-request text, where snprintf costs too much.
 */
size_t	util_append(char *dst, size_t cap, ...);
/* v in decimal into buf (room for 21 bytes); returns buf. */
char	*util_u64_dec(uint64_t v, char *buf);

/* Monotonic clock in milliseconds. */
int64_t	util_now_ms(void);

#endif /* UTIL_H */
