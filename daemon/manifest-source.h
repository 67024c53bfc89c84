#pragma once

/* The manifests a config names, read at once, without fetching: a path's files, or a Git
 * source's commit (a local repository as it is, a URL's mirror as last fetched). For the commands
 * that read them outside a cycle: validate, restore. */

#include "config.h"
#include "git-source.h"
#include "manifest.h"
#include "yaml-read.h"

/* The options to read the config's Git source with (c->git.enabled): the strings are borrowed from
 * 'c', but o->mirror, which is 'mirror' (from git_source_mirror_path(), for a URL; else NULL). */
void manifest_source_git_options(const struct config *c, const char *mirror, struct git_source_options *o);

/* Reads the manifests 'c' names: c->manifests, or for a Git source the commit 'revision' names
 * (NULL: manifests.ref), whose id goes to ret_revision ("" for a path). Returns as manifest_load()
 * does; a Git source that cannot be read is an error in 'errors' too, naming the repository. */
int manifest_source_load(const struct config *c, const char *revision, struct manifest **ret,
                         char ret_revision[static GIT_SOURCE_ID_SIZE], struct yaml_read_diags *errors);
