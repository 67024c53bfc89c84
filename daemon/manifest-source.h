#pragma once

/* The manifests a config names, read at once, without fetching: a path's files, or a Git
 * source's commit (a local repository as it is, a URL's mirror as last fetched). For the commands
 * that read them outside a cycle: validate, restore. */

#include "config.h"
#include "git-source.h"
#include "manifest.h"
#include "sshsig.h"
#include "yaml-read.h"

/* The options to read the config's Git source with (c->git.enabled): the strings are borrowed from
 * 'c', but o->mirror, which is 'mirror' (from git_source_mirror_path(), for a URL; else NULL). */
void manifest_source_git_options(const struct config *c, const char *mirror, struct git_source_options *o);

/* The most bytes of manifests.verify.allowed_signers_file read. */
#define MANIFEST_SOURCE_MAX_SIGNERS_SIZE (1024U * 1024U)

/* Checks the signature of the commit 's' against manifests.verify.allowed_signers_file, read now
 * (sshsig.h: the "git" namespace, at the committer's time). Returns 1 when it verifies, with
 * *ret_principal (owned by the caller) the signer's first principal, or when 'c' asks for no
 * verification (*ret_principal NULL then); 0 when it does not (unsigned, signed otherwise), and
 * -EINVAL when the allowed signers file cannot be used, each with *reterr_message (owned by the
 * caller); -ENOMEM. */
int manifest_source_verify(const struct config *c, const struct git_snapshot *s, char **ret_principal,
                           char **reterr_message);

/* Reads the manifests 'c' names: c->manifests, or for a Git source the commit 'revision' names
 * (NULL: manifests.ref), whose id goes to ret_revision ("" for a path), and whose signature must
 * verify when manifests.verify asks for it. Returns as manifest_load() does; a Git source that
 * cannot be read, or whose commit does not verify, is an error in 'errors' too, naming the
 * repository. */
int manifest_source_load(const struct config *c, const char *revision, struct manifest **ret,
                         char ret_revision[static GIT_SOURCE_ID_SIZE], struct yaml_read_diags *errors);
