#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs-util.h"
#include "manifest-source.h"
#include "util.h"

void manifest_source_git_options(const struct config *c, const char *mirror, struct git_source_options *o) {
        assert(c);
        assert(o);

        *o = (struct git_source_options){
                .url = c->git.url,
                .remote = c->git.remote,
                .mirror = mirror,
                .token = c->git.token,
                .ssh_key_file = c->git.ssh_key_file.path,
                .known_hosts_file = c->git.known_hosts_file.path,
                .ca_file = c->ca_file.path,
                .verify_tls = c->verify_tls,
                .proxy = c->proxy,
        };
}

int manifest_source_verify(const struct config *c, const struct git_snapshot *s, char **ret_principal,
                           char **reterr_message) {
        _cleanup_(sshsig_signers_freep) struct sshsig_signers *signers = NULL;
        const char *file = c->git.allowed_signers_file.path;
        _cleanup_free_ char *data = NULL, *why = NULL;
        size_t size;
        int r;

        assert(c);
        assert(s);
        assert(ret_principal);
        assert(reterr_message);

        *ret_principal = NULL;
        if (!file)
                return 1;
        if (!s->signature) {
                *reterr_message = strdup_printf("commit %s is not signed", s->revision);
                return *reterr_message ? 0 : -ENOMEM;
        }
        r = fs_read_file(file, MANIFEST_SOURCE_MAX_SIGNERS_SIZE, &data, &size);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *reterr_message = strdup_printf(
                        "cannot read '%s' (manifests.verify.allowed_signers_file): %s", file, strerror(-r));
                return *reterr_message ? -EINVAL : -ENOMEM;
        }
        r = sshsig_signers_parse(file, data, size, &signers, &why);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                *reterr_message = strdup_printf("%s (manifests.verify.allowed_signers_file)", strna(why));
                return *reterr_message ? -EINVAL : -ENOMEM;
        }
        r = sshsig_verify(signers, "git", s->signature, strlen(s->signature), s->signed_data, s->signed_size,
                          s->commit_time > 0 ? (uint64_t) s->commit_time : 0, ret_principal, &why);
        if (r == -ENOMEM)
                return r;
        if (r <= 0) {
                *reterr_message = strdup_printf("the signature of commit %s does not verify: %s",
                                                s->revision, strna(why));
                return *reterr_message ? 0 : -ENOMEM;
        }
        return 1;
}

int manifest_source_load(const struct config *c, const char *revision, struct manifest **ret,
                         char ret_revision[static GIT_SOURCE_ID_SIZE], struct yaml_read_diags *errors) {
        _cleanup_(git_snapshot_freep) struct git_snapshot *snap = NULL;
        _cleanup_free_ char *mirror = NULL, *message = NULL;
        struct git_source_options o;
        int r;

        assert(c);
        assert(ret);
        assert(errors);

        ret_revision[0] = '\0';
        if (!c->git.enabled)
                return manifest_load(c->manifests, ret, errors);

        if (c->git.remote) {
                mirror = git_source_mirror_path(c->state_dir, c->git.url);
                if (!mirror)
                        return -ENOMEM;
        }
        manifest_source_git_options(c, mirror, &o);
        r = git_source_read(&o, revision ? revision : c->git.ref, c->git.path, &snap, &message);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                r = yaml_read_diags_add(errors, c->git.url, 0, 0, "%s", strna(message));
                return r < 0 ? r : -EINVAL;
        }
        {
                _cleanup_free_ char *principal = NULL;

                r = manifest_source_verify(c, snap, &principal, &message);
                if (r == -ENOMEM)
                        return r;
                if (r <= 0) {
                        r = yaml_read_diags_add(errors, c->git.url, 0, 0, "%s", strna(message));
                        return r < 0 ? r : -EINVAL;
                }
        }
        r = manifest_load_files(snap->files, snap->n_files, ret, errors);
        if (r < 0)
                return r;
        memcpy(ret_revision, snap->revision, GIT_SOURCE_ID_SIZE);
        return 0;
}
