#pragma once

/* A JSON reader that checks a whole body against RFC 8259 and allocates nothing, for the bodies
 * of which cluster.c keeps a few members (list pages, connector documents): the caller pulls one
 * token at a time, copies the strings it keeps (json_scan_string_dup()) and skips the rest
 * (json_scan_skip()), which is checked all the same.
 *
 * What is refused: anything RFC 8259's grammar does not allow (numbers such as 01, 1. or .5;
 * escapes other than \" \\ \/ \b \f \n \r \t \uXXXX; a \u escape of half a surrogate pair;
 * control characters inside strings; whitespace other than space, tab, CR and LF; a byte order
 * mark), strings that are not valid UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * past U+10FFFF), a NUL byte anywhere and a \u0000 escape (a C string cannot hold them), more
 * than JSON_SCAN_DEPTH_MAX arrays and objects nested, an empty body, and anything but whitespace
 * after the value. Duplicate member names are the caller's to refuse: it knows which it reads. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The deepest nesting of arrays and objects accepted: cJSON's own limit (CJSON_NESTING_LIMIT),
 * so that the bodies other decoders read with cJSON meet the same bound. */
#define JSON_SCAN_DEPTH_MAX 1000u

enum json_scan_token_type {
        JSON_SCAN_END, /* the value is complete and only whitespace follows it */
        JSON_SCAN_OBJECT_BEGIN,
        JSON_SCAN_OBJECT_END,
        JSON_SCAN_ARRAY_BEGIN,
        JSON_SCAN_ARRAY_END,
        JSON_SCAN_KEY, /* a member's name; the ':' after it is read with it */
        JSON_SCAN_STRING,
        JSON_SCAN_NUMBER,
        JSON_SCAN_TRUE,
        JSON_SCAN_FALSE,
        JSON_SCAN_NULL,
        _JSON_SCAN_TOKEN_TYPE_MAX,
};

enum json_scan_error {
        JSON_SCAN_OK,
        JSON_SCAN_EMPTY,         /* no bytes at all */
        JSON_SCAN_NUL,           /* a NUL byte, or a \u0000 escape */
        JSON_SCAN_TOO_DEEP,      /* more than JSON_SCAN_DEPTH_MAX arrays and objects nested */
        JSON_SCAN_TRAILING,      /* something other than whitespace after the value */
        JSON_SCAN_TRUNCATED,     /* the body ends inside the value */
        JSON_SCAN_UNEXPECTED,    /* a byte the grammar does not allow there */
        JSON_SCAN_BAD_NUMBER,    /* a number RFC 8259 does not allow (01, 1., 1e, -) */
        JSON_SCAN_BAD_ESCAPE,    /* a backslash escape that does not exist, or \u without 4 hex digits */
        JSON_SCAN_BAD_SURROGATE, /* a \u escape of half a surrogate pair, alone or out of order */
        JSON_SCAN_CONTROL,       /* a control character (U+0000-U+001F) not escaped in a string */
        JSON_SCAN_BAD_UTF8,      /* a string that is not valid UTF-8 */
        _JSON_SCAN_ERROR_MAX,
};

/* One token. The pointers borrow the body given to json_scan_init(). */
struct json_scan_token {
        enum json_scan_token_type type;
        const char *start; /* KEY, STRING: the bytes between the quotes, escapes as written;
                            * NUMBER: the number as written; otherwise NULL */
        size_t size;
        bool escaped;  /* KEY, STRING: at least one backslash escape */
        size_t offset; /* where the token starts in the body */
};

/* The reader's state; the caller owns it (on the stack: under 200 bytes) and reads its fields
 * only through the functions below, except 'error' and 'error_offset' after a failure. */
struct json_scan {
        const char *body, *p, *end;
        unsigned depth;
        unsigned state;
        enum json_scan_error error; /* JSON_SCAN_OK until a failure, which is final */
        size_t error_offset;        /* where the failure is: the offending byte, or the body's size */
        uint8_t in_object[(JSON_SCAN_DEPTH_MAX + 7) / 8]; /* per open level: object (1) or array */
};

/* Starts reading 'body' (borrowed until the last call; 'size' bytes, no NUL needed after them).
 * Returns 0, or -EBADMSG (JSON_SCAN_EMPTY, JSON_SCAN_NUL: a NUL byte anywhere is refused here,
 * with memchr()). */
int json_scan_init(struct json_scan *s, const char *body, size_t size);

/* Reads the next token into *ret: 0, or -EBADMSG with s->error and s->error_offset set, and
 * every later call fails the same way. After the value is complete, JSON_SCAN_END, again on each
 * call. */
int json_scan_next(struct json_scan *s, struct json_scan_token *ret);

/* Reads up to the end of the array or object that 't' opened; 't' must be the last token
 * json_scan_next() gave. Nothing for any other token. Returns 0 or -EBADMSG. */
int json_scan_skip(struct json_scan *s, const struct json_scan_token *t);

/* Reads every token left, up to JSON_SCAN_END: whatever state the reader is in, this says
 * whether the rest of the body is valid. Returns 0 or -EBADMSG. */
int json_scan_finish(struct json_scan *s);

/* Whether a KEY or STRING token, escapes decoded, is exactly the NUL-terminated 's'. */
bool json_scan_string_equal(const struct json_scan_token *t, const char *s);

/* Decodes a KEY or STRING token into a new NUL-terminated string (owned by the caller): escapes
 * become UTF-8, as cJSON decodes them. Returns 0 or -ENOMEM. */
int json_scan_string_dup(const struct json_scan_token *t, char **ret);

/* Whether a NUMBER token is a non-negative integer that a double holds exactly (below 2^53),
 * read as cJSON reads numbers (strtod(); "-0" is 0, "1e3" is 1000, "1.0" is 1). Returns 1 and sets
 * *ret when it is, 0 when it is not (or is no NUMBER), -ENOMEM when a number of more than 63
 * characters could not be copied out. */
int json_scan_get_uint(const struct json_scan_token *t, uint64_t *ret);

/* A few words saying what is wrong, e.g. "a control character in a string"; NULL for
 * JSON_SCAN_OK or an unknown value. */
const char *json_scan_error_to_string(enum json_scan_error e);
