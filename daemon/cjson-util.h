#pragma once

/* cJSON with the cleanup attribute. */

#include <cjson/cJSON.h>

#include "util.h"

static inline void cJSON_Deletep(cJSON **p) {
        if (*p)
                cJSON_Delete(*p);
}
#define _cleanup_cjson_ _cleanup_(cJSON_Deletep)
