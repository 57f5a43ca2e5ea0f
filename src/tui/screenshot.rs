//! Screenshots: a ratatui [`Buffer`] (e.g. from `TestBackend`) drawn as an SVG image.
//!
//! Every cell keeps its foreground, background and modifiers. Named and indexed colours are
//! given concrete RGB values from a fixed palette ([`ANSI_PALETTE`] for 0–15, the xterm cube
//! and grey ramp for 16–255), so the images look the same everywhere. The default foreground
//! and background come from the theme's `text` style when it sets concrete colours; otherwise
//! a dark background is used, or a light one when the theme's text colour is dark.
//!
//! Output is deterministic (no timestamps, no random ids): the same buffer and theme always
//! give the same bytes, so committed screenshots can be compared in tests. Cells of one style
//! are merged into one `<tspan>` per run and backgrounds into one `<rect>` per run, which keeps
//! a 100×30 screen at a few kilobytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ratatui::buffer::{Buffer, CellDiffOption};
use ratatui::style::{Color, Modifier};
use unicode_width::UnicodeWidthStr;

use super::theme::{Theme, xterm256_rgb};

/// An RGB colour.
pub type Rgb = (u8, u8, u8);

/// RGB of the 16 terminal colours (ANSI 0–15) in screenshots: black, red, green, yellow,
/// blue, magenta, cyan, gray (ANSI "white"), darkgray (ANSI "bright black"), the light
/// variants, white.
pub const ANSI_PALETTE: [Rgb; 16] = [
    (0x21, 0x22, 0x2c), // black
    (0xff, 0x55, 0x55), // red
    (0x50, 0xfa, 0x7b), // green
    (0xf1, 0xfa, 0x8c), // yellow
    (0x82, 0xaa, 0xff), // blue
    (0xff, 0x79, 0xc6), // magenta
    (0x8b, 0xe9, 0xfd), // cyan
    (0xc0, 0xc5, 0xd6), // gray
    (0x72, 0x7a, 0x9c), // darkgray
    (0xff, 0x6e, 0x6e), // lightred
    (0x69, 0xff, 0x94), // lightgreen
    (0xff, 0xff, 0xa5), // lightyellow
    (0xa8, 0xc4, 0xff), // lightblue
    (0xff, 0x92, 0xdf), // lightmagenta
    (0xa4, 0xff, 0xff), // lightcyan
    (0xf8, 0xf8, 0xf2), // white
];

/// Background and foreground of screenshots of dark themes.
pub const DARK_BG_FG: (Rgb, Rgb) = ((0x28, 0x2a, 0x36), (0xf8, 0xf8, 0xf2));
/// Background and foreground of screenshots of light themes.
pub const LIGHT_BG_FG: (Rgb, Rgb) = ((0xfb, 0xfb, 0xf8), (0x1c, 0x1c, 0x1c));

/// Font size in pixels.
pub const FONT_SIZE: f64 = 14.0;
/// Width of one cell in pixels: the advance of DejaVu Sans Mono and Menlo (1233/2048 em) at
/// [`FONT_SIZE`], so long runs of text stay on the cell grid.
pub const CELL_W: f64 = 8.43;
/// Height of one cell in pixels.
pub const CELL_H: f64 = 16.0;
/// Baseline below the top of a cell, in em. With the cell 16/14 em high, box-drawing glyphs
/// (which span about 1.16 em in common monospace fonts) overlap their neighbours slightly, so
/// vertical borders are drawn without gaps.
pub const BASELINE: f64 = 0.91;
/// Margin around the terminal area in pixels.
pub const PAD: f64 = 10.0;
/// Font stack: common monospace fonts, then the generic family.
pub const FONT_FAMILY: &str = "'DejaVu Sans Mono', Menlo, Consolas, 'Liberation Mono', monospace";

/// The RGB of a colour, with `Reset` mapped to `default`.
pub fn color_rgb(c: Color, default: Rgb) -> Rgb {
    match c {
        Color::Reset => default,
        Color::Black => ANSI_PALETTE[0],
        Color::Red => ANSI_PALETTE[1],
        Color::Green => ANSI_PALETTE[2],
        Color::Yellow => ANSI_PALETTE[3],
        Color::Blue => ANSI_PALETTE[4],
        Color::Magenta => ANSI_PALETTE[5],
        Color::Cyan => ANSI_PALETTE[6],
        Color::Gray => ANSI_PALETTE[7],
        Color::DarkGray => ANSI_PALETTE[8],
        Color::LightRed => ANSI_PALETTE[9],
        Color::LightGreen => ANSI_PALETTE[10],
        Color::LightYellow => ANSI_PALETTE[11],
        Color::LightBlue => ANSI_PALETTE[12],
        Color::LightMagenta => ANSI_PALETTE[13],
        Color::LightCyan => ANSI_PALETTE[14],
        Color::White => ANSI_PALETTE[15],
        Color::Rgb(r, g, b) => (r, g, b),
        Color::Indexed(i) => xterm256_rgb(i).unwrap_or(ANSI_PALETTE[usize::from(i & 15)]),
    }
}

/// Relative luminance (0 = black, 1 = white), sRGB approximation.
fn luminance((r, g, b): Rgb) -> f64 {
    (0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b)) / 255.0
}

/// The default background and foreground a screenshot of `theme` uses.
pub fn default_colors(theme: &Theme) -> (Rgb, Rgb) {
    let concrete = |c: Option<Color>| c.filter(|c| *c != Color::Reset);
    let fg = concrete(theme.text.fg);
    let bg = concrete(theme.text.bg);
    match (bg, fg) {
        (Some(bg), Some(fg)) => (color_rgb(bg, DARK_BG_FG.0), color_rgb(fg, DARK_BG_FG.1)),
        (Some(bg), None) => {
            let bg = color_rgb(bg, DARK_BG_FG.0);
            let fg = if luminance(bg) > 0.5 {
                LIGHT_BG_FG.1
            } else {
                DARK_BG_FG.1
            };
            (bg, fg)
        }
        (None, fg) => {
            let fg_rgb = fg.map(|c| color_rgb(c, DARK_BG_FG.1));
            let light = fg_rgb.is_some_and(|f| luminance(f) < 0.45);
            let (bg, default_fg) = if light { LIGHT_BG_FG } else { DARK_BG_FG };
            (bg, fg_rgb.unwrap_or(default_fg))
        }
    }
}

/// How a run of text is drawn: colour and the modifiers SVG can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct TextStyle {
    fill: Rgb,
    bold: bool,
    italic: bool,
    underline: bool,
    strike: bool,
    dim: bool,
}

/// Format a pixel coordinate: at most two decimals, no trailing zeros.
fn px(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

fn hex((r, g, b): Rgb) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Append `s` XML-escaped; control characters (not allowed in XML) become U+FFFD.
fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
}

struct Run {
    col: u16,
    style: TextStyle,
    text: String,
}

/// Render a buffer as an SVG document (see the [module docs](self)).
pub fn buffer_to_svg(buf: &Buffer, theme: &Theme) -> String {
    let (default_bg, default_fg) = default_colors(theme);
    let cols = buf.area.width;
    let rows = buf.area.height;
    let width = f64::from(cols) * CELL_W + 2.0 * PAD;
    let height = f64::from(rows) * CELL_H + 2.0 * PAD;

    // Pass 1: backgrounds and text runs per row, with class names for fills.
    let mut fills: BTreeMap<Rgb, usize> = BTreeMap::new();
    let mut fill_order: Vec<Rgb> = Vec::new();
    let mut fill_class = |rgb: Rgb| -> usize {
        *fills.entry(rgb).or_insert_with(|| {
            fill_order.push(rgb);
            fill_order.len() - 1
        })
    };
    let mut rects = String::new();
    let mut texts = String::new();
    let content = buf.content();
    for y in 0..rows {
        let row_start = usize::from(y) * usize::from(cols);
        let Some(row) = content.get(row_start..row_start + usize::from(cols)) else {
            break;
        };
        let top = PAD + f64::from(y) * CELL_H;
        // Backgrounds.
        let mut bg_run: Option<(u16, u16, Rgb)> = None;
        let flush_bg = |run: Option<(u16, u16, Rgb)>, rects: &mut String| {
            if let Some((start, end, rgb)) = run
                && rgb != default_bg
            {
                let _ = write!(
                    rects,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"/>",
                    px(PAD + f64::from(start) * CELL_W),
                    px(top),
                    px(f64::from(end - start) * CELL_W),
                    px(CELL_H),
                    hex(rgb)
                );
                rects.push('\n');
            }
        };
        // Text runs.
        let mut runs: Vec<Run> = Vec::new();
        let mut current: Option<Run> = None;
        let mut hidden_until: u16 = 0;
        for (x, cell) in (0u16..).zip(row.iter()) {
            let reversed = cell.modifier.contains(Modifier::REVERSED);
            let mut fg = color_rgb(cell.fg, default_fg);
            let mut bg = color_rgb(cell.bg, default_bg);
            if reversed {
                std::mem::swap(&mut fg, &mut bg);
            }
            // Background run.
            match &mut bg_run {
                Some((_, end, rgb)) if *rgb == bg && *end == x => *end = x + 1,
                _ => {
                    flush_bg(bg_run.take(), &mut rects);
                    bg_run = Some((x, x + 1, bg));
                }
            }
            if x < hidden_until {
                continue; // covered by the wide symbol before it
            }
            let symbol = cell.symbol();
            let invisible = cell.diff_option == CellDiffOption::Skip
                || cell.modifier.contains(Modifier::HIDDEN)
                || symbol.is_empty();
            let w = UnicodeWidthStr::width(symbol).max(1);
            if w > 1 {
                hidden_until = x.saturating_add(u16::try_from(w).unwrap_or(1));
            }
            let style = TextStyle {
                fill: fg,
                bold: cell.modifier.contains(Modifier::BOLD),
                italic: cell.modifier.contains(Modifier::ITALIC),
                underline: cell.modifier.contains(Modifier::UNDERLINED),
                strike: cell.modifier.contains(Modifier::CROSSED_OUT),
                dim: cell.modifier.contains(Modifier::DIM),
            };
            let blank =
                invisible || (symbol.trim().is_empty() && !style.underline && !style.strike);
            if blank {
                // Spaces join whatever run is open; leading/trailing ones are trimmed later.
                if invisible {
                    // Nothing is drawn here: end the run so later text keeps its cell.
                    if let Some(run) = current.take() {
                        runs.push(run);
                    }
                } else if let Some(run) = &mut current {
                    run.text.push(' ');
                }
                continue;
            }
            let wide = w > 1;
            match &mut current {
                Some(run) if run.style == style && !wide => run.text.push_str(symbol),
                _ => {
                    if let Some(run) = current.take() {
                        runs.push(run);
                    }
                    let run = Run {
                        col: x,
                        style,
                        text: symbol.to_string(),
                    };
                    if wide {
                        // Wide symbols stand alone so the text after them starts on its cell.
                        runs.push(run);
                    } else {
                        current = Some(run);
                    }
                }
            }
        }
        flush_bg(bg_run.take(), &mut rects);
        if let Some(run) = current.take() {
            runs.push(run);
        }
        let runs: Vec<Run> = runs
            .into_iter()
            .filter_map(|mut r| {
                let trimmed = r.text.trim_end_matches(' ').len();
                r.text.truncate(trimmed);
                (!r.text.is_empty()).then_some(r)
            })
            .collect();
        if runs.is_empty() {
            continue;
        }
        let baseline = top + FONT_SIZE * BASELINE;
        let _ = write!(texts, "<text y=\"{}\">", px(baseline));
        for run in runs {
            let class = fill_class(run.style.fill);
            let mut classes = format!("c{class}");
            for (on, name) in [
                (run.style.bold, "b"),
                (run.style.italic, "i"),
                (run.style.dim, "d"),
            ] {
                if on {
                    classes.push(' ');
                    classes.push_str(name);
                }
            }
            match (run.style.underline, run.style.strike) {
                (true, true) => classes.push_str(" us"),
                (true, false) => classes.push_str(" u"),
                (false, true) => classes.push_str(" s"),
                (false, false) => {}
            }
            let _ = write!(
                texts,
                "<tspan x=\"{}\" class=\"{classes}\">",
                px(PAD + f64::from(run.col) * CELL_W)
            );
            escape_into(&mut texts, &run.text);
            texts.push_str("</tspan>");
        }
        texts.push_str("</text>\n");
    }

    let mut out = String::with_capacity(rects.len() + texts.len() + 1024);
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         viewBox=\"0 0 {w} {h}\" xml:space=\"preserve\">",
        w = px(width),
        h = px(height)
    );
    out.push_str("<style>\n");
    let _ = writeln!(
        out,
        "text{{font-family:{FONT_FAMILY};font-size:{}px;white-space:pre}}",
        px(FONT_SIZE)
    );
    out.push_str(
        ".b{font-weight:bold}.i{font-style:italic}.d{opacity:0.6}\
         .u{text-decoration:underline}.s{text-decoration:line-through}\
         .us{text-decoration:underline line-through}\n",
    );
    for (i, rgb) in fill_order.iter().enumerate() {
        let _ = write!(out, ".c{i}{{fill:{}}}", hex(*rgb));
    }
    out.push_str("\n</style>\n");
    let _ = writeln!(
        out,
        "<rect width=\"{}\" height=\"{}\" rx=\"6\" fill=\"{}\"/>",
        px(width),
        px(height),
        hex(default_bg)
    );
    out.push_str(&rects);
    out.push_str(&texts);
    out.push_str("</svg>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::layout::Rect;
    use ratatui::style::Style;

    fn sample(theme: &Theme) -> Buffer {
        let mut buf = Buffer::empty(Rect::new(0, 0, 24, 4));
        buf.set_string(0, 0, "┌ lbimport ─┐", theme.border);
        buf.set_string(2, 0, "lbimport", theme.title);
        buf.set_string(0, 1, "rows  1 234", theme.text);
        buf.set_string(6, 1, "1 234", theme.accent);
        buf.set_string(0, 2, " ready <ok> & \"x\" ", theme.selection);
        buf.set_string(0, 3, "a🦀b", theme.error);
        buf.set_string(10, 3, "dim", Style::new().add_modifier(Modifier::DIM));
        buf
    }

    #[test]
    fn deterministic_escaped_and_merged() {
        let theme = Theme::builtin("default").unwrap();
        let buf = sample(&theme);
        let svg = buffer_to_svg(&buf, &theme);
        assert_eq!(svg, buffer_to_svg(&buf, &theme));
        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"222.32\""));
        assert!(svg.ends_with("</svg>\n"));
        // Escaping.
        assert!(
            svg.contains("ready &lt;ok&gt; &amp; &quot;x&quot;"),
            "{svg}"
        );
        // One <text> per non-empty row.
        assert_eq!(svg.matches("<text ").count(), 4);
        // The title run is merged into one tspan, bold, in the title colour (cyan).
        let cyan = hex(ANSI_PALETTE[6]);
        assert!(svg.contains(&format!("{{fill:{cyan}}}")), "{svg}");
        assert!(svg.contains(">lbimport</tspan>"));
        // Border pieces around the title are their own runs at the right x.
        assert!(
            svg.contains("<tspan x=\"10\" class=\"c0\">┌</tspan>"),
            "{svg}"
        );
        assert!(
            svg.contains("<tspan x=\"102.73\" class=\"c0\">─┐</tspan>"),
            "{svg}"
        );
        // The selection background (cyan) is one rect over the 18 cells.
        assert!(
            svg.contains(&format!(
                "<rect x=\"10\" y=\"42\" width=\"151.74\" height=\"16\" fill=\"{cyan}\"/>"
            )),
            "{svg}"
        );
        // The wide crab stands alone; "b" starts at its own cell (x = 10 + 3 × 8.43).
        assert!(svg.contains(">🦀</tspan>"));
        assert!(svg.contains("<tspan x=\"35.29\""), "{svg}");
        assert!(svg.contains(" d\">dim</tspan>"), "{svg}");
        // Default background is the dark one.
        assert!(svg.contains(&format!("rx=\"6\" fill=\"{}\"", hex(DARK_BG_FG.0))));
    }

    #[test]
    fn reversed_swaps_and_light_themes_get_a_light_background() {
        let light = Theme::builtin("light").unwrap();
        assert_eq!(default_colors(&light), (LIGHT_BG_FG.0, (0x1c, 0x1c, 0x1c)));
        let mono = Theme::builtin("mono").unwrap();
        assert_eq!(default_colors(&mono), DARK_BG_FG);
        let mut buf = Buffer::empty(Rect::new(0, 0, 6, 1));
        buf.set_string(0, 0, "sel", mono.selection);
        let svg = buffer_to_svg(&buf, &mono);
        // Reversed with reset colours: default fg becomes the background …
        assert!(
            svg.contains(&format!(
                "<rect x=\"10\" y=\"10\" width=\"25.29\" height=\"16\" fill=\"{}\"/>",
                hex(DARK_BG_FG.1)
            )),
            "{svg}"
        );
        // … and the text is drawn in the default background colour, bold.
        assert!(
            svg.contains(&format!(".c0{{fill:{}}}", hex(DARK_BG_FG.0))),
            "{svg}"
        );
        assert!(svg.contains("class=\"c0 b\">sel</tspan>"), "{svg}");
    }

    #[test]
    fn colours_map_to_fixed_rgb() {
        assert_eq!(color_rgb(Color::Indexed(196), (1, 1, 1)), (255, 0, 0));
        assert_eq!(color_rgb(Color::Indexed(3), (1, 1, 1)), ANSI_PALETTE[3]);
        assert_eq!(color_rgb(Color::Reset, (1, 2, 3)), (1, 2, 3));
        assert_eq!(color_rgb(Color::Rgb(1, 2, 3), (0, 0, 0)), (1, 2, 3));
        assert_eq!(px(CELL_W * 3.0 + PAD), "35.29");
        assert_eq!(px(10.0), "10");
    }

    #[test]
    fn control_characters_are_replaced() {
        let theme = Theme::default();
        let mut buf = Buffer::empty(Rect::new(0, 0, 4, 1));
        buf[(0, 0)].set_symbol("\u{1b}");
        buf[(1, 0)].set_symbol("x");
        let svg = buffer_to_svg(&buf, &theme);
        assert!(svg.contains(">\u{fffd}x</tspan>"), "{svg}");
        assert!(!svg.contains('\u{1b}'));
    }

    #[test]
    fn empty_buffer_is_just_a_background() {
        let buf = Buffer::empty(Rect::new(0, 0, 0, 0));
        let svg = buffer_to_svg(&buf, &Theme::default());
        assert!(!svg.contains("<text"));
        assert!(svg.contains("width=\"20\" height=\"20\""));
    }
}
