//! Making server answers safe to show, and explaining statuses in plain words.

/// The most bytes of a server body that are kept and shown.
pub const MAX_BODY_SHOWN: usize = 4096;

/// The first [`MAX_BODY_SHOWN`] bytes of a server body as text that is safe to print on a
/// terminal: invalid UTF-8 replaced, ANSI/VT escape sequences (CSI, OSC, DCS, …) and other
/// control characters removed (newlines and tabs kept, CR dropped). A cut body ends in `…`.
pub fn clean_body_for_display(body: &[u8]) -> String {
    let cut = body.len() > MAX_BODY_SHOWN;
    let head = &body[..body.len().min(MAX_BODY_SHOWN)];
    let text = String::from_utf8_lossy(head);
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            // 8-bit C1 introducers: CSI, OSC, DCS, SOS, PM, APC
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => {}
            // bidi overrides could reorder what the user reads
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            c => out.push(c),
        }
    }
    if cut {
        out.push('…');
    }
    out
}

fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']') | Some('P') | Some('X') | Some('^') | Some('_') => skip_string(chars),
        // ESC followed by intermediates then a final byte (e.g. ESC ( B)
        Some(c) if ('\u{20}'..='\u{2f}').contains(&c) => {
            while let Some(&n) = chars.peek() {
                chars.next();
                if !('\u{20}'..='\u{2f}').contains(&n) {
                    break;
                }
            }
        }
        _ => {}
    }
}

/// Parameters and intermediates, then one final byte in 0x40..=0x7e.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            break;
        }
    }
}

/// Until BEL, ST (ESC \) or the 8-bit ST.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => break,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                break;
            }
            _ => {}
        }
    }
}

/// A plain-words explanation of an error status from the import endpoint.
pub fn explain_status(status: u16) -> String {
    match status {
        400 => "The service rejected the file, so the whole import was cancelled and nothing from \
                it will be used. Its answer below says why; fix the file (lbimport validate shows \
                the same problems) and upload it again."
            .into(),
        401 => "Authentication failed: the private key or the tracker id is wrong, or this \
                computer's clock is more than 5 seconds off (the signed Date must be within ±5 s \
                of the server's). Check the tracker with `lbimport tracker show NAME`."
            .into(),
        403 => "The service refused access for this tracker: check the tracker id and that the \
                key belongs to it."
            .into(),
        404 => "The endpoint was not found: check the tracker's base URL and tracker id.".into(),
        408 => "The service timed out receiving the file: the upload must complete within \
                10 minutes. A faster connection or a smaller file (split by order) helps."
            .into(),
        413 => "The file is too large for the service (the limit is 1 GB). Split it into \
                smaller files, keeping each order in one file, and upload them one by one."
            .into(),
        429 => {
            "The service is receiving too many requests and asked to wait; try again later.".into()
        }
        500 => "The service had an internal error and the import did not go through. Try again \
                later; if it keeps happening, contact Luigi's Box support with the time of the \
                upload."
            .into(),
        502..=504 => "The service is temporarily unavailable (a gateway error). Check \
                      https://luigisboxstatus.com and try again later."
            .into(),
        s if (400..500).contains(&s) => {
            format!("The service refused the request (HTTP {s}); its answer is shown below.")
        }
        s => format!("The service answered with an unexpected status (HTTP {s})."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_escape_sequences_and_controls() {
        let raw = b"ok \x1b[31mred\x1b[0m \x1b]0;title\x07done\r\n\ttab\x00\x08 \xe2\x80\xae!";
        assert_eq!(clean_body_for_display(raw), "ok red done\n\ttab !");
    }

    #[test]
    fn osc_with_string_terminator_and_c1() {
        let raw = "a\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\b\u{9b}2Jc\u{1b}(Bd".as_bytes();
        assert_eq!(clean_body_for_display(raw), "alinkbcd");
    }

    #[test]
    fn bounded_to_4_kib() {
        let raw = vec![b'x'; 10_000];
        let s = clean_body_for_display(&raw);
        assert_eq!(s.chars().filter(|&c| c == 'x').count(), 4096);
        assert!(s.ends_with('…'));
        assert_eq!(clean_body_for_display(b"{\"ok\":true}"), "{\"ok\":true}");
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        assert_eq!(clean_body_for_display(b"a\xffb"), "a\u{fffd}b");
    }

    #[test]
    fn explanations_name_the_cause() {
        assert!(explain_status(401).contains("clock"));
        assert!(explain_status(401).contains("private key"));
        assert!(explain_status(413).contains("Split"));
        assert!(explain_status(400).contains("cancelled"));
        assert!(explain_status(503).contains("luigisboxstatus"));
    }
}
