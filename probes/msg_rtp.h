/* msg_rtp: not written yet. */
#ifndef MSG_RTP_H
#define MSG_RTP_H
#endif
