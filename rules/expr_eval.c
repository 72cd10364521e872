/*
 * Evaluator for the rule expression language at one instant, with the
 * semantics of Prometheus 2.x promql/engine.go and functions.go: 5m
 * lookback for instant selectors, extrapolated rate/increase/delta,
 * vector matching, and __name__ dropped wherever PromQL drops it.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules/expr_int.h"
#include "rules/labels.h"

#define LOOKBACK_MS	(5 * 60 * 1000)	/* engine.go defaultLookbackDelta */

struct ectx {
	const struct rl_source	*src;
	int64_t			 t;
	char			*err;
	size_t			 errlen;
	int			 failed;
};

static int	eval(struct ectx *, const struct rl_expr *, struct rl_value *);

static void __attribute__((format(printf, 2, 3)))
eerr(struct ectx *c, const char *fmt, ...)
{
	va_list	ap;

	if (c->failed)
		return;
	c->failed = 1;
	va_start(ap, fmt);
	vsnprintf(c->err, c->errlen, fmt, ap);
	va_end(ap);
}

/* ---- staleness ---- */

#define STALE_NAN_BITS	0x7ff0000000000002ULL	/* value.StaleNaN */

double
rl_stale_nan(void)
{
	uint64_t	b = STALE_NAN_BITS;
	double		d;

	memcpy(&d, &b, sizeof(d));
	return (d);
}

int
rl_is_stale(double d)
{
	uint64_t	b;

	memcpy(&b, &d, sizeof(b));
	return (b == STALE_NAN_BITS);
}

/* ---- label sets (rules/labels.c keeps them sorted) ---- */

/* Keep only the listed labels (keep != 0) or drop them (keep == 0). */
static void
lab_filter(struct np_labels *l, const struct rl_strlist *names, int keep)
{
	size_t	i = 0;

	while (i < l->n) {
		if (rl_strlist_has(names, l->v[i].name) != keep)
			rl_labels_del(l, l->v[i].name);
		else
			i++;
	}
}

/*
 * A grouping key: the labels selected by names (on/by: only those;
 * otherwise all but those and __name__), length-prefixed so that no
 * value can forge another key.
 */
enum { KEY_WITHOUT, KEY_ONLY, KEY_ALL };

/* Append "LEN:TEXT" (what sprintf("%zu:%s") wrote: this runs for every
 * sample of every aggregation and match). */
static char *
key_part(char *o, const char *s)
{
	size_t	 n = strlen(s), m = n;
	char	 d[24], *p = d + sizeof(d);

	do
		*--p = (char)('0' + m % 10);
	while ((m /= 10) != 0);
	memcpy(o, p, (size_t)(d + sizeof(d) - p));
	o += d + sizeof(d) - p;
	*o++ = ':';
	memcpy(o, s, n);
	return (o + n);
}

static char *
lab_key(const struct np_labels *l, const struct rl_strlist *names, int mode)
{
	char	*k, *o;
	size_t	 i, len = 1;

	for (i = 0; i < l->n; i++)
		len += strlen(l->v[i].name) + strlen(l->v[i].value) + 44;
	k = o = xmalloc(len);
	*o = '\0';
	for (i = 0; i < l->n; i++) {
		if (mode == KEY_ONLY && !rl_strlist_has(names, l->v[i].name))
			continue;
		if (mode == KEY_WITHOUT && (rl_strlist_has(names, l->v[i].name) ||
		    strcmp(l->v[i].name, "__name__") == 0))
			continue;
		o = key_part(o, l->v[i].name);
		o = key_part(o, l->v[i].value);
	}
	*o = '\0';
	return (k);
}

/* ---- values ---- */

static struct rl_sample *
vec_add(struct rl_value *v, double x)
{
	struct rl_sample	*s;

	/* grow by doubling: n is a power of two or zero before growing */
	if (v->n == 0 || (v->n & (v->n - 1)) == 0)
		v->samples = xreallocarray(v->samples, v->n ? v->n * 2 : 1,
		    sizeof(*v->samples));
	s = &v->samples[v->n++];
	memset(s, 0, sizeof(*s));
	s->v = x;
	return (s);
}

void
rl_value_free(struct rl_value *v)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; i < v->n; i++)
		rl_labels_free(&v->samples[i].labels);
	free(v->samples);
	v->samples = NULL;
	v->n = 0;
}

static int
sample_cmp(const void *a, const void *b)
{
	return (rl_labels_cmp(&((const struct rl_sample *)a)->labels,
	    &((const struct rl_sample *)b)->labels));
}

struct hashed {
	uint64_t	h;
	size_t		idx;
};

static int
hashed_cmp(const void *a, const void *b)
{
	const struct hashed	*x = a, *y = b;

	return (x->h < y->h ? -1 : x->h > y->h);
}

/*
 * Prometheus: "vector cannot contain metrics with the same labelset".
 * By the hash of each label set: only equal hashes are compared label by
 * label (sorting the samples by their labels cost most of an evaluation
 * over thousands of series).  The samples keep their order.
 */
static int
check_unique(struct ectx *c, struct rl_value *v)
{
	struct hashed	*hs;
	size_t		 i, j;
	int		 rc = 0;

	if (v->type != RL_VECTOR || v->n < 2)
		return (0);
	hs = xreallocarray(NULL, v->n, sizeof(*hs));
	for (i = 0; i < v->n; i++) {
		hs[i].h = rl_labels_hash(&v->samples[i].labels);
		hs[i].idx = i;
	}
	qsort(hs, v->n, sizeof(*hs), hashed_cmp);
	for (i = 0; i + 1 < v->n && rc == 0; i++)
		for (j = i + 1; j < v->n && hs[j].h == hs[i].h; j++)
			if (rl_labels_cmp(&v->samples[hs[i].idx].labels,
			    &v->samples[hs[j].idx].labels) == 0) {
				rc = -1;
				break;
			}
	free(hs);
	if (rc == -1)
		eerr(c, "vector cannot contain metrics with the same "
		    "labelset");
	return (rc);
}

static const struct rl_expr *
unparen(const struct rl_expr *e)
{
	while (e->kind == N_PAREN)
		e = e->lhs;
	return (e);
}

/* ---- selectors and range functions ---- */

struct collect {
	struct ectx		*c;
	const struct rl_expr	*call;	/* NULL: instant selector */
	double			 param;
	int64_t			 from, to;
	struct rl_value		*out;
	size_t			 seen;	/* series with points in range */
};

/* extrapolatedRate() of Prometheus 2.x functions.go. */
static int
extrapolated(const struct rl_point *p, size_t n, int64_t from, int64_t to,
    int counter, int rate, double *out)
{
	double	corr = 0, last = 0, res, dstart, dend, sampled, avg, dzero;
	double	thresh, ext;
	size_t	i;

	if (n < 2)
		return (0);
	for (i = 0; i < n; i++) {
		if (counter && p[i].v < last)
			corr += last;	/* a counter reset */
		last = p[i].v;
	}
	res = last - p[0].v + corr;
	dstart = (double)(p[0].t_ms - from) / 1000;
	dend = (double)(to - p[n - 1].t_ms) / 1000;
	sampled = (double)(p[n - 1].t_ms - p[0].t_ms) / 1000;
	avg = sampled / (double)(n - 1);
	if (counter && res > 0 && p[0].v >= 0) {
		/* a counter does not extrapolate below zero */
		dzero = sampled * (p[0].v / res);
		if (dzero < dstart)
			dstart = dzero;
	}
	thresh = avg * 1.1;
	ext = sampled;
	ext += dstart < thresh ? dstart : avg / 2;
	ext += dend < thresh ? dend : avg / 2;
	res = res * (ext / sampled);
	if (rate)
		res /= (double)(to - from) / 1000;
	*out = res;
	return (1);
}

/* Prometheus' quantile(): linear interpolation between ranks. */
static double
quantile(double q, double *v, size_t n)
{
	double	rank, w;
	size_t	lo, hi, i, j;

	if (n == 0 || isnan(q))
		return (NAN);
	if (q < 0)
		return (-INFINITY);
	if (q > 1)
		return (INFINITY);
	/* insertion sort; NaN below everything, as vectorByValueHeap */
	for (i = 1; i < n; i++) {
		double	x = v[i];

		for (j = i; j > 0 && (x < v[j - 1] ||
		    (isnan(x) && !isnan(v[j - 1]))); j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
	rank = q * (double)(n - 1);
	lo = (size_t)floor(rank);
	hi = lo + 1 < n ? lo + 1 : n - 1;
	w = rank - floor(rank);
	return (v[lo] * (1 - w) + v[hi] * w);
}

/* Incremental mean as in Prometheus 2.x, so MaxFloat+MaxFloat stays finite. */
static double
mean_add(double mean, double x, double count)
{
	if (isinf(mean)) {
		if (isinf(x) && (mean > 0) == (x > 0))
			return (mean);
		if (!isinf(x) && !isnan(x))
			return (mean);
	}
	return (mean + x / count - mean / count);
}

/* One range function over one series' points; 0 if no output. */
static int
range_fn(const struct collect *k, const struct rl_point *p, size_t n,
    double *out)
{
	double	 x, *tmp;
	size_t	 i;
	int	 cnt;

	switch (k->call->fn->id) {
	case F_RATE:
		return (extrapolated(p, n, k->from, k->to, 1, 1, out));
	case F_INCREASE:
		return (extrapolated(p, n, k->from, k->to, 1, 0, out));
	case F_DELTA:
		return (extrapolated(p, n, k->from, k->to, 0, 0, out));
	case F_IRATE:
		if (n < 2 || p[n - 1].t_ms == p[n - 2].t_ms)
			return (0);
		x = p[n - 1].v < p[n - 2].v ? p[n - 1].v :
		    p[n - 1].v - p[n - 2].v;
		*out = x / ((double)(p[n - 1].t_ms - p[n - 2].t_ms) / 1000);
		return (1);
	case F_AVG_OT:
		for (x = 0, i = 0; i < n; i++)
			x = mean_add(x, p[i].v, (double)(i + 1));
		*out = x;
		return (1);
	case F_MIN_OT:
	case F_MAX_OT:
		x = p[0].v;
		for (i = 1; i < n; i++)
			if (isnan(x) || (k->call->fn->id == F_MIN_OT ?
			    p[i].v < x : p[i].v > x))
				x = p[i].v;
		*out = x;
		return (1);
	case F_SUM_OT:
		for (x = 0, i = 0; i < n; i++)
			x += p[i].v;
		*out = x;
		return (1);
	case F_COUNT_OT:
		*out = (double)n;
		return (1);
	case F_LAST_OT:
		*out = p[n - 1].v;
		return (1);
	case F_QUANTILE_OT:
		tmp = xreallocarray(NULL, n, sizeof(*tmp));
		for (i = 0; i < n; i++)
			tmp[i] = p[i].v;
		*out = quantile(k->param, tmp, n);
		free(tmp);
		return (1);
	case F_CHANGES:
	case F_RESETS:
		for (cnt = 0, i = 1; i < n; i++) {
			if (k->call->fn->id == F_RESETS)
				cnt += p[i].v < p[i - 1].v;
			else
				cnt += !(p[i].v == p[i - 1].v ||
				    (isnan(p[i].v) && isnan(p[i - 1].v)));
		}
		*out = cnt;
		return (1);
	default:
		return (0);
	}
}

static void
collect_cb(void *arg, const struct np_labels *labels,
    const struct rl_point *pts, size_t npts)
{
	struct collect		*k = arg;
	struct rl_sample	*s;
	struct rl_point		*live = NULL;
	size_t			 a, b, i, n;
	double			 v;
	int			 ok;

	/* keep to [from, to] even if the source is generous */
	for (a = 0; a < npts && pts[a].t_ms < k->from; a++)
		;
	for (b = npts; b > a && pts[b - 1].t_ms > k->to; b--)
		;
	if (b == a)
		return;
	if (k->call == NULL) {
		if (rl_is_stale(pts[b - 1].v))
			return;
		k->seen++;
		v = pts[b - 1].v;
	} else {
		/* ranges skip staleness markers */
		for (i = a; i < b && !rl_is_stale(pts[i].v); i++)
			;
		if (i < b) {
			live = xreallocarray(NULL, b - a, sizeof(*live));
			for (n = 0, i = a; i < b; i++)
				if (!rl_is_stale(pts[i].v))
					live[n++] = pts[i];
			pts = live;
			a = 0;
			b = n;
		}
		if (b > a)
			k->seen++;
		ok = b > a && k->call->fn->id != F_ABSENT_OT &&
		    range_fn(k, pts + a, b - a, &v);
		free(live);
		if (!ok)
			return;
	}
	s = vec_add(k->out, v);
	rl_labels_copy(&s->labels, labels);
	/* last_over_time acts like offset and keeps the name (engine.go) */
	if (k->call != NULL && k->call->fn->id != F_LAST_OT)
		rl_labels_del(&s->labels, "__name__");
}

static void
do_select(struct collect *k, const struct rl_expr *sel)
{
	k->to = k->c->t - sel->offset_ms;
	k->from = k->to - (sel->kind == N_MSEL ? sel->range_ms : LOOKBACK_MS);
	k->c->src->select(k->c->src->arg, sel->m, sel->nm, k->from, k->to,
	    collect_cb, k);
}

/* absent()'s labels: equality matchers, minus names used twice. */
static void
absent_labels(const struct rl_expr *sel, struct np_labels *l)
{
	struct rl_strlist	 drop = { NULL, 0 };
	size_t			 i;

	if (sel->kind != N_VSEL && sel->kind != N_MSEL)
		return;
	drop.v = xreallocarray(NULL, sel->nm + 1, sizeof(char *));
	for (i = 0; i < sel->nm; i++) {
		if (strcmp(sel->m[i].name, "__name__") == 0)
			continue;
		if (sel->m[i].op == RL_EQ && rl_labels_get(l, sel->m[i].name) ==
		    NULL)
			rl_labels_set(l, sel->m[i].name, sel->m[i].value);
		else
			drop.v[drop.n++] = (char *)sel->m[i].name;
	}
	for (i = 0; i < drop.n; i++)
		rl_labels_del(l, drop.v[i]);
	free(drop.v);
}

/* ---- histogram_quantile ---- */

struct bucket {
	double	le;
	double	count;
};

static int
bucket_cmp(const void *a, const void *b)
{
	double	x = ((const struct bucket *)a)->le;
	double	y = ((const struct bucket *)b)->le;

	return (x < y ? -1 : x > y);
}

/* bucketQuantile() of Prometheus 2.x promql/quantile.go. */
static double
bucket_quantile(double q, struct bucket *b, size_t n)
{
	double	rank, obs, start, count, max = -INFINITY;
	size_t	i, o, k;

	if (isnan(q))
		return (NAN);
	if (q < 0)
		return (-INFINITY);
	if (q > 1)
		return (INFINITY);
	qsort(b, n, sizeof(*b), bucket_cmp);
	if (n == 0 || !isinf(b[n - 1].le) || b[n - 1].le < 0)
		return (NAN);
	/* merge equal bounds, then force counts to be monotonic */
	for (o = 0, i = 1; i < n; i++) {
		if (b[i].le == b[o].le)
			b[o].count += b[i].count;
		else
			b[++o] = b[i];
	}
	n = o + 1;
	for (i = 0; i < n; i++) {
		if (b[i].count > max)
			max = b[i].count;
		else if (b[i].count < max)
			b[i].count = max;
	}
	if (n < 2)
		return (NAN);
	obs = b[n - 1].count;
	if (obs == 0 || isnan(obs))
		return (NAN);
	rank = q * obs;
	for (k = 0; k < n - 1 && !(b[k].count >= rank); k++)
		;
	if (k == n - 1)
		return (b[n - 2].le);
	if (k == 0 && b[0].le <= 0)
		return (b[0].le);
	start = 0;
	count = b[k].count;
	if (k > 0) {
		start = b[k - 1].le;
		count -= b[k - 1].count;
		rank -= b[k - 1].count;
	}
	return (start + (b[k].le - start) * (rank / count));
}

/*
 * A sample's key for grouping and matching.  Entries sort by the key's
 * hash first and compare their text only when the hashes are equal: the
 * order of the groups is arbitrary (as in Prometheus), equal keys are
 * together, and most comparisons are one integer's.
 */
struct keyed {
	char		*key;
	uint64_t	 h;
	size_t		 idx;
};

static void
keyed_set(struct keyed *k, char *key, size_t idx)
{
	k->key = key;
	k->h = str_hash(key);
	k->idx = idx;
}

/* The order of two keys (not of their idx). */
static int
keyed_keycmp(const struct keyed *x, const struct keyed *y)
{
	if (x->h != y->h)
		return (x->h < y->h ? -1 : 1);
	return (strcmp(x->key, y->key));
}

static int
keyed_same(const struct keyed *x, const struct keyed *y)
{
	return (x->h == y->h && strcmp(x->key, y->key) == 0);
}

static int
keyed_cmp(const void *a, const void *b)
{
	const struct keyed	*x = a, *y = b;
	int			 r;

	if ((r = keyed_keycmp(x, y)) != 0)
		return (r);
	return (x->idx < y->idx ? -1 : x->idx > y->idx);
}

static void
keyed_free(struct keyed *k, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(k[i].key);
	free(k);
}

static void
histogram_quantile(double q, const struct rl_value *in, struct rl_value *out)
{
	static char			 lename[] = "le";
	static char			*lev[] = { lename };
	const struct rl_strlist		 le = { lev, 1 };
	struct keyed			*k;
	struct bucket			*b;
	struct rl_sample		*s;
	const char			*v;
	char				*end;
	size_t				 i, j, n = 0, nb;

	k = xreallocarray(NULL, in->n + 1, sizeof(*k));
	for (i = 0; i < in->n; i++) {
		if ((v = rl_labels_get(&in->samples[i].labels, "le")) == NULL)
			continue;	/* not a bucket */
		keyed_set(&k[n++], lab_key(&in->samples[i].labels, &le,
		    KEY_WITHOUT), i);
	}
	qsort(k, n, sizeof(*k), keyed_cmp);
	b = xreallocarray(NULL, n + 1, sizeof(*b));
	for (i = 0; i < n; i = j) {
		for (nb = 0, j = i; j < n && keyed_same(&k[i], &k[j]); j++) {
			v = rl_labels_get(&in->samples[k[j].idx].labels, "le");
			b[nb].le = strtod(v, &end);
			if (end == v || *end != '\0')
				continue;	/* unparsable le: ignored */
			b[nb++].count = in->samples[k[j].idx].v;
		}
		if (nb == 0)
			continue;
		s = vec_add(out, bucket_quantile(q, b, nb));
		rl_labels_copy(&s->labels, &in->samples[k[i].idx].labels);
		rl_labels_del(&s->labels, "le");
		rl_labels_del(&s->labels, "__name__");
	}
	free(b);
	keyed_free(k, n);
}

static double
math1(enum rl_fid id, double x)
{
	switch (id) {
	case F_ABS: return (fabs(x));
	case F_CEIL: return (ceil(x));
	case F_FLOOR: return (floor(x));
	case F_EXP: return (exp(x));
	case F_LN: return (log(x));
	case F_LOG2: return (log2(x));
	case F_LOG10: return (log10(x));
	case F_SQRT: return (sqrt(x));
	default: return (x);
	}
}

static int
eval_call(struct ectx *c, const struct rl_expr *e, struct rl_value *out)
{
	struct rl_value		 a = { RL_SCALAR, 0, NULL, 0 }, p = a;
	struct collect		 k;
	struct rl_sample	*s;
	const struct rl_expr	*sel;
	size_t			 i;
	double			 lim;

	out->type = e->type == T_SCALAR ? RL_SCALAR : RL_VECTOR;
	switch (e->fn->id) {
	case F_TIME:
		out->scalar = (double)c->t / 1000;
		return (0);
	case F_VECTOR:
		if (eval(c, e->args[0], &a) == -1)
			return (-1);
		vec_add(out, a.scalar);
		return (0);
	case F_SCALAR:
		if (eval(c, e->args[0], &a) == -1)
			return (-1);
		out->scalar = a.n == 1 ? a.samples[0].v : NAN;
		rl_value_free(&a);
		return (0);
	case F_ABSENT:
		if (eval(c, e->args[0], &a) == -1)
			return (-1);
		if (a.n == 0) {
			s = vec_add(out, 1);
			absent_labels(e->args[0], &s->labels);
		}
		rl_value_free(&a);
		return (0);
	case F_HQUANTILE:
		if (eval(c, e->args[0], &p) == -1 ||
		    eval(c, e->args[1], &a) == -1)
			return (-1);
		histogram_quantile(p.scalar, &a, out);
		rl_value_free(&a);
		return (check_unique(c, out));
	case F_CLAMP_MIN:
	case F_CLAMP_MAX:
		if (eval(c, e->args[0], &a) == -1 ||
		    eval(c, e->args[1], &p) == -1) {
			rl_value_free(&a);
			return (-1);
		}
		lim = p.scalar;
		*out = a;
		for (i = 0; i < out->n; i++) {
			s = &out->samples[i];
			/* Go's math.Max/Min: NaN wins */
			if (isnan(lim) || isnan(s->v))
				s->v = NAN;
			else if (e->fn->id == F_CLAMP_MIN ? s->v < lim :
			    s->v > lim)
				s->v = lim;
			rl_labels_del(&s->labels, "__name__");
		}
		return (check_unique(c, out));
	case F_ABS:
	case F_CEIL:
	case F_FLOOR:
	case F_EXP:
	case F_LN:
	case F_LOG2:
	case F_LOG10:
	case F_SQRT:
		if (eval(c, e->args[0], &a) == -1)
			return (-1);
		*out = a;
		for (i = 0; i < out->n; i++) {
			out->samples[i].v = math1(e->fn->id,
			    out->samples[i].v);
			rl_labels_del(&out->samples[i].labels, "__name__");
		}
		return (check_unique(c, out));
	default:
		break;
	}
	/* functions over a range vector */
	memset(&k, 0, sizeof(k));
	k.c = c;
	k.call = e;
	k.out = out;
	if (e->fn->id == F_QUANTILE_OT) {
		if (eval(c, e->args[0], &p) == -1)
			return (-1);
		k.param = p.scalar;
	}
	sel = unparen(e->args[e->nargs - 1]);
	do_select(&k, sel);
	if (e->fn->id == F_ABSENT_OT && k.seen == 0) {
		s = vec_add(out, 1);
		absent_labels(sel, &s->labels);
	}
	return (check_unique(c, out));
}

/* ---- aggregation ---- */

static int
eval_agg(struct ectx *c, const struct rl_expr *e, struct rl_value *out)
{
	struct rl_value		 a = { RL_VECTOR, 0, NULL, 0 };
	struct rl_value		 p = { RL_SCALAR, 0, NULL, 0 };
	struct keyed		*k;
	struct rl_sample	*s, *in;
	size_t			 i, j, g, n, take, x, y;
	double			 acc, kk = 0;
	int			 top;

	out->type = RL_VECTOR;
	if (e->param != NULL) {
		if (eval(c, e->param, &p) == -1)
			return (-1);
		kk = p.scalar;
	}
	if (eval(c, e->lhs, &a) == -1)
		return (-1);
	k = xreallocarray(NULL, a.n + 1, sizeof(*k));
	for (i = 0; i < a.n; i++) {
		keyed_set(&k[i], lab_key(&a.samples[i].labels, &e->grp,
		    e->without ? KEY_WITHOUT : KEY_ONLY), i);
	}
	qsort(k, a.n, sizeof(*k), keyed_cmp);
	for (i = 0; i < a.n; i = j) {
		for (j = i; j < a.n && keyed_same(&k[i], &k[j]); j++)
			;
		n = j - i;
		in = &a.samples[k[i].idx];
		if (e->agg == AGG_TOPK || e->agg == AGG_BOTTOMK) {
			/* k < 1 (or NaN) selects nothing, as int64(k) < 1 */
			if (!(kk >= 1))
				continue;
			take = kk >= (double)n ? n : (size_t)kk;
			top = e->agg == AGG_TOPK;
			/* selection sort of the group; NaN never wins */
			for (x = 0; x < take; x++) {
				for (g = x, y = x + 1; y < n; y++) {
					double	vy = a.samples[k[i + y].idx].v;
					double	vg = a.samples[k[i + g].idx].v;

					if (!isnan(vy) && (isnan(vg) ||
					    (top ? vy > vg : vy < vg)))
						g = y;
				}
				j = k[i + x].idx;
				k[i + x].idx = k[i + g].idx;
				k[i + g].idx = j;
				in = &a.samples[k[i + x].idx];
				s = vec_add(out, in->v);
				rl_labels_copy(&s->labels, &in->labels);
			}
			j = i + n;
			continue;
		}
		acc = in->v;
		for (g = 1; g < n; g++) {
			double	v = a.samples[k[i + g].idx].v;

			switch (e->agg) {
			case AGG_SUM:
				acc += v;
				break;
			case AGG_AVG:
				acc = mean_add(acc, v, (double)(g + 1));
				break;
			case AGG_MIN:
				if (v < acc || isnan(acc))
					acc = v;
				break;
			case AGG_MAX:
				if (v > acc || isnan(acc))
					acc = v;
				break;
			default:
				break;
			}
		}
		if (e->agg == AGG_COUNT)
			acc = (double)n;
		s = vec_add(out, acc);
		rl_labels_copy(&s->labels, &in->labels);
		if (e->without) {
			lab_filter(&s->labels, &e->grp, 0);
			rl_labels_del(&s->labels, "__name__");
		} else
			lab_filter(&s->labels, &e->grp, 1);
	}
	keyed_free(k, a.n);
	rl_value_free(&a);
	return (check_unique(c, out));
}

/* ---- binary operators ---- */

/* vectorElemBinop(): the value, and for comparisons whether it holds. */
static double
binop(enum rl_binop op, double l, double r, int *keep)
{
	*keep = 1;
	switch (op) {
	case OP_ADD: return (l + r);
	case OP_SUB: return (l - r);
	case OP_MUL: return (l * r);
	case OP_DIV: return (l / r);
	case OP_MOD: return (fmod(l, r));
	case OP_POW: return (pow(l, r));
	case OP_ATAN2: return (atan2(l, r));
	case OP_EQ: *keep = l == r; return (l);
	case OP_NE: *keep = l != r; return (l);
	case OP_LE: *keep = l <= r; return (l);
	case OP_LT: *keep = l < r; return (l);
	case OP_GE: *keep = l >= r; return (l);
	case OP_GT: *keep = l > r; return (l);
	default: return (NAN);
	}
}

/*
 * shouldDropMetricName() of engine.go: arithmetic and bool comparisons
 * drop __name__; atan2 (not in upstream's list) and filters keep it.
 */
static int
drops_name(const struct rl_expr *e)
{
	if (rl_binop_is_cmp(e->op))
		return (e->ret_bool);
	return (e->op != OP_ATAN2);
}

static int
eval_set(struct ectx *c, const struct rl_expr *e, struct rl_value *l,
    struct rl_value *r, struct rl_value *out)
{
	struct keyed	*kr, *kl, q, *hit;
	size_t		 i;
	int		 only = e->matching == MATCH_ON ? KEY_ONLY :
			    KEY_WITHOUT;
	int		 in_r, in_l;

	kl = xreallocarray(NULL, l->n + 1, sizeof(*kl));
	kr = xreallocarray(NULL, r->n + 1, sizeof(*kr));
	for (i = 0; i < l->n; i++) {
		keyed_set(&kl[i], lab_key(&l->samples[i].labels, &e->mlabels,
		    only), 0);
	}
	for (i = 0; i < r->n; i++) {
		keyed_set(&kr[i], lab_key(&r->samples[i].labels, &e->mlabels,
		    only), 0);
	}
	/* idx 0 in every entry: bsearch compares keys only */
	qsort(kr, r->n, sizeof(*kr), keyed_cmp);
	for (i = 0; i < l->n; i++) {
		q = kl[i];
		hit = bsearch(&q, kr, r->n, sizeof(*kr), keyed_cmp);
		in_r = hit != NULL;
		if ((e->op == OP_AND && in_r) || e->op == OP_OR ||
		    (e->op == OP_UNLESS && !in_r)) {
			*vec_add(out, 0) = l->samples[i];
			memset(&l->samples[i].labels, 0,
			    sizeof(l->samples[i].labels));
		}
	}
	if (e->op == OP_OR) {
		qsort(kl, l->n, sizeof(*kl), keyed_cmp);
		for (i = 0; i < r->n; i++) {
			keyed_set(&q, lab_key(&r->samples[i].labels,
			    &e->mlabels, only), 0);
			in_l = bsearch(&q, kl, l->n, sizeof(*kl), keyed_cmp)
			    != NULL;
			free(q.key);
			if (in_l)
				continue;
			*vec_add(out, 0) = r->samples[i];
			memset(&r->samples[i].labels, 0,
			    sizeof(r->samples[i].labels));
		}
	}
	keyed_free(kl, l->n);
	keyed_free(kr, r->n);
	return (check_unique(c, out));
}

static int
eval_vv(struct ectx *c, const struct rl_expr *e, struct rl_value *l,
    struct rl_value *r, struct rl_value *out)
{
	struct rl_value		*many = l, *one = r;
	struct keyed		*ko, *km, q, *hit, *res;
	struct rl_sample	*s, *ms, *os;
	size_t			 i, nres = 0;
	int			 only = e->matching == MATCH_ON ? KEY_ONLY :
				    KEY_WITHOUT;
	int			 keep, rc = -1;
	int			 swap = e->card == CARD_ONE_TO_MANY;
	double			 vl, vr, v;
	char			 b1[256], b2[256], b3[256], *full, *k2;

	if (rl_binop_is_set(e->op))
		return (eval_set(c, e, l, r, out));
	if (l->n == 0 || r->n == 0)
		return (0);	/* no error checks either, as in engine.go */
	if (swap) {
		many = r;
		one = l;
	}
	ko = xreallocarray(NULL, one->n + 1, sizeof(*ko));
	km = xreallocarray(NULL, many->n + 1, sizeof(*km));
	res = xreallocarray(NULL, many->n + 1, sizeof(*res));
	for (i = 0; i < one->n; i++) {
		keyed_set(&ko[i], lab_key(&one->samples[i].labels,
		    &e->mlabels, only), i);
	}
	for (i = 0; i < many->n; i++) {
		keyed_set(&km[i], lab_key(&many->samples[i].labels,
		    &e->mlabels, only), i);
	}
	qsort(ko, one->n, sizeof(*ko), keyed_cmp);
	for (i = 1; i < one->n; i++)
		if (keyed_same(&ko[i - 1], &ko[i])) {
			struct np_labels	g;

			rl_labels_copy(&g, &one->samples[ko[i].idx].labels);
			if (only)
				lab_filter(&g, &e->mlabels, 1);
			else {
				lab_filter(&g, &e->mlabels, 0);
				rl_labels_del(&g, "__name__");
			}
			rl_labels_string(&g, b1, sizeof(b1));
			rl_labels_free(&g);
			rl_labels_string(&one->samples[ko[i - 1].idx].labels, b2,
			    sizeof(b2));
			rl_labels_string(&one->samples[ko[i].idx].labels, b3,
			    sizeof(b3));
			eerr(c, "found duplicate series for the match group %s "
			    "on the %s hand-side of the operation: [%s, %s];"
			    "many-to-many matching not allowed: matching "
			    "labels must be unique on one side", b1,
			    swap ? "left" : "right", b2, b3);
			goto out;
		}
	for (i = 0; i < many->n; i++) {
		q = km[i];
		/* find the first entry with this key, whatever its idx */
		hit = NULL;
		{
			size_t	lo = 0, hi = one->n, mid;

			while (lo < hi) {
				mid = (lo + hi) / 2;
				if (keyed_keycmp(&ko[mid], &q) < 0)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo < one->n && keyed_same(&ko[lo], &q))
				hit = &ko[lo];
		}
		if (hit == NULL)
			continue;
		ms = &many->samples[i];
		os = &one->samples[hit->idx];
		vl = swap ? os->v : ms->v;
		vr = swap ? ms->v : os->v;
		v = binop(e->op, vl, vr, &keep);
		if (rl_binop_is_cmp(e->op)) {
			if (e->ret_bool)
				v = keep;
			else if (!keep)
				continue;
		}
		s = vec_add(out, v);
		rl_labels_copy(&s->labels, &ms->labels);
		if (drops_name(e))
			rl_labels_del(&s->labels, "__name__");
		if (e->card == CARD_ONE_TO_ONE) {
			if (only)
				lab_filter(&s->labels, &e->mlabels, 1);
			else if (e->matching == MATCH_IGNORING)
				lab_filter(&s->labels, &e->mlabels, 0);
			keyed_set(&res[nres], xstrdup(q.key), 0);
		} else {
			size_t	j;

			for (j = 0; j < e->include.n; j++)
				rl_labels_set(&s->labels, e->include.v[j],
				    rl_labels_get(&os->labels, e->include.v[j]));
			/* the whole result label set within its match group */
			full = lab_key(&s->labels, NULL, KEY_ALL);
			xasprintf(&k2, "%s|%s", q.key, full);
			free(full);
			keyed_set(&res[nres], k2, 0);
		}
		nres++;
	}
	qsort(res, nres, sizeof(*res), keyed_cmp);
	for (i = 1; i < nres; i++)
		if (keyed_same(&res[i - 1], &res[i])) {
			eerr(c, e->card == CARD_ONE_TO_ONE ?
			    "multiple matches for labels: many-to-one matching "
			    "must be explicit (group_left/group_right)" :
			    "multiple matches for labels: grouping labels must "
			    "ensure unique results");
			goto out;
		}
	rc = check_unique(c, out);
out:
	keyed_free(ko, one->n);
	keyed_free(km, many->n);
	keyed_free(res, nres);
	return (rc);
}

static int
eval_bin(struct ectx *c, const struct rl_expr *e, struct rl_value *out)
{
	struct rl_value	 l = { RL_SCALAR, 0, NULL, 0 }, r = l, *vec;
	struct rl_sample *s;
	double		 sc, v;
	size_t		 i;
	int		 keep, rc = 0, vleft;

	if (eval(c, e->lhs, &l) == -1)
		return (-1);
	if (eval(c, e->rhs, &r) == -1) {
		rl_value_free(&l);
		return (-1);
	}
	if (l.type == RL_SCALAR && r.type == RL_SCALAR) {
		out->type = RL_SCALAR;
		out->scalar = binop(e->op, l.scalar, r.scalar, &keep);
		if (rl_binop_is_cmp(e->op))
			out->scalar = keep;
		return (0);
	}
	out->type = RL_VECTOR;
	if (l.type == RL_VECTOR && r.type == RL_VECTOR) {
		rc = eval_vv(c, e, &l, &r, out);
		rl_value_free(&l);
		rl_value_free(&r);
		return (rc);
	}
	vleft = l.type == RL_VECTOR;
	vec = vleft ? &l : &r;
	sc = vleft ? r.scalar : l.scalar;
	for (i = 0; i < vec->n; i++) {
		s = &vec->samples[i];
		v = vleft ? binop(e->op, s->v, sc, &keep) :
		    binop(e->op, sc, s->v, &keep);
		if (rl_binop_is_cmp(e->op)) {
			/* the vector's value is kept, on either side */
			v = e->ret_bool ? keep : s->v;
			if (!keep && !e->ret_bool)
				continue;
		}
		*vec_add(out, v) = *s;
		out->samples[out->n - 1].v = v;
		memset(&s->labels, 0, sizeof(s->labels));
		if (drops_name(e))
			rl_labels_del(&out->samples[out->n - 1].labels, "__name__");
	}
	rl_value_free(vec);
	return (check_unique(c, out));
}

static int
eval(struct ectx *c, const struct rl_expr *e, struct rl_value *out)
{
	struct collect	k;
	size_t		i;

	memset(out, 0, sizeof(*out));
	out->type = e->type == T_SCALAR ? RL_SCALAR : RL_VECTOR;
	switch (e->kind) {
	case N_NUM:
		out->scalar = e->num;
		return (0);
	case N_PAREN:
		return (eval(c, e->lhs, out));
	case N_VSEL:
		memset(&k, 0, sizeof(k));
		k.c = c;
		k.out = out;
		do_select(&k, e);
		return (0);
	case N_CALL:
		if (eval_call(c, e, out) == -1)
			break;
		return (0);
	case N_AGG:
		if (eval_agg(c, e, out) == -1)
			break;
		return (0);
	case N_BIN:
		if (eval_bin(c, e, out) == -1)
			break;
		return (0);
	case N_UNARY:
		if (eval(c, e->lhs, out) == -1)
			break;
		if (e->op == OP_ADD)
			return (0);
		if (out->type == RL_SCALAR) {
			out->scalar = -out->scalar;
			return (0);
		}
		for (i = 0; i < out->n; i++) {
			out->samples[i].v = -out->samples[i].v;
			rl_labels_del(&out->samples[i].labels, "__name__");
		}
		if (check_unique(c, out) == -1)
			break;
		return (0);
	default:
		eerr(c, "cannot evaluate a %s here", e->kind == N_STR ?
		    "string" : "range vector");
		break;
	}
	rl_value_free(out);
	return (-1);
}

int
rl_expr_eval(const struct rl_expr *e, const struct rl_source *src,
    int64_t t_ms, struct rl_value *out, char *err, size_t errlen)
{
	struct ectx	c;
	char		dummy[1];

	memset(&c, 0, sizeof(c));
	c.src = src;
	c.t = t_ms;
	c.err = errlen > 0 ? err : dummy;
	c.errlen = errlen > 0 ? errlen : sizeof(dummy);
	if (eval(&c, e, out) == -1)
		return (-1);
	if (out->type == RL_VECTOR && out->n > 1)
		qsort(out->samples, out->n, sizeof(*out->samples),
		    sample_cmp);
	return (0);
}
