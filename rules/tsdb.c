/*
 * The rules' history (see tsdb.h).  Series are found by a hash of their
 * labels, or of an alias the daemon gives them (the store's own text
 * form); selection walks only the series of one metric name when a
 * selector names it, which every rule we ship does.  Points of a series
 * are one array, oldest first, trimmed from the front by tsdb_gc(): the
 * evaluator gets a pointer into it with no copying.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rules/labels.h"
#include "rules/tsdb.h"

struct tsdb_series {
	struct np_labels	 labels;	/* sorted, with __name__ */
	const char		*name;		/* into labels */
	struct tsdb_name	*nm;		/* lives as long as the tsdb */
	uint64_t		 hash;
	char			*alias;
	uint64_t		 ahash;
	struct rl_point		*pts;		/* pts[off .. n) are live */
	size_t			 off, n, cap;
	uint64_t		 gen;		/* last snapshot it was in */
	int			 snapshotted;
	struct tsdb_series	*hnext, *anext;	/* hash chains */
	struct tsdb_series	*nnext;		/* same name, any order */
	struct tsdb_series	*prev, *next;	/* every series */
};

struct tsdb_name {
	char			*name;
	struct tsdb_series	*head;
	struct tsdb_name	*next;
	int			 has_need;
	int			 keep_last;
	int64_t			 range_ms;
};

#define LOOKBACK_MS	(5 * 60 * 1000)	/* of instant selectors */

#define NBUCKETS	1024		/* of the names; series' tables grow */

struct tsdb {
	struct tsdb_series	**bylabels;	/* nbuckets each, a power of 2 */
	struct tsdb_series	**byalias;
	size_t			 nbuckets;
	struct tsdb_name	*names[NBUCKETS];
	struct tsdb_series	*all;
	size_t			 nseries, npoints;
	int64_t			 retention_ms;
	uint64_t		 gen;		/* current snapshot */
	int64_t			 snap_t;
	int			 in_snap;
};

struct tsdb *
tsdb_new(void)
{
	struct tsdb	*db = xcalloc(1, sizeof(*db));

	db->retention_ms = LOOKBACK_MS;
	db->nbuckets = 1024;
	db->bylabels = xcalloc(db->nbuckets, sizeof(*db->bylabels));
	db->byalias = xcalloc(db->nbuckets, sizeof(*db->byalias));
	return (db);
}

static void
series_free(struct tsdb_series *s)
{
	rl_labels_free(&s->labels);
	free(s->alias);
	free(s->pts);
	free(s);
}

void
tsdb_free(struct tsdb *db)
{
	struct tsdb_series	*s, *sn;
	struct tsdb_name	*nm, *nn;
	size_t			 i;

	if (db == NULL)
		return;
	for (s = db->all; s != NULL; s = sn) {
		sn = s->next;
		series_free(s);
	}
	for (i = 0; i < NBUCKETS; i++)
		for (nm = db->names[i]; nm != NULL; nm = nn) {
			nn = nm->next;
			free(nm->name);
			free(nm);
		}
	free(db->bylabels);
	free(db->byalias);
	free(db);
}

void
tsdb_set_retention(struct tsdb *db, int64_t ms)
{
	db->retention_ms = ms;
}

int64_t
tsdb_retention(const struct tsdb *db)
{
	return (db->retention_ms);
}

static struct tsdb_name *
name_get(struct tsdb *db, const char *name, int create)
{
	struct tsdb_name	**pp = &db->names[str_hash(name) % NBUCKETS];
	struct tsdb_name	 *nm;

	for (nm = *pp; nm != NULL; nm = nm->next)
		if (strcmp(nm->name, name) == 0)
			return (nm);
	if (!create)
		return (NULL);
	nm = xcalloc(1, sizeof(*nm));
	nm->name = xstrdup(name);
	nm->next = *pp;
	*pp = nm;
	return (nm);
}

struct tsdb_series *
tsdb_alias(struct tsdb *db, const char *alias)
{
	uint64_t		 h = str_hash(alias);
	struct tsdb_series	*s;

	for (s = db->byalias[h & (db->nbuckets - 1)]; s != NULL; s = s->anext)
		if (s->ahash == h && strcmp(s->alias, alias) == 0)
			return (s);
	return (NULL);
}

/* Double both series tables (load factor 1) and rehash. */
static void
grow(struct tsdb *db)
{
	struct tsdb_series	*s;
	size_t			 m;

	db->nbuckets *= 2;
	m = db->nbuckets - 1;
	free(db->bylabels);
	free(db->byalias);
	db->bylabels = xcalloc(db->nbuckets, sizeof(*db->bylabels));
	db->byalias = xcalloc(db->nbuckets, sizeof(*db->byalias));
	for (s = db->all; s != NULL; s = s->next) {
		s->hnext = db->bylabels[s->hash & m];
		db->bylabels[s->hash & m] = s;
		if (s->alias != NULL) {
			s->anext = db->byalias[s->ahash & m];
			db->byalias[s->ahash & m] = s;
		}
	}
}

struct tsdb_series *
tsdb_series_get(struct tsdb *db, const struct np_labels *l, const char *alias)
{
	struct np_labels	 sorted;
	struct tsdb_series	*s;
	struct tsdb_name	*nm;
	uint64_t		 h;

	rl_labels_copy(&sorted, l);
	h = rl_labels_hash(&sorted);
	for (s = db->bylabels[h & (db->nbuckets - 1)]; s != NULL; s = s->hnext)
		if (s->hash == h && rl_labels_cmp(&s->labels, &sorted) == 0)
			break;
	if (s != NULL)
		rl_labels_free(&sorted);
	else {
		if (db->nseries >= db->nbuckets)
			grow(db);
		s = xcalloc(1, sizeof(*s));
		s->labels = sorted;
		s->hash = h;
		if ((s->name = rl_labels_get(&s->labels, "__name__")) == NULL)
			s->name = "";
		s->hnext = db->bylabels[h & (db->nbuckets - 1)];
		db->bylabels[h & (db->nbuckets - 1)] = s;
		nm = s->nm = name_get(db, s->name, 1);
		s->nnext = nm->head;
		nm->head = s;
		if ((s->next = db->all) != NULL)
			s->next->prev = s;
		db->all = s;
		db->nseries++;
	}
	if (alias != NULL && s->alias == NULL) {
		s->alias = xstrdup(alias);
		s->ahash = str_hash(alias);
		s->anext = db->byalias[s->ahash & (db->nbuckets - 1)];
		db->byalias[s->ahash & (db->nbuckets - 1)] = s;
	}
	return (s);
}

const struct np_labels *
tsdb_series_labels(const struct tsdb_series *s)
{
	return (&s->labels);
}

void
tsdb_append(struct tsdb *db, struct tsdb_series *s, int64_t t_ms, double v)
{
	if (db->in_snap) {
		s->gen = db->gen;
		s->snapshotted = 1;
	}
	if (s->n > s->off) {
		struct rl_point	*last = &s->pts[s->n - 1];

		if (t_ms < last->t_ms)
			return;
		if (t_ms == last->t_ms) {
			last->v = v;
			return;
		}
	}
	if (s->n == s->cap) {
		if (s->off > 0 && s->off >= s->n / 4) {
			/* reuse the trimmed front before growing: a series
			 * that keeps a steady window then stays within
			 * 4/3 of it, not twice */
			memmove(s->pts, s->pts + s->off,
			    (s->n - s->off) * sizeof(*s->pts));
			s->n -= s->off;
			s->off = 0;
		} else {
			s->cap = s->cap ? s->cap * 2 : 4;
			s->pts = xreallocarray(s->pts, s->cap,
			    sizeof(*s->pts));
		}
	}
	s->pts[s->n].t_ms = t_ms;
	s->pts[s->n].v = v;
	s->n++;
	db->npoints++;
}

void
tsdb_begin(struct tsdb *db, int64_t t_ms)
{
	db->gen++;
	db->snap_t = t_ms;
	db->in_snap = 1;
}

void
tsdb_commit(struct tsdb *db)
{
	struct tsdb_series	*s;

	db->in_snap = 0;
	for (s = db->all; s != NULL; s = s->next) {
		if (!s->snapshotted || s->gen == db->gen || s->n == s->off ||
		    rl_is_stale(s->pts[s->n - 1].v))
			continue;
		tsdb_append(db, s, db->snap_t, rl_stale_nan());
	}
}

static void
unlink_chain(struct tsdb_series **pp, struct tsdb_series *s, size_t link)
{
	struct tsdb_series	*c;

	for (; (c = *pp) != NULL;
	    pp = (struct tsdb_series **)((char *)c + link))
		if (c == s) {
			*pp = *(struct tsdb_series **)((char *)c + link);
			return;
		}
}

static void
series_drop(struct tsdb *db, struct tsdb_series *s)
{
	struct tsdb_name	*nm = s->nm;

	unlink_chain(&db->bylabels[s->hash & (db->nbuckets - 1)], s,
	    offsetof(struct tsdb_series, hnext));
	if (s->alias != NULL)
		unlink_chain(&db->byalias[s->ahash & (db->nbuckets - 1)], s,
		    offsetof(struct tsdb_series, anext));
	unlink_chain(&nm->head, s, offsetof(struct tsdb_series, nnext));
	if (s->prev != NULL)
		s->prev->next = s->next;
	else
		db->all = s->next;
	if (s->next != NULL)
		s->next->prev = s->prev;
	db->nseries--;
	db->npoints -= s->n - s->off;
	series_free(s);
}

void
tsdb_gc(struct tsdb *db, int64_t now_ms)
{
	struct tsdb_series	*s, *sn;
	int64_t			 cut;
	size_t			 k, end;
	int			 keep_last;

	for (s = db->all; s != NULL; s = sn) {
		sn = s->next;
		if (s->nm->has_need) {
			cut = now_ms - s->nm->range_ms;
			keep_last = s->nm->keep_last;
		} else {
			cut = now_ms - db->retention_ms;
			keep_last = 1;
		}
		end = s->n;
		if (keep_last && s->n > s->off &&
		    s->pts[s->n - 1].t_ms >= now_ms - LOOKBACK_MS)
			end = s->n - 1;		/* the newest stays */
		for (k = s->off; k < end && s->pts[k].t_ms < cut; k++)
			;
		if (k > s->off && k == end && end < s->n) {
			/* only the newest is left: move it to the front */
			s->pts[0] = s->pts[s->n - 1];
			db->npoints -= s->n - s->off - 1;
			s->off = 0;
			s->n = 1;
			continue;
		}
		db->npoints -= k - s->off;
		s->off = k;
		if (s->off == s->n)
			series_drop(db, s);
	}
}

void
tsdb_set_need(struct tsdb *db, const char *name, int64_t range_ms,
    int keep_last)
{
	struct tsdb_name	*nm = name_get(db, name, 1);

	nm->has_need = 1;
	nm->range_ms = range_ms;
	nm->keep_last = keep_last;
}

void
tsdb_clear_needs(struct tsdb *db)
{
	struct tsdb_name	*nm;
	size_t			 i;

	for (i = 0; i < NBUCKETS; i++)
		for (nm = db->names[i]; nm != NULL; nm = nm->next)
			nm->has_need = 0;
}

static void
source_select(void *arg, const struct rl_matcher *m, size_t nm, int64_t from,
    int64_t to, rl_series_fn fn, void *cbarg)
{
	struct tsdb		*db = arg;
	struct tsdb_series	*s, *first;
	struct tsdb_name	*name;
	const char		*fixed = NULL;
	size_t			 i, a, b;
	int			 byname;

	for (i = 0; i < nm; i++)
		if (m[i].op == RL_EQ && strcmp(m[i].name, "__name__") == 0)
			fixed = m[i].value;
	if (fixed != NULL) {
		if ((name = name_get(db, fixed, 0)) == NULL)
			return;
		first = name->head;
		byname = 1;
	} else {
		first = db->all;
		byname = 0;
	}
	for (s = first; s != NULL; s = byname ? s->nnext : s->next) {
		for (i = 0; i < nm; i++)
			if (!rl_matcher_match(&m[i], &s->labels))
				break;
		if (i < nm)
			continue;
		/* points in [from, to] */
		for (a = s->off; a < s->n && s->pts[a].t_ms < from; a++)
			;
		for (b = s->n; b > a && s->pts[b - 1].t_ms > to; b--)
			;
		if (b > a)
			fn(cbarg, &s->labels, s->pts + a, b - a);
	}
}

void
tsdb_source(struct tsdb *db, struct rl_source *src)
{
	src->arg = db;
	src->select = source_select;
}

size_t
tsdb_nseries(const struct tsdb *db)
{
	return (db->nseries);
}

size_t
tsdb_npoints(const struct tsdb *db)
{
	return (db->npoints);
}
