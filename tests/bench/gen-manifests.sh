#!/bin/bash
# Writes a folder of manifests for benchmarks: FILES files (default 50) declaring CONNECTORS
# connectors in all (default 10000), one ConnectorSet a file, every connector with all its
# fields, so that loading them exercises the whole reader.
#
#     tests/bench/gen-manifests.sh DIR [FILES] [CONNECTORS]
set -euo pipefail

dir=${1:?usage: $0 DIR [FILES] [CONNECTORS]}
files=${2:-50}
connectors=${3:-10000}
[ "$files" -ge 1 ] && [ "$connectors" -ge 0 ] || { echo "FILES >= 1, CONNECTORS >= 0" >&2; exit 2; }

mkdir -p "$dir"
awk -v dir="$dir" -v files="$files" -v connectors="$connectors" 'BEGIN {
        for (f = 0; f < files; f++) {
                path = sprintf("%s/team-%04d.yaml", dir, f)
                printf "apiVersion: connector-reconciler/v1\nkind: ConnectorSet\n" > path
                printf "metadata:\n  name: team-%04d\nspec:\n", f > path
                printf "  selector:\n    id_prefix: team-%04d-\n", f > path
                printf "    service_types: [google_drive, sharepoint_online, confluence]\n" > path
                printf "    index_name_prefix: search-%04d-\n", f > path
                printf "  prune:\n    enabled: true\n    delete_sync_jobs: true\n" > path
                printf "  connectors:\n" > path
                # Spread the connectors evenly; the first files take the remainder.
                n = int(connectors / files) + (f < connectors % files ? 1 : 0)
                for (i = 0; i < n; i++) {
                        printf "    - id: team-%04d-connector-%05d\n", f, i > path
                        printf "      name: Connector %d of team %d\n", i, f > path
                        printf "      service_type: google_drive\n" > path
                        printf "      index_name: search-%04d-index-%05d\n", f, i > path
                        printf "      description: \"Generated for benchmarks\"\n" > path
                }
                close(path)
        }
}'
