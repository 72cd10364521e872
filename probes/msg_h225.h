/* msg_h225: not written yet. */
#ifndef MSG_H225_H
#define MSG_H225_H
#endif
