//! Where lbimport keeps its files.
//!
//! Order of precedence for the config directory: `$LBIMPORT_CONFIG_DIR`, then (on every Unix,
//! macOS included) `$XDG_CONFIG_HOME/lbimport` when it is an absolute path, then the platform
//! default from `directories` (`~/.config/lbimport`, `~/Library/Application Support/lbimport`,
//! `%APPDATA%\lbimport\config`). The data directory works the same way with
//! `$LBIMPORT_DATA_DIR` and `$XDG_DATA_HOME`.

use std::ffi::OsString;
use std::path::PathBuf;

use super::ConfigError;

/// Environment variable overriding the config directory.
pub const CONFIG_DIR_ENV: &str = "LBIMPORT_CONFIG_DIR";
/// Environment variable overriding the data directory (history, logs).
pub const DATA_DIR_ENV: &str = "LBIMPORT_DATA_DIR";

/// The directory holding `trackers.toml` and user themes.
pub fn config_dir() -> Result<PathBuf, ConfigError> {
    resolve(
        &env,
        CONFIG_DIR_ENV,
        "XDG_CONFIG_HOME",
        "config",
        default_config,
    )
}

/// The directory holding `history.jsonl` and logs.
pub fn data_dir() -> Result<PathBuf, ConfigError> {
    resolve(&env, DATA_DIR_ENV, "XDG_DATA_HOME", "data", default_data)
}

fn env(name: &str) -> Option<OsString> {
    std::env::var_os(name)
}

fn default_config() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "lbimport").map(|p| p.config_dir().to_path_buf())
}

fn default_data() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "lbimport").map(|p| p.data_dir().to_path_buf())
}

fn resolve(
    get: &dyn Fn(&str) -> Option<OsString>,
    override_var: &'static str,
    xdg_var: &str,
    what: &'static str,
    platform: fn() -> Option<PathBuf>,
) -> Result<PathBuf, ConfigError> {
    if let Some(dir) = get(override_var).filter(|v| !v.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    if cfg!(unix)
        && let Some(xdg) = get(xdg_var).map(PathBuf::from)
        && xdg.is_absolute()
    {
        return Ok(xdg.join("lbimport"));
    }
    platform().ok_or(ConfigError::NoDirectory {
        what,
        var: override_var,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    fn none() -> Option<PathBuf> {
        None
    }

    #[test]
    fn override_wins() {
        let get = fake(&[(CONFIG_DIR_ENV, "/tmp/lb-conf"), ("XDG_CONFIG_HOME", "/x")]);
        let dir = resolve(&get, CONFIG_DIR_ENV, "XDG_CONFIG_HOME", "config", none);
        assert_eq!(dir.ok(), Some(PathBuf::from("/tmp/lb-conf")));
    }

    #[test]
    fn xdg_is_honoured_when_absolute() {
        let get = fake(&[("XDG_DATA_HOME", "/tmp/xdgd")]);
        let dir = resolve(&get, DATA_DIR_ENV, "XDG_DATA_HOME", "data", none);
        assert_eq!(dir.ok(), Some(PathBuf::from("/tmp/xdgd/lbimport")));
        let get = fake(&[("XDG_DATA_HOME", "relative"), (DATA_DIR_ENV, "")]);
        let err = resolve(&get, DATA_DIR_ENV, "XDG_DATA_HOME", "data", none);
        assert_eq!(
            err.err().map(|e| e.to_string()).as_deref(),
            Some("cannot determine the data directory: set LBIMPORT_DATA_DIR (or HOME)")
        );
    }

    #[test]
    fn platform_default_last() {
        let get = fake(&[]);
        let dir = resolve(&get, CONFIG_DIR_ENV, "XDG_CONFIG_HOME", "config", || {
            Some(PathBuf::from("/home/u/.config/lbimport"))
        });
        assert_eq!(dir.ok(), Some(PathBuf::from("/home/u/.config/lbimport")));
    }
}
