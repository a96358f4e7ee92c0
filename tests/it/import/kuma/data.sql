-- Monitors, notifications, maintenance and a status page as Uptime Kuma's UI saves them,
-- in the columns that 1.23 and 2.x share. __TARGET__, __SLACK__ and __NOW_YEAR__ (a year to come) are
-- replaced by the test.
INSERT INTO user (id, username, password, active) VALUES (1, 'admin', '$2a$10$hash', 1);
INSERT INTO setting (key, value, type) VALUES ('serverTimezone', '"Europe/London"', 'general');

INSERT INTO notification (id, name, active, user_id, is_default, config) VALUES
 (1, 'Ops Slack', 1, 1, 1, '{"name":"Ops Slack","type":"slack","isDefault":true,"slackwebhookURL":"__SLACK__/services/T0/B0/secret","slackchannel":"#ops","applyExisting":true}'),
 (2, 'Mail', 1, 1, 0, '{"name":"Mail","type":"smtp","isDefault":false,"smtpHost":"127.0.0.1","smtpPort":9,"smtpSecure":false,"smtpIgnoreTLSError":false,"smtpUsername":"kuma","smtpPassword":"smtp-secret","smtpFrom":"Kuma <kuma@example.com>","smtpTo":"ops@example.com, oncall@example.com, on call team","smtpCC":"","smtpBCC":""}'),
 (3, 'Phone push', 1, 1, 0, '{"name":"Phone push","type":"pushover","pushoverapptoken":"azGDORePK8gMaC0QOYAMyEEuzJnyUi","pushoveruserkey":"uQiRzpo4DXghDmr9QzzfQu27cmVRsG","pushoverpriority":"1"}'),
 (4, 'Old Teams', 1, 1, 0, '{"name":"Old Teams","type":"teams","webhookUrl":"https://outlook.office.com/webhook/x"}'),
 (5, 'Matrix', 0, 1, 0, '{"name":"Matrix","type":"matrix","homeserverUrl":"https://matrix.example.org","accessToken":"matrix-secret","internalRoomId":"!ops:example.org"}'),
 (6, 'ntfy', 1, 1, 0, '{"name":"ntfy","type":"ntfy","ntfyserverurl":"https://ntfy.example.com","ntfytopic":"kuma-alerts","ntfyPriority":5,"ntfyAuthenticationMethod":"accessToken","ntfyaccesstoken":"tk_ntfysecret"}'),
 (7, 'Telegram', 1, 1, 0, '{"name":"Telegram","type":"telegram","telegramBotToken":"123456:tg-secret","telegramChatID":"-1001234567890","telegramSendSilently":false}'),
 (8, 'Discord', 1, 1, 0, '{"name":"Discord","type":"discord","discordWebhookUrl":"https://discord.com/api/webhooks/1/discord-secret","discordUsername":"Kuma"}'),
 (9, 'PagerDuty', 1, 1, 0, '{"name":"PagerDuty","type":"PagerDuty","pagerdutyIntegrationKey":"pd-secret-key","pagerdutyIntegrationUrl":"https://events.pagerduty.com/v2/enqueue","pagerdutyPriority":"critical","pagerdutyAutoResolve":"1"}'),
 (10, 'Opsgenie', 1, 1, 0, '{"name":"Opsgenie","type":"Opsgenie","opsgenieApiKey":"og-secret-key","opsgenieRegion":"eu","opsgeniePriority":3}'),
 (11, 'Gotify', 1, 1, 0, '{"name":"Gotify","type":"gotify","gotifyserverurl":"https://gotify.example.com","gotifyapplicationToken":"gotify-secret","gotifyPriority":8}'),
 (12, 'Matrix room', 1, 1, 0, '{"name":"Matrix room","type":"matrix","homeserverUrl":"https://matrix.example.org","accessToken":"matrix-room-secret","internalRoomId":"!ops:example.org"}'),
 (13, 'Hook', 1, 1, 0, '{"name":"Hook","type":"webhook","webhookURL":"https://hooks.example.com/kuma?key=hook-secret","webhookContentType":"json","webhookAdditionalHeaders":"{\"Authorization\": \"Bearer header-secret\"}"}');

INSERT INTO monitor (id, name, active, user_id, interval, url, type, hostname, port, keyword, maxretries,
    ignore_tls, upside_down, maxredirects, accepted_statuscodes_json, dns_resolve_type, dns_resolve_server,
    dns_last_result, retry_interval, push_token, method, body, headers, basic_auth_user, basic_auth_pass,
    auth_method, parent, invert_keyword, json_path, expected_value, timeout, resend_interval) VALUES
 (1, 'Shop', 1, 1, 60, '__TARGET__/', 'http', NULL, NULL, NULL, 0, 0, 0, 10, '["200-299"]', 'A', '1.1.1.1', NULL, 60, NULL, 'GET', NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 48, 0),
 (2, 'Shop keyword', 1, 1, 60, '__TARGET__/', 'keyword', NULL, NULL, 'Welcome (home)', 1, 0, 0, 10, '["200-299"]', 'A', '1.1.1.1', NULL, 60, NULL, 'GET', NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 48, 0),
 (3, 'API', 1, 1, 120, '__TARGET__/health', 'json-query', NULL, NULL, NULL, 2, 1, 0, 0, '["200-299","404"]', 'A', '1.1.1.1', NULL, 60, NULL, 'POST', '{"probe":true}', '{"X-Probe":"kuma","Authorization":"Bearer api-secret"}', NULL, NULL, NULL, NULL, 0, 'status', 'up', 30, 0),
 (4, 'Backend', 1, 1, 60, NULL, 'group', NULL, NULL, NULL, 0, 0, 0, 10, '["200-299"]', 'A', '1.1.1.1', NULL, 60, NULL, 'GET', NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 48, 0),
 (5, 'Database', 1, 1, 60, NULL, 'port', '127.0.0.1', 5432, NULL, 0, 0, 0, 10, '["200-299"]', 'A', '1.1.1.1', NULL, 60, NULL, 'GET', NULL, NULL, NULL, NULL, NULL, 4, 0, NULL, NULL, 48, 0),
 (6, 'Gateway', 1, 1, 60, NULL, 'ping', '127.0.0.1', NULL, NULL, 0, 0, 0, 10, '["200-299"]', 'A', '1.1.1.1', NULL, 60, NULL, 'GET', NULL, NULL, NULL, NULL, NULL, 4, 0, NULL, NULL, 48, 0),
 (7, 'Resolver', 1, 1, 300, NULL, 'dns', 'shop.example.com', 53, NULL, 0, 0, 0, 10, '["200-299"]', 'A', '127.0.0.1', 'Records: 127.0.0.1 | 127.0.0.2', 60, NULL, 'GET', NULL, NULL, NULL, NULL, NULL, 4, 0, NULL, NULL, 48, 0),
 (8, 'Nightly backup', 1, 1, 86400, NULL, 'push', NULL, NULL, NULL, 0, 0, 0, 10, '["200-299"]', 'A', '1.1.1.1', NULL, 60, 'aBcD1234eFgH5678iJkL9012', 'GET', NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 48, 0),
 (9, 'Legacy', 0, 1, 60, 'http://legacy:legacy%2Fsecret@127.0.0.1:9/legacy', 'http', NULL, NULL, NULL, 0, 0, 1, 10, '["200-299"]', 'A', '1.1.1.1', NULL, 60, NULL, 'GET', NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 48, 0),
 (10, 'Containers', 1, 1, 60, NULL, 'docker', NULL, NULL, NULL, 0, 0, 0, 10, '["200-299"]', 'A', '1.1.1.1', NULL, 60, NULL, 'GET', NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, NULL, 48, 0),
 (12, 'Resolver by name', 1, 1, 300, NULL, 'dns', 'shop.example.com', 5353, NULL, 0, 0, 0, 10, '["200-299"]', 'A', 'dns.example.com', 'Records: 127.0.0.1', 60, NULL, 'GET', NULL, NULL, NULL, NULL, NULL, 4, 0, NULL, NULL, 48, 0),
 (13, 'Resolver on a port', 1, 1, 300, NULL, 'dns', 'shop.example.com', 5353, NULL, 0, 0, 0, 10, '["200-299"]', 'AAAA', '::1', 'Records: ::1', 60, NULL, 'GET', NULL, NULL, NULL, NULL, NULL, 4, 0, NULL, NULL, 48, 0),
 (11, 'Admin', 1, 1, 300, '__TARGET__/admin', 'http', NULL, NULL, NULL, 0, 0, 0, 10, '["200-299"]', 'A', '1.1.1.1', NULL, 60, NULL, 'GET', NULL, NULL, 'probe', 'hunter2', 'basic', NULL, 0, NULL, NULL, 48, 12);

INSERT INTO monitor_notification (id, monitor_id, notification_id) VALUES
 (1, 1, 1), (2, 1, 2), (3, 2, 1), (4, 3, 6), (5, 4, 3), (6, 5, 3), (7, 6, 1), (8, 11, 4), (9, 11, 5), (10, 8, 2),
 (11, 11, 7), (12, 11, 8), (13, 11, 9), (14, 11, 10), (15, 11, 11), (16, 11, 12), (17, 11, 13);

INSERT INTO status_page (id, slug, title, description, icon, theme, published) VALUES
 (1, 'public', 'Shop status', NULL, '/icon.svg', 'light', 1),
 (2, 'internal', 'Internal', NULL, '/icon.svg', 'dark', 0);
INSERT INTO `group` (id, name, public, active, weight, status_page_id) VALUES (1, 'Services', 1, 1, 1, 1), (2, 'Hidden', 1, 1, 2, 2);
INSERT INTO monitor_group (id, monitor_id, group_id, weight) VALUES (1, 1, 1, 1), (2, 4, 1, 2), (3, 11, 2, 1);

INSERT INTO maintenance (id, title, description, user_id, active, strategy, start_date, end_date, start_time, end_time, weekdays, days_of_month, interval_day, timezone) VALUES
 (1, 'Database upgrade', 'Postgres 16', 1, 1, 'single', '__NOW_YEAR__-02-01 02:00:00', '__NOW_YEAR__-02-01 04:00:00', NULL, NULL, '[]', '[]', 1, 'Europe/Berlin'),
 (2, 'Weekly restart', '', 1, 1, 'recurring-weekday', NULL, NULL, '03:00', '04:30', '[0,6]', '[]', 1, 'SAME_AS_SERVER'),
 (3, 'Firefighting', '', 1, 1, 'manual', NULL, NULL, NULL, NULL, '[]', '[]', 1, 'UTC'),
 (4, 'Long gone', '', 1, 1, 'single', '2020-01-01 00:00:00', '2020-01-01 01:00:00', NULL, NULL, '[]', '[]', 1, 'UTC');
INSERT INTO monitor_maintenance (id, monitor_id, maintenance_id) VALUES (1, 5, 1), (2, 1, 2), (3, 11, 3), (4, 1, 4);
INSERT INTO maintenance_status_page (id, status_page_id, maintenance_id) VALUES (1, 1, 2);
