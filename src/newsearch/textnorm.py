"""Bytes to clean text: encoding detection and Unicode normalisation.

Every reader passes raw bytes through :func:`decode` and every text field through
:func:`clean_text` (or :func:`clean_line` for one-line fields), so the whole pipeline sees
NFC text without invisible characters, with ``\\n`` line ends and plain spaces.

decode: BOM → UTF-16 without BOM (NULs in every other byte; other NULs mean binary) →
        strict UTF-8 → UTF-8 with a per-byte legacy fallback (a mostly-UTF-8 file with one
        stray Latin-1 byte keeps every other character) → charset-normalizer's guess → cp1252.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

__all__ = ["CJK_CHAR", "CJK_RANGES", "CYRILLIC_CHAR", "BinaryContent", "clean_line",
           "clean_text", "decode", "looks_binary", "unmix_scripts"]

# Scripts written without spaces between words (kana, CJK ideographs, Hangul): the tokenizer
# makes each character a word, the plain-text reader counts characters as words.
CJK_RANGES = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
CJK_CHAR = re.compile(f"[{CJK_RANGES}]")
CYRILLIC_CHAR = re.compile(r"[\u0400-\u04ff]")

# Characters that carry no visible text: zero-width space/joiners, direction marks and
# embeddings, BOM, word joiner, soft hyphen, interlinear annotation marks.
_INVISIBLE = (
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2061\u2062\u2063\u2064"
    "\u2066\u2067\u2068\u2069\ufeff\u00ad\ufff9\ufffa\ufffb"
)
# C0/C1 controls except tab and newline.
_CONTROLS = "".join(chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32), 127, *range(128, 160)])
_DELETE = {ord(c): None for c in _INVISIBLE + _CONTROLS}
# Every other kind of space (no-break, thin, narrow no-break, ideographic ...) becomes a space.
_SPACES = {
    ord(c): " "
    for c in (
        "\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
        "\u202f\u205f\u3000\t"
    )
}
_LINES = {ord("\u2028"): "\n", ord("\u2029"): "\n\n", ord("\u0085"): "\n", ord("\r"): "\n"}
_TABLE = {**_DELETE, **_SPACES, **_LINES}
_TABLE_KEEP_TABS = {k: v for k, v in _TABLE.items() if k != ord("\t")}

_MULTISPACE = re.compile(r"[ ]{2,}")
# Decoded characters that real text hardly ever holds: controls and undecodable units.
_NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffd]")
_SPACE_NL = re.compile(r"[ ]*\n[ ]*")
_MANY_NL = re.compile(r"\n{3,}")
_WS = re.compile(r"\s+")


class BinaryContent(ValueError):
    """Raised by :func:`decode` for bytes that are not text in any encoding we know."""


def looks_binary(data: bytes) -> bool:
    """NUL bytes outside a UTF-16/32 layout, or many control bytes, mean binary."""
    sample = data[:65536]
    if not sample:
        return False
    if b"\x00" in sample and _utf16_guess(sample) is None:
        return True
    controls = sum(1 for b in sample if b < 9 or (13 < b < 32 and b != 27))
    return controls > len(sample) * 0.05


def _utf16_guess(sample: bytes) -> str | None:
    """UTF-16 without a BOM shows as NULs in every other byte for Latin text.

    The guess must also decode to text: binary data can have the same NUL pattern.
    """
    if len(sample) < 4:
        return None
    even = sample[0::2]
    odd = sample[1::2]
    zeros_even = even.count(0) / len(even)
    zeros_odd = odd.count(0) / len(odd)
    if zeros_odd > 0.3 and zeros_even < 0.05:
        enc = "utf-16-le"
    elif zeros_even > 0.3 and zeros_odd < 0.05:
        enc = "utf-16-be"
    else:
        return None
    text = sample[: len(sample) // 2 * 2].decode(enc, errors="replace")
    return enc if len(_NOT_TEXT.findall(text)) <= len(text) * 0.05 else None


def _legacy_byte(err: UnicodeError) -> tuple[str, int]:
    """Decode one undecodable byte as cp1252 (falling back to Latin-1) and go on."""
    if not isinstance(err, UnicodeDecodeError):
        raise err  # registered for decoding only
    bad = err.object[err.start : err.start + 1]
    try:
        ch = bad.decode("cp1252")
    except UnicodeDecodeError:
        ch = bad.decode("latin-1")
    return ch, err.start + 1


codecs.register_error("newsearch-legacy", _legacy_byte)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def decode(data: bytes) -> tuple[str, str]:
    """Decode ``data`` to text; return ``(text, encoding_used)``.

    Raises :class:`BinaryContent` when the bytes are not text.
    """
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(enc, errors="replace"), enc
    # NULs are valid UTF-8, so UTF-16 (and binary) must be recognised before trying it.
    sample = data[:65536]
    if b"\x00" in sample:
        guess16 = _utf16_guess(sample)
        if guess16 is None:
            raise BinaryContent("binary content")
        return data.decode(guess16, errors="replace"), guess16
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if looks_binary(data):
        raise BinaryContent("binary content")
    # Mostly UTF-8 with a few stray legacy bytes: keep the UTF-8 and patch the strays.
    # Count valid multi-byte UTF-8 sequences against the invalid bytes; ASCII text with a
    # stray byte or two (no multi-byte sequences at all) qualifies when every stray stands
    # alone, as a legacy "£" or "é" does (legacy Cyrillic text has whole words of them).
    text = data.decode("utf-8", errors="newsearch-legacy")
    if _valid_multibyte(data) >= _invalid_bytes(data) or _isolated_strays(data):
        return text, "utf-8+cp1252"
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(data[:200_000]).best()
    except Exception:  # detection is advisory; any failure falls back to cp1252
        best = None
    if best is not None and best.encoding:
        try:
            return data.decode(best.encoding), best.encoding
        except (UnicodeDecodeError, LookupError):
            pass
    return data.decode("cp1252", errors="newsearch-legacy"), "cp1252"


_UTF8_MB = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_HIGH_BYTES = bytes(range(0x80, 0x100))
_HIGH_RUN = re.compile(rb"[\x80-\xff]{2}")

# Counted without lists of matches: a list holds one object per match, many times the
# size of a large file (64 MB of Latin-1 text took gigabytes).


def _valid_multibyte(data: bytes) -> int:
    return _UTF8_MB.subn(b"", data)[1]


def _invalid_bytes(data: bytes) -> int:
    high = len(data) - len(data.translate(None, _HIGH_BYTES))
    valid = len(data) - len(_UTF8_MB.sub(b"", data))
    return high - valid


def _isolated_strays(data: bytes) -> bool:
    """No two bytes outside valid UTF-8 sequences stand next to each other."""
    return not _HIGH_RUN.search(_UTF8_MB.sub(b" ", data))


def clean_text(text: str, *, keep_tabs: bool = False) -> str:
    """NFC, invisible and control characters removed, spaces unified, blank runs collapsed.

    Paragraph breaks (blank lines) survive; trailing spaces on lines do not.
    """
    if not text:
        return ""
    text = text.replace("\r\n", "\n")
    text = text.translate(_TABLE_KEEP_TABS if keep_tabs else _TABLE)
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    # The substitutions are rarely needed; a substring test is far cheaper than a regex.
    if "  " in text:
        text = _MULTISPACE.sub(" ", text)
    if " \n" in text or "\n " in text:
        text = _SPACE_NL.sub("\n", text)
    if "\n\n\n" in text:
        text = _MANY_NL.sub("\n\n", text)
    return text.strip()


def clean_line(text: str | None) -> str:
    """:func:`clean_text` folded onto one line (titles, authors, sections)."""
    if not text:
        return ""
    return " ".join(clean_text(text).split())


# Letters drawn alike in Latin and Cyrillic. A word that mixes the two scripts was typed
# with the wrong keyboard layout half-way ("Сolumn" with a Cyrillic С, "cовет" with a Latin c).
_LATIN_LOOKALIKES = "ABCEHKMOPTXaceopxy"
_CYRILLIC_LOOKALIKES = "АВСЕНКМОРТХасеорху"
_TO_LATIN = str.maketrans(_CYRILLIC_LOOKALIKES, _LATIN_LOOKALIKES)
_TO_CYRILLIC = str.maketrans(_LATIN_LOOKALIKES, _CYRILLIC_LOOKALIKES)
_LATIN_LETTER = re.compile(r"[A-Za-z]")
_MIXED_WORD = re.compile(r"\w*(?:[A-Za-z]\w*[\u0400-\u04ff]|[\u0400-\u04ff]\w*[A-Za-z])\w*")


def _unmix(m: re.Match[str]) -> str:
    word = m.group()
    # The script of the letters that have no look-alike decides; a tie keeps the majority.
    latin = len(_LATIN_LETTER.findall(word.translate(dict.fromkeys(map(ord, _LATIN_LOOKALIKES)))))
    cyrillic = len(CYRILLIC_CHAR.findall(
        word.translate(dict.fromkeys(map(ord, _CYRILLIC_LOOKALIKES)))))
    if latin == cyrillic:
        latin, cyrillic = len(_LATIN_LETTER.findall(word)), len(CYRILLIC_CHAR.findall(word))
    mixed = word.translate(_TO_LATIN if latin > cyrillic else _TO_CYRILLIC)
    # Only a word that becomes one script is repaired ("СоловьёвLIVE" stays as written).
    return mixed if not (_LATIN_LETTER.search(mixed) and CYRILLIC_CHAR.search(mixed)) else word


def unmix_scripts(text: str) -> str:
    """Words written in Latin and Cyrillic look-alike letters put into one script:
    ``"Сolumn"`` (Cyrillic С) → ``"Column"``, ``"cовет"`` (Latin c) → ``"совет"``. Words
    that stay mixed after the look-alikes are mapped are left as written."""
    if text.isascii() or not CYRILLIC_CHAR.search(text):
        return text
    return _MIXED_WORD.sub(_unmix, text)
