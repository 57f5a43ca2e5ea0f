//! How the wizard picks its theme from a real config directory: `--theme` first, then
//! `theme = "…"` in trackers.toml, then `NO_COLOR` (mono), then `default`; user themes in
//! `<config dir>/themes/`.

use std::path::Path;

use lbimport::config::ConfigStore;
use lbimport::tui::theme::Theme;
use ratatui::style::{Color, Modifier};

/// The selection the wizard makes: the flag, else the config's `theme`.
fn pick(flag: Option<&str>, dir: &Path, env: &[(&str, &str)]) -> (Theme, Vec<String>) {
    let loaded = ConfigStore::at(dir).load().expect("config loads");
    let name = flag.map(str::to_string).or(loaded.config.theme);
    let env = |k: &str| {
        env.iter()
            .find(|(n, _)| *n == k)
            .map(|(_, v)| v.to_string())
    };
    Theme::load_with_env(name.as_deref(), Some(dir), &env)
}

#[test]
fn flag_then_config_then_no_color_then_default() {
    let dir = tempfile::tempdir().unwrap();
    let truecolor = [("COLORTERM", "truecolor")];
    // No config file at all.
    assert_eq!(pick(None, dir.path(), &truecolor).0.name, "default");
    assert_eq!(pick(None, dir.path(), &[("NO_COLOR", "1")]).0.name, "mono");

    std::fs::write(
        dir.path().join("trackers.toml"),
        "theme = \"high-contrast\"\n",
    )
    .unwrap();
    let (t, w) = pick(None, dir.path(), &truecolor);
    assert_eq!((t.name.as_str(), w.len()), ("high-contrast", 0));
    assert_eq!(t.error.fg, Some(Color::LightRed));
    // The config names a theme, so NO_COLOR does not override it (no-color.org).
    assert_eq!(
        pick(None, dir.path(), &[("NO_COLOR", "1")]).0.name,
        "high-contrast"
    );
    // The flag wins over the config.
    assert_eq!(pick(Some("light"), dir.path(), &truecolor).0.name, "light");
}

#[test]
fn config_names_a_user_theme() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("trackers.toml"), "theme = \"night\"\n").unwrap();
    std::fs::create_dir(dir.path().join("themes")).unwrap();
    std::fs::write(
        dir.path().join("themes/night.toml"),
        "parent = \"mono\"\naccent = { fg = \"#ff8700\", modifiers = [\"bold\", \"italic\"] }\n",
    )
    .unwrap();
    let (t, w) = pick(None, dir.path(), &[("COLORTERM", "truecolor")]);
    assert!(w.is_empty(), "{w:?}");
    assert_eq!(t.name, "night");
    assert_eq!(t.accent.fg, Some(Color::Rgb(0xff, 0x87, 0x00)));
    assert_eq!(t.accent.add_modifier, Modifier::BOLD | Modifier::ITALIC);
    assert_eq!(t.selection, Theme::builtin("mono").unwrap().selection);
    // Without truecolor the orange becomes xterm-256 colour 208.
    let (t, _) = pick(None, dir.path(), &[]);
    assert_eq!(t.accent.fg, Some(Color::Indexed(208)));
    assert_eq!(
        Theme::available(Some(dir.path())),
        ["default", "high-contrast", "light", "mono", "night"]
    );
}

#[test]
fn a_broken_config_theme_falls_back_with_one_warning() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("trackers.toml"), "theme = \"night\"\n").unwrap();
    std::fs::create_dir(dir.path().join("themes")).unwrap();
    let file = dir.path().join("themes/night.toml");
    std::fs::write(&file, "# night\n\ntext = { bg = \"#12\" }\n").unwrap();
    let (t, w) = pick(None, dir.path(), &[("COLORTERM", "24bit")]);
    assert_eq!(t, Theme::default());
    assert_eq!(
        w,
        [format!(
            "{}:3: text.bg: \"#12\" is not a #rrggbb colour (six hex digits); using the \
             built-in default theme",
            file.display()
        )]
    );
}
