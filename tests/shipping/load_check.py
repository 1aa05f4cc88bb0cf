"""Loads the crate's files into a real ClickHouse engine (chdb) the way
Vector's clickhouse sink does, and checks that every line is a row, once.

    python tests/shipping/load_check.py <dir written by the `shipping` example>

Steps: create the tables of examples/shipping/clickhouse.sql; check that
the sources of examples/shipping/vector.toml take exactly the live and plain
rotated files (never .gz) and that its sinks carry the settings used here;
insert every file those sources read as
JSONEachRow with the two settings the sink sends; compare row counts with
what the writer made; load the same files again and check that FINAL (and
a merge) leaves one row per event_id; run every query of queries.sql and
compare its answer with what the writer made. Prints rows/s for the record.
"""

import glob
import json
import os
import re
import sys
import tempfile
import time
import tomllib

from chdb import session

from checks import ROTATED, Tally

TALLY = Tally()
check = TALLY.check

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHIPPING = os.path.join(ROOT, "examples", "shipping")

# What Vector's clickhouse sink adds to its INSERT with
# `skip_unknown_fields = true` and `date_time_best_effort = true`.
SINK_SETTINGS = "input_format_skip_unknown_fields = 1, date_time_input_format = 'best_effort'"

# file kind -> table, as the sinks of vector.toml have it.
TABLES = {"audit": "audit.crud", "login": "audit.login", "app": "audit.app", "api": "audit.api"}





def statements(path):
    """The SQL statements of a file, comments removed, split at `;`."""
    text = open(path, encoding="utf-8").read()
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def named_queries(path):
    """queries.sql as {name: sql}: each query follows a `-- name:` line."""
    queries = {}
    name = None
    body = []
    for line in open(path, encoding="utf-8").read().splitlines():
        m = re.match(r"^-- name: (\w+)\s*$", line)
        if m:
            if name:
                queries[name] = "\n".join(body).strip().rstrip(";")
            name, body = m.group(1), []
        elif name and not line.startswith("--"):
            body.append(line)
    if name:
        queries[name] = "\n".join(body).strip().rstrip(";")
    return queries


def quote(value):
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def bind(sql, params):
    """Substitutes ClickHouse query parameters {name:Type} as literals of that type."""

    def one(m):
        name, typ = m.group(1), m.group(2)
        if name not in params:
            raise KeyError(f"no value for query parameter {name}")
        return f"CAST({quote(params[name])} AS {typ})"

    return re.sub(r"\{(\w+):([^}]+)\}", one, sql)


def grafana_macros(sql):
    """The ClickHouse data source's macros, as they expand for a wide range."""
    sql = re.sub(
        r"\$__timeFilter\((\w+)\)",
        r"\1 >= toDateTime64('2000-01-01 00:00:00', 6, 'UTC') AND \1 < toDateTime64('2100-01-01 00:00:00', 6, 'UTC')",
        sql,
    )
    return re.sub(r"\$__timeInterval\((\w+)\)", r"toStartOfInterval(\1, INTERVAL 60 second)", sql)


def rows(s, sql):
    out = s.query(sql, "JSONEachRow").bytes().decode("utf-8")
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def scalar(s, sql):
    return int(s.query(sql, "CSV").bytes().decode().strip())


def expand(text, directory):
    """Vector's ${VAR:-default} interpolation, with AUDIT_LOG_DIR set to `directory`."""
    return re.sub(
        r"\$\{(\w+)(?::-([^}]*))?\}",
        lambda m: directory if m.group(1) == "AUDIT_LOG_DIR" else (m.group(2) or ""),
        text,
    )


def vector_files(config, directory):
    """The files each `<kind>_file` source of vector.toml reads in `directory`:
    its include globs, less its exclude globs."""
    found = {}
    for name, source in config["sources"].items():
        kind = name.removesuffix("_file")
        included = {p for pattern in source["include"] for p in glob.glob(expand(pattern, directory))}
        excluded = {p for pattern in source.get("exclude", []) for p in glob.glob(expand(pattern, directory))}
        found[kind] = sorted(included - excluded)
    return found


def check_vector_config(config, directory, tables):
    """vector.toml against the files and the tables: every kind's source
    takes exactly its live and plain rotated files, with the settings the
    guide promises; every table has a sink with the settings the load uses."""
    print("vector.toml")
    # Names the sources must leave alone: compressed, being compressed, and
    # a user's own copies.
    decoys = ["audit.log.20261122T100000.000000Z.gz", "login.log.20261122T100000.000000Z.gz.tmp",
              "app.log.1", "api.log.bak"]
    for decoy in decoys:
        open(os.path.join(directory, decoy), "w").close()
    try:
        files = vector_files(config, directory)
    finally:
        for decoy in decoys:
            os.remove(os.path.join(directory, decoy))
    for kind, paths in sorted(files.items()):
        names = [os.path.basename(p) for p in paths]
        want = sorted(n for n in os.listdir(directory) if ROTATED.match(n) and ROTATED.match(n).group("kind") == kind)
        check(f"source {kind}_file reads the live and plain rotated files, no .gz", names == want, (names, want))
        source = config["sources"][f"{kind}_file"]
        check(f"source {kind}_file: checksum fingerprint, from the beginning",
              source.get("fingerprint", {}).get("strategy") == "checksum" and source.get("read_from") == "beginning", source)
    sinks = {s["table"]: s for s in config["sinks"].values() if s["type"] == "clickhouse"}
    for table in sorted(tables):
        sink = sinks.get(table, {})
        check(f"sink for audit.{table}: best-effort dates, unknown fields skipped",
              sink.get("database") == "audit" and sink.get("date_time_best_effort") is True and sink.get("skip_unknown_fields") is True, sink)
        check(f"sink for audit.{table}: acknowledgements and a blocking disk buffer",
              sink.get("acknowledgements", {}).get("enabled") is True
              and sink.get("buffer", {}).get("type") == "disk" and sink.get("buffer", {}).get("when_full") == "block", sink)
    dead = config["sinks"].get("dead_letter", {})
    check("dead letters: parse.dropped and by_level._unmatched",
          set(dead.get("inputs", [])) == {"parse.dropped", "by_level._unmatched"}, dead)
    return files


def load(s, files, table):
    """Inserts each file as one batch; returns (lines, seconds)."""
    lines = 0
    seconds = 0.0
    for path in files:
        data = open(path, "rb").read().decode("utf-8")
        if not data:
            continue
        lines += data.count("\n")
        start = time.perf_counter()
        s.query(f"INSERT INTO {table} SETTINGS {SINK_SETTINGS} FORMAT JSONEachRow\n{data}")
        seconds += time.perf_counter() - start
    return lines, seconds


def main():
    directory = sys.argv[1]
    expected = json.load(open(os.path.join(directory, "expected.json"), encoding="utf-8"))
    watched = expected["watched"]
    with open(os.path.join(SHIPPING, "vector.toml"), "rb") as f:
        config = tomllib.load(f)
    kinds = [k for k in TABLES if k in expected["rows"]]

    with tempfile.TemporaryDirectory() as db:
        s = session.Session(db)
        for statement in statements(os.path.join(SHIPPING, "clickhouse.sql")):
            s.query(statement)
        tables = {r["name"] for r in rows(s, "SELECT name FROM system.tables WHERE database = 'audit'")}
        kinds = [k for k in kinds if TABLES[k].split(".")[1] in tables]
        print("tables:", ", ".join(sorted(tables)))
        files = check_vector_config(config, directory, tables)

        print("first load")
        total_lines = 0
        total_seconds = 0.0
        lines_of = {}
        for kind in kinds:
            check(f"{kind}: several files (rotation on)", len(files.get(kind, [])) >= 2, files.get(kind))
            lines, seconds = load(s, files.get(kind, []), TABLES[kind])
            lines_of[kind] = lines
            total_lines += lines
            total_seconds += seconds
            made = expected["rows"][kind]
            check(f"{kind}: lines in files == records made ({made})", lines == made, lines)
            got = scalar(s, f"SELECT count() FROM {TABLES[kind]}")
            check(f"{kind}: rows == lines ({lines})", got == lines, got)
        rate = total_lines / total_seconds if total_seconds else float("inf")
        print(f"loaded {total_lines} lines in {total_seconds:.3f} s: {rate:,.0f} rows/s into chdb")

        print("second load of the same files (at-least-once shipping)")
        for kind in kinds:
            table = TABLES[kind]
            # Merges held back, so the copies are there for FINAL to hide.
            s.query(f"SYSTEM STOP MERGES {table}")
            load(s, files.get(kind, []), table)
            lines = lines_of[kind]
            raw = scalar(s, f"SELECT count() FROM {table}")
            check(f"{kind}: copies were inserted ({2 * lines} rows before merging)", raw == 2 * lines, raw)
            final = scalar(s, f"SELECT count() FROM {table} FINAL")
            check(f"{kind}: FINAL sees one row per record ({lines})", final == lines, final)
            distinct = scalar(s, f"SELECT uniqExact(event_id) FROM {table}")
            check(f"{kind}: distinct event_id == lines", distinct == lines, distinct)
            s.query(f"SYSTEM START MERGES {table}")
            s.query(f"OPTIMIZE TABLE {table} FINAL")
            merged = scalar(s, f"SELECT count() FROM {table}")
            check(f"{kind}: a merge keeps one row per record ({lines})", merged == lines, merged)

        print("hostile values survive")
        crud = rows(
            s,
            "SELECT changes, extra FROM audit.crud FINAL WHERE instance_id = '18446744073709551615'",
        )
        check("u64::MAX id is one row", len(crud) == 1, crud)
        if crud:
            changes = crud[0]["changes"]
            check("u64::MAX in changes kept digit for digit", '"old":18446744073709551615' in changes, changes)
            check("i64::MIN in changes kept", '"new":-9223372036854775808' in changes, changes)
            check("dotted key kept as one key", json.loads(changes).get("a.b", {}).get("old") == "dotted key", changes)
        odd = rows(s, "SELECT model, instance_id FROM audit.crud FINAL WHERE request_id = 'req-hostile' AND startsWith(model, 'Prod\"')")
        check("odd strings kept byte for byte", odd == [{"model": 'Prod"uct\n\u0000', "instance_id": "\u202e42\U0001f600"}], odd)
        truncated = scalar(s, "SELECT count() FROM audit.crud FINAL WHERE truncated")
        check(f"truncated records loaded (>= {expected['truncated_at_least']})", truncated >= expected["truncated_at_least"], truncated)
        text_extra = rows(s, "SELECT extra, user_info FROM audit.crud FINAL WHERE request_id = 'req-hostile' AND instance_id = '' AND event_type = 'CREATE'")
        check("extra and user_info that are strings load", text_extra == [{"extra": "no id yet", "user_info": "plain text"}], text_extra)
        app = rows(s, "SELECT fields FROM audit.app FINAL WHERE level = 'ERROR' AND request_id = 'req-hostile'")
        check("u128 in app fields kept", len(app) == 1 and "340282366920938463463374607431768211455" in app[0]["fields"], app)
        login = rows(s, "SELECT success, client_ip, user_agent FROM audit.login FINAL WHERE request_id = 'req-hostile' ORDER BY timestamp")
        check("login with success \"yes\" and null client_ip loads", {"success": "yes", "client_ip": None, "user_agent": None} in login, login)

        if "api" in kinds:
            api = rows(s, "SELECT execution_time, extra, method FROM audit.api FINAL WHERE request_id = 'req-hostile'")
            check("request made with plain tracing (u64::MAX status, NaN time) loads",
                  len(api) == 1 and "18446744073709551615" in api[0]["extra"] and api[0]["method"] == "", api)
            redacted = scalar(s, "SELECT count() FROM audit.api FINAL WHERE position(request_repr, 'hunter2') > 0 OR position(request_repr, 'abc.def') > 0")
            check("no secret of the requests reached a row", redacted == 0, redacted)

        print("queries.sql")
        params = dict(watched)
        params["from"] = "2000-01-01 00:00:00"
        params["to"] = "2100-01-01 00:00:00"
        queries = named_queries(os.path.join(SHIPPING, "queries.sql"))
        answers = {}
        for name, sql in queries.items():
            answers[name] = rows(s, bind(sql, params))
            print(f"  ran   {name}: {len(answers[name])} rows")

        def expect(name, what, ok, detail):
            if name not in answers:
                check(f"{name}: in queries.sql", False)
            else:
                check(f"{name}: {what}", ok, detail)

        a = answers.get("entity_history", [])
        expect("entity_history", f"{expected['entity_history']} records", len(a) == expected["entity_history"], len(a))
        a = answers.get("field_history", [])
        expect("field_history", f"{expected['price_changes']} changes of price", len(a) == expected["price_changes"], len(a))
        if a:
            expect("field_history", "old and new values", all(float(r["new_value"]) == float(r["old_value"]) + 1.5 for r in a), a[:2])
        a = answers.get("failed_logins_per_ip_minute", [])
        total = sum(int(r["failures"]) for r in a)
        expect("failed_logins_per_ip_minute", f"{expected['failed_logins']} failures in all", total == expected["failed_logins"], total)
        ip = sum(int(r["failures"]) for r in a if r["client_ip"] == watched["client_ip"])
        expect("failed_logins_per_ip_minute", f"{expected['failed_logins_watched_ip']} from {watched['client_ip']}", ip == expected["failed_logins_watched_ip"], ip)
        a = answers.get("user_actions", [])
        expect("user_actions", f"{expected['user_actions']} actions of user {watched['user_id']}", len(a) == expected["user_actions"], len(a))
        a = answers.get("deletes_by_model", [])
        got = {r["model"]: int(r["delete_records"]) for r in a}
        expect("deletes_by_model", str(expected["deletes_by_model"]), got == expected["deletes_by_model"], got)
        if "api" in kinds:
            a = answers.get("p95_execution_time_by_path", [])
            got = {}
            for r in a:
                got[r["path"]] = got.get(r["path"], 0) + int(r["requests"])
            expect("p95_execution_time_by_path", str(expected["requests_by_path"]), got == expected["requests_by_path"], got)
            ok = all(0 < float(r["p95_seconds"]) <= float(r["max_seconds"]) for r in a)
            expect("p95_execution_time_by_path", "0 < p95 <= max", ok, a)
            a = answers.get("crud_of_request", [])
            expect("crud_of_request", f"{expected['request_crud']} CRUD records of {watched['request_id']}", len(a) == expected["request_crud"], len(a))
            expect("crud_of_request", "joined with their request", all(r["path"] and r["status_code"] == 200 for r in a), a[:1])
            a = answers.get("partner_calls", [])
            calls = sum(int(r["calls"]) for r in a)
            expect("partner_calls", f"{expected['external_calls']} calls to {watched['peer_service']}", calls == expected["external_calls"], a)
            failures = sum(int(r["failures"]) for r in a)
            expect("partner_calls", f"{expected['external_failures']} of them failed", failures == expected["external_failures"], a)
            kinds_seen = sorted(k for r in a for k in r["error_kinds"])
            expect("partner_calls", "failed as other and abandoned", kinds_seen == ["abandoned", "other"], kinds_seen)
            endpoints = rows(s, f"SELECT endpoint FROM audit.api FINAL WHERE peer_service = '{watched['peer_service']}' AND endpoint != ''")
            check("external calls' endpoint column filled, userinfo masked",
                  len(endpoints) == 3 and not any("hunter2" in r["endpoint"] for r in endpoints), endpoints)
        else:
            print("  (no API table: the request record is not in the schema yet)")
        unknown = rows(s, "SELECT model, instance_id FROM audit.crud FINAL WHERE tx_outcome = 'unknown'")
        check(f"{expected['unknown_outcome']} record of a transaction of unknown outcome, marked",
              unknown == [{"model": "Invoice", "instance_id": "inv-unknown"}] and expected["unknown_outcome"] == 1, unknown)
        a = answers.get("process_history", [])
        expect("process_history", f"{expected['process_records']} records of {watched['process']}", len(a) == expected["process_records"], a)
        regs = [r for r in a if r["event"] == "registration"]
        expect("process_history", f"{expected['process_registrations']} registrations with step and outcome",
               len(regs) == expected["process_registrations"]
               and [(r["step"], r["step_index"], r["success"]) for r in regs] == [("kyc", 1, True), ("contract", 2, False)],
               regs)
        expect("process_history", "one process_id for the whole run", len({r["process_id"] for r in a}) == 1 and a[0]["process_id"] != "", a[:1])

        print("grafana-dashboard.json")
        dashboard = json.load(open(os.path.join(SHIPPING, "grafana-dashboard.json"), encoding="utf-8"))
        for panel in dashboard["panels"]:
            for target in panel["targets"]:
                sql = grafana_macros(target["rawSql"])
                if "audit.api" in sql and "api" not in kinds:
                    print(f"  (skipped {panel['title']}: no API table)")
                    continue
                try:
                    got = rows(s, sql)
                    check(f"panel {panel['title']!r} answers", len(got) > 0, got[:2])
                except Exception as e:  # a query ClickHouse refuses
                    check(f"panel {panel['title']!r} answers", False, e)

    return TALLY.summary("shipping load check")


if __name__ == "__main__":
    sys.exit(main())
