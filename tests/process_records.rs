//! Process auditing (`audit.process`): a process with named, ordered
//! steps writes a `start` record, one record per registration and a final
//! record saying whether every step succeeded; a process dropped
//! unfinished is recorded as abandoned; every record carries the user and
//! request id of the span the process began in, across `.await` points
//! and tasks.

mod common;

use common::records::{check_envelope, Logs, Record};
use serde_json::json;
use tracing::instrument::WithSubscriber;
use tracing::Instrument;
use tracing_audit::{Kind, Process, ProcessError};

fn process_records(logs: &Logs) -> Vec<Record> {
    let records = logs.records(Kind::Audit);
    for r in &records {
        check_envelope(r, Some("AUDIT"));
        assert_eq!(r["name"], "audit.process");
    }
    records
}

fn events(records: &[Record]) -> Vec<&str> {
    records
        .iter()
        .map(|r| r["event"].as_str().unwrap())
        .collect()
}

#[test]
fn a_three_step_process_with_one_failed_registration_records_each_step_and_a_failed_summary() {
    let logs = Logs::new();
    let succeeded = logs.run(|| {
        let request = tracing::info_span!("request", request_id = "r-7", user_id = "42");
        let _entered = request.enter();
        let mut p = Process::begin(
            "onboarding",
            [("verify_email", 1), ("kyc", 2), ("contract", 1)],
        );
        p.register("verify_email", true, "email", "link clicked")
            .unwrap();
        p.register("kyc", true, "passport", "document checked")
            .unwrap();
        p.register("kyc", false, "address", "proof of address expired")
            .unwrap();
        p.register("contract", true, "signature", "signed").unwrap();
        // Bad input is an error, and records nothing.
        assert_eq!(
            p.register("payment", true, "card", "charged"),
            Err(ProcessError::UnknownStep("payment".into()))
        );
        p.finish()
    });
    assert!(!succeeded);
    let records = process_records(&logs);
    assert_eq!(
        events(&records),
        [
            "start",
            "registration",
            "registration",
            "registration",
            "registration",
            "finish"
        ]
    );
    let id = records[0]["process_id"].as_str().unwrap();
    assert_eq!(id.len(), 36);
    for r in &records {
        assert_eq!(r["process"], "onboarding");
        assert_eq!(r["process_id"], id);
        assert_eq!(r["request_id"], "r-7");
        assert_eq!(r["user_id"], "42");
    }
    assert_eq!(
        records[0]["steps"],
        json!([
            {"index": 1, "name": "verify_email", "expected": 1},
            {"index": 2, "name": "kyc", "expected": 2},
            {"index": 3, "name": "contract", "expected": 1}
        ])
    );
    let failed = &records[3];
    assert_eq!(failed["step"], "kyc");
    assert_eq!(failed["step_index"], 2);
    assert_eq!(failed["success"], false);
    assert_eq!(failed["registration"], "address");
    assert_eq!(failed["description"], "proof of address expired");
    assert_eq!(failed["step_registrations"], 2);
    assert_eq!(records[1]["success"], true);
    let summary = &records[5];
    assert_eq!(summary["success"], false);
    assert_eq!(summary["message"], "process onboarding failed");
    let steps: Vec<_> = summary["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["success"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [("verify_email", true), ("kyc", false), ("contract", true)]
    );
    assert_eq!(summary["steps"][1]["failed"], 1);
    assert_eq!(summary["steps"][1]["succeeded"], 1);
}

#[test]
fn a_process_whose_every_step_gets_its_registrations_succeeds_and_a_missing_one_fails() {
    let logs = Logs::new();
    let (complete, missing) = logs.run(|| {
        let mut p = Process::begin("payout", [("approve", 2), ("transfer", 1)]);
        p.register("approve", true, "manager", "ok").unwrap();
        p.register("approve", true, "finance", "ok").unwrap();
        p.register("transfer", true, "bank", "sent").unwrap();
        let complete = p.finish();
        let mut q = Process::begin("payout", [("approve", 2), ("transfer", 1)]);
        q.register("approve", true, "manager", "ok").unwrap();
        q.register("transfer", true, "bank", "sent").unwrap();
        (complete, q.finish())
    });
    assert!(complete);
    assert!(!missing, "approve expected 2 registrations and got 1");
    let records = process_records(&logs);
    let finals: Vec<_> = records.iter().filter(|r| r["event"] == "finish").collect();
    assert_eq!(finals.len(), 2);
    assert_eq!(finals[0]["success"], true);
    assert_eq!(finals[0]["message"], "process payout succeeded");
    assert_eq!(finals[1]["success"], false);
    assert_ne!(finals[0]["process_id"], finals[1]["process_id"]);
}

#[test]
fn an_abandoned_process_is_recorded() {
    let logs = Logs::new();
    logs.run(|| {
        let request = tracing::info_span!("request", request_id = "r-9", user_id = "5");
        let _entered = request.enter();
        let mut p = Process::begin("export", [("collect", 1), ("upload", 1)]);
        p.register("collect", true, "rows", "1,204 rows").unwrap();
        // An early return, a `?`, a panic: the handle is dropped.
        drop(p);
    });
    let records = process_records(&logs);
    assert_eq!(events(&records), ["start", "registration", "abandoned"]);
    let last = &records[2];
    assert_eq!(last["success"], false);
    assert_eq!(last["message"], "process export abandoned");
    assert_eq!(last["request_id"], "r-9");
    assert_eq!(last["user_id"], "5");
    assert_eq!(last["steps"][1]["succeeded"], 0);
}

#[test]
fn records_carry_the_span_user_and_request_id_across_await_and_tasks() {
    let logs = Logs::new();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(
        async {
            let mut handles = Vec::new();
            for n in 0..4 {
                let request = tracing::info_span!(
                    "request",
                    request_id = format!("r-{n}"),
                    user_id = tracing::field::Empty
                );
                let task = async move {
                    tracing_audit::set_user(format!("u-{n}"));
                    let mut p = Process::begin("import", [("read", 1), ("store", 1)]);
                    tokio::task::yield_now().await;
                    p.register("read", true, "file", "read").unwrap();
                    // The handle moves to another task, outside the span.
                    let p = tokio::spawn(async move {
                        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                        p.register("store", n % 2 == 0, "db", "stored").unwrap();
                        p
                    })
                    .await
                    .unwrap();
                    p.finish()
                }
                .instrument(request)
                .with_current_subscriber();
                handles.push(tokio::spawn(task));
            }
            for h in handles {
                h.await.unwrap();
            }
        }
        .with_subscriber(logs.dispatch.clone()),
    );
    let records = process_records(&logs);
    assert_eq!(records.len(), 4 * 4);
    for r in &records {
        let n = r["request_id"]
            .as_str()
            .unwrap()
            .strip_prefix("r-")
            .unwrap();
        assert_eq!(r["user_id"], format!("u-{n}"), "{r:?}");
    }
    for n in 0..4 {
        let summary = records
            .iter()
            .find(|r| r["event"] == "finish" && r["request_id"] == format!("r-{n}"))
            .unwrap();
        assert_eq!(summary["success"], n % 2 == 0);
    }
}

/// Two steps with one name (an approval before and after a review): each
/// registration goes to the first of them still short of its successes,
/// so both can succeed, and the records say which step took it.
#[test]
fn steps_sharing_a_name_are_filled_in_order_and_can_all_succeed() {
    let logs = Logs::new();
    let (succeeded, extra) = logs.run(|| {
        let mut p = Process::begin("payout", [("approve", 1), ("review", 1), ("approve", 2)]);
        p.register("approve", true, "manager", "ok").unwrap();
        p.register("review", true, "audit", "ok").unwrap();
        p.register("approve", true, "finance", "ok").unwrap();
        p.register("approve", true, "cfo", "ok").unwrap();
        let succeeded = p.finish();
        // Once every step of the name has its successes, the last takes
        // more (and a failure there fails it).
        let mut q = Process::begin("payout", [("approve", 1), ("approve", 1)]);
        q.register("approve", true, "manager", "ok").unwrap();
        q.register("approve", true, "finance", "ok").unwrap();
        q.register("approve", false, "cfo", "vetoed").unwrap();
        (succeeded, q.finish())
    });
    assert!(succeeded, "every step got its registrations");
    assert!(!extra, "the veto landed in the second approve step");
    let records = process_records(&logs);
    let indexes: Vec<_> = records
        .iter()
        .filter(|r| r["event"] == "registration")
        .map(|r| {
            (
                r["step"].as_str().unwrap().to_owned(),
                r["step_index"].as_u64().unwrap(),
            )
        })
        .collect();
    let expected: Vec<(String, u64)> = [
        ("approve", 1),
        ("review", 2),
        ("approve", 3),
        ("approve", 3),
        ("approve", 1),
        ("approve", 2),
        ("approve", 2),
    ]
    .iter()
    .map(|(s, i)| (s.to_string(), *i))
    .collect();
    assert_eq!(indexes, expected);
    let finals: Vec<_> = records.iter().filter(|r| r["event"] == "finish").collect();
    assert_eq!(finals[0]["steps"][2]["succeeded"], 2);
    assert_eq!(finals[0]["steps"][0]["succeeded"], 1);
    assert_eq!(finals[1]["steps"][0]["failed"], 0);
    assert_eq!(finals[1]["steps"][1]["failed"], 1);
}
