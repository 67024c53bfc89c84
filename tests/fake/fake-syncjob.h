#pragma once

/* The connector sync job actions, PUT _connector/_sync_job/<id>/_cancel, /_check_in, /_claim,
 * /_error and /_stats, as the chosen Elasticsearch version serves them: the action's request
 * parser (the update endpoints' parser, lent by fake-update.c), the request's validation, then
 * ConnectorSyncJobIndexService: an UpdateRequest's partial document merged into the stored sync
 * job ("noop" when nothing changes), after reading the job first and checking the transition
 * against ConnectorSyncJobStateMachine where the service does. Which version has which endpoint
 * is the route table's business (fake-api.c); what changed inside an endpoint between versions is
 * decided here. The Elasticsearch sources each rule comes from, and the choices made where they
 * could not be read, are in fake-syncjob.c. */

#include <stdbool.h>

struct fake_ctx;

enum fake_syncjob_endpoint {
        FAKE_SYNCJOB_CANCEL,
        FAKE_SYNCJOB_CHECK_IN,
        FAKE_SYNCJOB_CLAIM,
        FAKE_SYNCJOB_ERROR,
        FAKE_SYNCJOB_STATS,
        _FAKE_SYNCJOB_MAX,
};

/* Answers one request to a sync job action (the route matched it, its version has it). 0 once
 * answered, or -ENOMEM. */
int fake_syncjob_handle(struct fake_ctx *c, enum fake_syncjob_endpoint endpoint);

/* ConnectorSyncJobStateMachine.isValidTransition(): whether a sync job may go from status 'from'
 * to 'to' (lower-case names, as stored). Unknown names are never valid. Pure, for the unit test. */
bool fake_syncjob_transition_valid(const char *from, const char *to);
