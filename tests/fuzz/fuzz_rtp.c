/*
 * libFuzzer target: RTP packets as the media probe reads them
 * (probes/msg_rtp.h): the header, our measurement block, and the
 * sequence and jitter accounting over every 4 input bytes taken as one
 * packet's sequence number and timestamp.
 */
#include "config.h"

#include "probes/msg_rtp.h"
#include "tests/fuzz/fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rtp_hdr		 h;
	struct media_block	 b;
	struct rtp_seqstat	 ss;
	struct rtp_jitter	 j;
	uint32_t		 exp, lost;
	size_t			 off, plen, i;

	if (rtp_hdr_parse(data, size, &h, &off, &plen) == 0 &&
	    (off > size || plen > size - off))
		abort();	/* the payload must lie inside the packet */
	(void)media_packet_parse(data, size, &h, &b);
	(void)media_block_parse(data, size, &b);

	memset(&ss, 0, sizeof(ss));
	memset(&j, 0, sizeof(j));
	for (i = 0; i + 4 <= size; i += 4) {
		(void)rtp_seq_update(&ss, (uint16_t)(data[i] << 8 | data[i + 1]));
		rtp_jitter_update(&j, (double)i / 100.0,
		    (uint32_t)(data[i + 2] << 8 | data[i + 3]) * 160);
	}
	(void)rtp_seq_ext_max(&ss);
	(void)rtp_seq_expected(&ss);
	(void)rtp_seq_lost(&ss);
	(void)rtp_jitter_seconds(&j, RTP_CLOCK_HZ);
	/* a media report's fields, from the first 8 bytes */
	if (size >= 8)
		(void)media_upstream_loss((uint16_t)(data[0] << 8 | data[1]),
		    (uint32_t)(data[2] << 8 | data[3]),
		    (uint32_t)(data[4] << 8 | data[5]),
		    (uint32_t)(data[6] << 8 | data[7]), &exp, &lost);
	return (0);
}
