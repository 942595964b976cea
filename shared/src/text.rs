//! Characters a reader cannot see (pure). Names, rule text and path globs refuse them, so
//! nothing can hide in what admins read (a rule's hidden instructions to the model, a name
//! that looks like another).

use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};

/// Unicode's Default_Ignorable_Code_Point set (DerivedCoreProperties.txt, Unicode 15.1),
/// as inclusive ranges: code points rendered as nothing unless a font draws them. Most are
/// format characters (Cf), but not all: the Hangul fillers (U+115F, U+1160, U+3164,
/// U+FFA0), the combining grapheme joiner (U+034F), the Khmer inherent vowels, the
/// Mongolian free variation selectors and every variation selector (U+FE00–U+FE0F,
/// U+E0100–U+E01EF), plus reserved code points of the set.
const DEFAULT_IGNORABLE: [(u32, u32); 17] = [
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
];

/// Not default-ignorable, yet blank in every font, or an invisible line break:
/// BRAILLE PATTERN BLANK, MUSICAL SYMBOL NULL NOTEHEAD, LINE SEPARATOR, PARAGRAPH
/// SEPARATOR.
const BLANK: [char; 4] = ['\u{2800}', '\u{1D159}', '\u{2028}', '\u{2029}'];

/// A format character (Cf: bidi overrides, zero-width joiners…), a default-ignorable code
/// point or a blank-looking one. Control characters are the caller's rule (rule text
/// keeps line breaks and tabs).
pub fn is_invisible(c: char) -> bool {
    let n = u32::from(c);
    c.general_category() == GeneralCategory::Format
        || DEFAULT_IGNORABLE.iter().any(|&(lo, hi)| (lo..=hi).contains(&n))
        || BLANK.contains(&c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn format_default_ignorable_and_blank_characters_are_invisible() {
        for c in [
            '\u{202e}',
            '\u{200b}',
            '\u{200d}',
            '\u{feff}',
            '\u{ad}',
            '\u{3164}',
            '\u{2800}',
            '\u{fe0f}',
            '\u{34f}',
            '\u{115f}',
            '\u{1160}',
            '\u{ffa0}',
            '\u{17b4}',
            '\u{180b}',
            '\u{e0001}',
            '\u{e0041}',
            '\u{e0101}',
            '\u{2028}',
            '\u{2029}',
            '\u{1d159}',
            '\u{2065}',
        ] {
            assert!(is_invisible(c), "{c:?}");
        }
        for c in ['a', 'É', '日', 'я', '😀', '❤', ' ', '-', '\u{301}', '\u{3000}'] {
            assert!(!is_invisible(c), "{c:?}");
        }
    }

    proptest! {
        #[test]
        fn every_format_character_is_invisible(c in any::<char>()) {
            if c.general_category() == GeneralCategory::Format {
                prop_assert!(is_invisible(c));
            }
        }
    }
}
