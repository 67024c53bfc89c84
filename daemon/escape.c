#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "escape.h"
#include "utf8.h"
#include "util.h"

/* What is printed of a text: s[0..end), then "..." when 'cut'. With ESCAPE_EDGE_SPACE, the
 * spaces in s[0..lead_end) and s[trail_start..end) are escaped. */
struct span {
        const char *s;
        size_t end;
        bool cut;
        bool edge;
        size_t lead_end;
        size_t trail_start;
};

/* One character (or one invalid byte) of the text, and what to write for it. */
struct piece {
        size_t in;       /* input bytes it spans */
        const char *out; /* what to write: its own bytes, or buf */
        size_t out_len;
        char buf[ESCAPE_MAX_SEQUENCE + 1];
};

/* The bytes of the character at s, of the 'size' bytes left (size > 0): a UTF-8 sequence, or one
 * byte when none begins there. */
static size_t unit_length(const char *s, size_t size) {
        uint32_t cp;
        size_t k;

        if ((unsigned char) s[0] < 0x80)
                return 1;
        k = utf8_decode_n(s, size, &cp);
        return k > 0 ? k : 1;
}

static void span_init(struct span *sp, const char *s, size_t n, size_t max, enum escape_flags flags) {
        size_t end = n;

        if (flags & ESCAPE_FIRST_LINE)
                for (size_t i = 0; i < n; i++)
                        if (s[i] == '\n' || s[i] == '\r') {
                                end = i;
                                break;
                        }

        *sp = (struct span){ .s = s, .end = end, .edge = flags & ESCAPE_EDGE_SPACE };
        if (max < end) {
                /* Keep the characters that lie wholly within the first 'max' bytes. */
                size_t i = 0;

                for (;;) {
                        size_t k = unit_length(s + i, end - i);

                        if (i + k > max)
                                break;
                        i += k;
                }
                sp->end = i;
                sp->cut = true;
        }
        if (sp->edge) {
                while (sp->lead_end < sp->end && s[sp->lead_end] == ' ')
                        sp->lead_end++;
                sp->trail_start = sp->end;
                while (sp->trail_start > sp->lead_end && s[sp->trail_start - 1] == ' ')
                        sp->trail_start--;
        }
}

/* Characters beyond ASCII that a person cannot see, or cannot tell apart from others. */
static bool hidden(uint32_t cp) {
        if (cp > 0xa0 && cp < 0x300 && cp != 0xad)
                return false; /* Latin-1 and its extensions: the common case, answered at once */
        return utf8_is_control(cp) || utf8_is_format(cp) || utf8_is_white_space(cp) ||
               utf8_is_combining_mark(cp);
}

/* "\xHH" for a byte, "\uHHHH" or "\UHHHHHHHH" for a code point. */
static void piece_escape(struct piece *p, size_t in, bool byte, unsigned value) {
        int k = byte             ? snprintf(p->buf, sizeof(p->buf), "\\x%02x", value)
                : value > 0xffff ? snprintf(p->buf, sizeof(p->buf), "\\U%08x", value)
                                 : snprintf(p->buf, sizeof(p->buf), "\\u%04x", value);

        assert(k > 0 && (size_t) k < sizeof(p->buf));
        p->in = in;
        p->out = p->buf;
        p->out_len = (size_t) k;
}

static void piece_literal(struct piece *p, size_t in, const char *out) {
        p->in = in;
        p->out = out;
        p->out_len = strlen(out);
}

/* The piece at s[i], i < sp->end. */
static void next_piece(const struct span *sp, size_t i, struct piece *p) {
        unsigned char c = (unsigned char) sp->s[i];
        uint32_t cp;
        size_t k;

        if (c >= 0x20 && c < 0x7f) {
                if (c == '\\')
                        piece_literal(p, 1, "\\\\");
                else if (c == ' ' && sp->edge && (i < sp->lead_end || i >= sp->trail_start))
                        piece_literal(p, 1, "\\x20");
                else
                        *p = (struct piece){ .in = 1, .out = sp->s + i, .out_len = 1 };
                return;
        }
        switch (c) {
        case '\n':
                piece_literal(p, 1, "\\n");
                return;
        case '\r':
                piece_literal(p, 1, "\\r");
                return;
        case '\t':
                piece_literal(p, 1, "\\t");
                return;
        }
        k = c < 0x80 ? 0 : utf8_decode_n(sp->s + i, sp->end - i, &cp);
        if (k == 0)
                piece_escape(p, 1, true, c);
        else if (!hidden(cp))
                *p = (struct piece){ .in = k, .out = sp->s + i, .out_len = k };
        else
                piece_escape(p, k, false, (unsigned) cp);
}

char *escape_text(const char *s, size_t n, size_t max, enum escape_flags flags) {
        struct span sp;
        struct piece p;
        size_t len = 0;
        char *out, *o;

        assert(s || n == 0);

        span_init(&sp, s, n, max, flags);
        /* Measure, then write: the output is allocated to size. */
        for (size_t i = 0; i < sp.end; i += p.in) {
                next_piece(&sp, i, &p);
                len += p.out_len;
        }
        out = malloc(len + (sp.cut ? strlen(ESCAPE_CUT_MARK) : 0) + 1);
        if (!out)
                return NULL;
        o = out;
        for (size_t i = 0; i < sp.end; i += p.in) {
                next_piece(&sp, i, &p);
                memcpy(o, p.out, p.out_len);
                o += p.out_len;
        }
        if (sp.cut)
                o = stpcpy(o, ESCAPE_CUT_MARK);
        *o = '\0';
        return out;
}

char *escape_string(const char *s, enum escape_flags flags) {
        assert(s);
        return escape_text(s, strlen(s), SIZE_MAX, flags);
}

int escape_fputs(FILE *f, const char *s, enum escape_flags flags) {
        struct span sp;
        struct piece p;
        size_t run = 0; /* where the bytes that go out as they are, not written yet, begin */

        assert(f);
        assert(s);

        span_init(&sp, s, strlen(s), SIZE_MAX, flags);
        for (size_t i = 0; i < sp.end; i += p.in) {
                next_piece(&sp, i, &p);
                if (p.out == s + i)
                        continue;
                (void) fwrite(s + run, 1, i - run, f);
                (void) fwrite(p.out, 1, p.out_len, f);
                run = i + p.in;
        }
        (void) fwrite(s + run, 1, sp.end - run, f);
        if (ferror(f))
                return negative_errno();
        return 0;
}

size_t escape_to_buffer(char *buf, size_t size, const char *s, enum escape_flags flags) {
        const size_t mark = strlen(ESCAPE_CUT_MARK);
        struct span sp;
        struct piece p;
        size_t o = 0, room;

        assert(buf);
        assert(size > mark);
        assert(s);

        room = size - 1;
        span_init(&sp, s, strlen(s), SIZE_MAX, flags);
        for (size_t i = 0; i < sp.end; i += p.in) {
                size_t rest = 0;

                next_piece(&sp, i, &p);
                if (o + p.out_len <= room - mark) {
                        memcpy(buf + o, p.out, p.out_len);
                        o += p.out_len;
                        continue;
                }
                /* This piece would leave no room for the mark: write the rest only if all of it
                 * fits, else the mark. Either way this is the last time round. */
                for (size_t j = i; j < sp.end && rest <= room - o; j += p.in) {
                        next_piece(&sp, j, &p);
                        rest += p.out_len;
                }
                if (rest <= room - o)
                        for (size_t j = i; j < sp.end; j += p.in) {
                                next_piece(&sp, j, &p);
                                memcpy(buf + o, p.out, p.out_len);
                                o += p.out_len;
                        }
                else {
                        memcpy(buf + o, ESCAPE_CUT_MARK, mark);
                        o += mark;
                }
                break;
        }
        buf[o] = '\0';
        return o;
}
