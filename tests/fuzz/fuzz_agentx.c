/*
 * libFuzzer target: what the AgentX master agent sends the sub-agent
 * (daemon/msg_agentx.h, RFC 2741): the input is a byte stream cut into
 * PDUs by their headers as the session does; each is decoded, and a Get,
 * GetNext or GetBulk is answered over a small fixed view, as the daemon
 * would.
 */
#include "config.h"

#include <sys/types.h>

#include <event2/buffer.h>

#include "daemon/msg_agentx.h"
#include "tests/fuzz/fuzz.h"

/* NETPROBE-MIB's default base: netSnmpPlaypen.7457 */
static const uint32_t	base[] = { 1, 3, 6, 1, 4, 1, 8072, 9999, 9999, 7457 };

static void
value(void *arg, const struct ax_pos *p, struct ax_value *v)
{
	static const char	text[] = "district-7 extranet gateway";

	(void)arg;
	memset(v, 0, sizeof(*v));
	switch (p->col % 4) {
	case 0:
		v->type = AX_V_OCTETS;
		v->s = text;
		v->slen = p->row % sizeof(text);
		break;
	case 1:
		v->type = AX_V_INTEGER;
		v->i = -(int32_t)p->row;
		break;
	case 2:
		v->type = AX_V_COUNTER64;
		v->u64 = (uint64_t)p->row << 40;
		break;
	default:
		v->type = AX_V_GAUGE32;
		v->u = p->row;
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct ax_view	 view = { base,
	    sizeof(base) / sizeof(base[0]), { 2, 3 } };
	struct ax_pdu		 pdu, res;
	struct ax_range		 r;
	struct evbuffer		*out;
	const char		*why;
	uint8_t			*copy, *rb;
	size_t			 off = 0, roff, n;
	ssize_t			 fl;

	while (off < size) {
		if ((fl = ax_frame_len(data + off, size - off)) <= 0 ||
		    (size_t)fl > size - off)
			break;
		/* an exact copy: reading past the PDU is caught */
		if ((copy = malloc((size_t)fl)) == NULL)
			abort();
		memcpy(copy, data + off, (size_t)fl);
		off += (size_t)fl;
		if (ax_decode(copy, (size_t)fl, &pdu, &why) == -1) {
			free(copy);
			continue;
		}
		if (pdu.h.type == AX_GET || pdu.h.type == AX_GETNEXT ||
		    pdu.h.type == AX_GETBULK) {
			roff = 0;
			while (ax_range_next(&pdu, &roff, &r))
				if (r.start.n > AX_OID_MAX)
					abort();
			if ((out = evbuffer_new()) == NULL)
				abort();
			ax_answer(&pdu, &view, value, NULL, out);
			/* our Response must decode as one whole PDU (up to
			 * the size we accept ourselves) */
			n = evbuffer_get_length(out);
			rb = evbuffer_pullup(out, -1);
			if (n <= AX_HDR_LEN + AX_PDU_MAX &&
			    (ax_frame_len(rb, n) != (ssize_t)n ||
			    ax_decode(rb, n, &res, &why) != 0))
				abort();
			evbuffer_free(out);
		}
		free(copy);
	}
	return (0);
}
