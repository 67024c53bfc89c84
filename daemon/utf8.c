#include "utf8.h"

size_t utf8_decode(const char *s, uint32_t *ret_cp) {
        const unsigned char *u = (const unsigned char *) s;
        unsigned char lo = 0x80, hi = 0xbf;
        size_t n;
        uint32_t cp;

        if (u[0] < 0x80) {
                *ret_cp = u[0];
                return 1;
        }
        if (u[0] >= 0xc2 && u[0] <= 0xdf) {
                n = 2;
                cp = u[0] & 0x1f;
        } else if (u[0] >= 0xe0 && u[0] <= 0xef) {
                n = 3;
                cp = u[0] & 0x0f;
                if (u[0] == 0xe0)
                        lo = 0xa0; /* overlong */
                else if (u[0] == 0xed)
                        hi = 0x9f; /* surrogates */
        } else if (u[0] >= 0xf0 && u[0] <= 0xf4) {
                n = 4;
                cp = u[0] & 0x07;
                if (u[0] == 0xf0)
                        lo = 0x90; /* overlong */
                else if (u[0] == 0xf4)
                        hi = 0x8f; /* above U+10FFFF */
        } else
                return 0;

        for (size_t i = 1; i < n; i++) {
                if (u[i] < lo || u[i] > hi)
                        return 0;
                cp = (cp << 6) | (u[i] & 0x3f);
                lo = 0x80;
                hi = 0xbf;
        }

        *ret_cp = cp;
        return n;
}
