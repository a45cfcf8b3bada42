/*
 * cache_date.c - HTTP-dates (RFC 9110 5.6.7): read in their three forms,
 * written as IMF-fixdate.  Calendar arithmetic is done by hand on 64-bit
 * integers, without the C library's time zone machinery.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cache_date.h"

#define IS_DIGIT(c)	((c) >= '0' && (c) <= '9')

/* 9999-12-31T23:59:59Z, the last instant a 4-digit year can express. */
#define DATE_MAX	INT64_C(253402300799)
#define MONTH(s)	lookup((s), 3, month, 12)

static const char *const wkday[7] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const wkday_l[7] = {
	"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday",
	"Saturday"
};
static const char *const month[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec"
};

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t		 era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil, for days >= 0. */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t		 era, doe, yoe, doy, mp;

	z += 719468;
	era = z / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* n digits at s as a number, -1 if any is not a digit. */
static int
num(const char *s, int n)
{
	int		 v = 0;

	while (n-- > 0) {
		if (!IS_DIGIT(*s))
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	return v;
}

/* 1 + the index of s[0..len) in names[0..n), case aside; else 0. */
static int
lookup(const char *s, size_t len, const char *const *names, int n)
{
	int		 i;

	for (i = 0; i < n; i++)
		if (strlen(names[i]) == len &&
		    strncasecmp(s, names[i], len) == 0)
			return i + 1;
	return 0;
}

/* "HH:MM:SS" at s into seconds of the day; -1 if malformed. */
static int64_t
time_of_day(const char *s)
{
	int		 h, mi, se;

	if (s[2] != ':' || s[5] != ':')
		return -1;
	h = num(s, 2);
	mi = num(s + 3, 2);
	se = num(s + 6, 2);
	/* second 60 is a leap second (5.6.7); it rolls into the next minute. */
	if (h < 0 || h > 23 || mi < 0 || mi > 59 || se < 0 || se > 60)
		return -1;
	return h * 3600 + mi * 60 + se;
}

static int64_t
mktime_utc(int64_t y, int m, int d, int64_t tod)
{
	static const int mdays[12] = {
		31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	int		 leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	int64_t		 t;

	if (y < 0 || m < 1 || d < 1 || d > mdays[m - 1] ||
	    (m == 2 && d == 29 && !leap) || tod < 0)
		return -1;
	t = days_from_civil(y, m, d) * 86400 + tod;
	/* Before the epoch is reported invalid: -1 could not be told apart. */
	return t < 0 ? -1 : t;
}

/*
 * HTTP-date (RFC 9110 5.6.7), exactly one of
 *   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
 *   rfc850-date  "Sunday, 06-Nov-94 08:49:37 GMT"
 *   asctime-date "Sun Nov  6 08:49:37 1994"
 * Names and "GMT" are case-sensitive in the ABNF (%s"..."), but recipients
 * are encouraged to be robust (5.6.7) and origins do send "gmt" or "NOV":
 * case is ignored.  The day name is checked to be one but not against the
 * date: only the date matters.
 */
int64_t
cache_date_parse(const char *s, size_t len)
{
	const char	*c;
	time_t		 now;
	int64_t		 y, cy;
	int		 d, cm, cd;

	if (len == 29 && s[3] == ',' && s[4] == ' ' && s[7] == ' ' &&
	    s[11] == ' ' && s[16] == ' ' && s[25] == ' ' &&
	    strncasecmp(s + 26, "GMT", 3) == 0 && lookup(s, 3, wkday, 7)) {
		if ((y = num(s + 12, 4)) < 0 || (d = num(s + 5, 2)) < 0)
			return -1;
		return mktime_utc(y, MONTH(s + 8), d, time_of_day(s + 17));
	}
	if (len == 24 && s[3] == ' ' && s[7] == ' ' && s[10] == ' ' &&
	    s[19] == ' ' && lookup(s, 3, wkday, 7)) {
		/* date3 = month SP ( 2DIGIT / ( SP DIGIT ) ) */
		d = s[8] == ' ' ? num(s + 9, 1) : num(s + 8, 2);
		if ((y = num(s + 20, 4)) < 0 || d < 0)
			return -1;
		return mktime_utc(y, MONTH(s + 4), d, time_of_day(s + 11));
	}
	if ((c = memchr(s, ',', len)) == NULL ||
	    !lookup(s, (size_t)(c - s), wkday_l, 7) ||
	    len - (size_t)(c - s) != 24)
		return -1;
	/* c: ", 06-Nov-94 08:49:37 GMT" */
	if (c[1] != ' ' || c[4] != '-' || c[8] != '-' || c[11] != ' ' ||
	    c[20] != ' ' || strncasecmp(c + 21, "GMT", 3) != 0 ||
	    (d = num(c + 2, 2)) < 0 || (y = num(c + 9, 2)) < 0)
		return -1;
	/*
	 * A two-digit year more than 50 years in the future is the most
	 * recent past year with those digits (5.6.7): "now" is the one
	 * input of this module that is not in its arguments.
	 */
	now = time(NULL);
	civil_from_days(now > 0 ? (int64_t)now / 86400 : 0, &cy, &cm, &cd);
	y += cy - cy % 100;
	if (y > cy + 50)
		y -= 100;
	return mktime_utc(y, MONTH(c + 5), d, time_of_day(c + 12));
}

void
cache_date_format(int64_t t, char *buf, size_t len)
{
	int64_t		 y, days, tod;
	int		 m, d;

	if (len == 0)
		return;
	if (t < 0)
		t = 0;
	if (t > DATE_MAX)
		t = DATE_MAX;
	days = t / 86400;
	tod = t % 86400;
	civil_from_days(days, &y, &m, &d);
	/* 1970-01-01 was a Thursday. */
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    wkday[(days + 4) % 7], d, month[m - 1], (int)y, (int)(tod / 3600),
	    (int)(tod / 60 % 60), (int)(tod % 60));
}
