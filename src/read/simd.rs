//! Byte-class bit masks over 16-byte chunks: SSE2 on x86_64 (part of its baseline, so no
//! run-time detection), a plain loop elsewhere. Bit `i` of a mask stands for byte `i`.

#[cfg(target_arch = "x86_64")]
use std::arch::x86_64::{
    __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8, _mm_or_si128,
    _mm_set1_epi8,
};

/// Sixteen bytes loaded for classification.
#[derive(Clone, Copy)]
pub struct Chunk {
    #[cfg(target_arch = "x86_64")]
    v: __m128i,
    #[cfg(not(target_arch = "x86_64"))]
    v: [u8; 16],
}

impl Chunk {
    /// Load sixteen bytes.
    #[inline(always)]
    pub fn new(b: &[u8; 16]) -> Chunk {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: SSE2 is always available on x86_64; the unaligned load reads exactly the
            // sixteen bytes `b` borrows.
            let v = unsafe { _mm_loadu_si128(b.as_ptr().cast()) };
            Chunk { v }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            Chunk { v: *b }
        }
    }

    /// The first sixteen bytes of `b[at..]`, if there are that many.
    #[inline(always)]
    pub fn at(b: &[u8], at: usize) -> Option<Chunk> {
        b.get(at..)?.first_chunk::<16>().map(Chunk::new)
    }

    /// Bits of the bytes equal to `c`.
    #[inline(always)]
    pub fn eq(self, c: u8) -> u32 {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: SSE2 is always available on x86_64; these only compute on registers.
            unsafe { _mm_movemask_epi8(_mm_cmpeq_epi8(self.v, _mm_set1_epi8(c as i8))) as u32 }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self.mask(|x| x == c)
        }
    }

    /// Bits of the bytes equal to `a` or to `b`.
    #[inline(always)]
    pub fn eq2(self, a: u8, b: u8) -> u32 {
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: SSE2 is always available on x86_64; these only compute on registers.
            unsafe {
                let ea = _mm_cmpeq_epi8(self.v, _mm_set1_epi8(a as i8));
                let eb = _mm_cmpeq_epi8(self.v, _mm_set1_epi8(b as i8));
                _mm_movemask_epi8(_mm_or_si128(ea, eb)) as u32
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self.mask(|x| x == a || x == b)
        }
    }

    /// Bits of the bytes below `c` (unsigned).
    #[inline(always)]
    pub fn below(self, c: u8) -> u32 {
        debug_assert!(c > 0);
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: SSE2 is always available on x86_64; these only compute on registers.
            unsafe {
                let lim = _mm_set1_epi8(c.wrapping_sub(1) as i8);
                // x < c  ⇔  min(x, c - 1) == x
                _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(self.v, lim), self.v)) as u32
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self.mask(|x| x < c)
        }
    }

    #[cfg(not(target_arch = "x86_64"))]
    #[inline(always)]
    fn mask(self, f: impl Fn(u8) -> bool) -> u32 {
        self.v
            .iter()
            .enumerate()
            .fold(0, |m, (i, &x)| m | ((f(x) as u32) << i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_mark_the_right_bytes() {
        let b: &[u8; 16] = b"a,\"b\x01\x1f \x7f\xff,\n\\\"xyz";
        let c = Chunk::new(b);
        let want = |f: &dyn Fn(u8) -> bool| {
            b.iter()
                .enumerate()
                .fold(0u32, |m, (i, &x)| m | ((f(x) as u32) << i))
        };
        assert_eq!(c.eq(b','), 0b0000_0010_0000_0010);
        assert_eq!(c.eq(b','), want(&|x| x == b','));
        assert_eq!(c.eq2(b'"', b'\\'), want(&|x| x == b'"' || x == b'\\'));
        assert_eq!(c.eq2(b'"', b'\\'), 0b0001_1000_0000_0100);
        assert_eq!(c.below(0x20), want(&|x| x < 0x20));
        assert_eq!(c.below(0x20), 0b0000_0100_0011_0000);
        assert_eq!(c.below(1), 0);
        assert!(Chunk::at(b, 1).is_none());
        assert_eq!(
            Chunk::at(b"0123456789abcdefg", 1).map(|c| c.eq(b'g')),
            Some(1 << 15)
        );
    }
}
