/*
 * msg_rtp: RTP headers, the media echo block, RFC 3550 receiver
 * statistics and the simplified E-model.  Pure: no I/O, no clock (see
 * msg_rtp.h for the wire format and the contracts).
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "probes/msg_rtp.h"

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return ((uint16_t)(p[0] << 8 | p[1]));
}

static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

/* ---- RTP header (RFC 3550 5.1) --------------------------------------- */

size_t
rtp_hdr_build(uint8_t *buf, size_t len, const struct rtp_hdr *h)
{
	if (len < RTP_HDR_LEN || h->pt > 127)
		return (0);
	buf[0] = 0x80;		/* V=2, P=0, X=0, CC=0 */
	buf[1] = (uint8_t)((h->marker ? 0x80 : 0) | h->pt);
	put16(buf + 2, h->seq);
	put32(buf + 4, h->ts);
	put32(buf + 8, h->ssrc);
	return (RTP_HDR_LEN);
}

int
rtp_hdr_parse(const uint8_t *buf, size_t len, struct rtp_hdr *h,
    size_t *off, size_t *plen)
{
	size_t		o, pad = 0;
	unsigned	cc;

	if (len < RTP_HDR_LEN || (buf[0] >> 6) != 2)
		return (-1);
	h->marker = (buf[1] & 0x80) != 0;
	h->pt = buf[1] & 0x7f;
	h->seq = get16(buf + 2);
	h->ts = get32(buf + 4);
	h->ssrc = get32(buf + 8);
	cc = buf[0] & 0x0f;
	o = RTP_HDR_LEN + 4 * (size_t)cc;	/* CSRC list */
	if (o > len)
		return (-1);
	if (buf[0] & 0x10) {
		/* 5.3.1: 16-bit profile field, 16-bit length in words */
		if (o + 4 > len)
			return (-1);
		o += 4 + 4 * (size_t)get16(buf + o + 2);
		if (o > len)
			return (-1);
	}
	if (buf[0] & 0x20) {
		/* the last octet counts the padding, itself included */
		pad = buf[len - 1];
		if (pad == 0 || pad > len - o)
			return (-1);
	}
	*off = o;
	*plen = len - o - pad;
	return (0);
}

/* ---- the echo block ---------------------------------------------------- */

size_t
media_block_build(uint8_t *p, size_t len, const struct media_block *b)
{
	if (len < MEDIA_BLOCK_LEN ||
	    (b->kind != MEDIA_REQUEST && b->kind != MEDIA_ECHO))
		return (0);
	put32(p, MEDIA_MAGIC);
	p[4] = (uint8_t)b->kind;
	p[5] = 0;
	put16(p + 6, b->req_seq);
	put32(p + 8, b->cookie);
	put32(p + 12, b->up_received);
	put32(p + 16, b->up_ext_max);
	put32(p + 20, b->up_jitter16);
	put32(p + 24, b->up_late);
	put32(p + 28, b->down_sent);
	put32(p + 32, b->hold_us);
	memset(p + MEDIA_BLOCK_LEN, 0xff, len - MEDIA_BLOCK_LEN);
	return (len);
}

int
media_block_parse(const uint8_t *p, size_t len, struct media_block *b)
{
	if (len < MEDIA_BLOCK_LEN || get32(p) != MEDIA_MAGIC ||
	    (p[4] != MEDIA_REQUEST && p[4] != MEDIA_ECHO) || p[5] != 0)
		return (-1);
	b->kind = (enum media_kind)p[4];
	b->req_seq = get16(p + 6);
	b->cookie = get32(p + 8);
	b->up_received = get32(p + 12);
	b->up_ext_max = get32(p + 16);
	b->up_jitter16 = get32(p + 20);
	b->up_late = get32(p + 24);
	b->down_sent = get32(p + 28);
	b->hold_us = get32(p + 32);
	return (0);
}

size_t
media_packet_build(uint8_t *buf, size_t len, size_t payload_len,
    const struct rtp_hdr *h, const struct media_block *b)
{
	if (payload_len < MEDIA_BLOCK_LEN || len < RTP_HDR_LEN ||
	    payload_len > len - RTP_HDR_LEN)
		return (0);
	if (rtp_hdr_build(buf, len, h) == 0 ||
	    media_block_build(buf + RTP_HDR_LEN, payload_len, b) == 0)
		return (0);
	return (RTP_HDR_LEN + payload_len);
}

int
media_packet_parse(const uint8_t *buf, size_t len, struct rtp_hdr *h,
    struct media_block *b)
{
	/* ours: V=2 and nothing between the fixed header and the block */
	if (len < RTP_HDR_LEN + MEDIA_BLOCK_LEN || buf[0] != 0x80)
		return (-1);
	h->marker = (buf[1] & 0x80) != 0;
	h->pt = buf[1] & 0x7f;
	h->seq = get16(buf + 2);
	h->ts = get32(buf + 4);
	h->ssrc = get32(buf + 8);
	return (media_block_parse(buf + RTP_HDR_LEN, len - RTP_HDR_LEN, b));
}

/* ---- receiver statistics (RFC 3550 A.1, A.3, A.8) ---------------------- */

enum rtp_seq_event
rtp_seq_update(struct rtp_seqstat *s, uint16_t seq)
{
	int16_t	delta;

	s->received++;
	if (!s->started) {
		s->started = 1;
		s->base_seq = s->max_seq = seq;
		s->cycles = 0;
		return (RTP_SEQ_FIRST);
	}
	/* signed modular difference: a wrap is a small step forward */
	delta = (int16_t)(uint16_t)(seq - s->max_seq);
	if (delta > 0) {
		if (seq < s->max_seq)
			s->cycles += 65536;
		s->max_seq = seq;
		return (RTP_SEQ_NEW);
	}
	if (delta == 0) {
		s->duplicates++;
		return (RTP_SEQ_DUPLICATE);
	}
	s->late++;
	return (RTP_SEQ_LATE);
}

uint32_t
rtp_seq_ext_max(const struct rtp_seqstat *s)
{
	return (s->started ? s->cycles + s->max_seq : 0);
}

uint32_t
rtp_seq_expected(const struct rtp_seqstat *s)
{
	return (s->started ? rtp_seq_ext_max(s) - s->base_seq + 1 : 0);
}

uint32_t
rtp_seq_lost(const struct rtp_seqstat *s)
{
	uint32_t	e = rtp_seq_expected(s);

	return (e > s->received ? e - s->received : 0);
}

void
rtp_jitter_update(struct rtp_jitter *jt, double arrival, uint32_t ts)
{
	double	d;

	if (jt->started) {
		/* D(i-1,i) = (Rj - Ri) - (Sj - Si), 6.4.1 */
		d = (arrival - jt->prev_arrival) -
		    (double)(int32_t)(ts - jt->prev_ts);
		jt->j += (fabs(d) - jt->j) / 16.0;
		jt->samples++;
	}
	jt->started = 1;
	jt->prev_arrival = arrival;
	jt->prev_ts = ts;
}

double
rtp_jitter_seconds(const struct rtp_jitter *jt, unsigned hz)
{
	return (hz > 0 ? jt->j / hz : 0);
}

int
media_upstream_loss(uint16_t seq0, uint32_t nsent, uint32_t up_ext_max,
    uint32_t up_received, uint32_t *expected, uint32_t *lost)
{
	uint32_t	idx = (uint16_t)((uint16_t)up_ext_max - seq0);

	if (nsent == 0 || nsent > 65535 || idx >= nsent)
		return (-1);
	*expected = idx + 1;
	*lost = *expected > up_received ? *expected - up_received : 0;
	return (0);
}

/* ---- E-model (PROTOCOLS.md 5.1, 5.3) ------------------------------------- */

double
emodel_r(double latency_ms, double jitter_ms, double loss_pct)
{
	double	eff, r;

	if (!(latency_ms > 0))
		latency_ms = 0;
	if (!(jitter_ms > 0))
		jitter_ms = 0;
	if (!(loss_pct > 0))
		loss_pct = 0;
	/* 2 x jitter for the jitter buffer, 10 ms codec/processing */
	eff = latency_ms + 2 * jitter_ms + 10;
	if (eff < 160)
		r = 93.2 - eff / 40;
	else
		r = 93.2 - (eff - 120) / 10;
	r -= 2.5 * loss_pct;
	if (r < 0)
		r = 0;
	if (r > 100)
		r = 100;
	return (r);
}

double
emodel_mos(double r)
{
	double	mos;

	if (!(r > 0))
		return (1);
	if (r >= 100)
		return (4.5);
	mos = 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r);
	if (mos < 1)
		mos = 1;
	if (mos > 4.5)
		mos = 4.5;
	return (mos);
}
