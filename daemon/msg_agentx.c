/*
 * msg_agentx: the AgentX protocol (RFC 2741) as pure functions, for the
 * sub-agent in agentx.c: PDU encoders and a decoder that checks every
 * field of what a master sends, the order of the objects of
 * npAlertTable and npProbeTable, answering one Get/GetNext/GetBulk, and
 * master addresses.  No I/O, no clock: unit-tested and fuzzed in
 * tests/unit/test_agentx.c.
 */
#include "config.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "daemon/msg_agentx.h"
#include "daemon/netprobed.h"
#include "probes/probe.h"
#include "rules/alert.h"

/* ==== codec (RFC 2741 section 5 and 6) =============================== */

/* A reader over one PDU; byte order from the header's flag (6.1). */
struct rd {
	const uint8_t	*p;
	size_t		 off, end;
	int		 nbo;
};

static int
rd_u8(struct rd *r, uint8_t *v)
{
	if (r->end - r->off < 1)
		return (-1);
	*v = r->p[r->off++];
	return (0);
}

static int
rd_u16(struct rd *r, uint16_t *v)
{
	const uint8_t	*b = r->p + r->off;

	if (r->end - r->off < 2)
		return (-1);
	*v = r->nbo ? (uint16_t)(b[0] << 8 | b[1]) :
	    (uint16_t)(b[1] << 8 | b[0]);
	r->off += 2;
	return (0);
}

static uint32_t
get32(const uint8_t *b, int nbo)
{
	if (nbo)
		return ((uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
		    (uint32_t)b[2] << 8 | b[3]);
	return ((uint32_t)b[3] << 24 | (uint32_t)b[2] << 16 |
	    (uint32_t)b[1] << 8 | b[0]);
}

static int
rd_u32(struct rd *r, uint32_t *v)
{
	if (r->end - r->off < 4)
		return (-1);
	*v = get32(r->p + r->off, r->nbo);
	r->off += 4;
	return (0);
}

static int
rd_skip(struct rd *r, size_t n)
{
	if (r->end - r->off < n)
		return (-1);
	r->off += n;
	return (0);
}

/*
 * An Object Identifier (5.1): n_subid, prefix, include, reserved, then
 * n_subid sub-ids; a non-zero prefix stands for 1.3.6.1.<prefix>.
 */
static int
rd_oid(struct rd *r, struct ax_oid *o, const char **why)
{
	uint8_t		 n, prefix, include, reserved;
	size_t		 i = 0, k;

	if (rd_u8(r, &n) || rd_u8(r, &prefix) || rd_u8(r, &include) ||
	    rd_u8(r, &reserved)) {
		*why = "truncated OID header";
		return (-1);
	}
	if ((size_t)n + (prefix ? 5 : 0) > AX_OID_MAX) {
		*why = "OID longer than 128 sub-identifiers";
		return (-1);
	}
	if (r->end - r->off < (size_t)n * 4) {
		*why = "truncated OID";
		return (-1);
	}
	if (prefix) {
		o->sub[i++] = 1;
		o->sub[i++] = 3;
		o->sub[i++] = 6;
		o->sub[i++] = 1;
		o->sub[i++] = prefix;
	}
	for (k = 0; k < n; k++)
		(void)rd_u32(r, &o->sub[i++]);
	o->n = (uint8_t)i;
	o->include = include != 0;
	return (0);
}

/* An Octet String (5.3): length, data, padding to a multiple of 4. */
static int
rd_octets(struct rd *r, const char **why)
{
	uint32_t	 len;

	if (rd_u32(r, &len) || r->end - r->off < len ||
	    rd_skip(r, (size_t)len + (4 - len % 4) % 4)) {
		*why = "truncated octet string";
		return (-1);
	}
	return (0);
}

/* A VarBind (5.4), checked and skipped. */
static int
rd_varbind(struct rd *r, const char **why)
{
	struct ax_oid	 name;
	uint16_t	 type, reserved;

	if (rd_u16(r, &type) || rd_u16(r, &reserved)) {
		*why = "truncated varbind";
		return (-1);
	}
	if (rd_oid(r, &name, why) == -1)
		return (-1);
	switch (type) {
	case AX_V_INTEGER:
	case AX_V_COUNTER32:
	case AX_V_GAUGE32:
	case AX_V_TIMETICKS:
		if (rd_skip(r, 4) == 0)
			return (0);
		break;
	case AX_V_COUNTER64:
		if (rd_skip(r, 8) == 0)
			return (0);
		break;
	case AX_V_OCTETS:
	case AX_V_IPADDRESS:
	case AX_V_OPAQUE:
		return (rd_octets(r, why));
	case AX_V_OID:
		return (rd_oid(r, &name, why));
	case AX_V_NULL:
	case AX_V_NOSUCHOBJECT:
	case AX_V_NOSUCHINSTANCE:
	case AX_V_ENDOFMIBVIEW:
		return (0);
	default:
		*why = "unknown varbind type";
		return (-1);
	}
	*why = "truncated varbind value";
	return (-1);
}

ssize_t
ax_frame_len(const uint8_t *buf, size_t len)
{
	uint32_t	 paylen;

	if (len < AX_HDR_LEN)
		return (0);
	if (buf[0] != 1)
		return (-1);
	paylen = get32(buf + 16, buf[2] & AX_F_NETWORK_BYTE_ORDER);
	if (paylen > AX_PDU_MAX || paylen % 4 != 0)
		return (-1);
	return ((ssize_t)(AX_HDR_LEN + paylen));
}

/* Types whose payload starts with a context when the flag says so (6.1). */
static int
has_context(uint8_t type)
{
	switch (type) {
	case AX_REGISTER:
	case AX_UNREGISTER:
	case AX_GET:
	case AX_GETNEXT:
	case AX_GETBULK:
	case AX_TESTSET:
	case AX_NOTIFY:
	case AX_PING:
	case AX_INDEXALLOCATE:
	case AX_INDEXDEALLOCATE:
	case AX_ADDAGENTCAPS:
	case AX_REMOVEAGENTCAPS:
		return (1);
	}
	return (0);
}

int
ax_decode(const uint8_t *buf, size_t len, struct ax_pdu *p, const char **why)
{
	struct rd	 r;
	struct ax_oid	 o;
	uint8_t		 reserved[3];

	memset(p, 0, sizeof(*p));
	if (len < AX_HDR_LEN) {
		*why = "truncated header";
		return (-1);
	}
	r.p = buf;
	r.off = 4;
	r.end = len;
	r.nbo = (buf[2] & AX_F_NETWORK_BYTE_ORDER) != 0;
	p->h.version = buf[0];
	p->h.type = buf[1];
	p->h.flags = buf[2];
	(void)rd_u32(&r, &p->h.sessid);
	(void)rd_u32(&r, &p->h.transid);
	(void)rd_u32(&r, &p->h.packetid);
	(void)rd_u32(&r, &p->h.paylen);
	p->buf = buf;
	p->len = len;
	if (p->h.version != 1) {
		*why = "not AgentX version 1";
		return (-1);
	}
	if ((size_t)AX_HDR_LEN + p->h.paylen != len) {
		*why = "payload length does not match the PDU";
		return (-1);
	}
	if ((p->h.flags & AX_F_NON_DEFAULT_CONTEXT) && has_context(p->h.type) &&
	    rd_octets(&r, why) == -1)
		return (-1);

	switch (p->h.type) {
	case AX_GETBULK:
		if (rd_u16(&r, &p->non_repeaters) ||
		    rd_u16(&r, &p->max_repetitions)) {
			*why = "truncated GetBulk";
			return (-1);
		}
		/* FALLTHROUGH */
	case AX_GET:
	case AX_GETNEXT:
		p->list_off = r.off;
		while (r.off < r.end) {
			if (rd_oid(&r, &o, why) == -1 ||
			    rd_oid(&r, &o, why) == -1)
				return (-1);
			p->nitems++;
		}
		break;
	case AX_TESTSET:
		p->list_off = r.off;
		while (r.off < r.end) {
			if (rd_varbind(&r, why) == -1)
				return (-1);
			p->nitems++;
		}
		break;
	case AX_RESPONSE:
		if (rd_u32(&r, &p->sysuptime) || rd_u16(&r, &p->error) ||
		    rd_u16(&r, &p->index)) {
			*why = "truncated Response";
			return (-1);
		}
		p->list_off = r.off;
		while (r.off < r.end) {
			if (rd_varbind(&r, why) == -1)
				return (-1);
			p->nitems++;
		}
		break;
	case AX_CLOSE:
		if (rd_u8(&r, &p->reason) || rd_u8(&r, &reserved[0]) ||
		    rd_u8(&r, &reserved[1]) || rd_u8(&r, &reserved[2])) {
			*why = "truncated Close";
			return (-1);
		}
		break;
	default:
		/* CommitSet, UndoSet, CleanupSet: header only; the rest
		 * is never sent to a sub-agent */
		r.off = r.end;
		break;
	}
	if (r.off != r.end) {
		*why = "trailing bytes after the PDU's fields";
		return (-1);
	}
	return (0);
}

int
ax_range_next(const struct ax_pdu *p, size_t *off, struct ax_range *rg)
{
	struct rd	 r;
	const char	*why;

	if (*off == 0)
		*off = p->list_off;
	if (*off == 0 || *off >= p->len)
		return (0);
	r.p = p->buf;
	r.off = *off;
	r.end = p->len;
	r.nbo = (p->h.flags & AX_F_NETWORK_BYTE_ORDER) != 0;
	/* validated by ax_decode: cannot fail */
	if (rd_oid(&r, &rg->start, &why) == -1 ||
	    rd_oid(&r, &rg->end, &why) == -1)
		return (0);
	rg->end.include = 0;
	*off = r.off;
	return (1);
}

static void
put_u8(struct evbuffer *b, uint8_t v)
{
	evbuffer_add(b, &v, 1);
}

static void
put_u16(struct evbuffer *b, uint16_t v)
{
	uint8_t	 x[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	evbuffer_add(b, x, sizeof(x));
}

static void
put_u32(struct evbuffer *b, uint32_t v)
{
	uint8_t	 x[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
		    (uint8_t)(v >> 8), (uint8_t)v };

	evbuffer_add(b, x, sizeof(x));
}

static void
put_oid(struct evbuffer *b, const uint32_t *sub, size_t n, int include)
{
	size_t	 i;

	put_u8(b, (uint8_t)n);
	put_u8(b, 0);		/* prefix: none */
	put_u8(b, include ? 1 : 0);
	put_u8(b, 0);
	for (i = 0; i < n; i++)
		put_u32(b, sub[i]);
}

static void
put_octets(struct evbuffer *b, const void *s, size_t len)
{
	static const uint8_t	 zero[3];

	put_u32(b, (uint32_t)len);
	evbuffer_add(b, s, len);
	evbuffer_add(b, zero, (4 - len % 4) % 4);
}

/* Header (6.1) plus the payload moved out of pl. */
static void
put_pdu(struct evbuffer *out, uint8_t type, uint32_t sessid,
    uint32_t transid, uint32_t packetid, struct evbuffer *pl)
{
	put_u8(out, 1);
	put_u8(out, type);
	put_u8(out, AX_F_NETWORK_BYTE_ORDER);
	put_u8(out, 0);
	put_u32(out, sessid);
	put_u32(out, transid);
	put_u32(out, packetid);
	put_u32(out, pl != NULL ? (uint32_t)evbuffer_get_length(pl) : 0);
	if (pl != NULL)
		evbuffer_add_buffer(out, pl);
}

static struct evbuffer *
xevbuffer(void)
{
	struct evbuffer	*b;

	if ((b = evbuffer_new()) == NULL)
		fatalx("agentx: out of memory");
	return (b);
}

void
ax_enc_open(struct evbuffer *out, uint32_t packetid, uint8_t timeout,
    const uint32_t *id, size_t idlen, const char *descr)
{
	struct evbuffer	*pl = xevbuffer();

	/* 6.2.1: o.timeout, reserved, o.id, o.descr */
	put_u8(pl, timeout);
	put_u8(pl, 0);
	put_u8(pl, 0);
	put_u8(pl, 0);
	put_oid(pl, id, idlen, 0);
	put_octets(pl, descr, strlen(descr));
	put_pdu(out, AX_OPEN, 0, 0, packetid, pl);
	evbuffer_free(pl);
}

void
ax_enc_close(struct evbuffer *out, uint32_t sessid, uint32_t packetid,
    uint8_t reason)
{
	struct evbuffer	*pl = xevbuffer();

	put_u8(pl, reason);	/* 6.2.2 */
	put_u8(pl, 0);
	put_u8(pl, 0);
	put_u8(pl, 0);
	put_pdu(out, AX_CLOSE, sessid, 0, packetid, pl);
	evbuffer_free(pl);
}

void
ax_enc_register(struct evbuffer *out, uint32_t sessid, uint32_t packetid,
    uint8_t priority, const uint32_t *subtree, size_t len)
{
	struct evbuffer	*pl = xevbuffer();

	/* 6.2.3: r.timeout (0: the session's), r.priority, r.range_subid
	 * (0: no range), reserved, r.subtree */
	put_u8(pl, 0);
	put_u8(pl, priority);
	put_u8(pl, 0);
	put_u8(pl, 0);
	put_oid(pl, subtree, len, 0);
	put_pdu(out, AX_REGISTER, sessid, 0, packetid, pl);
	evbuffer_free(pl);
}

void
ax_enc_ping(struct evbuffer *out, uint32_t sessid, uint32_t packetid)
{
	put_pdu(out, AX_PING, sessid, 0, packetid, NULL);
}

void
ax_enc_varbind(struct evbuffer *list, const uint32_t *name, size_t n,
    const struct ax_value *v)
{
	put_u16(list, v->type);
	put_u16(list, 0);
	put_oid(list, name, n, 0);
	switch (v->type) {
	case AX_V_INTEGER:
		put_u32(list, (uint32_t)v->i);
		break;
	case AX_V_COUNTER32:
	case AX_V_GAUGE32:
	case AX_V_TIMETICKS:
		put_u32(list, v->u);
		break;
	case AX_V_COUNTER64:
		put_u32(list, (uint32_t)(v->u64 >> 32));
		put_u32(list, (uint32_t)v->u64);
		break;
	case AX_V_OCTETS:
	case AX_V_IPADDRESS:
	case AX_V_OPAQUE:
		put_octets(list, v->s, v->slen);
		break;
	default:
		/* Null and the exceptions carry no data */
		break;
	}
}

void
ax_enc_response(struct evbuffer *out, const struct ax_hdr *req,
    uint16_t error, uint16_t index, struct evbuffer *list)
{
	struct evbuffer	*pl = xevbuffer();

	/* 6.2.16: res.sysUpTime (relevant only from the master), error,
	 * index, varbinds */
	put_u32(pl, 0);
	put_u16(pl, error);
	put_u16(pl, index);
	if (list != NULL)
		evbuffer_add_buffer(pl, list);
	put_pdu(out, AX_RESPONSE, req->sessid, req->transid, req->packetid,
	    pl);
	evbuffer_free(pl);
}

int
ax_oid_cmp(const uint32_t *a, size_t an, const uint32_t *b, size_t bn)
{
	size_t	 i;

	for (i = 0; i < an && i < bn; i++)
		if (a[i] != b[i])
			return (a[i] < b[i] ? -1 : 1);
	return (an < bn ? -1 : an > bn);
}

/* ==== the table view ================================================= */

/* B.1.(2+t).1: the entry of table t; its length. */
static size_t
entry_prefix(const struct ax_view *v, unsigned t, uint32_t *out)
{
	memcpy(out, v->base, v->base_len * sizeof(*out));
	out[v->base_len] = 1;
	out[v->base_len + 1] = AX_TABLE_ARC(t);
	out[v->base_len + 2] = 1;
	return (v->base_len + 3);
}

size_t
ax_view_oid(const struct ax_view *v, const struct ax_pos *p, uint32_t *out)
{
	size_t	 n = entry_prefix(v, p->table, out);

	out[n++] = p->col;
	out[n++] = p->row;
	return (n);
}

int
ax_view_get(const struct ax_view *v, const uint32_t *oid, size_t n,
    struct ax_pos *pos)
{
	uint32_t	 pre[AX_OID_MAX];
	size_t		 pn;
	unsigned	 t;

	for (t = 0; t < AX_NTABLES; t++) {
		pn = entry_prefix(v, t, pre);
		if (n <= pn || ax_oid_cmp(oid, pn, pre, pn) != 0)
			continue;
		if (oid[pn] < AX_COL_FIRST || oid[pn] > AX_COL_LAST)
			return (AX_V_NOSUCHOBJECT);
		if (n != pn + 2 || oid[pn + 1] < 1 ||
		    oid[pn + 1] > v->nrows[t])
			return (AX_V_NOSUCHINSTANCE);
		pos->table = t;
		pos->col = oid[pn];
		pos->row = oid[pn + 1];
		return (0);
	}
	return (AX_V_NOSUCHOBJECT);
}

/*
 * The first object of table t after x (or at x, with include).  Objects
 * are entry.col.row, col in [AX_COL_FIRST, AX_COL_LAST], row in [1, R]:
 * in OID order all rows of a column come before the next column.
 */
static int
table_next(const struct ax_view *v, unsigned t, const uint32_t *x, size_t xn,
    int include, struct ax_pos *pos)
{
	uint32_t	 pre[AX_OID_MAX], c, r, nrows = v->nrows[t];
	size_t		 pn, i;

	if (nrows == 0)
		return (0);
	pn = entry_prefix(v, t, pre);
	for (i = 0; i < xn && i < pn; i++)
		if (x[i] != pre[i]) {
			if (x[i] < pre[i])
				goto first;	/* x is before the table */
			return (0);		/* x sorts after it */
		}
	if (xn <= pn || x[pn] < AX_COL_FIRST)
		goto first;
	if ((c = x[pn]) > AX_COL_LAST)
		return (0);
	if (xn == pn + 1 || x[pn + 1] == 0) {
		/* entry.c and entry.c.0... sort before entry.c.1 */
		r = 1;
		goto found;
	}
	r = x[pn + 1];
	if (xn == pn + 2 && include && r <= nrows)
		goto found;
	if (r < nrows) {
		r++;			/* x >= entry.c.r: the next row */
		goto found;
	}
	if (c < AX_COL_LAST) {
		c++;
		r = 1;
		goto found;
	}
	return (0);
first:
	c = AX_COL_FIRST;
	r = 1;
found:
	pos->table = t;
	pos->col = c;
	pos->row = r;
	return (1);
}

int
ax_view_next(const struct ax_view *v, const uint32_t *start, size_t start_n,
    int include, const uint32_t *end, size_t end_n, struct ax_pos *pos)
{
	uint32_t	 oid[AX_OID_MAX];
	size_t		 n;
	unsigned	 t;

	for (t = 0; t < AX_NTABLES; t++) {
		if (!table_next(v, t, start, start_n, include, pos))
			continue;
		/* later tables sort after this one: nothing before end */
		n = ax_view_oid(v, pos, oid);
		if (end_n > 0 && ax_oid_cmp(oid, n, end, end_n) >= 0)
			return (0);
		return (1);
	}
	return (0);
}

/* ==== answering requests ============================================= */

struct answer {
	const struct ax_view	*view;
	ax_value_fn		 fn;
	void			*arg;
	struct evbuffer		*list;
};

static void
add_object(struct answer *an, const struct ax_pos *p)
{
	uint32_t	 oid[AX_OID_MAX];
	size_t		 n = ax_view_oid(an->view, p, oid);
	struct ax_value	 v;

	memset(&v, 0, sizeof(v));
	an->fn(an->arg, p, &v);
	ax_enc_varbind(an->list, oid, n, &v);
}

static void
add_exception(struct answer *an, const struct ax_oid *name, int type)
{
	struct ax_value	 v;

	memset(&v, 0, sizeof(v));
	v.type = (uint16_t)type;
	ax_enc_varbind(an->list, name->sub, name->n, &v);
}

/* GetNext of one range (7.2.3.2); 1 if an object was found. */
static int
next_into(struct answer *an, const struct ax_range *r, struct ax_pos *p)
{
	if (ax_view_next(an->view, r->start.sub, r->start.n,
	    r->start.include, r->end.sub, r->end.n, p)) {
		add_object(an, p);
		return (1);
	}
	/* "v.name is set to the starting OID" */
	add_exception(an, &r->start, AX_V_ENDOFMIBVIEW);
	return (0);
}

/* A GetBulk repeater between repetitions. */
struct repeater {
	size_t		 range_off;	/* its SearchRange */
	struct ax_pos	 at;		/* last object returned */
	int		 found;		/* at is set */
	int		 done;		/* endOfMibView reached */
};

/* GetBulk (7.2.3.3). */
static void
answer_bulk(struct answer *an, const struct ax_pdu *req)
{
	struct repeater	*rep;
	struct ax_range	 r;
	struct ax_pos	 p;
	uint32_t	 oid[AX_OID_MAX];
	size_t		 off = 0, prev, i = 0, nrep, k, live;
	unsigned	 round;

	nrep = req->nitems > req->non_repeaters ?
	    req->nitems - req->non_repeaters : 0;
	rep = nrep ? xcalloc(nrep, sizeof(*rep)) : NULL;
	for (prev = req->list_off; ax_range_next(req, &off, &r);
	    prev = off, i++) {
		if (i < req->non_repeaters)
			(void)next_into(an, &r, &p);
		else
			rep[i - req->non_repeaters].range_off = prev;
	}
	for (round = 0, live = nrep; round < req->max_repetitions &&
	    live > 0 && evbuffer_get_length(an->list) < AX_RESPONSE_MAX;
	    round++)
		for (k = 0, live = 0; k < nrep; k++) {
			off = rep[k].range_off;
			(void)ax_range_next(req, &off, &r);
			if (rep[k].found) {
				/* each round starts at the name the last
				 * one returned, as RFC 3416 4.2.3 has it */
				r.start.n = (uint8_t)ax_view_oid(an->view,
				    &rep[k].at, oid);
				memcpy(r.start.sub, oid,
				    r.start.n * sizeof(*oid));
				r.start.include = 0;
			}
			if (rep[k].done) {
				add_exception(an, &r.start,
				    AX_V_ENDOFMIBVIEW);
				continue;
			}
			if (next_into(an, &r, &p)) {
				rep[k].at = p;
				rep[k].found = 1;
				live++;
			} else
				rep[k].done = 1;
		}
	free(rep);
}

void
ax_answer(const struct ax_pdu *req, const struct ax_view *view,
    ax_value_fn fn, void *arg, struct evbuffer *out)
{
	struct answer	 an = { view, fn, arg, xevbuffer() };
	struct ax_range	 r;
	struct ax_pos	 p;
	size_t		 off = 0;
	uint16_t	 error = AX_E_NOERROR;
	int		 e;

	switch (req->h.type) {
	case AX_GET:
		/* 7.2.3.1 */
		while (ax_range_next(req, &off, &r)) {
			if ((e = ax_view_get(view, r.start.sub, r.start.n,
			    &p)) == 0)
				add_object(&an, &p);
			else
				add_exception(&an, &r.start, e);
		}
		break;
	case AX_GETNEXT:
		while (ax_range_next(req, &off, &r))
			(void)next_into(&an, &r, &p);
		break;
	default:
		answer_bulk(&an, req);
		break;
	}
	if (req->h.type != AX_GETBULK &&
	    evbuffer_get_length(an.list) > AX_RESPONSE_MAX) {
		evbuffer_drain(an.list, evbuffer_get_length(an.list));
		error = AX_E_TOOBIG;
	}
	ax_enc_response(out, &req->h, error, 0, an.list);
	evbuffer_free(an.list);
}

/* ==== value helpers ================================================== */

int
ax_result_code(int last_result)
{
	/* NETPROBE-MIB npProbeLastResult, mapped by enumerator name so a
	 * reordering of enum probe_result cannot shift it */
	switch (last_result) {
	case PR_SUCCESS:
		return (1);
	case PR_TIMEOUT:
		return (2);
	case PR_REFUSED:
		return (3);
	case PR_UNREACHABLE:
		return (4);
	case PR_ERROR:
		return (5);
	case PR_BAD_RESPONSE:
		return (6);
	}
	return (last_result < 0 ? 0 : 5);
}

int
ax_alert_state(int state)
{
	switch (state) {
	case ALERT_PENDING:
		return (2);
	case ALERT_FIRING:
		return (3);
	case ALERT_INACTIVE:
		return (4);	/* kept after resolving */
	}
	return (1);
}

size_t
ax_date_and_time(int64_t unix_ms, uint8_t out[11])
{
	time_t		 s = (time_t)(unix_ms / 1000);
	struct tm	 tm;

	memset(out, 0, 11);
	/* no time: eight zero octets, the customary "unknown" */
	if (unix_ms <= 0 || gmtime_r(&s, &tm) == NULL)
		return (8);
	/* SNMPv2-TC DateAndTime: year (2 octets), month, day, hour,
	 * minutes, seconds, deci-seconds, direction from UTC, hours,
	 * minutes */
	out[0] = (uint8_t)((tm.tm_year + 1900) >> 8);
	out[1] = (uint8_t)(tm.tm_year + 1900);
	out[2] = (uint8_t)(tm.tm_mon + 1);
	out[3] = (uint8_t)tm.tm_mday;
	out[4] = (uint8_t)tm.tm_hour;
	out[5] = (uint8_t)tm.tm_min;
	out[6] = (uint8_t)tm.tm_sec;
	out[7] = (uint8_t)(unix_ms % 1000 / 100);
	out[8] = '+';
	return (11);
}

size_t
ax_utf8_prefix(const char *s, size_t max)
{
	size_t	 n = strlen(s);

	if (n <= max)
		return (n);
	/* back off to the start of the sequence the cut falls in */
	for (n = max; n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80; n--)
		;
	return (n);
}

uint32_t
ax_per_mille(uint64_t ok, uint64_t all)
{
	if (all == 0)
		return (0);
	if (ok > all)
		ok = all;
	/* ok * 1000 cannot overflow for any count a daemon reaches */
	return ((uint32_t)((ok * 1000 + all / 2) / all));
}

/* ==== master addresses =============================================== */

#define AGENTX_PORT	705	/* RFC 2741 8.1 */

int
agentx_parse_master(const char *spec, struct sockaddr_storage *ss,
    socklen_t *len, const char **why)
{
	struct sockaddr_un	*sun = (struct sockaddr_un *)ss;
	struct np_addr		 a;
	const char		*path = NULL;

	memset(ss, 0, sizeof(*ss));
	if (strncmp(spec, "unix:", 5) == 0)
		path = spec + 5;
	else if (spec[0] == '/')
		path = spec;
	if (path != NULL) {
		if (path[0] != '/') {
			*why = "a unix socket path must be absolute";
			return (-1);
		}
		if (strlen(path) >= sizeof(sun->sun_path)) {
			*why = "unix socket path too long";
			return (-1);
		}
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, path, strlen(path));
		*len = (socklen_t)sizeof(*sun);
		return (0);
	}
	if (strncmp(spec, "tcp:", 4) == 0)
		spec += 4;
	else if (strncmp(spec, "tcp6:", 5) == 0)
		spec += 5;
	else if (strchr(spec, ':') != NULL && strncmp(spec, "udp", 3) == 0) {
		*why = "AgentX runs over TCP or a unix socket, not UDP";
		return (-1);
	}
	if (parse_addr(spec, AGENTX_PORT, &a, why) == -1) {
		*why = "expected unix:PATH, /PATH or tcp:IP:PORT (an IP "
		    "literal; names are never resolved)";
		return (-1);
	}
	memcpy(ss, &a.ss, a.len);
	*len = a.len;
	return (0);
}

const char *
agentx_master_check(const char *master)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	const char		*why;

	if (agentx_parse_master(master, &ss, &len, &why) == -1)
		return (why);
	return (NULL);
}

