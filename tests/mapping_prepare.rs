//! `pipeline::prepare::prepare`, the entry point `validate` and `upload` use for mapping flags.
//! Alone in its own test binary because it points the data and config directories at temp
//! dirs through the process environment.

use lbimport::config::{Config, ConfigStore, KeySource, Tracker};
use lbimport::mapping::detect::detect_path;
use lbimport::mapping::{Mapping, SavedMapping, Source};
use lbimport::pipeline::prepare::{Options as MappingArgs, prepare};

#[test]
fn prepare_converts_into_the_data_dir_and_applies_saved_mappings() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("cfg");
    let data = dir.path().join("data");
    // SAFETY: the only test in this binary; set before any thread reads the environment.
    unsafe {
        std::env::set_var("LBIMPORT_CONFIG_DIR", &cfg);
        std::env::set_var("LBIMPORT_DATA_DIR", &data);
    }
    let input = dir.path().join("export.csv");
    let src = "Datum;Order ID;Customer;SKU\n22/04/2023 15:04;000123;77;/p/1\n22/04/2023 15:04;000123;77;/p/2\n";
    std::fs::write(&input, src).unwrap();

    // fitting files and no flags: used as they are
    let ok = dir.path().join("ok.csv");
    std::fs::write(&ok, "1,/p/1\n1,/p/2\n").unwrap();
    let p = prepare(&ok, &MappingArgs::default()).unwrap();
    assert_eq!(p.path_to_use, ok);
    assert!(!p.temp && p.summary.is_none() && p.parts.is_empty());

    // flags: converted into <data>/converted
    let args = MappingArgs {
        time_zone: Some("Europe/Bratislava".into()),
        exclude_invalid: Some(String::new()),
        ..MappingArgs::default()
    };
    let p = prepare(&input, &args).unwrap();
    assert!(p.temp);
    assert_eq!(p.path_to_use, data.join("converted/export.normalized.csv"));
    let s = p.summary.unwrap();
    assert_eq!((s.rows_in, s.rows_out, s.invalid), (2, 2, 0));
    assert_eq!(
        std::fs::read_to_string(&p.path_to_use).unwrap(),
        "000123,/p/1,77,2023-04-22 13:04:00\n000123,/p/2,77,2023-04-22 13:04:00\n"
    );
    assert_eq!(
        s.invalid_file,
        Some(data.join("converted/export.invalid.csv"))
    );
    assert_eq!(std::fs::read_to_string(&input).unwrap(), src);

    // a tracker with a mapping saved for this shape: applied with a notice, no other flags
    let shape = detect_path(&input).unwrap().shape;
    let mut t = Tracker::new("shop", "1292-9381", KeySource::Env("LB_KEY".into()));
    t.mappings.push(SavedMapping::new(
        &shape,
        Some("eshop"),
        Mapping {
            delimiter: ';',
            header: true,
            order_id: Source::Column(1),
            identity: Source::Column(3),
            user_id: None,
            created_at: Some(Source::Column(0)),
            time_format: Some("%d/%m/%Y %H:%M".into()),
            time_zone: Some("+01:00".into()),
            encoding: None,
            items: None,
        },
    ));
    ConfigStore::at(&cfg)
        .save(&Config {
            theme: None,
            trackers: vec![t],
        })
        .unwrap();
    let args = MappingArgs {
        tracker: Some("shop".into()),
        ..MappingArgs::default()
    };
    let p = prepare(&input, &args).unwrap();
    assert!(p.notices[0].starts_with("using the mapping saved for tracker \"shop\" (eshop)"));
    assert_eq!(
        std::fs::read_to_string(&p.path_to_use).unwrap(),
        "000123,/p/1,,2023-04-22 14:04:00\n000123,/p/2,,2023-04-22 14:04:00\n"
    );
    // the detection's own preview agrees
    let d = p.detection.unwrap();
    let pv = d.preview(p.mapping.as_ref().unwrap(), 5);
    assert_eq!(pv.len(), 2);
    assert_eq!(pv[0].clone().unwrap()[3], "2023-04-22 14:04:00");
}
