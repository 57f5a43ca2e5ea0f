//! The hostile corpus: inputs a careless or malicious world hands to lbimport, built in a
//! temporary directory. Sizes are small so that the whole corpus runs in CI in seconds, but each
//! input still crosses the limit it is about (line cap, field cap, nesting, encodings…).

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// How an input is put on disk.
pub enum Make {
    /// A regular file with these bytes.
    Bytes(Vec<u8>),
    /// A named pipe nobody writes to.
    Fifo,
    /// A directory (with one valid file inside, so that "empty directory" is not the only case).
    Dir,
    /// An existing device node, used as is.
    Device(&'static str),
    /// A regular file with these bytes and mode 000.
    Unreadable(Vec<u8>),
    /// A symbolic link to nowhere.
    Dangling,
    /// A regular file that a thread keeps appending valid rows to while the commands run.
    Growing,
}

/// One input of the corpus.
pub struct Case {
    /// Short name, also the file name stem.
    pub name: &'static str,
    /// File name extension (decides CSV or JSON lines by default).
    pub ext: &'static str,
    /// How to make it.
    pub make: Make,
}

impl Case {
    fn bytes(name: &'static str, ext: &'static str, b: impl Into<Vec<u8>>) -> Case {
        Case {
            name,
            ext,
            make: Make::Bytes(b.into()),
        }
    }

    /// The file name of this case in the corpus directory.
    pub fn file_name(&self) -> String {
        format!("{}.{}", self.name, self.ext)
    }

    /// Create the input under `dir` and return its path.
    pub fn create(&self, dir: &Path) -> PathBuf {
        let p = dir.join(self.file_name());
        match &self.make {
            Make::Bytes(b) | Make::Unreadable(b) => {
                std::fs::write(&p, b).expect("write case");
                if let Make::Unreadable(_) = self.make {
                    use std::os::unix::fs::PermissionsExt as _;
                    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000))
                        .expect("chmod");
                }
            }
            Make::Fifo => {
                let c = std::ffi::CString::new(p.as_os_str().as_encoded_bytes()).expect("path");
                // SAFETY: a valid NUL-terminated path; mkfifo does not keep the pointer.
                let rc = unsafe { libc::mkfifo(c.as_ptr(), 0o600) };
                assert_eq!(rc, 0, "mkfifo {}", p.display());
            }
            Make::Dir => {
                std::fs::create_dir(&p).expect("mkdir");
                std::fs::write(p.join("inside.csv"), VALID).expect("write");
            }
            Make::Device(dev) => return PathBuf::from(dev),
            Make::Dangling => {
                std::os::unix::fs::symlink(dir.join("nowhere-at-all.csv"), &p).expect("symlink");
            }
            Make::Growing => {
                std::fs::write(&p, VALID).expect("write");
            }
        }
        p
    }
}

/// A small valid file in the documented layout.
pub const VALID: &str = "\
    1,/p/1,u1,2023-04-22 15:04:30\n\
    1,/p/2,u1,2023-04-22 15:04:30\n\
    2,/p/3,u2,2023-04-21 00:04:38\n";

/// Append valid rows to `path` every few milliseconds until `stop` is set (at most ~4 MB).
pub fn keep_growing(path: PathBuf, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open growing");
    let mut n = 10u64;
    while !stop.load(std::sync::atomic::Ordering::Relaxed) && n < 100_000 {
        let mut chunk = String::new();
        for _ in 0..40 {
            chunk.push_str(&format!("{n},/p/{n},u{n},2023-04-22 15:04:30\n"));
            n += 1;
        }
        let _ = f.write_all(chunk.as_bytes());
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
}

fn utf16(s: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let units = (if bom { "\u{feff}" } else { "" })
        .encode_utf16()
        .chain(s.encode_utf16());
    for u in units {
        if big_endian {
            out.extend_from_slice(&u.to_be_bytes());
        } else {
            out.extend_from_slice(&u.to_le_bytes());
        }
    }
    out
}

fn repeat(s: &str, n: usize) -> String {
    s.repeat(n)
}

/// A tiny deterministic generator (xorshift) for the random-bytes cases.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A gzip member holding `data` (stored, not compressed: the header and framing are what a
/// reader sees first).
fn gzip_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    // one final stored deflate block
    let len = data.len().min(65535) as u16;
    out.push(1);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&(!len).to_le_bytes());
    out.extend_from_slice(&data[..len as usize]);
    out.extend_from_slice(&[0; 8]); // crc and size are not checked by anything here
    out
}

/// Every input of the corpus.
pub fn all() -> Vec<Case> {
    let latin1: Vec<u8> =
        b"order_id,identity\n1,/p/caf\xe9\n1,/p/na\xefve\n2,/p/\xa3\xa9\n".to_vec();
    let body = "1,/p/1,u1\n1,/p/2,u1\n2,/p/3,u2\n";
    let esc_ids = "order_id,identity,user_id,created_at\n\
        \x1b[2J\x1b[H1,/p/\x1b]0;pwned\x07title,\x1b[?1049hu1,2023-04-22 15:04:30\n\
        \x1b[2J\x1b[H1,/p/\x1b[6n,\x1b[?25lu1,2023-04-22 15:04:30\n\
        2,/p/\x1bP+q\x1b\\dcs,u2\x1b[31m,2023-04-22 15:04:30\n\
        3,/p/\u{9b}31mc1,u3,2023-04-22 15:04:30\n";
    let esc_json = "{\"order_id\":\"1\x1b[2J\",\"identity\":\"/p/\\u001b]0;pwned\\u0007\"}\n\
        {\"order_id\":\"1\x1b[2J\",\"identity\":\"/p/\\u001b[?1049h\",\"auth_user_id\":\"\\u001b[6n\"}\n";
    let deep = |n: usize| {
        format!(
            "{{\"order_id\":\"1\",\"identity\":\"/p/1\",\"x\":{}1{}}}\n",
            "[".repeat(n),
            "]".repeat(n)
        )
    };
    let deep_obj = |n: usize| {
        format!(
            "{{\"order_id\":\"1\",\"identity\":\"/p/1\",\"x\":{}1{}}}\n",
            "{\"a\":".repeat(n),
            "}".repeat(n)
        )
    };
    let long_field = format!("1,/p/{},u1\n2,/p/2,u2\n", "x".repeat(300_000));
    let giant_line = format!("1,/p/1,u1\n2,/p/{}\n3,/p/3,u3\n", "y,".repeat(1_200_000));
    let giant_first = format!("{}\n1,/p/1\n", "z".repeat(2_000_000));
    let big_json_first = format!(
        "{{\"order_id\":\"1\",\"identity\":\"/p/1\",\"pad\":\"{}\"}}\n{{\"order_id\":\"1\",\"identity\":\"/p/2\"}}\n",
        "p".repeat(70_000)
    );
    let json_10mb_string = format!("\"{}\"\n", "s".repeat(3_000_000));
    let many_cols = format!(
        "{}\n",
        (0..20_000)
            .map(|i| format!("c{i}"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let many_orders: String = (0..20_000).map(|i| format!("{i},/p/{i}\n")).collect();
    let one_order: String = (0..20_000).map(|i| format!("7,/p/{i}\n")).collect();
    let unclosed =
        "order_id,identity\n1,\"/p/1\n2,/p/2\n3,/p/3\n".to_string() + &repeat("4,/p/4\n", 1000);

    vec![
        // emptiness
        Case::bytes("empty", "csv", ""),
        Case::bytes("empty_json", "json", ""),
        Case::bytes("empty_jsonl", "jsonl", ""),
        Case::bytes("bom_only", "csv", "\u{feff}"),
        Case::bytes("bom_only_json", "json", "\u{feff}"),
        Case::bytes("newline_only", "csv", "\n"),
        Case::bytes("newlines_only", "csv", "\n\n\n\r\n\r\n"),
        Case::bytes(
            "header_only",
            "csv",
            "order_id,identity,user_id,created_at\n",
        ),
        Case::bytes("header_only_no_nl", "csv", "order_id,identity"),
        Case::bytes("spaces_only", "csv", "   \n \t \n"),
        // encodings
        Case::bytes("utf16le_bom", "csv", utf16(VALID, false, true)),
        Case::bytes("utf16be_bom", "csv", utf16(VALID, true, true)),
        Case::bytes("utf16le_nobom", "csv", utf16(VALID, false, false)),
        Case::bytes("utf16be_nobom", "csv", utf16(VALID, true, false)),
        Case::bytes(
            "utf16le_json",
            "json",
            utf16("{\"order_id\":\"1\",\"identity\":\"/p/1\"}\n", false, true),
        ),
        Case::bytes("latin1", "csv", latin1),
        Case::bytes(
            "invalid_utf8",
            "csv",
            b"1,/p/\xff\xfe\n1,/p/\xc3\x28\n2,/p/\xed\xa0\x80\n".to_vec(),
        ),
        Case::bytes(
            "invalid_utf8_json",
            "json",
            b"{\"order_id\":\"1\",\"identity\":\"/p/\xff\"}\n".to_vec(),
        ),
        Case::bytes("utf8_bom_twice", "csv", format!("\u{feff}\u{feff}{body}")),
        Case::bytes("utf32le_bom", "csv", {
            let mut v = vec![0xff, 0xfe, 0, 0];
            for c in body.chars() {
                v.extend_from_slice(&(c as u32).to_le_bytes());
            }
            v
        }),
        // NULs and binary
        Case::bytes("nul_in_ids", "csv", "1,/p/\x001,u\0\n1\0,/p/2,u1\n"),
        Case::bytes("all_nul", "csv", vec![0u8; 100_000]),
        Case::bytes(
            "nul_json",
            "json",
            "{\"order_id\":\"1\0\",\"identity\":\"/p/\u{0}\"}\n\0\0\0\n",
        ),
        Case::bytes("noise", "csv", noise(1, 200_000)),
        Case::bytes("noise_json", "json", noise(2, 200_000)),
        Case::bytes(
            "noise_no_newline",
            "csv",
            noise(3, 3_000_000)
                .into_iter()
                .map(|b| if b == b'\n' { b'a' } else { b })
                .collect::<Vec<u8>>(),
        ),
        Case::bytes("gzip_csv", "csv", gzip_stored(VALID.as_bytes())),
        Case::bytes("gzip_gz", "gz", gzip_stored(VALID.as_bytes())),
        Case::bytes(
            "zip_magic",
            "csv",
            b"PK\x03\x04\x14\0\0\0\x08\0rest of a zip".to_vec(),
        ),
        Case::bytes(
            "xlsx_named_csv",
            "csv",
            noise(9, 5000)
                .into_iter()
                .chain(b"PK\x05\x06".iter().copied())
                .collect::<Vec<u8>>(),
        ),
        // line endings
        Case::bytes(
            "cr_only",
            "csv",
            "order_id,identity\r1,/p/1\r1,/p/2\r2,/p/3\r",
        ),
        Case::bytes(
            "cr_only_json",
            "json",
            "{\"order_id\":\"1\",\"identity\":\"/p/1\"}\r{\"order_id\":\"1\",\"identity\":\"/p/2\"}\r",
        ),
        Case::bytes(
            "mixed_endings",
            "csv",
            "1,/p/1\r\n1,/p/2\n2,/p/3\r2,/p/4\n\r",
        ),
        Case::bytes("no_final_newline", "csv", "1,/p/1\n2,/p/2"),
        Case::bytes("lone_cr_end", "csv", "1,/p/1\n2,/p/2\r"),
        // quotes
        Case::bytes("unclosed_quote", "csv", unclosed),
        Case::bytes("unclosed_quote_eof", "csv", "1,/p/1\n2,\"/p/2"),
        Case::bytes("quote_in_middle", "csv", "1,/p/\"1\",u1\n2,\"/p/\"2\",u2\n"),
        Case::bytes(
            "quoted_newlines",
            "csv",
            "1,\"/p/\n1\",u1\n2,\"/p/\r\n2\",u2\n",
        ),
        Case::bytes("only_quotes", "csv", "\"\"\"\"\"\"\"\"\"\n\"\n"),
        // giant lines and fields
        Case::bytes("long_field", "csv", long_field),
        Case::bytes("giant_line", "csv", giant_line),
        Case::bytes("giant_first_line", "csv", giant_first),
        Case::bytes("big_json_first_line", "json", big_json_first),
        Case::bytes("json_giant_string", "json", json_10mb_string),
        Case::bytes("many_columns", "csv", many_cols),
        Case::bytes("many_orders", "csv", many_orders),
        Case::bytes("one_big_order", "csv", one_order),
        // separators and shapes
        Case::bytes(
            "semicolons",
            "csv",
            "order_id;identity;user_id\n1;/p/1;u1\n2;/p/2;u2\n",
        ),
        Case::bytes("tabs", "csv", "order_id\tidentity\n1\t/p/1\n2\t/p/2\n"),
        Case::bytes("one_column", "csv", "1\n2\n3\n"),
        Case::bytes("ragged", "csv", "1,/p/1\n2\n3,/p/3,u,t,x,y\n,\n,,,,\n"),
        Case::bytes("empty_ids", "csv", ",\n,\n,/p/1\n1,\n"),
        Case::bytes(
            "whitespace_ids",
            "csv",
            " 1 ,\u{a0}/p/1\u{3000}\n\t2\t,/p/2 \n",
        ),
        // escape sequences
        Case::bytes("escapes_csv", "csv", esc_ids),
        Case::bytes("escapes_json", "json", esc_json),
        Case::bytes(
            "bidi_ids",
            "csv",
            "1,/p/\u{202e}gnp.exe\n2,/p/\u{2066}x\u{2069}\n",
        ),
        // JSON oddities
        Case::bytes("json_deep_array", "json", deep(100_000)),
        Case::bytes("json_deep_object", "json", deep_obj(50_000)),
        Case::bytes(
            "json_dup_keys",
            "json",
            "{\"order_id\":\"1\",\"identity\":\"/p/1\",\"identity\":\"/p/2\"}\n{\"order_id\":\"2\",\"order_id\":\"3\",\"identity\":\"/p/3\"}\n",
        ),
        Case::bytes(
            "json_huge_numbers",
            "json",
            "{\"order_id\":1e999999,\"identity\":123456789012345678901234567890}\n{\"order_id\":-0.0,\"identity\":1e-400}\n{\"order_id\":18446744073709551616,\"identity\":\"/p/1\",\"created_at\":9223372036854775808}\n",
        ),
        Case::bytes("json_not_objects", "json", "[1,2]\n\"x\"\n3\nnull\ntrue\n"),
        Case::bytes(
            "json_truncated",
            "json",
            "{\"order_id\":\"1\",\"identity\":\"/p/1\"}\n{\"order_id\":\"2\",\"ident",
        ),
        Case::bytes(
            "json_one_document",
            "json",
            "[\n {\"order_id\":\"1\",\"identity\":\"/p/1\"},\n {\"order_id\":\"1\",\"identity\":\"/p/2\"}\n]\n",
        ),
        Case::bytes(
            "json_bad_escapes",
            "json",
            "{\"order_id\":\"\\ud800\",\"identity\":\"/p/\\uZZZZ\"}\n{\"order_id\":\"\\udc00\\ud800\",\"identity\":\"\\\"}\n",
        ),
        Case::bytes(
            "json_in_csv",
            "csv",
            "{\"order_id\":\"1\",\"identity\":\"/p/1\"}\n",
        ),
        Case::bytes("csv_in_json", "json", VALID),
        Case::bytes(
            "json_huge_timestamps",
            "json",
            "{\"order_id\":\"1\",\"identity\":\"/p/1\",\"created_at\":\"99999999999999999999\"}\n{\"order_id\":\"1\",\"identity\":\"/p/2\",\"created_at\":-9223372036854775808}\n",
        ),
        Case::bytes(
            "csv_huge_timestamps",
            "csv",
            "1,/p/1,u,99999999999999999999999\n1,/p/2,u,-9223372036854775808\n2,/p/3,u,9999-99-99 99:99:99\n3,/p/4,u,+275760-09-13T00:00:00Z\n",
        ),
        // file system oddities
        Case {
            name: "fifo",
            ext: "csv",
            make: Make::Fifo,
        },
        Case {
            name: "directory",
            ext: "csv",
            make: Make::Dir,
        },
        Case {
            name: "dev_zero",
            ext: "csv",
            make: Make::Device("/dev/zero"),
        },
        Case {
            name: "dev_null",
            ext: "csv",
            make: Make::Device("/dev/null"),
        },
        Case {
            name: "dev_urandom",
            ext: "csv",
            make: Make::Device("/dev/urandom"),
        },
        Case {
            name: "unreadable",
            ext: "csv",
            make: Make::Unreadable(VALID.as_bytes().to_vec()),
        },
        Case {
            name: "dangling_link",
            ext: "csv",
            make: Make::Dangling,
        },
        Case {
            name: "growing",
            ext: "csv",
            make: Make::Growing,
        },
        Case::bytes("name with spaces", "csv", VALID),
        Case::bytes("name_\u{1b}[31m_escape", "csv", VALID),
        Case::bytes("bad_name_\u{1b}]0;x\u{7}", "csv", "1\n"),
        Case {
            name: "fifo_\u{1b}[2J_name",
            ext: "csv",
            make: Make::Fifo,
        },
        Case::bytes("valid", "csv", VALID),
    ]
}
