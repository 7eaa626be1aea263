-- The statements of one register + identify pair of bench/store-concurrency.js (a new device,
-- then its login as a new user), as the store sends them, for pgbench: what PostgreSQL alone
-- does with them on this machine, without the Node.js client beside it. On a database the store
-- has migrated (its tables in the push_tokens schema):
--   pgbench -n -M extended -j 2 -T 8 -c <clients> -f bench/pgbench-pair.sql <database>
\set r random(1, 1000000000)
BEGIN;
SELECT pg_advisory_xact_lock(1, :r);
SELECT reason, at FROM push_tokens.dead_tokens WHERE app_id = 'a' AND token = 'tok-' || :r;
SELECT * FROM push_tokens.devices WHERE app_id = 'a' AND (token = 'tok-' || :r OR device_id = 'dev-' || :r) FOR UPDATE;
INSERT INTO push_tokens.profiles (id, external_id, kind, unsubscribed, created_at, updated_at) VALUES ('p-' || :r, NULL, 'anonymous', 0, 1, 1);
INSERT INTO push_tokens.devices (id, app_id, token, device_id, platform, provider, profile_id, foreground, provisional, last_status, consecutive_bounces, registered_at, last_seen_at, last_active_at) VALUES ('d-' || :r, 'a', 'tok-' || :r, 'dev-' || :r, 'android', 'fcm', 'p-' || :r, 1, 0, 'unused', 0, 1, 1, 1);
INSERT INTO push_tokens.token_events (at, type, app_id, token, device_id, to_profile_id) VALUES (1, 'registered', 'a', 'tok-' || :r, 'dev-' || :r, 'p-' || :r);
COMMIT;
BEGIN;
SELECT pg_advisory_xact_lock(1, :r + 1);
SELECT * FROM push_tokens.devices WHERE app_id = 'a' AND (token = 'tok-' || :r) FOR UPDATE;
SELECT * FROM push_tokens.profiles WHERE external_id = 'u-' || :r OR id = 'p-' || :r;
INSERT INTO push_tokens.profiles (id, external_id, kind, unsubscribed, created_at, updated_at) VALUES ('u-' || :r, 'u-' || :r, 'identified', 0, 1, 1);
UPDATE push_tokens.devices SET profile_id = 'u-' || :r, last_seen_at = 2 WHERE id = 'd-' || :r;
INSERT INTO push_tokens.token_events (at, type, app_id, token, device_id, from_profile_id, to_profile_id) VALUES (2, 'moved', 'a', 'tok-' || :r, 'dev-' || :r, 'p-' || :r, 'u-' || :r);
DELETE FROM push_tokens.profiles WHERE id = 'p-' || :r AND NOT EXISTS (SELECT 1 FROM push_tokens.devices WHERE profile_id = 'p-' || :r);
COMMIT;
