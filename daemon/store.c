/*
 * The series store: counters, gauges and histograms with labels.  Probes
 * write here; /metrics (and later the rule engine) only read.
 *
 * A series is found by hash only when it is created; whoever creates it
 * keeps the pointer, so recording a result is a few stores, no lookup.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "netprobed.h"

/*
 * One allocation per series (there are some 14 per target): the struct
 * and, for a histogram, its count and buckets after it (hist()).  56
 * bytes, a 64-byte malloc chunk: keep it so.  The label text is shared
 * (struct ltext): a target's series carry the same labels in different
 * families, so the same text pointer means the same labels.
 */
struct series {
	struct family	*fam;
	const char	*labels;	/* inner text: a="b",c="d" (ltext) */
	double		 value;		/* counter, gauge; histogram sum */
	struct series	*prev, *next;	/* family order */
	struct series	*lnext;		/* next of its ltext's, or dead */
	int		 has_value;
};
_Static_assert(sizeof(struct series) % sizeof(uint64_t) == 0,
    "a histogram's counts follow the struct");

/* A histogram's observation count, then its buckets (not cumulative). */
static inline uint64_t *
hist(const struct series *s)
{
	return ((uint64_t *)(void *)(s + 1));
}

/*
 * A distinct label text, with the number of series that show it and a
 * list of them (by lnext): a series is found by its text, then by its
 * family among the few of that text (a target's), so the store needs no
 * table of series (2 MiB at 10,000 targets).
 */
struct ltext {
	struct ltext	*next;		/* hash chain */
	uint64_t	 hash;
	size_t		 refs;
	struct series	*series;
	char		 text[];
};

static struct ltext *
ltext_of(const char *text)
{
	return ((struct ltext *)(void *)((char *)(uintptr_t)text -
	    offsetof(struct ltext, text)));
}

struct family {
	char		*name;
	char		*help;
	enum metric_type type;
	double		*bounds;
	size_t		 nbounds;
	char		(*le)[32];	/* bounds as le="..." shows them */
	size_t		 namelen;
	struct series	*head, *tail;
	struct family	*next;
};

struct store {
	struct family	*fams, *last;
	size_t		 nseries;
	struct ltext	**texts;	/* by text; ntexts_hash a power of 2 */
	size_t		 ntexts_hash, ntexts;
	/*
	 * While a /metrics render is in progress (store_cursor), released
	 * series stay in their family's list, without a value, chained by
	 * lnext here; freed when the last cursor ends.
	 */
	unsigned	 ncursors;
	struct series	*dead;
};

/* A render in progress: the next series to write. */
struct store_cursor {
	struct store	*st;
	struct family	*f;
	struct series	*s;
	int		 in_family;	/* s is f's next (else f's start) */
	int		 header;	/* f's HELP and TYPE are written */
};

static uint64_t
hash_str(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return (h);
}

/* The shared copy of a label text, one more series using it. */
static const char *
text_get(struct store *st, const char *text, size_t len)
{
	struct ltext	*t, **old, *n;
	uint64_t	 h = hash_str(14695981039346656037ULL, text);
	size_t		 i, m;

	for (t = st->texts[h & (st->ntexts_hash - 1)]; t != NULL; t = t->next)
		if (t->hash == h && strcmp(t->text, text) == 0) {
			t->refs++;
			return (t->text);
		}
	if (st->ntexts >= st->ntexts_hash) {
		old = st->texts;
		m = st->ntexts_hash;
		st->ntexts_hash *= 2;
		st->texts = xcalloc(st->ntexts_hash, sizeof(*st->texts));
		for (i = 0; i < m; i++)
			for (t = old[i]; t != NULL; t = n) {
				n = t->next;
				t->next = st->texts[t->hash &
				    (st->ntexts_hash - 1)];
				st->texts[t->hash & (st->ntexts_hash - 1)] = t;
			}
		free(old);
	}
	t = xmalloc(offsetof(struct ltext, text) + len + 1);
	t->hash = h;
	t->refs = 1;
	t->series = NULL;
	memcpy(t->text, text, len + 1);
	t->next = st->texts[h & (st->ntexts_hash - 1)];
	st->texts[h & (st->ntexts_hash - 1)] = t;
	st->ntexts++;
	return (t->text);
}

/* One series fewer uses it: the last frees it. */
static void
text_put(struct store *st, const char *text)
{
	struct ltext	*t = ltext_of(text), **pp;

	if (--t->refs > 0)
		return;
	for (pp = &st->texts[t->hash & (st->ntexts_hash - 1)]; *pp != t;
	    pp = &(*pp)->next)
		;
	*pp = t->next;
	st->ntexts--;
	free(t);
}

struct store *
store_new(void)
{
	struct store	*st = xcalloc(1, sizeof(*st));

	st->ntexts_hash = 1024;
	st->texts = xcalloc(st->ntexts_hash, sizeof(*st->texts));
	return (st);
}

void
store_free(struct store *st)
{
	struct family	*f, *fn;
	struct series	*s, *sn;
	struct ltext	*t, *tn;
	size_t		 i;

	if (st == NULL)
		return;
	for (f = st->fams; f != NULL; f = fn) {
		fn = f->next;
		/* (dead series are still in their family's list) */
		for (s = f->head; s != NULL; s = sn) {
			sn = s->next;
			free(s);
		}
		free(f->name);
		free(f->help);
		free(f->bounds);
		free(f->le);
		free(f);
	}
	for (i = 0; i < st->ntexts_hash; i++)
		for (t = st->texts[i]; t != NULL; t = tn) {
			tn = t->next;
			free(t);
		}
	free(st->texts);
	free(st);
}

struct family *
store_family(struct store *st, const char *name, const char *help,
    enum metric_type type, const double *bounds, size_t nbounds)
{
	struct family	*f;
	size_t		 i;

	for (f = st->fams; f != NULL; f = f->next)
		if (strcmp(f->name, name) == 0) {
			if (f->type != type)
				fatalx("metric %s registered twice with "
				    "different types", name);
			return (f);
		}
	f = xcalloc(1, sizeof(*f));
	f->name = xstrdup(name);
	f->namelen = strlen(name);
	f->help = xstrdup(help);
	f->type = type;
	if (type == METRIC_HISTOGRAM) {
		f->bounds = xcalloc(nbounds, sizeof(double));
		if (nbounds > 0)
			memcpy(f->bounds, bounds, nbounds * sizeof(double));
		f->nbounds = nbounds;
		/* formatted once, not per series per render */
		f->le = xcalloc(nbounds ? nbounds : 1, sizeof(*f->le));
		for (i = 0; i < nbounds; i++)
			format_double(bounds[i], f->le[i], sizeof(f->le[i]));
	}
	if (st->last != NULL)
		st->last->next = f;
	else
		st->fams = f;
	st->last = f;
	return (f);
}

int
store_family_type(const struct store *st, const char *name)
{
	const struct family	*f;

	for (f = st->fams; f != NULL; f = f->next)
		if (strcmp(f->name, name) == 0)
			return ((int)f->type);
	return (-1);
}

/* Append name="value" to an evbuffer, escaped for the text format. */
void
escape_label_value(struct evbuffer *b, const char *v)
{
	const char	*p;

	for (p = v; *p != '\0'; p++) {
		if (*p == '\\')
			evbuffer_add(b, "\\\\", 2);
		else if (*p == '"')
			evbuffer_add(b, "\\\"", 2);
		else if (*p == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, p, 1);
	}
}

static void
label_add(struct evbuffer *b, const char *name, const char *value)
{
	if (evbuffer_get_length(b) > 0)
		evbuffer_add(b, ",", 1);
	evbuffer_add_printf(b, "%s=\"", name);
	escape_label_value(b, value);
	evbuffer_add(b, "\"", 1);
}

struct series *
store_series_v(struct store *st, struct family *f, const struct np_labels *base,
    const char *const *extra)
{
	struct evbuffer	*b = evbuffer_new();
	struct series	*s;
	char		*text;
	const char	*shared;
	struct ltext	*t;
	size_t		 i, len;

	if (b == NULL)
		fatalx("out of memory (evbuffer)");
	for (i = 0; base != NULL && i < base->n; i++)
		label_add(b, base->v[i].name, base->v[i].value);
	for (i = 0; extra != NULL && extra[i] != NULL; i += 2)
		label_add(b, extra[i], extra[i + 1]);
	len = evbuffer_get_length(b);
	text = xmalloc(len + 1);
	evbuffer_remove(b, text, len);
	text[len] = '\0';
	evbuffer_free(b);

	shared = text_get(st, text, len);
	free(text);
	t = ltext_of(shared);
	for (s = t->series; s != NULL; s = s->lnext)
		if (s->fam == f) {
			text_put(st, shared);
			return (s);
		}
	s = xcalloc(1, sizeof(*s) + (f->type == METRIC_HISTOGRAM ?
	    (1 + f->nbounds) * sizeof(uint64_t) : 0));
	s->fam = f;
	s->labels = shared;
	if (f->type != METRIC_GAUGE)
		s->has_value = 1;	/* counters start at 0 and show it */
	s->lnext = t->series;
	t->series = s;
	s->prev = f->tail;
	if (f->tail != NULL)
		f->tail->next = s;
	else
		f->head = s;
	f->tail = s;
	st->nseries++;
	return (s);
}

struct series *
store_series_va(struct store *st, struct family *f,
    const struct np_labels *base, va_list ap)
{
	const char	*extra[17];
	size_t		 n = 0;

	while (n < NP_NELEM(extra) - 1 &&
	    (extra[n] = va_arg(ap, const char *)) != NULL)
		n++;
	extra[n] = NULL;
	if (n % 2 != 0)
		fatalx("store_series: odd number of label strings");
	return (store_series_v(st, f, base, extra));
}

struct series *
store_series(struct store *st, struct family *f, const struct np_labels *base,
    ...)
{
	struct series	*s;
	va_list		 ap;

	va_start(ap, base);
	s = store_series_va(st, f, base, ap);
	va_end(ap);
	return (s);
}

static void
series_unlink(struct store *st, struct series *s)
{
	struct family	*f = s->fam;

	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		f->head = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	else
		f->tail = s->prev;
	text_put(st, s->labels);
	free(s);
}

void
store_release(struct store *st, struct series *s)
{
	struct series	**pp;

	if (s == NULL)
		return;
	for (pp = &ltext_of(s->labels)->series; *pp != NULL;
	    pp = &(*pp)->lnext)
		if (*pp == s) {
			*pp = s->lnext;
			break;
		}
	st->nseries--;
	if (st->ncursors > 0) {
		/* a render may be about to walk through it: later */
		s->has_value = 0;
		s->lnext = st->dead;
		st->dead = s;
		return;
	}
	series_unlink(st, s);
}

void
series_set(struct series *s, double v)
{
	s->value = v;
	s->has_value = 1;
}

void
series_unset(struct series *s)
{
	if (s->fam->type == METRIC_GAUGE)
		s->has_value = 0;
}

void
series_add(struct series *s, double v)
{
	s->value += v;
	s->has_value = 1;
}

void
series_observe(struct series *s, double v)
{
	const struct family	*f;
	size_t			 i;

	if (s == NULL)
		return;
	f = s->fam;
	if (isnan(v))
		return;
	for (i = 0; i < f->nbounds; i++)
		if (v <= f->bounds[i]) {
			hist(s)[1 + i]++;
			break;
		}
	hist(s)[0]++;
	s->value += v;
}

double
series_value(const struct series *s)
{
	return (s->value);
}

uint64_t
series_count(const struct series *s)
{
	return (s->fam->type == METRIC_HISTOGRAM ? hist(s)[0] : 0);
}

size_t
store_nseries(const struct store *st)
{
	return (st->nseries);
}

/*
 * Counters and bucket counts are integers: most samples of a render.
 * snprintf("%lld") was a third of /metrics' CPU (perf; docs/performance.md).
 */
static void
format_int(int64_t v, char *buf, size_t len)
{
	char		 tmp[24], *p = tmp + sizeof(tmp);
	uint64_t	 u = v < 0 ? -(uint64_t)v : (uint64_t)v;
	size_t		 n;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		*--p = '-';
	n = (size_t)(tmp + sizeof(tmp) - p);
	if (len == 0)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
}

/*
 * A value on a decimal grid, 10^-g (g 9: durations and RTTs, ns / 1e9
 * from the clocks; g 6: timestamps to the microsecond), written from the
 * integer k = v * 10^g: the text "%.15g" to "%.17g" gives, without printf
 * and the strtod round trip, which were half of a scrape's instructions
 * (callgrind).  Only where the grid's decimals are more than a double
 * apart (|v| < 1e6 for ns, < 2^31 for us), so the text reads back
 * exactly and no shorter one does.  0 if v is not on the grid.
 */
static int
format_grid(double v, int g, char *buf, size_t len)
{
	char		 d[24], *p = buf;
	long long	 k;
	uint64_t	 u;
	int		 nd = 0, z = 0, e, i;
	double		 scale = g == 9 ? 1e9 : 1e6;

	if (len < 32)
		return (0);
	k = llround(v * scale);
	if (k == 0 || (double)k / scale != v)
		return (0);
	u = k < 0 ? -(uint64_t)k : (uint64_t)k;
	for (; u % 10 == 0; u /= 10)
		z++;
	for (; u != 0; u /= 10)
		d[sizeof(d) - 1 - nd++] = (char)('0' + u % 10);
	memmove(d, d + sizeof(d) - nd, (size_t)nd);
	e = nd - 1 + z - g;		/* the first digit's power of ten */
	if (k < 0)
		*p++ = '-';
	if (e < -4) {			/* %g: d.ddde-XX */
		*p++ = d[0];
		if (nd > 1) {
			*p++ = '.';
			memcpy(p, d + 1, (size_t)nd - 1);
			p += nd - 1;
		}
		*p++ = 'e';
		*p++ = '-';
		*p++ = (char)('0' + -e / 10);
		*p++ = (char)('0' + -e % 10);
	} else if (e < 0) {		/* 0.000ddd */
		*p++ = '0';
		*p++ = '.';
		for (i = 0; i < -e - 1; i++)
			*p++ = '0';
		memcpy(p, d, (size_t)nd);
		p += nd;
	} else {			/* ddd.ddd (not an integer: z < g) */
		memcpy(p, d, (size_t)e + 1);
		p += e + 1;
		*p++ = '.';
		memcpy(p, d + e + 1, (size_t)(nd - e - 1));
		p += nd - e - 1;
	}
	*p = '\0';
	return (1);
}

int
format_nonfinite(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "NaN");
	else if (isinf(v))
		snprintf(buf, len, v > 0 ? "+Inf" : "-Inf");
	else
		return (0);
	return (1);
}

void
format_double_exact(double v, char *buf, size_t len)
{
	snprintf(buf, len, "%.15g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, len, "%.16g", v);
	if (strtod(buf, NULL) != v)
		snprintf(buf, len, "%.17g", v);
}

void
format_double(double v, char *buf, size_t len)
{
	if (format_nonfinite(v, buf, len))
		return;
	if (fabs(v) < 1e15 && v == (double)(int64_t)v)
		format_int((int64_t)v, buf, len);
	else if (!(fabs(v) < 1e6 ? format_grid(v, 9, buf, len) :
	    fabs(v) < 2147483648.0 && format_grid(v, 6, buf, len)))
		format_double_exact(v, buf, len);
}

static void
render_help(struct evbuffer *b, const struct family *f)
{
	static const char *const type[] = { "counter", "gauge", "histogram" };
	const char	*p;

	evbuffer_add_printf(b, "# HELP %s ", f->name);
	for (p = f->help; *p != '\0'; p++) {
		if (*p == '\\')
			evbuffer_add(b, "\\\\", 2);
		else if (*p == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, p, 1);
	}
	evbuffer_add_printf(b, "\n# TYPE %s %s\n", f->name, type[f->type]);
}

/* Room a line needs beyond its name and labels: suffix, le, value. */
#define LINE_SLACK	(sizeof("_bucket{,le=\"\"} \n") + 32 + 64)

/*
 * A series' lines gathered in one buffer with memcpy (printf was half of
 * /metrics' CPU), the lengths of its name and labels taken once per
 * series (strlen per sample was 9 % of a scrape).
 */
struct lines {
	struct evbuffer	*b;
	size_t		 ln, ll;	/* name and labels */
	size_t		 need;		/* room for one more line */
	char		*p, *out;	/* out: buf, or the heap for a series
					 * whose lines do not fit in it */
	size_t		 cap;
	char		 buf[8192];
};

/* name{labels,le="x"} value, after the lines gathered so far. */
static void
line_sample(void *arg, const char *name, const char *suffix,
    const char *labels, const char *le, double v)
{
	struct lines	*l = arg;
	char		*p = l->p;
	size_t		 n;

	if ((size_t)(l->out + l->cap - p) < l->need) {
		evbuffer_add(l->b, l->out, (size_t)(p - l->out));
		p = l->out;
	}
	memcpy(p, name, l->ln);
	p += l->ln;
	n = strlen(suffix);
	memcpy(p, suffix, n);
	p += n;
	if (l->ll > 0 || le != NULL) {
		*p++ = '{';
		memcpy(p, labels, l->ll);
		p += l->ll;
		if (le != NULL) {
			if (l->ll > 0)
				*p++ = ',';
			memcpy(p, "le=\"", 4);
			p += 4;
			n = strlen(le);
			memcpy(p, le, n);
			p += n;
			*p++ = '"';
		}
		*p++ = '}';
	}
	*p++ = ' ';
	format_double(v, p, 64);
	p += strlen(p);
	*p++ = '\n';
	l->p = p;
}

/* Every sample of one series as the text format shows it. */
static void
series_samples(const struct family *f, const struct series *s,
    store_sample_fn fn, void *arg)
{
	uint64_t	cum = 0;
	size_t		i;

	if (f->type != METRIC_HISTOGRAM) {
		fn(arg, f->name, "", s->labels, NULL, s->value);
		return;
	}
	for (i = 0; i < f->nbounds; i++) {
		cum += hist(s)[1 + i];
		fn(arg, f->name, "_bucket", s->labels, f->le[i], (double)cum);
	}
	fn(arg, f->name, "_bucket", s->labels, "+Inf", (double)hist(s)[0]);
	fn(arg, f->name, "_sum", s->labels, NULL, s->value);
	fn(arg, f->name, "_count", s->labels, NULL, (double)hist(s)[0]);
}

/* Every sample of one series in the text format. */
static void
render_series(struct evbuffer *b, const struct family *f,
    const struct series *s)
{
	struct lines	l;

	l.b = b;
	l.ln = f->namelen;
	l.ll = strlen(s->labels);
	l.need = l.ln + l.ll + LINE_SLACK;
	l.out = l.buf;
	l.cap = sizeof(l.buf);
	if (l.need > l.cap)		/* one line longer than buf */
		l.out = xmalloc(l.cap = l.need);
	l.p = l.out;
	series_samples(f, s, line_sample, &l);
	evbuffer_add(b, l.out, (size_t)(l.p - l.out));
	if (l.out != l.buf)
		free(l.out);
}

static void
render(const struct store *st, struct evbuffer *b, int gauges_only)
{
	const struct family	*f;
	const struct series	*s;
	int			 header;

	for (f = st->fams; f != NULL; f = f->next) {
		if (gauges_only && f->type != METRIC_GAUGE)
			continue;
		header = 0;
		for (s = f->head; s != NULL; s = s->next) {
			if (!s->has_value)
				continue;
			if (!header) {
				render_help(b, f);
				header = 1;
			}
			render_series(b, f, s);
		}
	}
}

struct store_cursor *
store_render_begin(struct store *st)
{
	struct store_cursor	*c = xcalloc(1, sizeof(*c));

	c->st = st;
	c->f = st->fams;
	st->ncursors++;
	return (c);
}

int
store_render_some(struct store_cursor *c, struct evbuffer *b, size_t budget)
{
	size_t	start = evbuffer_get_length(b);

	for (; c->f != NULL; c->f = c->f->next, c->in_family = 0) {
		if (!c->in_family) {
			c->s = c->f->head;
			c->in_family = 1;
			c->header = 0;
		}
		for (; c->s != NULL; c->s = c->s->next) {
			if (!c->s->has_value)
				continue;
			if (evbuffer_get_length(b) - start >= budget)
				return (1);
			if (!c->header) {
				render_help(b, c->f);
				c->header = 1;
			}
			render_series(b, c->f, c->s);
		}
	}
	return (0);
}

void
store_render_end(struct store_cursor *c)
{
	struct store	*st;
	struct series	*s;

	if (c == NULL)
		return;
	st = c->st;
	if (--st->ncursors == 0)
		while ((s = st->dead) != NULL) {
			st->dead = s->lnext;
			series_unlink(st, s);
		}
	free(c);
}

void
store_render(const struct store *st, struct evbuffer *b)
{
	render(st, b, 0);
}

void
store_render_gauges(const struct store *st, struct evbuffer *b)
{
	render(st, b, 1);
}

void
store_visit(const struct store *st, int (*want)(void *, const char *),
    store_sample_fn fn, void *arg)
{
	const struct family	*f;
	const struct series	*s;

	for (f = st->fams; f != NULL; f = f->next) {
		if (want != NULL && !want(arg, f->name))
			continue;
		for (s = f->head; s != NULL; s = s->next)
			if (s->has_value)
				series_samples(f, s, fn, arg);
	}
}

enum metric_type
family_type(const struct family *f)
{
	return (f->type);
}
