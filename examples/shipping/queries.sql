-- The questions an auditor asks, over the tables of clickhouse.sql.
-- Values are ClickHouse query parameters: with clickhouse-client, give them
-- as --param_model=Product --param_instance_id=42 ...; Grafana's panels
-- (grafana-dashboard.json) use its time range instead of {from} and {to}.
-- Every query reads with FINAL: one row per record even before the
-- background merges have removed copies shipped twice.
-- Each query starts with a `-- name:` line; .ci/shipping_check.py runs them
-- all and checks their answers against what it wrote.

-- name: entity_history
-- Who changed entity X, when, and what (bulk records naming X among their
-- instance_ids included).
SELECT timestamp, event_type, user_id, user_info, changes, request_id
FROM audit.crud FINAL
WHERE model = {model:String}
  AND (instance_id = {instance_id:String} OR has(instance_ids, {instance_id:String}))
ORDER BY timestamp, event_id;

-- name: field_history
-- Every change of one field of entity X over time, old and new value.
SELECT
    timestamp,
    user_id,
    JSONExtractRaw(changes, {field:String}, 'old') AS old_value,
    JSONExtractRaw(changes, {field:String}, 'new') AS new_value,
    request_id
FROM audit.crud FINAL
WHERE model = {model:String}
  AND (instance_id = {instance_id:String} OR has(instance_ids, {instance_id:String}))
  AND has(changed_fields, {field:String})
ORDER BY timestamp, event_id;

-- name: failed_logins_per_ip_minute
-- Failed logins per client address per minute (brute force, credential stuffing).
SELECT toStartOfMinute(timestamp) AS minute, client_ip, count() AS failures
FROM audit.login FINAL
WHERE event = 'failed_login'
  AND timestamp >= {from:DateTime64(6, 'UTC')} AND timestamp < {to:DateTime64(6, 'UTC')}
GROUP BY minute, client_ip
ORDER BY minute, failures DESC;

-- name: user_actions
-- What one user did in a time range.
SELECT timestamp, event_type, model, instance_id, changes, request_id
FROM audit.crud FINAL
WHERE user_id = {user_id:String}
  AND timestamp >= {from:DateTime64(6, 'UTC')} AND timestamp < {to:DateTime64(6, 'UTC')}
ORDER BY timestamp, event_id;

-- name: deletes_by_model
-- Deletions by model: records, and instances (a bulk record counts its ids).
SELECT
    model,
    count() AS delete_records,
    sum(if(event_type = 'BULK_DELETE', count, 1)) AS instances_deleted
FROM audit.crud FINAL
WHERE event_type IN ('DELETE', 'BULK_DELETE')
GROUP BY model
ORDER BY delete_records DESC, model;

-- name: p95_execution_time_by_path
-- The slowest endpoints: 95th percentile of execution_time per method and path.
SELECT
    method,
    path,
    count() AS requests,
    quantile(0.95)(execution_time) AS p95_seconds,
    max(execution_time) AS max_seconds,
    countIf(status_code >= 500) AS server_errors
FROM audit.api FINAL
WHERE request_type = 'internal'
  AND timestamp >= {from:DateTime64(6, 'UTC')} AND timestamp < {to:DateTime64(6, 'UTC')}
GROUP BY method, path
ORDER BY p95_seconds DESC;

-- name: crud_of_request
-- The CRUD records one request caused, with the request they came from.
SELECT
    c.timestamp,
    c.event_type,
    c.model,
    c.instance_id,
    c.changes,
    c.user_id,
    r.method,
    r.path,
    r.status_code
FROM audit.crud AS c FINAL
INNER JOIN
(
    SELECT request_id, method, path, status_code
    FROM audit.api FINAL
    WHERE request_id = {request_id:String}
) AS r ON c.request_id = r.request_id
WHERE c.request_id = {request_id:String}
ORDER BY c.timestamp, c.event_id;

-- name: partner_calls
-- Outbound calls per partner: how many, how many failed and how, and the
-- 95th percentile of their time.
SELECT
    peer_service,
    protocol,
    count() AS calls,
    countIf(error_kind IS NOT NULL) AS failures,
    groupUniqArrayIf(assumeNotNull(error_kind), error_kind IS NOT NULL) AS error_kinds,
    quantile(0.95)(execution_time) AS p95_seconds
FROM audit.api FINAL
WHERE request_type = 'external'
  AND peer_service = {peer_service:String}
  AND timestamp >= {from:DateTime64(6, 'UTC')} AND timestamp < {to:DateTime64(6, 'UTC')}
GROUP BY peer_service, protocol;

-- name: process_history
-- Every record of the runs of one business process, in order: its start,
-- each registration (step, outcome, description) and its end.
SELECT timestamp, process_id, event, step, step_index, registration, success, description, user_id
FROM audit.crud FINAL
WHERE process = {process:String}
  AND timestamp >= {from:DateTime64(6, 'UTC')} AND timestamp < {to:DateTime64(6, 'UTC')}
ORDER BY timestamp, event_id;
