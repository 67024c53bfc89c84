#pragma once

/* The MESSAGE_ID of every event the daemon logs. Each is documented in
 * systemd/connector-reconciler.catalog, so `journalctl -x` explains it; keep the two in step
 * (tests/test-systemd-catalog.sh checks that every id here has a catalog entry and vice versa). */

#define MESSAGE_STARTED           "9117b148854145548ab53287c6b9710e"
#define MESSAGE_STOPPING          "6272ded8bdfe4a19ae62f8c746996ab6"
#define MESSAGE_CYCLE_START       "e105818ab7f54954bf85431753d450f1"
#define MESSAGE_CYCLE_END         "e329f498a63448488b18fbff14d69c28"
#define MESSAGE_CONNECTOR_DELETED "c6b2413224484588842a0df7a2c25e5e"
#define MESSAGE_CONNECTOR_GONE    "d444be69e3974991a7a13b3c744ad06f"
#define MESSAGE_DELETE_FAILED     "33775b10d30444f98f3dde8c6df47faa"
#define MESSAGE_RETRY             "f3945c818d8843bcbcd537ecdc16c651"
#define MESSAGE_SAFETY_STOP       "c0c6635a6c8d4cc195f95252e3db3dfd"
#define MESSAGE_MANIFESTS_INVALID "cdf3607783a14454bca73921a47aba44"
#define MESSAGE_CLUSTER_FAILED    "4644a0fcfd654e4d8ae466240462e42b"
#define MESSAGE_RELOADED          "1fcb45eaed8a465ba02a2c7e1eecc88e"
#define MESSAGE_RELOAD_FAILED     "8725a55bdaef43e596d3948c48f18d91"
#define MESSAGE_WOULD_DELETE      "3346384ee1b34c568daf5cfa0ffbe249"
#define MESSAGE_BACKUP_FAILED     "be9d69581a7249a48d4c7be434194db2"
#define MESSAGE_TLS_UNVERIFIED    "d81f0a79544d4669a04bbaae48906799"
#define MESSAGE_CONNECTOR_CHANGED "d07596470c534f0cb24c77a1e7efa2bf"
#define MESSAGE_DELETE_UNKNOWN    "d3c9b481d23243ddb378a5e216f9429e"
#define MESSAGE_CLUSTER_IDENTITY  "82720a169c1f4f7e9a45dc1bc90a474f"
#define MESSAGE_CLUSTER_MISMATCH  "6fdfa657d6df4a429b86829a19c31941"
#define MESSAGE_MANIFESTS_CHANGED "6642ba175a174d35b7f5c22234965c66"
#define MESSAGE_LOCKED            "3f558e02aec2463f8ae75a49009b834d"
#define MESSAGE_CYCLE_TIMEOUT     "22b6da3a0c6c462581a7263a1f87aead"
#define MESSAGE_STATE_INVALID     "db69081d4d1f4cbbbf55b0ce5022df13"
#define MESSAGE_WATCHDOG_OFF      "20e4153a2aff4586903b02b8c165494b"
#define MESSAGE_RESTORE_STEP      "3f934694b24f4eeaa13f94fc0e2dab9b"
#define MESSAGE_RESTORED          "b8a2e36dee33484abe5e3298b93db782"
#define MESSAGE_RESTORE_FAILED    "6844c7a9995f4941859ad504d8ef61b3"
