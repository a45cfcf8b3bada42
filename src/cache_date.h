/*
 * cache_date.h - HTTP-dates (RFC 9110 section 5.6.7).
 */
#ifndef CACHE_DATE_H
#define CACHE_DATE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parse an HTTP-date (IMF-fixdate, RFC 850, asctime; names in any case)
 * into seconds since the epoch; -1 if invalid or before 1970.
 */
int64_t	cache_date_parse(const char *s, size_t len);
/* Format t as IMF-fixdate into buf (at least 30 bytes). */
void	cache_date_format(int64_t t, char *buf, size_t len);

#endif /* CACHE_DATE_H */
