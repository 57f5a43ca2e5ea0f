//! Physical lines out of blocks of bytes, with positions and bounded memory.

use super::simd::Chunk;

/// How a line ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// `\n`.
    Lf,
    /// `\r\n`.
    Crlf,
    /// End of file without a line terminator.
    Eof,
}

impl Ending {
    /// The terminator's bytes.
    pub fn bytes(self) -> &'static [u8] {
        match self {
            Ending::Lf => b"\n",
            Ending::Crlf => b"\r\n",
            Ending::Eof => b"",
        }
    }
}

/// One physical line.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// 1-based line number.
    pub no: u64,
    /// 0-based byte offset of the line's first byte in the file.
    pub offset: u64,
    /// The line without its terminator (`\n` or `\r\n`).
    pub bytes: &'a [u8],
    /// How it ended.
    pub ending: Ending,
}

/// A line longer than the cap; only its first bytes are kept.
#[derive(Debug, Clone, Copy)]
pub struct LongLine<'a> {
    /// 1-based line number.
    pub no: u64,
    /// 0-based byte offset of the line's first byte.
    pub offset: u64,
    /// Full length without the terminator.
    pub len: u64,
    /// The first bytes of the line (at most the cap).
    pub prefix: &'a [u8],
    /// How it ended.
    pub ending: Ending,
}

/// What [`LineSplitter`] hands out.
#[derive(Debug, Clone, Copy)]
pub enum Piece<'a> {
    /// A line within the cap.
    Line(Line<'a>),
    /// A line over the cap.
    TooLong(LongLine<'a>),
}

/// Bit `i` set where `b[at + i]` is `\n`, for the 64 bytes from `at` (`None` when fewer remain).
#[inline(always)]
fn newlines64(b: &[u8], at: usize) -> Option<u64> {
    let w = b.get(at..)?.first_chunk::<64>()?;
    let mut m = 0u64;
    for (k, c) in w.chunks_exact(16).enumerate() {
        let c = Chunk::new(c.try_into().ok()?);
        m |= (c.eq(b'\n') as u64) << (16 * k);
    }
    Some(m)
}

/// Splits a stream of blocks into lines. Lines within a block are handed out without
/// copying; only a line crossing a block boundary is copied, and never more than the cap.
#[derive(Debug)]
pub struct LineSplitter {
    max: usize,
    carry: Vec<u8>,
    carry_offset: u64,
    carry_len: u64,
    carry_last_cr: bool,
    partial: bool,
    next_no: u64,
    pos: u64,
}

impl LineSplitter {
    /// A splitter for lines of at most `max_line_bytes` bytes (terminator excluded).
    pub fn new(max_line_bytes: usize) -> Self {
        LineSplitter {
            max: max_line_bytes.max(1),
            carry: Vec::new(),
            carry_offset: 0,
            carry_len: 0,
            carry_last_cr: false,
            partial: false,
            next_no: 1,
            pos: 0,
        }
    }

    /// Start counting at a byte offset other than 0 (e.g. after a skipped BOM).
    pub fn set_offset(&mut self, pos: u64) {
        self.pos = pos;
    }

    /// Number of complete lines handed out so far.
    pub fn lines(&self) -> u64 {
        self.next_no - 1
    }

    fn emit_whole<F: FnMut(Piece<'_>)>(&mut self, start: u64, line: &[u8], f: &mut F) {
        let no = self.next_no;
        self.next_no += 1;
        let (bytes, ending) = match line.last() {
            Some(b'\r') => (&line[..line.len() - 1], Ending::Crlf),
            _ => (line, Ending::Lf),
        };
        if bytes.len() > self.max {
            f(Piece::TooLong(LongLine {
                no,
                offset: start,
                len: bytes.len() as u64,
                prefix: &bytes[..self.max],
                ending,
            }));
        } else {
            f(Piece::Line(Line {
                no,
                offset: start,
                bytes,
                ending,
            }));
        }
    }

    fn emit_carry<F: FnMut(Piece<'_>)>(&mut self, ending_known: bool, f: &mut F) {
        let no = self.next_no;
        self.next_no += 1;
        let mut len = self.carry_len;
        let mut ending = if ending_known {
            Ending::Lf
        } else {
            Ending::Eof
        };
        let stored_all = self.carry_len as usize == self.carry.len();
        if ending_known && self.carry_len > 0 && stored_all && self.carry.last() == Some(&b'\r') {
            self.carry.pop();
            len -= 1;
            ending = Ending::Crlf;
        } else if ending_known && !stored_all && self.carry_last_cr {
            len -= 1;
            ending = Ending::Crlf;
        }
        if len > self.max as u64 {
            let keep = self.carry.len().min(self.max);
            f(Piece::TooLong(LongLine {
                no,
                offset: self.carry_offset,
                len,
                prefix: &self.carry[..keep],
                ending,
            }));
        } else {
            f(Piece::Line(Line {
                no,
                offset: self.carry_offset,
                bytes: &self.carry,
                ending,
            }));
        }
        self.carry.clear();
        self.carry_len = 0;
        self.partial = false;
    }

    fn push_carry(&mut self, bytes: &[u8]) {
        // Keep one byte over the cap (a possible `\r`) so lines of exactly the cap survive.
        let room = (self.max + 1).saturating_sub(self.carry.len());
        let take = bytes.len().min(room);
        self.carry.extend_from_slice(&bytes[..take]);
        self.carry_len += bytes.len() as u64;
        if let Some(&last) = bytes.last() {
            self.carry_last_cr = last == b'\r';
        }
    }

    /// Feed the next block; `f` receives every line completed by it.
    pub fn feed<F: FnMut(Piece<'_>)>(&mut self, block: &[u8], f: &mut F) {
        let base = self.pos;
        self.pos += block.len() as u64;
        let mut start = 0usize;
        if self.partial {
            match memchr::memchr(b'\n', block) {
                Some(i) => {
                    self.push_carry(&block[..i]);
                    self.emit_carry(true, f);
                    start = i + 1;
                }
                None => {
                    self.push_carry(block);
                    return;
                }
            }
        }
        let rest = &block[start..];
        // line starts and ends from a bit mask of the `\n` bytes, 64 bytes at a time
        let mut s = 0usize;
        let mut at = 0usize;
        while let Some(mut m) = newlines64(rest, at) {
            while m != 0 {
                let i = at + m.trailing_zeros() as usize;
                self.emit_whole(base + (start + s) as u64, &rest[s..i], f);
                s = i + 1;
                m &= m - 1;
            }
            at += 64;
        }
        for i in memchr::memchr_iter(b'\n', rest.get(at..).unwrap_or_default()) {
            let i = at + i;
            self.emit_whole(base + (start + s) as u64, &rest[s..i], f);
            s = i + 1;
        }
        if s < rest.len() {
            self.partial = true;
            self.carry.clear();
            self.carry_len = 0;
            self.carry_offset = base + (start + s) as u64;
            self.push_carry(&rest[s..]);
        }
    }

    /// End of input: hands out a last line without a terminator, if any.
    pub fn finish<F: FnMut(Piece<'_>)>(&mut self, f: &mut F) {
        if self.partial {
            self.emit_carry(false, f);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(data: &[u8], block: usize, max: usize) -> Vec<(u64, u64, String, Ending, bool)> {
        let mut out = Vec::new();
        let mut s = LineSplitter::new(max);
        let mut push = |p: Piece<'_>| match p {
            Piece::Line(l) => out.push((
                l.no,
                l.offset,
                String::from_utf8_lossy(l.bytes).into_owned(),
                l.ending,
                false,
            )),
            Piece::TooLong(l) => out.push((
                l.no,
                l.offset,
                format!("{}:{}", l.len, String::from_utf8_lossy(l.prefix)),
                l.ending,
                true,
            )),
        };
        for c in data.chunks(block) {
            s.feed(c, &mut push);
        }
        s.finish(&mut push);
        out
    }

    #[test]
    fn positions_endings_and_blocks() {
        let data = b"ab\r\ncde\n\nlast";
        for block in [1, 2, 3, 5, 100] {
            let got = split(data, block, 100);
            assert_eq!(got.len(), 4, "block {block}");
            assert_eq!(got[0], (1, 0, "ab".into(), Ending::Crlf, false));
            assert_eq!(got[1], (2, 4, "cde".into(), Ending::Lf, false));
            assert_eq!(got[2], (3, 8, "".into(), Ending::Lf, false));
            assert_eq!(got[3], (4, 9, "last".into(), Ending::Eof, false));
        }
    }

    #[test]
    fn many_lines_match_a_plain_split() {
        // lines of 0..150 bytes, some with CR, so line ends fall anywhere in 64-byte windows
        let mut data = Vec::new();
        let mut want = Vec::new();
        for n in 0..300usize {
            let len = (n * 37) % 151;
            let start = data.len() as u64;
            let text: String = (0..len)
                .map(|i| (b'a' + ((n + i) % 26) as u8) as char)
                .collect();
            data.extend_from_slice(text.as_bytes());
            let ending = if n % 7 == 3 {
                data.extend_from_slice(b"\r\n");
                Ending::Crlf
            } else {
                data.push(b'\n');
                Ending::Lf
            };
            want.push((n as u64 + 1, start, text, ending, false));
        }
        for block in [1, 63, 64, 65, 200, 4096, 1 << 20] {
            assert_eq!(split(&data, block, 1000), want, "block {block}");
        }
    }

    #[test]
    fn long_lines_are_capped() {
        let data = b"abcdefgh\r\nxy\nabcdef";
        for block in [1, 3, 4, 100] {
            let got = split(data, block, 4);
            assert_eq!(
                got[0],
                (1, 0, "8:abcd".into(), Ending::Crlf, true),
                "block {block}"
            );
            assert_eq!(got[1], (2, 10, "xy".into(), Ending::Lf, false));
            assert_eq!(got[2], (3, 13, "6:abcd".into(), Ending::Eof, true));
        }
        // exactly the cap, with CRLF split across blocks
        for block in [1, 2, 5, 100] {
            let got = split(b"abcd\r\n", block, 4);
            assert_eq!(got, vec![(1, 0, "abcd".into(), Ending::Crlf, false)]);
        }
    }
}
