-- The statements of one register + identify pair of bench/store-concurrency.js (a new device,
-- then its login as a new user), as the store sends them, for pgbench: what PostgreSQL alone
-- does with them on this machine, without the Node.js client beside it. On a database the store
-- has migrated (its tables in the push_tokens schema):
--   pgbench -n -M extended -j 2 -T 8 -c <clients> -f bench/pgbench-pair.sql <database>
-- test/reliability/edges.test.ts runs it once against a freshly migrated store, so it keeps up
-- with the schema.
\set r random(1, 1000000000)
BEGIN;
SELECT pg_advisory_xact_lock(1, :r), pg_advisory_xact_lock(2, :r);
SELECT * FROM push_tokens.devices WHERE app_id = 'a' AND (token = 'tok-' || :r OR device_id = 'dev-' || :r) FOR UPDATE;
SELECT reason, at FROM push_tokens.dead_tokens WHERE app_id = 'a' AND token = 'tok-' || :r;
INSERT INTO push_tokens.profiles (id, external_id, kind, unsubscribed, created_at, updated_at) VALUES ('p-' || :r, NULL, 'anonymous', 0, 1, 1);
INSERT INTO push_tokens.devices (id, app_id, token, platform, provider, token_kind, address_data, device_id, profile_id, foreground, push_enabled, provisional, last_seen_at, last_active_at, last_status, consecutive_bounces, registered_at) VALUES ('d-' || :r, 'a', 'tok-' || :r, 'android', 'fcm', 'registration-token', NULL, 'dev-' || :r, 'p-' || :r, 1, 1, 0, 1, 1, 'unused', 0, 1);
INSERT INTO push_tokens.token_events (at, type, app_id, token, device_id, from_profile_id, to_profile_id, from_external_id, to_external_id, reason) VALUES (1, 'registered', 'a', 'tok-' || :r, 'dev-' || :r, NULL, 'p-' || :r, NULL, NULL, NULL);
COMMIT;
BEGIN;
SELECT pg_advisory_xact_lock(1, :r), pg_advisory_xact_lock(3, :r);
SELECT * FROM push_tokens.devices WHERE app_id = 'a' AND token = 'tok-' || :r FOR UPDATE;
SELECT * FROM push_tokens.profiles WHERE external_id = 'u-' || :r OR id = 'p-' || :r;
INSERT INTO push_tokens.profiles (id, external_id, kind, unsubscribed, created_at, updated_at) VALUES ('u-' || :r, 'u-' || :r, 'identified', 0, 2, 2);
UPDATE push_tokens.devices SET id = 'd-' || :r, app_id = 'a', token = 'tok-' || :r, device_id = 'dev-' || :r, platform = 'android', provider = 'fcm', address_data = NULL, profile_id = 'u-' || :r, foreground = 1, push_enabled = 1, provisional = 0, last_status = 'unused', consecutive_bounces = 0, registered_at = 1, last_seen_at = 2, last_active_at = 2, token_kind = 'registration-token' WHERE id = 'd-' || :r;
INSERT INTO push_tokens.token_events (at, type, app_id, token, device_id, from_profile_id, to_profile_id, from_external_id, to_external_id, reason) VALUES (2, 'moved', 'a', 'tok-' || :r, 'dev-' || :r, 'p-' || :r, 'u-' || :r, NULL, 'u-' || :r, 'identify');
DELETE FROM push_tokens.profiles WHERE id = 'p-' || :r AND NOT EXISTS (SELECT devices.id FROM push_tokens.devices WHERE devices.profile_id = profiles.id);
COMMIT;
