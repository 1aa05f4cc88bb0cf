-- ClickHouse tables for tracing-audit's files, one per record kind.
-- The guide is the `shipping` module of the crate's docs (src/docs/shipping.md);
-- every key is described in the `schema` module.
--
-- Loaded by Vector's `clickhouse` sink (examples/shipping/vector.toml) as
-- JSONEachRow with `date_time_input_format = best_effort` and
-- `input_format_skip_unknown_fields = 1`; `.ci/shipping_check.py` loads the
-- crate's own files into these tables the same way, in chdb.
--
-- Choices shared by every table:
-- * `timestamp DateTime64(6, 'UTC')`: the crate writes RFC 3339 with six
--   decimals and `Z`; best-effort parsing reads it without loss.
-- * `event_id UUID`: a UUIDv7 in every record. At-least-once shipping (a
--   retried batch, a Vector restart before its checkpoint) can insert a line
--   twice; `ReplacingMergeTree` keeps one row per sorting key, and the
--   sorting key ends with `event_id`, so the copies (byte-identical lines)
--   collapse. Merges run in the background: read with `FINAL` (as
--   queries.sql does) to see exactly one row per record at any time.
--   Insert deduplication was not chosen: it drops a repeated *block*, and a
--   batch rebuilt after a restart is cut differently, so it would let such
--   copies through (and it is off by default for non-replicated tables).
-- * Nested values (`changes`, `extra`, `user_info`, `instance_repr`, `fields`)
--   are `String` holding the JSON text (ClickHouse reads an object, array,
--   number or bool into a String column as its text, by default), read with
--   the JSONExtract* functions. Not the `JSON` type, because the schema
--   allows what it refuses or reshapes: `extra` and `user_info` may be a
--   string or an array instead of an object; keys may be empty or contain
--   dots (a changed field `a\.b`, a user key "a.b", which `JSON` would split
--   into a path); numbers may be beyond 64 bits (a u128 field); and each
--   user's keys would become columns of their own.
-- * `LowCardinality` for the levels, kinds, models, methods, services.
-- * Monthly partitions, so old months can be dropped (or moved) whole.
-- * Retention is yours to choose: uncomment the TTL line of a table and set
--   the period your regulation asks for.

CREATE DATABASE IF NOT EXISTS audit;

-- audit.log: CRUD and process records (target audit.crud, audit.process, audit.*).
-- Sorted for "the history of one entity": model, then id, then time.
CREATE TABLE IF NOT EXISTS audit.crud
(
    timestamp      DateTime64(6, 'UTC'),
    event_id       UUID,
    level          LowCardinality(String),
    name           LowCardinality(String),
    message        String,
    service_name   LowCardinality(String),
    model          LowCardinality(String),
    event_type     LowCardinality(String),
    instance_id    String,
    instance_ids   Array(String),
    count          UInt64,
    changes        String,
    instance_repr  String,
    extra          String,
    user_id        String,
    user_info      String,
    request_id     String,
    tenant         LowCardinality(String),
    truncated      Bool,
    -- A record of a transaction whose outcome the crate could not learn
    -- says "unknown" here (see the transaction docs); empty otherwise.
    tx_outcome     LowCardinality(String),
    -- Business-process records (audit.process): empty, or null, on the
    -- others. `steps` is the JSON text of the steps.
    event              LowCardinality(String),
    process            LowCardinality(String),
    process_id         String,
    steps              String,
    success            Nullable(Bool),
    step               LowCardinality(String),
    step_index         Nullable(UInt32),
    registration       String,
    description        String,
    step_registrations Nullable(UInt64),
    step_expected      Nullable(UInt64),
    -- The changed fields' names, for "every change of one field".
    changed_fields Array(String) MATERIALIZED JSONExtractKeys(changes),
    INDEX idx_request_id request_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_user_id user_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_changed_fields changed_fields TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (model, instance_id, timestamp, event_id)
-- TTL toDateTime(timestamp) + INTERVAL 7 YEAR DELETE
;

-- api.log: request-response records (target audit.request), as the `http`
-- feature's AuditLayer writes them. Sorted for "requests over time, per
-- path". method, path, status and client address are extracted from
-- request_repr/response_repr into columns of their own for fast filters.
CREATE TABLE IF NOT EXISTS audit.api
(
    timestamp      DateTime64(6, 'UTC'),
    event_id       UUID,
    level          LowCardinality(String),
    name           LowCardinality(String),
    message        String,
    service_name   LowCardinality(String),
    request_type   LowCardinality(String),
    protocol       LowCardinality(String),
    request_repr   String,
    response_repr  String,
    -- Seconds. A plain tracing event may give NaN (written as null): 0 then.
    execution_time Float64,
    request_size   UInt64,
    response_size  UInt64,
    error_message  Nullable(String),
    aborted        Bool,
    trace_id       Nullable(String),
    span_id        Nullable(String),
    -- Outbound calls (request_type 'external'): the service called, how
    -- the call failed, and its attempt under a retry middleware.
    peer_service   LowCardinality(String),
    error_kind     LowCardinality(Nullable(String)),
    attempt        Nullable(UInt32),
    user_id        String,
    user_info      String,
    request_id     String,
    tenant         LowCardinality(String),
    extra          String,
    truncated      Bool,
    method         LowCardinality(String) MATERIALIZED JSONExtractString(request_repr, 'method'),
    path           String MATERIALIZED JSONExtractString(request_repr, 'path'),
    status_code    Nullable(UInt16) MATERIALIZED JSONExtract(response_repr, 'status_code', 'Nullable(UInt16)'),
    client_ip      Nullable(String) MATERIALIZED JSONExtract(request_repr, 'client_ip', 'Nullable(String)'),
    -- The URL or address an outbound call went to (userinfo and secret
    -- query values already masked by the crate).
    endpoint       String MATERIALIZED JSONExtractString(request_repr, 'endpoint'),
    INDEX idx_request_id request_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_user_id user_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (path, timestamp, event_id)
-- TTL toDateTime(timestamp) + INTERVAL 1 YEAR DELETE
;

-- login.log: logins, logouts and failed logins (target audit.login).
-- Sorted for "failed logins over time".
-- `success` is a String: a login record made with plain `tracing` macros
-- writes the field as given ("yes" is a string, not a bool).
CREATE TABLE IF NOT EXISTS audit.login
(
    timestamp    DateTime64(6, 'UTC'),
    event_id     UUID,
    level        LowCardinality(String),
    name         LowCardinality(String),
    message      String,
    service_name LowCardinality(String),
    event        LowCardinality(String),
    success      String,
    user_id      String,
    user_info    String,
    -- Not IPv6: the address is what the caller gave, checked by no one.
    client_ip    Nullable(String),
    user_agent   Nullable(String),
    error        Nullable(String),
    extra        String,
    request_id   String,
    tenant       LowCardinality(String),
    truncated    Bool,
    INDEX idx_client_ip client_ip TYPE bloom_filter GRANULARITY 4,
    INDEX idx_user_id user_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (event, timestamp, event_id)
-- TTL toDateTime(timestamp) + INTERVAL 2 YEAR DELETE
;

-- app.log: every other target (the container logs).
CREATE TABLE IF NOT EXISTS audit.app
(
    timestamp    DateTime64(6, 'UTC'),
    event_id     UUID,
    level        LowCardinality(String),
    name         LowCardinality(String),
    message      String,
    service_name LowCardinality(String),
    module       LowCardinality(Nullable(String)),
    path         LowCardinality(Nullable(String)),
    line         Nullable(UInt32),
    fields       String,
    exception    String,
    user_id      String,
    user_info    String,
    request_id   String,
    tenant       LowCardinality(String),
    truncated    Bool,
    INDEX idx_request_id request_id TYPE bloom_filter GRANULARITY 4
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (service_name, level, timestamp, event_id)
-- TTL toDateTime(timestamp) + INTERVAL 30 DAY DELETE
;
