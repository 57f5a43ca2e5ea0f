//! Detection on varied real-looking samples.

use std::io::Write;

use lbimport::mapping::Source;
use lbimport::mapping::detect::{DayMonth, Role, detect_bytes, detect_path};
use lbimport::read::Format;

fn roles(d: &lbimport::mapping::detect::Detection) -> Vec<Role> {
    d.columns.iter().map(|c| c.role).collect()
}

#[test]
fn semicolons_header_day_month_leading_zeros() {
    let src = "\u{feff}Datum;Order ID;Customer;SKU;Price\n\
               22/04/2023 15:04;000123;77;/p/123;12,50\n\
               22/04/2023 15:04;000123;77;/p/234;3,00\n\
               01/03/2023 09:00;000124;;/p/123;12,50\n\
               13/03/2023 10:30;000125;78;/p/9;1,00\n";
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("export.csv");
    std::fs::write(&p, src).unwrap();
    let d = detect_path(&p).unwrap();
    assert_eq!(d.format, Format::Csv);
    assert_eq!(d.delimiter, ';');
    assert!(d.header);
    assert!(d.bom);
    assert_eq!(d.encoding, "utf-8 with BOM");
    assert_eq!(d.headers, ["Datum", "Order ID", "Customer", "SKU", "Price"]);
    assert_eq!(
        roles(&d),
        [
            Role::CreatedAt,
            Role::OrderId,
            Role::UserId,
            Role::Identity,
            Role::Other
        ]
    );
    assert_eq!(d.columns[0].time_format.as_deref(), Some("%d/%m/%Y %H:%M"));
    assert_eq!(d.day_month, DayMonth::DayFirst);
    assert!(d.columns[1].confidence >= 0.9);
    assert!(d.columns[1].reason.contains("leading zeros kept"));
    assert_eq!(d.mapping.order_id, Source::Column(1));
    assert_eq!(d.mapping.identity, Source::Column(3));
    assert_eq!(d.mapping.user_id, Some(Source::Column(2)));
    assert_eq!(d.mapping.created_at, Some(Source::Column(0)));
    assert_eq!(d.mapping.delimiter, ';');
    assert!(d.mapping.header);
    assert!(!d.fits);
    assert_eq!(d.sample.len(), 4);
    assert_eq!(d.sample[0][1], "000123");
    assert_eq!(d.shape, "csv;semicolon;5;datum,order_id,customer,sku,price");
}

#[test]
fn month_first_and_undecided() {
    let mf = "order,product,date\n1,/p/1,04/22/2023 10:00\n1,/p/2,04/23/2023 10:00\n";
    let d = detect_bytes(mf.as_bytes(), true, false);
    assert_eq!(d.day_month, DayMonth::MonthFirst);
    assert_eq!(d.columns[2].time_format.as_deref(), Some("%m/%d/%Y %H:%M"));
    let und = "order,product,date\n1,/p/1,04/02/2023 10:00\n1,/p/2,05/03/2023 10:00\n";
    let d = detect_bytes(und.as_bytes(), true, false);
    assert_eq!(d.day_month, DayMonth::Undecided);
    assert!(d.notes.iter().any(|n| n.contains("day/month")));
}

#[test]
fn tab_separated_with_extra_columns() {
    let src = "invoice_no\tqty\tproduct_code\tunit price\tclient id\tcreated_at\tdescription\n\
               INV-1\t2\tAB-12\t9.90\tc-1\t2023-04-22 15:04:30\tRed shoe, size 42\n\
               INV-1\t1\tAB-13\t19.90\tc-1\t2023-04-22 15:04:30\tHat\n\
               INV-2\t1\tZX-99\t5.00\tc-2\t2023-04-23 08:00:00\tSocks\n";
    let d = detect_bytes(src.as_bytes(), true, false);
    assert_eq!(d.delimiter, '\t');
    assert!(d.header);
    assert_eq!(d.columns.len(), 7);
    assert_eq!(
        roles(&d),
        [
            Role::OrderId,
            Role::Other,
            Role::Identity,
            Role::Other,
            Role::UserId,
            Role::CreatedAt,
            Role::Other
        ]
    );
    assert_eq!(d.mapping.order_id, Source::Column(0));
    assert_eq!(d.mapping.identity, Source::Column(2));
    assert_eq!(d.mapping.user_id, Some(Source::Column(4)));
    assert_eq!(d.mapping.created_at, Some(Source::Column(5)));
    assert_eq!(d.day_month, DayMonth::NotApplicable);
    assert_eq!(d.shape.split(';').nth(1), Some("tab"));
}

#[test]
fn headerless_in_another_order() {
    // created_at, identity, user, order — users buy in several orders
    let src = "2023-04-22 15:04:30,/p/1,u1,o1\n\
               2023-04-22 15:04:31,/p/2,u1,o1\n\
               2023-04-23 10:00:00,/p/3,u1,o2\n\
               2023-04-23 10:00:01,/p/1,u1,o2\n\
               2023-04-24 11:00:00,/p/5,u2,o3\n\
               2023-04-24 11:00:02,/p/6,u2,o3\n\
               2023-04-25 12:00:00,/p/7,u2,o4\n";
    let d = detect_bytes(src.as_bytes(), true, false);
    assert_eq!(d.delimiter, ',');
    assert!(!d.header);
    assert!(d.headers.is_empty());
    assert_eq!(
        roles(&d),
        [Role::CreatedAt, Role::Identity, Role::UserId, Role::OrderId]
    );
    assert_eq!(d.mapping.order_id, Source::Column(3));
    assert_eq!(d.mapping.user_id, Some(Source::Column(2)));
    assert!(!d.fits);
    assert_eq!(d.shape, "csv;comma;4;");
}

#[test]
fn documented_layout_fits_and_zoned_does_not() {
    let ok = "1,/p/123,4,\"2023-04-22 15:04:30.12312\"\n1,/p/234,4,\"2023-04-22 15:01:33.12345\"\n2,/p/123,3\n";
    let d = detect_bytes(ok.as_bytes(), true, false);
    assert!(d.fits);
    let zoned = "1,/p/123,4,2023-04-22T15:04:30Z\n1,/p/234,4,2023-04-22T15:01:33Z\n";
    let d = detect_bytes(zoned.as_bytes(), true, false);
    assert!(!d.fits);
    assert_eq!(d.columns[3].time_format.as_deref(), Some("iso8601"));
    let two = "1,/p/1\n1,/p/2\n2,/p/3\n";
    let d = detect_bytes(two.as_bytes(), true, false);
    assert!(d.fits);
    assert_eq!(d.mapping.user_id, None);
}

#[test]
fn epoch_milliseconds_and_seconds() {
    let ms = "order|sku|time\n1|A-1|1682175870123\n1|A-2|1682175870999\n2|B-7|1682262270000\n";
    let d = detect_bytes(ms.as_bytes(), true, false);
    assert_eq!(d.delimiter, '|');
    assert_eq!(d.columns[2].role, Role::CreatedAt);
    assert_eq!(d.columns[2].time_format.as_deref(), Some("epoch_ms"));
    let s = "10,/p/1,1682175870\n10,/p/2,1682175871\n11,/p/3,1682262270\n";
    let d = detect_bytes(s.as_bytes(), true, false);
    assert_eq!(d.columns[2].role, Role::CreatedAt);
    assert_eq!(d.columns[2].time_format.as_deref(), Some("epoch_s"));
    assert_eq!(d.mapping.created_at, Some(Source::Column(2)));
    assert_eq!(d.mapping.user_id, None);
}

#[test]
fn iso_with_offsets_in_several_zones() {
    let src = "id;item;when\n\
               1;/p/1;2024-03-31T01:59:59+01:00\n\
               1;/p/2;2024-03-31T03:00:00+02:00\n\
               2;/p/3;2024-10-27T02:30:00+02:00\n\
               2;/p/4;2024-10-27T02:30:00+01:00\n\
               3;/p/5;2024-03-10T01:59:00-05:00\n\
               3;/p/6;2024-03-10T03:00:00-04:00\n\
               4;/p/7;2024-06-01T12:00:00+05:30\n\
               4;/p/8;2024-06-01T12:00:00Z\n";
    let d = detect_bytes(src.as_bytes(), true, false);
    assert!(d.header);
    assert_eq!(d.delimiter, ';');
    assert_eq!(d.columns[2].role, Role::CreatedAt);
    assert_eq!(d.columns[2].time_format.as_deref(), Some("iso8601"));
    assert_eq!(d.columns[1].role, Role::Identity);
    assert_eq!(d.columns[0].role, Role::OrderId);
}

#[test]
fn json_lines_with_other_keys() {
    let src = "{\"basket\":\"b1\",\"sku\":\"A1\",\"customer\":\"c1\",\"ts\":\"2023-04-22T15:04:30Z\",\"price\":3.5}\n\
               {\"basket\":\"b1\",\"sku\":\"A2\",\"customer\":\"c1\",\"ts\":\"2023-04-22T15:04:31Z\",\"price\":1}\n";
    let d = detect_bytes(src.as_bytes(), true, false);
    assert_eq!(d.format, Format::Json);
    assert_eq!(d.headers, ["basket", "sku", "customer", "ts", "price"]);
    assert_eq!(d.mapping.order_id, Source::Key("basket".into()));
    assert_eq!(d.mapping.identity, Source::Key("sku".into()));
    assert_eq!(d.mapping.user_id, Some(Source::Key("customer".into())));
    assert_eq!(d.mapping.created_at, Some(Source::Key("ts".into())));
    assert_eq!(d.sample[1][1], "A2");
    assert!(!d.fits);
    assert_eq!(d.shape, "json;5;basket,customer,price,sku,ts");
    let documented = "{\"session_id\": \"1\",\"identity\": \"/p/123\",\"user_id\": \"4\", \"created_at\": \"2023-04-22 15:04:30.12312\"}\n{\"session_id\": \"2\",\"identity\": \"/p/345\",\"user_id\": \"3\"}\n";
    let d = detect_bytes(documented.as_bytes(), true, false);
    assert!(d.fits);
    assert_eq!(d.mapping.order_id, Source::Key("session_id".into()));
}

#[test]
fn bounded_sample_of_a_large_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("big.csv");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&p).unwrap());
    writeln!(f, "order;sku;user").unwrap();
    for i in 0..100_000 {
        writeln!(f, "{};SKU-{};{}", i / 3, i % 977, i / 30).unwrap();
    }
    drop(f);
    let d = detect_path(&p).unwrap();
    assert_eq!(d.sample.len(), 20);
    assert_eq!(d.delimiter, ';');
    assert_eq!(roles(&d), [Role::OrderId, Role::Identity, Role::UserId]);
}

#[test]
fn utf16_is_reported_and_read() {
    let d = detect_bytes(
        b"\xFF\xFE1\0,\0/\0p\0/\x001\0\n\x001\0,\0/\0p\0/\x002\0\n\0",
        true,
        false,
    );
    assert_eq!(d.encoding, "utf-16le (BOM)");
    assert!(!d.fits, "it needs converting to UTF-8");
    assert_eq!(d.mapping.encoding.as_deref(), Some("utf-16le"));
    assert!(
        d.notes.iter().any(|n| n.contains("output is UTF-8")),
        "{:?}",
        d.notes
    );
    assert_eq!(d.sample[1], ["1", "/p/2"]);
}

#[test]
fn shop_platform_style_export() {
    let src = "Name,Email,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem sku\n\
               #1001,ann@example.com,2023-04-22 15:04:30 +0200,1,Red shoe,9.90,RS-42\n\
               #1001,ann@example.com,2023-04-22 15:04:30 +0200,2,Hat,19.90,HT-1\n\
               #1002,bob@example.com,2023-04-23 08:00:00 +0200,1,Socks,5.00,SK-3\n";
    let d = detect_bytes(src.as_bytes(), true, false);
    assert!(d.header);
    assert_eq!(d.delimiter, ',');
    assert_eq!(
        roles(&d),
        [
            Role::OrderId,
            Role::UserId,
            Role::CreatedAt,
            Role::Other,
            Role::Other,
            Role::Other,
            Role::Identity
        ]
    );
    assert_eq!(d.columns[2].time_format.as_deref(), Some("iso8601"));
    let p = d.preview(&d.mapping, 3);
    assert_eq!(
        p[0].clone().unwrap(),
        [
            "#1001".to_string(),
            "RS-42".into(),
            "ann@example.com".into(),
            "2023-04-22 13:04:30".into()
        ]
    );
}

#[test]
fn headerless_skus_are_not_a_header() {
    let src = "o1;AB-12;u1\no1;AB-13;u1\no2;CD-1;u2\no3;AB-12;u1\n";
    let d = detect_bytes(src.as_bytes(), true, false);
    assert!(!d.header);
    assert_eq!(d.sample.len(), 4);
    assert_eq!(roles(&d), [Role::OrderId, Role::Identity, Role::UserId]);
    // and a header above the same data is one
    let d = detect_bytes(format!("basket;item;buyer\n{src}").as_bytes(), true, false);
    assert!(d.header);
    assert_eq!(d.sample.len(), 4);
    assert_eq!(roles(&d), [Role::OrderId, Role::Identity, Role::UserId]);
}

/// Detection ("does this file already fit the documented layout?") and the validator share
/// one created_at grammar: for every timestamp, a file made of it fits exactly when the
/// validator finds no error in it.
#[test]
fn detection_and_validation_agree_on_every_timestamp() {
    let stamps = [
        ("2023-04-22 15:04:30", true),
        ("2023-04-22T15:04:30", true),
        ("2023-04-22 15:04:30.1", true),
        ("2023-04-22 15:04:30.123456", true),
        ("2023-04-22T15:04:30.5", true),
        ("2024-02-29 00:00:00", true),
        ("2023-4-2 9:04:30", false),
        ("2023-04-22 9:04:30", false),
        ("2023-04-22 15:04:30.1234567", false),
        ("2023-04-22 15:04", false),
        ("2023-04-22", false),
        ("2023-02-30 10:00:00", false),
        ("2023-04-22 24:00:00", false),
        ("2023-04-22 15:04:30Z", false),
        ("2023-04-22 15:04:30+02:00", false),
        ("2023-04-22 15:04:30.", false),
        ("22/04/2023 15:04:30", false),
        ("2023/04/22 15:04:30", false),
        ("1682175870", false),
        ("2023-04-22 15:04:30 ", false),
    ];
    let dir = tempfile::tempdir().expect("tempdir");
    for (t, accepted) in stamps {
        let body: String = (0..6)
            .map(|i| format!("{},/p/{},u{},{t}\n", 100 + i / 2, i, i / 2))
            .collect();
        let p = dir.path().join("t.csv");
        std::fs::write(&p, &body).expect("write");
        let d = detect_bytes(body.as_bytes(), true, false);
        let report =
            lbimport::validate::validate_path(&p, &Default::default(), None).expect("validate");
        assert_eq!(
            !report.has_errors(),
            accepted,
            "{t:?}: validator {:?}",
            report.issues
        );
        assert_eq!(d.fits, accepted, "{t:?}: detection says fits={}", d.fits);
    }
}

/// An export sorted by date whose head is all ambiguous (1–12 March): the day/month order is
/// settled by lines further down, from a sample spread over the whole file.
#[test]
fn day_month_is_settled_by_lines_past_the_head() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (month_first, want) in [(true, DayMonth::MonthFirst), (false, DayMonth::DayFirst)] {
        let mut s = String::from("Order,SKU,Customer,Date\n");
        let mut order = 1000;
        for day in 1..=31u32 {
            for k in 0..200u32 {
                let date = if month_first {
                    format!("3/{day}/2024 {:02}:{:02}", k % 24, k % 60)
                } else {
                    format!("{day}/3/2024 {:02}:{:02}", k % 24, k % 60)
                };
                for item in 0..2 {
                    s.push_str(&format!(
                        "{order},SKU-{},{},{date}\n",
                        (order * 7 + item) % 500,
                        order % 300
                    ));
                }
                order += 1;
            }
        }
        let p = dir.path().join("sorted.csv");
        std::fs::write(&p, &s).expect("write");
        assert!(s.len() > 4 * 64 * 1024, "the head alone can't settle it");
        let d = detect_path(&p).expect("detect");
        assert_eq!(d.day_month, want, "{:#?}", d.notes);
        let fmt = d.mapping.time_format.clone().expect("format");
        assert_eq!(
            fmt,
            if month_first {
                "%m/%d/%Y %H:%M"
            } else {
                "%d/%m/%Y %H:%M"
            }
        );
        assert!(
            d.notes.iter().any(|n| n.contains("settles it")),
            "{:#?}",
            d.notes
        );
        // 3/1 is 1 March either way it is written.
        let mut c = lbimport::mapping::time::TimeConverter::from_mapping(Some(&fmt), Some("UTC"))
            .expect("converter");
        let v = if month_first {
            "3/1/2024 08:03"
        } else {
            "1/3/2024 08:03"
        };
        assert_eq!(
            lbimport::mapping::time::format_naive(&c.convert(v).expect("convert")),
            "2024-03-01 08:03:00"
        );
    }
}

/// Header names with digits (Shopify's `Billing Address1`, WooCommerce's `Tax 1 Name`) are a
/// header, not a purchase.
#[test]
fn header_names_with_digits_are_a_header() {
    let src = "Name,Email,Lineitem sku,Billing Address1,Tax 1 Name,Created at\n\
               #1001,a@example.com,SKU-1,Main St 1,VAT 20%,2024-03-01 10:00:00 +0100\n\
               #1001,a@example.com,SKU-2,Main St 1,VAT 20%,2024-03-01 10:00:00 +0100\n\
               #1002,b@example.com,SKU-1,High St 9,VAT 20%,2024-03-02 11:00:00 +0100\n";
    let d = detect_bytes(src.as_bytes(), true, false);
    assert!(d.header, "{d:#?}");
    assert_eq!(d.headers[3], "Billing Address1");
    assert_eq!(d.mapping.identity, Source::Column(2));
}

/// A column named like an identity whose values differ on every row is a line-item id, not the
/// product; an empty column named like a URL is not used.
#[test]
fn names_are_believed_only_when_the_values_agree() {
    let mut src = String::from("order_id,item_id,url,sku,customer,quantity\n");
    for o in 0..40 {
        for i in 0..2 {
            src.push_str(&format!(
                "{},{},,P-{},C{},{}\n",
                500 + o,
                9000 + o * 2 + i,
                (o * 3 + i) % 17,
                o % 11,
                1 + i
            ));
        }
    }
    let d = detect_bytes(src.as_bytes(), true, false);
    assert_eq!(d.mapping.order_id, Source::Column(0));
    assert_eq!(d.mapping.identity, Source::Column(3), "{:#?}", d.notes);
    assert_eq!(d.mapping.user_id, Some(Source::Column(4)));
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("\"url\"") && n.contains("empty")),
        "{:#?}",
        d.notes
    );
}

#[test]
fn json_lines_with_nothing_to_sample_read_the_documented_keys() {
    let documented = |d: &lbimport::mapping::detect::Detection| {
        d.mapping.order_id == Source::Key("order_id".into())
            && d.mapping.identity == Source::Key("identity".into())
            && d.mapping.user_id == Some(Source::Key("auth_user_id".into()))
            && d.mapping.created_at == Some(Source::Key("created_at".into()))
    };
    // an empty file, a BOM only, and a first line longer than the sample (cut, incomplete)
    let long = format!(
        "{{\"order_id\":\"1\",\"identity\":\"/p/1\",\"pad\":\"{}\"}}\n",
        "p".repeat(70_000)
    );
    let head = &long.as_bytes()[..lbimport::mapping::detect::SAMPLE_BYTES];
    for (name, bytes, complete) in [
        ("empty", &b""[..], true),
        ("bom", &b"\xEF\xBB\xBF"[..], true),
        ("long first line", head, false),
    ] {
        let d = detect_bytes(bytes, complete, true);
        assert_eq!(d.format, Format::Json, "{name}");
        assert!(documented(&d), "{name}: {:?}", d.mapping);
        assert!(
            d.fits,
            "{name}: nothing to convert, validation judges the lines"
        );
        assert!(lbimport::pipeline::prepare::check_distinct(&d.mapping).is_ok());
    }
    // garbage named .json: JSON lines, documented keys, and it does not fit
    let d = detect_bytes(b"\x00\x01garbage\nmore, garbage\n", true, true);
    assert_eq!(d.format, Format::Json);
    assert!(documented(&d), "{:?}", d.mapping);
    assert!(!d.fits);
    assert!(
        d.notes
            .iter()
            .any(|n| n.contains("2 sampled lines are not JSON objects"))
    );
}
