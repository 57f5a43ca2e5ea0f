//! Whether a block is "clean" — valid UTF-8 without NUL or CR bytes — checked piece by piece
//! as the block is read, so each piece is checked while it is still in the CPU cache.

/// An incremental cleanliness check over the pieces of one block, in order.
#[derive(Debug)]
pub struct CleanCheck {
    clean: bool,
    /// Bytes of an unfinished UTF-8 sequence at the end of the pieces so far (at most 3).
    tail: [u8; 4],
    tail_len: usize,
}

impl Default for CleanCheck {
    fn default() -> Self {
        Self::new()
    }
}

impl CleanCheck {
    /// A check for a new block.
    pub fn new() -> Self {
        CleanCheck {
            clean: true,
            tail: [0; 4],
            tail_len: 0,
        }
    }

    /// The next piece of the block.
    pub fn feed(&mut self, piece: &[u8]) {
        if !self.clean || piece.is_empty() {
            return;
        }
        if memchr::memchr2(0, b'\r', piece).is_some() {
            self.clean = false;
            return;
        }
        let mut rest = piece;
        if self.tail_len > 0 {
            // complete the sequence cut at the end of the previous piece
            let total = utf8_len(self.tail[0]);
            let take = (total - self.tail_len).min(rest.len());
            self.tail[self.tail_len..self.tail_len + take].copy_from_slice(&rest[..take]);
            self.tail_len += take;
            rest = &rest[take..];
            if self.tail_len < total {
                return;
            }
            if std::str::from_utf8(&self.tail[..total]).is_err() {
                self.clean = false;
                return;
            }
            self.tail_len = 0;
        }
        match std::str::from_utf8(rest) {
            Ok(_) => {}
            // a sequence cut by the end of the piece: keep it for the next one
            Err(e) if e.error_len().is_none() => {
                let cut = &rest[e.valid_up_to()..];
                self.tail[..cut.len()].copy_from_slice(cut);
                self.tail_len = cut.len();
            }
            Err(_) => self.clean = false,
        }
    }

    /// Whether the whole block was clean (a sequence cut by the block's end is not).
    pub fn finish(self) -> bool {
        self.clean && self.tail_len == 0
    }
}

/// The length of the UTF-8 sequence a lead byte starts (1 for anything that is not a lead
/// byte of a longer one; `from_utf8` then judges).
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(data: &[u8], piece: usize) -> bool {
        let mut c = CleanCheck::new();
        for p in data.chunks(piece) {
            c.feed(p);
        }
        c.finish()
    }

    #[test]
    fn pieces_agree_with_a_whole_block_check() {
        let cases: &[&[u8]] = &[
            b"",
            b"plain ascii,1,2\n",
            "é日本語🎉x,y\n".as_bytes(),
            b"a\rb",
            b"a\0b",
            b"\xC3",
            b"ab\xE6\x97",
            b"\xE6\x97\xA5\xE6",
            b"\xFFabc",
            b"ab\xC3\x28cd",
            b"\xF0\x9F\x8E",
            b"\xF0\x9F\x8E\x89",
            b"\xED\xA0\x80",
            b"\xC0\xAF",
            b"x\xF4\x90\x80\x80",
            b"\x80",
        ];
        // generated: fragments of valid and broken sequences in every order of three
        let frags: &[&[u8]] = &[
            b"a",
            "é".as_bytes(),
            "日".as_bytes(),
            "🎉".as_bytes(),
            b"\x80",
            b"\xE6\x97",
            b"\xF0",
            b"\xC3",
            b"\r",
        ];
        let mut generated = Vec::new();
        for a in frags {
            for b in frags {
                for c in frags {
                    generated.push([*a, *b, *c].concat());
                }
            }
        }
        let cases: Vec<&[u8]> = cases
            .iter()
            .copied()
            .chain(generated.iter().map(|v| &v[..]))
            .collect();
        for &data in &cases {
            let want =
                memchr::memchr2(0, b'\r', data).is_none() && std::str::from_utf8(data).is_ok();
            for piece in 1..=data.len().max(1) + 1 {
                assert_eq!(check(data, piece), want, "{data:?} in pieces of {piece}");
            }
        }
    }
}
