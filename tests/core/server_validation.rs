//! The sandbox validates what it receives with lbimport's validator, like the real service
//! cancels an import with any error.

use std::time::Duration;

use lbimport::config::PrivateKey;
use lbimport::read::Format;
use lbimport::server::{self, Config};
use lbimport::upload::{self, Body, Outcome, Settings, UploadRequest};
use tokio_util::sync::CancellationToken;

const TRACKER: &str = "1292-9381";
const KEY: &str = "validation-test-key-42";

fn request(base: &str, path: &std::path::Path, format: Format) -> UploadRequest {
    UploadRequest {
        base_url: base.into(),
        tracker_id: TRACKER.into(),
        key: PrivateKey::new(KEY),
        client_name: "ApiAuth".into(),
        body: Body::File {
            path: path.to_path_buf(),
            format,
        },
        settings: Settings {
            backoff: Duration::from_millis(50),
            ..Settings::default()
        },
    }
}

#[tokio::test]
async fn a_file_with_errors_is_rejected_with_them_and_not_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = Config::new(TRACKER, PrivateKey::new(KEY), dir.path().join("store"));
    assert!(cfg.validate, "validation is on by default");
    let srv = server::start(cfg).await.expect("start");

    let bad = dir.path().join("bad.csv");
    std::fs::write(
        &bad,
        "1,/p/1,u1\njust-one-field\n2,/p/2,u2,\"2024-01-01T10:00:00+02:00\"\n",
    )
    .expect("write");
    let outcome = upload::run(
        request(&srv.base_url, &bad, Format::Csv),
        None,
        CancellationToken::new(),
    )
    .await;
    match &outcome {
        Outcome::Rejected {
            status,
            body,
            explanation,
        } => {
            assert_eq!(*status, 400);
            let v: serde_json::Value = serde_json::from_str(body).expect("JSON body");
            assert_eq!(v["errors_count"], 2, "{body}");
            assert_eq!(v["ok_count"], 1, "{body}");
            assert_eq!(v["errors"]["field_count"]["count"], 1, "{body}");
            assert_eq!(
                v["errors"]["field_count"]["examples"][0]["line"], 2,
                "{body}"
            );
            assert_eq!(v["errors"]["timestamp_zone"]["count"], 1, "{body}");
            assert!(explanation.contains("cancelled"), "{explanation}");
        }
        other => panic!("expected 400, got {other:?}"),
    }
    let got = srv.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].status, 400);
    assert_eq!(got[0].path, None);
    let left: Vec<_> = std::fs::read_dir(dir.path().join("store"))
        .expect("store")
        .filter_map(|e| e.ok())
        .collect();
    assert!(left.is_empty(), "nothing kept: {left:?}");

    // A clean JSON-lines file goes through.
    let good = dir.path().join("good.jsonl");
    std::fs::write(
        &good,
        "{\"order_id\":\"1\",\"identity\":\"/p/1\",\"auth_user_id\":\"4\"}\n{\"order_id\":\"1\",\"identity\":\"/p/2\",\"auth_user_id\":\"4\"}\n",
    )
    .expect("write");
    let outcome = upload::run(
        request(&srv.base_url, &good, Format::Json),
        None,
        CancellationToken::new(),
    )
    .await;
    assert!(
        matches!(outcome, Outcome::Accepted { status: 200, .. }),
        "{outcome:?}"
    );
    let got = srv.received();
    assert_eq!(got[1].filename, "good.json");
    assert!(got[1].path.as_ref().is_some_and(|p| p.exists()));
}
