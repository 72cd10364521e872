/*
 * Small helpers: allocation that cannot fail, clocks, durations,
 * addresses and label names.  No I/O.
 */
#include "config.h"

#include <sys/stat.h>

#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "netprobed.h"

void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n ? n : 1)) == NULL)
		fatalx("out of memory (%zu bytes)", n);
	return (p);
}

void *
xcalloc(size_t n, size_t sz)
{
	void	*p;

	if ((p = calloc(n ? n : 1, sz ? sz : 1)) == NULL)
		fatalx("out of memory (%zu x %zu bytes)", n, sz);
	return (p);
}

void *
xreallocarray(void *old, size_t n, size_t sz)
{
	void	*p;

	if (sz != 0 && n > SIZE_MAX / sz)
		fatalx("allocation overflow (%zu x %zu)", n, sz);
	if ((p = realloc(old, n * sz != 0 ? n * sz : 1)) == NULL)
		fatalx("out of memory (%zu x %zu bytes)", n, sz);
	return (p);
}

char *
xstrdup(const char *s)
{
	char	*p;

	if ((p = strdup(s)) == NULL)
		fatalx("out of memory (strdup)");
	return (p);
}

int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n < 0)
		fatalx("out of memory (asprintf)");
	return (n);
}

static uint64_t
clock_ns(clockid_t id)
{
	struct timespec	ts;

	clock_gettime(id, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec);
}

uint64_t
now_mono_ns(void)
{
	return (clock_ns(CLOCK_MONOTONIC));
}

uint64_t
rx_mono_ns(uint64_t rx_wall)
{
	uint64_t	mono = now_mono_ns(), wall = now_wall_ns();

	/* the packet's age in wall time; a clock step makes it absurd */
	if (rx_wall != 0 && rx_wall <= wall && wall - rx_wall < 1000000000)
		return (mono - (wall - rx_wall));
	return (mono);
}

uint64_t
now_wall_ns(void)
{
	return (clock_ns(CLOCK_REALTIME));
}

/* Longest accepted duration: 30 days, far beyond any probe interval. */
#define DURATION_MAX_MS	(30ULL * 24 * 3600 * 1000)

int
parse_duration_ms(const char *s, uint64_t *out, const char **why)
{
	static const struct { const char *u; uint64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 }, { "w", 604800000 },
	};
	uint64_t	 total = 0, v;
	size_t		 i, len;
	int		 last = -1;

	if (*s == '\0') {
		*why = "empty duration";
		return (-1);
	}
	while (*s != '\0') {
		if (!isdigit((unsigned char)*s)) {
			*why = "expected a number";
			return (-1);
		}
		for (v = 0; isdigit((unsigned char)*s); s++) {
			v = v * 10 + (uint64_t)(*s - '0');
			if (v > DURATION_MAX_MS) {
				*why = "duration too long (at most 720h)";
				return (-1);
			}
		}
		for (i = 0; i < NP_NELEM(units); i++) {
			len = strlen(units[i].u);
			/* "m" must not swallow the "m" of "ms" */
			if (strncmp(s, units[i].u, len) == 0 &&
			    !(len == 1 && s[0] == 'm' && s[1] == 's'))
				break;
		}
		if (i == NP_NELEM(units)) {
			*why = *s == '\0' ? "no unit; use ms, s, m, h, d or w" :
			    "unknown unit; use ms, s, m, h, d or w";
			return (-1);
		}
		/* units must go from large to small, each at most once */
		if (last != -1 && units[i].ms >= units[last].ms) {
			*why = "units out of order";
			return (-1);
		}
		last = (int)i;
		s += strlen(units[i].u);
		total += v * units[i].ms;
		if (total > DURATION_MAX_MS) {
			*why = "duration too long (at most 720h)";
			return (-1);
		}
	}
	*out = total;
	return (0);
}

void
format_duration_ms(uint64_t ms, char *buf, size_t len)
{
	static const struct { const char *u; uint64_t ms; } units[] = {
		{ "h", 3600000 }, { "m", 60000 }, { "s", 1000 }, { "ms", 1 },
	};
	size_t	i, off = 0;
	int	n;

	if (ms == 0) {
		snprintf(buf, len, "0s");
		return;
	}
	buf[0] = '\0';
	for (i = 0; i < NP_NELEM(units) && off < len; i++) {
		if (ms < units[i].ms)
			continue;
		n = snprintf(buf + off, len - off, "%" PRIu64 "%s",
		    ms / units[i].ms, units[i].u);
		if (n < 0)
			return;
		off += (size_t)n;
		ms %= units[i].ms;
	}
}

int
parse_addr(const char *s, int want_port, struct np_addr *a, const char **why)
{
	char		 host[INET6_ADDRSTRLEN + 2];
	const char	*p, *colon;
	struct sockaddr_in	*sin = (struct sockaddr_in *)&a->ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)&a->ss;
	long		 port = want_port >= 0 ? want_port : 0;
	int		 has_port = 0, bracketed = 0;
	size_t		 hlen;
	char		*end;

	memset(a, 0, sizeof(*a));
	if (*s == '[') {
		if ((p = strchr(s, ']')) == NULL) {
			*why = "missing ']' after IPv6 address";
			return (-1);
		}
		hlen = (size_t)(p - s - 1);
		bracketed = 1;
		s++;
		p++;
		if (*p == ':') {
			has_port = 1;
			p++;
		} else if (*p != '\0') {
			*why = "expected ':PORT' after ']'";
			return (-1);
		}
	} else {
		colon = strchr(s, ':');
		if (colon != NULL && strchr(colon + 1, ':') == NULL) {
			/* exactly one colon: IPv4 (or name) with a port */
			hlen = (size_t)(colon - s);
			p = colon + 1;
			has_port = 1;
		} else {
			hlen = strlen(s);
			p = s + hlen;
		}
	}
	if (hlen == 0 || hlen >= sizeof(host)) {
		*why = hlen == 0 ? "empty address" :
		    "expected an IPv4 or IPv6 address literal";
		return (-1);
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';

	if (has_port) {
		if (want_port == NP_PORT_NONE) {
			*why = "a port is not allowed here";
			return (-1);
		}
		errno = 0;
		if (!isdigit((unsigned char)*p) ||
		    (port = strtol(p, &end, 10), *end != '\0') ||
		    errno != 0 || port < 1 || port > 65535) {
			*why = "port must be a number from 1 to 65535";
			return (-1);
		}
	} else if (want_port == NP_PORT_REQUIRED) {
		*why = "expected HOST:PORT (a port is required)";
		return (-1);
	}

	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		if (bracketed) {
			*why = "brackets are only for IPv6 addresses";
			return (-1);
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		a->len = sizeof(*sin);
	} else if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		a->len = sizeof(*sin6);
	} else {
		*why = "expected an IPv4 or IPv6 address literal "
		    "(names are not resolved)";
		return (-1);
	}
	return (0);
}

int
addr_port(const struct np_addr *a)
{
	if (a->ss.ss_family == AF_INET)
		return (ntohs(((const struct sockaddr_in *)&a->ss)->sin_port));
	return (ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port));
}

void
format_addr(const struct np_addr *a, int with_port, char *buf, size_t len)
{
	char		 host[INET6_ADDRSTRLEN];
	const void	*src;

	if (a->ss.ss_family == AF_INET)
		src = &((const struct sockaddr_in *)&a->ss)->sin_addr;
	else
		src = &((const struct sockaddr_in6 *)&a->ss)->sin6_addr;
	if (inet_ntop(a->ss.ss_family, src, host, sizeof(host)) == NULL)
		snprintf(host, sizeof(host), "?");
	if (!with_port)
		snprintf(buf, len, "%s", host);
	else if (a->ss.ss_family == AF_INET6)
		snprintf(buf, len, "[%s]:%d", host, addr_port(a));
	else
		snprintf(buf, len, "%s:%d", host, addr_port(a));
}

int
addr_match(const struct np_addr *a, const struct sockaddr_storage *b,
    int with_port)
{
	const struct sockaddr_in	*x4, *y4;
	const struct sockaddr_in6	*x6, *y6;

	if (a->ss.ss_family != b->ss_family)
		return (0);
	if (b->ss_family == AF_INET) {
		x4 = (const struct sockaddr_in *)&a->ss;
		y4 = (const struct sockaddr_in *)b;
		return ((!with_port || x4->sin_port == y4->sin_port) &&
		    x4->sin_addr.s_addr == y4->sin_addr.s_addr);
	}
	if (b->ss_family != AF_INET6)
		return (0);
	x6 = (const struct sockaddr_in6 *)&a->ss;
	y6 = (const struct sockaddr_in6 *)b;
	return ((!with_port || x6->sin6_port == y6->sin6_port) &&
	    memcmp(&x6->sin6_addr, &y6->sin6_addr, sizeof(y6->sin6_addr)) ==
	    0);
}

int
valid_label_name(const char *s)
{
	if (!(isalpha((unsigned char)*s) || *s == '_'))
		return (0);
	if (s[0] == '_' && s[1] == '_')
		return (0);
	for (s++; *s != '\0'; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return (0);
	return (1);
}

size_t
utf8_seq_len(const unsigned char *p, size_t avail)
{
	uint32_t	cp;
	size_t		n, i;

	if (avail == 0)
		return (0);
	if (p[0] < 0x80)
		return (1);
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return (0);
	if (avail < n)
		return (0);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return (0);
	return (n);
}

void
json_str(struct evbuffer *b, const char *s)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 n;

	evbuffer_add(b, "\"", 1);
	while (*p != '\0') {
		if (*p == '"' || *p == '\\') {
			evbuffer_add_printf(b, "\\%c", *p++);
			continue;
		}
		if (*p < 0x20) {
			evbuffer_add_printf(b, "\\u%04x", *p++);
			continue;
		}
		/* NUL-terminated: a NUL is never a continuation byte */
		if ((n = utf8_seq_len(p, SIZE_MAX)) == 0) {
			/* not UTF-8 (a peer's header, say): U+FFFD */
			evbuffer_add(b, "\\ufffd", 6);
			p++;
			continue;
		}
		evbuffer_add(b, p, n);
		p += n;
	}
	evbuffer_add(b, "\"", 1);
}

void
json_num(struct evbuffer *b, double v)
{
	char	buf[64];

	if (isnan(v) || isinf(v)) {
		evbuffer_add(b, "null", 4);
		return;
	}
	format_double(v, buf, sizeof(buf));
	evbuffer_add(b, buf, strlen(buf));
}

void
json_time(struct evbuffer *b, int64_t ms)
{
	struct tm	tm;
	time_t		t = (time_t)(ms / 1000);
	char		buf[40];

	if (ms <= 0 || gmtime_r(&t, &tm) == NULL) {
		evbuffer_add(b, "null", 4);
		return;
	}
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	evbuffer_add_printf(b, "\"%s.%03dZ\"", buf, (int)(ms % 1000));
}

char *
secret_read(const char *path, size_t max, size_t *lenp, char *err,
    size_t errlen)
{
	struct stat	 st;
	char		*buf;
	size_t		 len = 0;
	ssize_t		 r;
	int		 fd;

	/* O_NONBLOCK: a FIFO named here must not hang the loader */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		    errno == ELOOP ? "it is a symbolic link" : strerror(errno));
		return (NULL);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file", path);
		close(fd);
		return (NULL);
	}
	if ((st.st_mode & 007) != 0) {
		snprintf(err, errlen, "%s is readable by others (mode %03o); "
		    "chmod 600 it", path, (unsigned)(st.st_mode & 0777));
		close(fd);
		return (NULL);
	}
	if ((st.st_mode & 020) != 0) {
		snprintf(err, errlen, "%s is writable by its group (mode %03o); "
		    "chmod 640 it", path, (unsigned)(st.st_mode & 0777));
		close(fd);
		return (NULL);
	}
	buf = xmalloc(max + 1);
	while (len <= max && (r = read(fd, buf + len, max + 1 - len)) != 0) {
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "cannot read %s: %s", path,
			    strerror(errno));
			close(fd);
			secret_free(buf, len);
			return (NULL);
		}
		len += (size_t)r;
	}
	close(fd);
	if (len > max) {
		snprintf(err, errlen, "%s is larger than %zu bytes", path, max);
		secret_free(buf, len);
		return (NULL);
	}
	buf[len] = '\0';
	*lenp = len;
	return (buf);
}

void
secret_free(char *s, size_t len)
{
	if (s == NULL)
		return;
	explicit_bzero(s, len);
	free(s);
}

uint64_t
str_hash(const char *s)
{
	uint64_t	h = 14695981039346656037ULL;	/* FNV-1a */

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (h);
}

void
heap_trim(void)
{
#ifdef __GLIBC__
	malloc_trim(0);
#endif
}

long
strindex_add(struct strindex *si, const char *s, size_t idx)
{
	size_t	i, j, cap;

	if (si->n * 2 >= si->cap) {
		struct strindex	old = *si;

		cap = si->cap ? si->cap * 2 : 64;
		si->key = xcalloc(cap, sizeof(*si->key));
		si->idx = xcalloc(cap, sizeof(*si->idx));
		si->cap = cap;
		for (i = 0; i < old.cap; i++) {
			if (old.key[i] == NULL)
				continue;
			for (j = str_hash(old.key[i]) & (cap - 1);
			    si->key[j] != NULL; j = (j + 1) & (cap - 1))
				;
			si->key[j] = old.key[i];
			si->idx[j] = old.idx[i];
		}
		free(old.key);
		free(old.idx);
	}
	for (j = str_hash(s) & (si->cap - 1); si->key[j] != NULL;
	    j = (j + 1) & (si->cap - 1))
		if (strcmp(si->key[j], s) == 0)
			return ((long)si->idx[j]);
	si->key[j] = s;
	si->idx[j] = idx;
	si->n++;
	return (-1);
}

void
strindex_free(struct strindex *si)
{
	free(si->key);
	free(si->idx);
	memset(si, 0, sizeof(*si));
}
