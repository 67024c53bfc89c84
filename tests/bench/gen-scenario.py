#!/usr/bin/python3
# Writes one benchmark scenario: CONNECTORS cluster connectors as full Elasticsearch connector
# documents (a google_drive or sharepoint_online connector's whole configuration, features,
# filtering with its active and draft rules, pipeline, scheduling and last_* fields: about 4 KiB
# each), and 50 manifest files (one ConnectorSet each) that declare half of them. The other half
# are orphans: owned by a set's selector and declared by none.
#
#     tests/bench/gen-scenario.py DIR CONNECTORS [FILES]
#
# DIR/cluster.json      the fake cluster's --seed document
# DIR/manifests/*.yaml  the manifests (set NN owns ids 'team-NN-', index names 'search-team-NN-')
# DIR/orphans.txt       the orphans' ids, sorted: what one cycle must delete
# DIR/declared.txt      the declared ids, sorted: what it must keep
#
# Deterministic: the same arguments write the same bytes.
import json
import os
import random
import sys

SERVICE_TYPES = ("google_drive", "sharepoint_online")


def field(order, label, display, type_, value, tooltip=None, required=True, sensitive=False,
          default_value=None, depends_on=(), options=(), ui_restrictions=(), validations=()):
    """One configuration field as the connector service writes it into the document."""
    return {
        "default_value": default_value,
        "depends_on": list(depends_on),
        "display": display,
        "label": label,
        "options": list(options),
        "order": order,
        "required": required,
        "sensitive": sensitive,
        "tooltip": tooltip,
        "type": type_,
        "ui_restrictions": list(ui_restrictions),
        "validations": list(validations),
        "value": value,
    }


def pem_like(rng, n):
    """Base64-looking text of n characters, as an RSA key in a service account file is."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    body = "".join(rng.choice(alphabet) for _ in range(n))
    lines = [body[i:i + 64] for i in range(0, n, 64)]
    return "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n"


def google_drive_configuration(rng, team, n):
    project = "search-%s" % team
    credentials = json.dumps({
        "type": "service_account",
        "project_id": project,
        "private_key_id": "%040x" % rng.getrandbits(160),
        "private_key": pem_like(rng, 1600),
        "client_email": "connector-%d@%s.iam.gserviceaccount.com" % (n, project),
        "client_id": str(100000000000000000000 + rng.getrandbits(60)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
    })
    dwd = {"field": "use_domain_wide_delegation_for_sync", "value": True}
    dls = {"field": "use_document_level_security", "value": True}
    return {
        "service_account_credentials": field(
            1, "Google Drive service account JSON", "textarea", "str", credentials, sensitive=True,
            tooltip="The JSON key file of a service account that can read the drives to index."),
        "use_domain_wide_delegation_for_sync": field(
            2, "Use domain-wide delegation for data sync", "toggle", "bool", False, default_value=False,
            tooltip="Sync every shared and personal drive of the workspace through domain-wide "
                    "delegation instead of only what was shared with the service account. "
                    "Slower syncs; needs the delegation scopes set up by a workspace admin."),
        "google_workspace_admin_email_for_data_sync": field(
            3, "Google Workspace admin email", "text", "str", None, depends_on=[dwd],
            tooltip="The admin account the connector impersonates to list the workspace's users.",
            validations=[{"type": "regex", "constraint": "^\\S+@\\S+\\.\\S+$"}]),
        "google_workspace_email_for_shared_drives_sync": field(
            4, "Google Workspace email for syncing shared drives", "text", "str", None, depends_on=[dwd],
            tooltip="The account whose view of the shared drives is synced."),
        "use_document_level_security": field(
            5, "Enable document level security", "toggle", "bool", n % 3 == 0,
            tooltip="Mirror the drive's permissions into the index so that searches only return what "
                    "each user may read. Access control syncs keep them current."),
        "google_workspace_admin_email": field(
            6, "Google Workspace admin email", "text", "str", "admin@%s.example.com" % team,
            depends_on=[dls], validations=[{"type": "regex", "constraint": "^\\S+@\\S+\\.\\S+$"}],
            tooltip="The admin account used to read users and groups for document level security."),
        "max_concurrency": field(
            7, "Maximum concurrent HTTP requests", "numeric", "int", 25, default_value=25, required=False,
            ui_restrictions=["advanced"], validations=[{"type": "greater_than", "constraint": 0}],
            tooltip="How many requests the connector sends to the Google APIs at once."),
        "use_text_extraction_service": field(
            8, "Use text extraction service", "toggle", "bool", False, default_value=False, required=False,
            ui_restrictions=["advanced"],
            tooltip="Extract text with a separately deployed extraction service; the pipeline must "
                    "then leave binary content alone."),
    }


def sharepoint_online_configuration(rng, team, n):
    secret = {"field": "auth_method", "value": "secret"}
    cert = {"field": "auth_method", "value": "certificate"}
    dls = {"field": "use_document_level_security", "value": True}
    toggles = [
        ("enumerate_all_sites", "Enumerate all sites?", True,
         "List every site and keep the configured ones; slower on tenants with few sites configured."),
        ("fetch_subsites", "Fetch sub-sites of configured sites?", True,
         "Follow the sub-sites of the configured sites too."),
        ("fetch_drive_item_permissions", "Fetch drive item permissions", True,
         "Read permissions set on single drive items. Syncs take longer."),
        ("fetch_unique_page_permissions", "Fetch unique page permissions", True,
         "Read pages' own permissions; without it a page inherits its site's."),
        ("fetch_unique_list_permissions", "Fetch unique list permissions", True,
         "Read lists' own permissions; without it a list inherits its site's."),
        ("fetch_unique_list_item_permissions", "Fetch unique list item permissions", True,
         "Read list items' own permissions; without it an item inherits its site's."),
    ]
    c = {
        "tenant_id": field(1, "Tenant ID", "text", "str", "%08x-%04x-4%03x-a%03x-%012x" % (
            rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12), rng.getrandbits(12),
            rng.getrandbits(48)), tooltip="The directory (tenant) id of the Azure app registration."),
        "tenant_name": field(2, "Tenant name", "text", "str", "%s-corp" % team,
                             tooltip="The tenant's name, as in NAME.sharepoint.com."),
        "client_id": field(3, "Client ID", "text", "str", "%032x" % rng.getrandbits(128),
                           tooltip="The application (client) id of the app registration."),
        "auth_method": field(4, "Authentication Method", "dropdown", "str", "secret", default_value="secret",
                             options=[{"label": "Client Secret", "value": "secret"},
                                      {"label": "Certificate", "value": "certificate"}],
                             tooltip="Authenticate the app with a client secret or a certificate."),
        "secret_value": field(5, "Secret value", "text", "str", "%064x" % rng.getrandbits(256),
                              sensitive=True, depends_on=[secret],
                              tooltip="The client secret's value (not its id)."),
        "certificate": field(6, "Content of certificate file", "textarea", "str", None, sensitive=True,
                             depends_on=[cert], tooltip="The app's certificate, PEM."),
        "private_key": field(7, "Content of private key file", "textarea", "str", None, sensitive=True,
                             depends_on=[cert], tooltip="The certificate's private key, PEM."),
        "site_collections": field(8, "Comma-separated list of sites", "textarea", "list",
                                  ["%s-site-%d" % (team, k) for k in range(4)], default_value="*",
                                  tooltip="Sites to index, by name or URL; '*' for all of them."),
        "use_document_level_security": field(
            15, "Enable document level security", "toggle", "bool", n % 4 == 0,
            tooltip="Mirror SharePoint permissions into the index; access control syncs keep them current."),
        "use_text_extraction_service": field(16, "Use text extraction service", "toggle", "bool", False,
                                             required=False, ui_restrictions=["advanced"],
                                             tooltip="Extract text with a separately deployed service."),
    }
    for k, (key, label, value, tooltip) in enumerate(toggles):
        c[key] = field(9 + k, label, "toggle", "bool", value, default_value=value, tooltip=tooltip,
                       depends_on=[dls] if "permissions" in key else [])
    return c


def filtering_state(stamp):
    return {
        "advanced_snippet": {"created_at": stamp, "updated_at": stamp, "value": {}},
        "rules": [{
            "created_at": stamp,
            "field": "_",
            "id": "DEFAULT",
            "order": 0,
            "policy": "include",
            "rule": "regex",
            "updated_at": stamp,
            "value": ".*",
        }],
        "validation": {"errors": [], "state": "valid"},
    }


def connector(rng, i, n_sets):
    k = i % n_sets
    team = "team-%02d" % k
    service_type = SERVICE_TYPES[1 if i % 3 == 2 else 0]
    cid = "%s-c%06d" % (team, i)
    day = 1 + i % 28
    stamp = "2025-03-%02dT%02d:%02d:%02d.%03dZ" % (day, i % 24, i % 60, (i * 7) % 60, i % 1000)
    config = (google_drive_configuration if service_type == "google_drive"
              else sharepoint_online_configuration)(rng, team, i)
    return {
        "id": cid,
        "api_key_id": "%020x" % rng.getrandbits(80),
        "api_key_secret_id": "%020x" % rng.getrandbits(80),
        "configuration": config,
        "custom_scheduling": {},
        "deleted": False,
        "description": "%s content for %s, connector %d" % (service_type.replace("_", " "), team, i),
        "error": None,
        "features": {
            "document_level_security": {"enabled": True},
            "incremental_sync": {"enabled": service_type == "google_drive"},
            "native_connector_api_keys": {"enabled": True},
            "sync_rules": {"advanced": {"enabled": True}, "basic": {"enabled": True}},
        },
        "filtering": [{"active": filtering_state(stamp), "domain": "DEFAULT", "draft": filtering_state(stamp)}],
        "index_name": "search-%s-c%06d" % (team, i),
        "is_native": i % 5 != 0,
        "language": "en",
        "last_access_control_sync_error": None,
        "last_access_control_sync_scheduled_at": None,
        "last_access_control_sync_status": None,
        "last_deleted_document_count": i % 40,
        "last_incremental_sync_scheduled_at": None,
        "last_indexed_document_count": 1000 + (i * 37) % 90000,
        "last_seen": stamp,
        "last_sync_error": None,
        "last_sync_scheduled_at": stamp,
        "last_sync_status": "completed",
        "last_synced": stamp,
        "name": "%s %s %d" % (team, service_type, i),
        "pipeline": {
            "extract_binary_content": True,
            "name": "search-default-ingestion",
            "reduce_whitespace": True,
            "run_ml_inference": True,
        },
        "scheduling": {
            "access_control": {"enabled": False, "interval": "0 0 0 * * ?"},
            "full": {"enabled": True, "interval": "0 %d 2 * * ?" % (i % 60)},
            "incremental": {"enabled": service_type == "google_drive", "interval": "0 0 * * * ?"},
        },
        "service_type": service_type,
        "status": "connected",
        "sync_cursor": None,
        "sync_now": False,
    }


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: gen-scenario.py DIR CONNECTORS [FILES]")
    out, n = sys.argv[1], int(sys.argv[2])
    n_sets = int(sys.argv[3]) if len(sys.argv) == 4 else 50
    if n < 0 or n_sets < 1:
        sys.exit("gen-scenario.py: CONNECTORS >= 0 and FILES >= 1")
    rng = random.Random(20250301)
    os.makedirs(os.path.join(out, "manifests"), exist_ok=True)

    # Connector i belongs to set i % n_sets; within a set, every other one is declared.
    declared = [[] for _ in range(n_sets)]
    orphans = []
    with open(os.path.join(out, "cluster.json"), "w") as f:
        f.write('{"connectors": [\n')
        for i in range(n):
            doc = connector(rng, i, n_sets)
            if (i // n_sets) % 2 == 0:
                declared[i % n_sets].append(doc)
            else:
                orphans.append(doc["id"])
            f.write(("," if i else "") + json.dumps(doc, separators=(",", ":")) + "\n")
        f.write("]}\n")

    for k in range(n_sets):
        with open(os.path.join(out, "manifests", "team-%02d.yaml" % k), "w") as f:
            f.write("apiVersion: connector-reconciler/v1\nkind: ConnectorSet\n")
            f.write("metadata:\n  name: team-%02d\nspec:\n" % k)
            f.write("  selector:\n    id_prefix: team-%02d-\n" % k)
            f.write("    service_types: [google_drive, sharepoint_online]\n")
            f.write("    index_name_prefix: search-team-%02d-\n" % k)
            f.write("  prune:\n    enabled: true\n    delete_sync_jobs: true\n")
            f.write("    allow_empty: true\n" if not declared[k] else "")
            f.write("  connectors:\n" if declared[k] else "  connectors: []\n")
            for d in declared[k]:
                f.write("    - id: %s\n      name: \"%s\"\n      service_type: %s\n      index_name: %s\n"
                        % (d["id"], d["name"], d["service_type"], d["index_name"]))

    with open(os.path.join(out, "orphans.txt"), "w") as f:
        f.writelines(i + "\n" for i in sorted(orphans))
    with open(os.path.join(out, "declared.txt"), "w") as f:
        f.writelines(d["id"] + "\n" for d in sorted((d for s in declared for d in s), key=lambda d: d["id"]))


if __name__ == "__main__":
    main()
