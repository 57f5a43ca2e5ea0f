//! Helpers shared by the wizard's test files: a harness that drives `App` with key events and
//! runs its effects through the real `Driver` (validator thread, in-process sandbox, history),
//! in temporary config, data and file directories.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lbimport::config::{Config, ConfigStore, History};
use lbimport::tui::app::{App, Context, Input, Step};
use lbimport::tui::driver::Driver;
use lbimport::tui::theme::Theme;

/// The wizard's state and its driver, over temporary directories.
pub struct Harness {
    pub app: App,
    pub driver: Driver,
    pub files: PathBuf,
    pub data: PathBuf,
    _tmp: tempfile::TempDir,
}

/// A key press without modifiers.
pub fn key(code: KeyCode) -> Input {
    Input::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

/// A typed character.
pub fn ch(c: char) -> Input {
    key(KeyCode::Char(c))
}

impl Harness {
    /// A wizard over `config`, starting in an empty files directory.
    pub fn new(config: Config) -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let files = tmp.path().join("files");
        let data = tmp.path().join("data");
        let cfg = tmp.path().join("config");
        for d in [&files, &data, &cfg] {
            std::fs::create_dir_all(d).expect("mkdir");
        }
        let app = App::new(Context {
            config,
            history: Vec::new(),
            start_dir: files.clone(),
            theme: Theme::default(),
            notices: Vec::new(),
        });
        let driver = Driver::new(ConfigStore::at(&cfg), History::at(&data), data.clone());
        Harness {
            app,
            driver,
            files,
            data,
            _tmp: tmp,
        }
    }

    /// Handle one input and run the effects it asks for.
    pub fn press(&mut self, input: Input) -> bool {
        let fx = self.app.handle(input);
        self.driver.execute(fx)
    }

    /// Type `s` character by character.
    pub fn typ(&mut self, s: &str) {
        for c in s.chars() {
            self.press(ch(c));
        }
    }

    /// Feed background messages and ticks to the app until `pred` holds (30 s at most; the
    /// failure shows the screen).
    pub async fn pump_until(&mut self, what: &str, pred: impl Fn(&App) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while !pred(&self.app) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}:\n{}",
                screen(&self.app)
            );
            if let Ok(Some(m)) =
                tokio::time::timeout(Duration::from_millis(50), self.driver.recv()).await
            {
                let fx = self.app.handle(Input::Msg(m));
                self.driver.execute(fx);
            }
            self.app.handle(Input::Tick(Instant::now()));
        }
    }

    /// Write a file into the files directory.
    pub fn write(&self, name: &str, body: &str) -> PathBuf {
        let p = self.files.join(name);
        std::fs::write(&p, body).expect("write");
        p
    }

    /// From the tracker step: take the selected tracker (the sandbox) and wait for the file step.
    pub async fn open_files(&mut self) {
        self.press(key(KeyCode::Enter));
        self.pump_until("the sandbox", |a| matches!(a.step(), Step::File(_)))
            .await;
    }

    /// From the tracker step: choose `name` and wait for the Columns step (a file that does
    /// not fit the format).
    pub async fn open_columns(&mut self, name: &str) {
        self.open_files().await;
        self.choose(name);
        self.pump_until("the Columns step", |a| matches!(a.step(), Step::Columns(_)))
            .await;
    }

    /// From the file step: filter by name and choose the file.
    pub fn choose(&mut self, name: &str) {
        assert!(
            matches!(self.app.step(), Step::File(_)),
            "{:?}",
            self.app.step().name()
        );
        self.press(ch('/'));
        self.typ(name);
        self.press(key(KeyCode::Enter));
    }
}

/// A semicolon shop export with a header (date d/m/Y H:i, order, customer, SKU, price): two
/// rows per order, `orders` orders.
pub fn shop_export(orders: u32) -> String {
    let mut body = String::from("Date;Order;Customer;SKU;Price\n");
    for o in 0..orders {
        for i in 0..2u32 {
            body.push_str(&format!(
                "{:02}/10/2026 15:{:02};A-{};c-{};SKU-{:04};19.90\n",
                13 + o % 15,
                i,
                1000 + o,
                o % 30,
                (o * 3 + i * 7) % 50
            ));
        }
    }
    body
}

/// The app drawn at 120×40, as text.
pub fn screen(app: &App) -> String {
    lbimport::tui::demo::text(&lbimport::tui::demo::render(app, 120, 40))
}
