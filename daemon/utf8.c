#include "utf8.h"
#include "util.h"

struct range {
        uint32_t first, last;
};

/* General_Category Cf in Unicode 15.1 (DerivedGeneralCategory.txt): 170 code points. */
static const struct range format_ranges[] = {
        { 0x00ad, 0x00ad },   { 0x0600, 0x0605 },   { 0x061c, 0x061c },   { 0x06dd, 0x06dd },
        { 0x070f, 0x070f },   { 0x0890, 0x0891 },   { 0x08e2, 0x08e2 },   { 0x180e, 0x180e },
        { 0x200b, 0x200f },   { 0x202a, 0x202e },   { 0x2060, 0x2064 },   { 0x2066, 0x206f },
        { 0xfeff, 0xfeff },   { 0xfff9, 0xfffb },   { 0x110bd, 0x110bd }, { 0x110cd, 0x110cd },
        { 0x13430, 0x1343f }, { 0x1bca0, 0x1bca3 }, { 0x1d173, 0x1d17a }, { 0xe0001, 0xe0001 },
        { 0xe0020, 0xe007f },
};

/* White_Space in Unicode 15.1 (PropList.txt): 25 code points. */
static const struct range white_space_ranges[] = {
        { 0x0009, 0x000d }, { 0x0020, 0x0020 }, { 0x0085, 0x0085 }, { 0x00a0, 0x00a0 }, { 0x1680, 0x1680 },
        { 0x2000, 0x200a }, { 0x2028, 0x2029 }, { 0x202f, 0x202f }, { 0x205f, 0x205f }, { 0x3000, 0x3000 },
};

static const struct range combining_ranges[] = {
        { 0x0300, 0x036f }, { 0x1ab0, 0x1aff }, { 0x1dc0, 0x1dff }, { 0x20d0, 0x20ff }, { 0xfe20, 0xfe2f },
};

static const struct {
        uint32_t cp;
        const char *name;
} names[] = {
        /* Sorted by code point, for the binary search below. Controls have no Unicode name, only
         * the aliases of NameAliases.txt, which these are. */
        { 0x0000, "NULL" },
        { 0x0007, "ALERT" },
        { 0x0008, "BACKSPACE" },
        { 0x0009, "CHARACTER TABULATION" },
        { 0x000a, "LINE FEED" },
        { 0x000b, "LINE TABULATION" },
        { 0x000c, "FORM FEED" },
        { 0x000d, "CARRIAGE RETURN" },
        { 0x001b, "ESCAPE" },
        { 0x0020, "SPACE" },
        { 0x007f, "DELETE" },
        { 0x0085, "NEXT LINE" },
        { 0x009b, "CONTROL SEQUENCE INTRODUCER" },
        { 0x00a0, "NO-BREAK SPACE" },
        { 0x00ad, "SOFT HYPHEN" },
        { 0x061c, "ARABIC LETTER MARK" },
        { 0x1680, "OGHAM SPACE MARK" },
        { 0x180e, "MONGOLIAN VOWEL SEPARATOR" },
        { 0x2000, "EN QUAD" },
        { 0x2001, "EM QUAD" },
        { 0x2002, "EN SPACE" },
        { 0x2003, "EM SPACE" },
        { 0x2004, "THREE-PER-EM SPACE" },
        { 0x2005, "FOUR-PER-EM SPACE" },
        { 0x2006, "SIX-PER-EM SPACE" },
        { 0x2007, "FIGURE SPACE" },
        { 0x2008, "PUNCTUATION SPACE" },
        { 0x2009, "THIN SPACE" },
        { 0x200a, "HAIR SPACE" },
        { 0x200b, "ZERO WIDTH SPACE" },
        { 0x200c, "ZERO WIDTH NON-JOINER" },
        { 0x200d, "ZERO WIDTH JOINER" },
        { 0x200e, "LEFT-TO-RIGHT MARK" },
        { 0x200f, "RIGHT-TO-LEFT MARK" },
        { 0x2028, "LINE SEPARATOR" },
        { 0x2029, "PARAGRAPH SEPARATOR" },
        { 0x202a, "LEFT-TO-RIGHT EMBEDDING" },
        { 0x202b, "RIGHT-TO-LEFT EMBEDDING" },
        { 0x202c, "POP DIRECTIONAL FORMATTING" },
        { 0x202d, "LEFT-TO-RIGHT OVERRIDE" },
        { 0x202e, "RIGHT-TO-LEFT OVERRIDE" },
        { 0x202f, "NARROW NO-BREAK SPACE" },
        { 0x205f, "MEDIUM MATHEMATICAL SPACE" },
        { 0x2060, "WORD JOINER" },
        { 0x2061, "FUNCTION APPLICATION" },
        { 0x2062, "INVISIBLE TIMES" },
        { 0x2063, "INVISIBLE SEPARATOR" },
        { 0x2064, "INVISIBLE PLUS" },
        { 0x2066, "LEFT-TO-RIGHT ISOLATE" },
        { 0x2067, "RIGHT-TO-LEFT ISOLATE" },
        { 0x2068, "FIRST STRONG ISOLATE" },
        { 0x2069, "POP DIRECTIONAL ISOLATE" },
        { 0x3000, "IDEOGRAPHIC SPACE" },
        { 0xfeff, "ZERO WIDTH NO-BREAK SPACE" },
};

static bool in_ranges(const struct range *r, size_t n, uint32_t cp) {
        size_t lo = 0, hi = n;

        if (cp < r[0].first || cp > r[n - 1].last)
                return false;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (cp < r[mid].first)
                        hi = mid;
                else if (cp > r[mid].last)
                        lo = mid + 1;
                else
                        return true;
        }
        return false;
}

size_t utf8_decode_n(const char *s, size_t size, uint32_t *ret_cp) {
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

        /* Each byte is read only after the ones before it turned out to be continuation bytes. */
        for (size_t i = 1; i < n; i++) {
                if (i >= size || u[i] < lo || u[i] > hi)
                        return 0;
                cp = (cp << 6) | (u[i] & 0x3f);
                lo = 0x80;
                hi = 0xbf;
        }

        *ret_cp = cp;
        return n;
}

size_t utf8_decode(const char *s, uint32_t *ret_cp) {
        /* A NUL stops the sequence before the fourth byte is read: see utf8_decode_n(). */
        return utf8_decode_n(s, 4, ret_cp);
}

bool utf8_is_valid_n(const char *s, size_t size) {
        size_t i = 0;

        while (i < size) {
                uint32_t cp;
                size_t k;

                if ((unsigned char) s[i] < 0x80) {
                        i++;
                        continue;
                }
                k = utf8_decode_n(s + i, size - i, &cp);
                if (k == 0)
                        return false;
                i += k;
        }
        return true;
}

bool utf8_is_control(uint32_t cp) {
        return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

bool utf8_is_format(uint32_t cp) {
        return in_ranges(format_ranges, ELEMENTSOF(format_ranges), cp);
}

bool utf8_is_white_space(uint32_t cp) {
        return in_ranges(white_space_ranges, ELEMENTSOF(white_space_ranges), cp);
}

bool utf8_is_line_separator(uint32_t cp) {
        return cp == 0x2028 || cp == 0x2029;
}

bool utf8_is_combining_mark(uint32_t cp) {
        return in_ranges(combining_ranges, ELEMENTSOF(combining_ranges), cp);
}

const char *utf8_name(uint32_t cp) {
        size_t lo = 0, hi = ELEMENTSOF(names);

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;

                if (cp < names[mid].cp)
                        hi = mid;
                else if (cp > names[mid].cp)
                        lo = mid + 1;
                else
                        return names[mid].name;
        }
        return NULL;
}
