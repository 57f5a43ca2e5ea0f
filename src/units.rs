//! Numbers in words, the same everywhere lbimport prints them: counts with thousands
//! separators, sizes in decimal units, the part limit. Depends only on [`crate::spec`].

/// `1234567` → `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `1.2 MB`-style size (decimal units, like the service's limits).
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    if n < 1000 {
        return format!("{n} B");
    }
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if v < 10.0 {
        format!("{v:.2} {}", UNITS[u])
    } else if v < 100.0 {
        format!("{v:.1} {}", UNITS[u])
    } else {
        format!("{v:.0} {}", UNITS[u])
    }
}

/// A part limit in words: `1 GB` for the default (10^9 bytes, [`crate::spec::PART_BYTES`]),
/// else like [`bytes`].
pub fn part_limit(limit: u64) -> String {
    if limit == crate::spec::PART_BYTES {
        "1 GB".to_string()
    } else {
        bytes(limit)
    }
}
