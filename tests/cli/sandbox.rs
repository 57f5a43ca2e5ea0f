//! The set-up the command-line tests share: a sandbox on 127.0.0.1 with a saved tracker
//! "shop" pointing at it (key from `LB_TEST_KEY`), in a temporary config directory; and the
//! purchases that name products both by path and by full URL.

use std::path::Path;

use lbimport::config::{ConfigStore, KeySource, PrivateKey, Tracker};
use lbimport::server::{self, Running};

/// The sandbox's tracker id.
pub const TRACKER: &str = "1292-9381";

/// A running sandbox (its runtime with it) and the directory holding `config/` and `store/`.
pub struct Sandbox {
    /// Runs the sandbox.
    pub rt: tokio::runtime::Runtime,
    /// The sandbox.
    pub srv: Running,
    /// Temporary directory.
    pub dir: tempfile::TempDir,
}

/// Start a sandbox with private key `key`, configured further by `configure`, and save the
/// tracker "shop" for it under `dir/config`.
pub fn start(key: &str, configure: impl FnOnce(&mut server::Config)) -> Sandbox {
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let mut cfg = server::Config::new(TRACKER, PrivateKey::new(key), dir.path().join("store"));
    configure(&mut cfg);
    let srv = rt.block_on(server::start(cfg)).expect("sandbox");
    save_shop(dir.path(), &srv.base_url);
    Sandbox { rt, srv, dir }
}

/// Save the tracker "shop" (id [`TRACKER`], key from `LB_TEST_KEY`) at `base_url` in
/// `dir/config`.
pub fn save_shop(dir: &Path, base_url: &str) {
    let store = ConfigStore::at(dir.join("config"));
    let mut t = Tracker::new("shop", TRACKER, KeySource::Env("LB_TEST_KEY".into()));
    t.base_url = base_url.to_string();
    let mut config = lbimport::config::Config::default();
    config.trackers.push(t);
    store.save(&config).expect("save config");
}

/// Orders `from..=to`, `per` rows each, product `product(order, k)`, bought at `at`; every
/// fifth order names its products by path (`/p/N`), the others by full URL. Returns the CSV,
/// its rows and the rows named by path.
pub fn mixed_identities(
    from: u32,
    to: u32,
    per: u32,
    product: impl Fn(u32, u32) -> u32,
    at: &str,
) -> (String, u64, u64) {
    let (mut text, mut rows, mut relative) = (String::new(), 0u64, 0u64);
    for o in from..=to {
        for k in 0..per {
            let p = product(o, k);
            let id = if o % 5 == 0 {
                relative += 1;
                format!("/p/{p}")
            } else {
                format!("https://shop.example/p/{p}")
            };
            text.push_str(&format!("{o},{id},u{o},{at}\n"));
            rows += 1;
        }
    }
    (text, rows, relative)
}
